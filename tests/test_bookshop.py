"""Tests of the reference bookshop app (labsupport.apps.bookshop) through real HTTP."""

from __future__ import annotations

import ast
import inspect
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
import sqlalchemy as sa

from labsupport import schema
from labsupport.apps import bookshop
from labsupport.apps.bookshop import create_app, repositories, routes, services
from labsupport.databases import sql_engine
from labsupport.servers import Server, serve

NEW_BOOK = {
    "title": "Test Driven",
    "author": "Kent Beck",
    "genre": "software",
    "price_cents": 2999,
    "stock": 5,
}


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    # One server for the module: tests only read the generated rows and add rows of their own,
    # so they stay independent of each other and of their order.
    with serve(create_app(orders=200, seed=0), name="test-bookshop") as running:
        yield running


@pytest.fixture
def client(server: Server) -> httpx.Client:
    return server.client


def add_book(client: httpx.Client, **changes: object) -> dict:
    response = client.post("/api/books", json=NEW_BOOK | changes)
    assert response.status_code == 201, response.text
    return response.json()


def add_customer(client: httpx.Client, email: str) -> dict:
    customer = {"name": "Ada Test", "email": email, "city": "Leeds"}
    response = client.post("/api/customers", json=customer)
    assert response.status_code == 201, response.text
    return response.json()


def count_rows(server: Server, table: sa.Table) -> int:
    with server.app.state.engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()


def error_locations(response: httpx.Response) -> list[list]:
    assert response.status_code == 422, response.text
    return [error["loc"] for error in response.json()["detail"]]


# --- health, books: read ---------------------------------------------------------------------


def test_health(client: httpx.Client) -> None:
    response = client.get("/api/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_list_books_returns_a_page_of_seeded_books(client: httpx.Client) -> None:
    books = client.get("/api/books").json()
    assert 1 <= len(books) <= 20
    assert set(books[0]) == {"id", "title", "author", "genre", "price_cents", "stock"}
    assert [book["id"] for book in books] == sorted(book["id"] for book in books)


@pytest.mark.parametrize(
    ("sort", "key", "reverse"),
    [
        ("price", "price_cents", False),
        ("-price", "price_cents", True),
        ("title", "title", False),
        ("-id", "id", True),
    ],
)
def test_list_books_sorts(client: httpx.Client, sort: str, key: str, reverse: bool) -> None:
    books = client.get("/api/books", params={"sort": sort, "limit": 100}).json()
    values = [book[key] for book in books]
    assert len(values) > 5
    assert values == sorted(values, reverse=reverse)


def test_list_books_filters_by_genre_and_author(client: httpx.Client) -> None:
    everything = client.get("/api/books", params={"limit": 100}).json()
    first = everything[0]
    by_genre = client.get("/api/books", params={"genre": first["genre"], "limit": 100}).json()
    assert by_genre == [book for book in everything if book["genre"] == first["genre"]]
    params = {"genre": first["genre"], "author": first["author"]}
    both = client.get("/api/books", params=params).json()
    assert first in both
    assert all(book["author"] == first["author"] for book in both)
    assert client.get("/api/books", params={"genre": "no such genre"}).json() == []


def test_list_books_pages_do_not_overlap_even_where_prices_tie() -> None:
    """Many books share a price: without the id tie-breaker in ORDER BY, the database may order
    equal prices differently from one page's query to the next, so pages overlap or skip.
    (Mutation that failed this: `order_by(column)` without `books.c.id`.)"""
    with serve(create_app(orders=0, seed=0), name="test-bookshop-ties") as shop:
        for i in range(30):
            add_book(shop.client, title=f"Tie {i}", price_cents=1 + i % 2)  # the two lowest prices
        for sort in ("price", "-price"):
            everything = shop.client.get("/api/books", params={"sort": sort, "limit": 100}).json()
            pages = [
                shop.client.get("/api/books", params={"sort": sort, "limit": 7, "offset": start}).json()
                for start in range(0, 35, 7)
            ]
            ids = [book["id"] for page in pages for book in page]
            assert ids == [book["id"] for book in everything[:35]]
            assert len(set(ids)) == 35
            sign = 1 if sort == "price" else -1
            assert everything == sorted(everything, key=lambda b, sign=sign: (sign * b["price_cents"], b["id"]))
        assert shop.client.get("/api/books", params={"offset": 10_000}).json() == []
        # SQLite happens to keep ties in rowid order, so the pages above would agree even
        # without a tie-breaker; PostgreSQL's top-N sort does not. So check the statement too.
        from labsupport.measurement import count_queries

        for sort, order in (("price", "books.price_cents, books.id"), ("-price", "books.price_cents DESC, books.id")):
            with count_queries(shop.app.state.engine) as queries:
                shop.client.get("/api/books", params={"sort": sort, "limit": 7})
            assert any(f"ORDER BY {order}" in statement for statement in queries.statements), queries.statements


@pytest.mark.parametrize(
    "params",
    [
        {"limit": 0},
        {"limit": 101},
        {"offset": -1},
        {"offset": 2**31},
        {"limit": "ten"},
        {"sort": "stock"},
        {"genre": "x" * 51},
    ],
)
def test_list_books_rejects_bad_query(client: httpx.Client, params: dict) -> None:
    response = client.get("/api/books", params=params)
    assert error_locations(response) == [["query", next(iter(params))]]


def test_get_book_and_not_found(client: httpx.Client) -> None:
    book = client.get("/api/books/1").json()
    assert book["id"] == 1
    response = client.get("/api/books/999999")
    assert response.status_code == 404
    assert response.json() == {"detail": "book 999999 not found"}


@pytest.mark.parametrize("book_id", ["0", "-1", str(2**31), str(2**80), "abc", "1.5"])
def test_path_ids_out_of_range_are_422(client: httpx.Client, book_id: str) -> None:
    assert error_locations(client.get(f"/api/books/{book_id}")) == [["path", "book_id"]]


# --- books: write ----------------------------------------------------------------------------


def test_create_book_gives_201_and_location(client: httpx.Client) -> None:
    response = client.post("/api/books", json=NEW_BOOK)
    assert response.status_code == 201
    created = response.json()
    assert created == {"id": created["id"], **NEW_BOOK}
    assert response.headers["location"] == f"/api/books/{created['id']}"
    assert client.get(response.headers["location"]).json() == created


def test_whole_numbers_written_as_floats_are_accepted(client: httpx.Client) -> None:
    created = add_book(client, price_cents=1500.0, stock=2.0)
    assert (created["price_cents"], created["stock"]) == (1500, 2)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"title": ""}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"title": "nul\x00byte"}, "title"),
        ({"author": "line\nbreak"}, "author"),
        ({"price_cents": -1}, "price_cents"),
        ({"price_cents": 10**8 + 1}, "price_cents"),
        ({"price_cents": 12.5}, "price_cents"),
        ({"price_cents": "1299"}, "price_cents"),
        ({"stock": True}, "stock"),
        ({"stock": 2**63}, "stock"),
        ({"id": 7}, "id"),
    ],
)
def test_create_book_rejects_bad_fields(client: httpx.Client, changes: dict, field: str) -> None:
    response = client.post("/api/books", json=NEW_BOOK | changes)
    assert error_locations(response) == [["body", field]]
    assert response.json()["detail"][0]["msg"]


def test_create_book_reports_every_missing_field(client: httpx.Client) -> None:
    locations = error_locations(client.post("/api/books", json={"title": "Only a title"}))
    missing = ["author", "genre", "price_cents", "stock"]
    assert sorted(locations) == [["body", name] for name in missing]


@pytest.mark.parametrize(
    ("content", "content_type", "status"),
    [
        (b'{"title": "unterminated', "application/json", 422),
        (b"", "application/json", 422),
        (b"[1, 2]", "application/json", 422),
        (b'{"title": "T", "author": "A"}', "text/plain", 422),  # JSON, but not labelled as JSON
        (b'{"title": "\\ud800 lone surrogate"}', "application/json", 422),
        (b'{"title": "caf\xe9"}', "application/json", 400),  # Latin-1, not UTF-8
    ],
)
def test_unreadable_bodies_get_4xx_with_a_json_detail(
    client: httpx.Client, content: bytes, content_type: str, status: int
) -> None:
    response = client.post("/api/books", content=content, headers={"content-type": content_type})
    assert response.status_code == status
    assert response.headers["content-type"] == "application/json"
    assert response.json()["detail"]


def test_replace_book(client: httpx.Client) -> None:
    book = add_book(client)
    replacement = NEW_BOOK | {"title": "Second Edition", "price_cents": 3499}
    response = client.put(f"/api/books/{book['id']}", json=replacement)
    assert response.status_code == 200
    assert response.json() == {"id": book["id"], **replacement}
    assert client.get(f"/api/books/{book['id']}").json()["title"] == "Second Edition"


def test_replace_missing_book_is_404_and_partial_body_422(client: httpx.Client) -> None:
    assert client.put("/api/books/999999", json=NEW_BOOK).status_code == 404
    assert error_locations(client.put("/api/books/1", json={"title": "only"}))


def test_delete_book_gives_204_then_404(client: httpx.Client) -> None:
    book = add_book(client)
    response = client.delete(f"/api/books/{book['id']}")
    assert response.status_code == 204
    assert response.content == b""
    assert client.get(f"/api/books/{book['id']}").status_code == 404
    assert client.delete(f"/api/books/{book['id']}").status_code == 404


def test_delete_ordered_book_is_409_and_keeps_it(client: httpx.Client) -> None:
    response = client.delete("/api/books/1")  # the generated orders refer to every early book
    assert response.status_code == 409
    assert "orders" in response.json()["detail"]
    assert client.get("/api/books/1").status_code == 200


def test_wrong_method_is_405_listing_every_allowed_method(client: httpx.Client) -> None:
    response = client.patch("/api/books/1", json={})
    assert response.status_code == 405
    assert set(response.headers["allow"].split(", ")) == {"GET", "HEAD", "PUT", "DELETE"}


# --- customers -------------------------------------------------------------------------------


def test_create_and_get_customer(client: httpx.Client) -> None:
    grace = {"name": "Grace", "email": "grace@example.org", "city": "Leeds"}
    response = client.post("/api/customers", json=grace)
    assert response.status_code == 201
    customer = response.json()
    assert response.headers["location"] == f"/api/customers/{customer['id']}"
    assert client.get(response.headers["location"]).json() == customer


def test_duplicate_email_is_409(client: httpx.Client) -> None:
    add_customer(client, "twice@example.org")
    again = {"name": "B", "email": "twice@example.org", "city": "Porto"}
    response = client.post("/api/customers", json=again)
    assert response.status_code == 409
    assert "twice@example.org" in response.json()["detail"]


def test_unknown_customer_is_404_and_bad_email_422(client: httpx.Client) -> None:
    assert client.get("/api/customers/999999").json() == {"detail": "customer 999999 not found"}
    invalid = {"name": "N", "email": "not-an-email", "city": "C"}
    response = client.post("/api/customers", json=invalid)
    assert error_locations(response) == [["body", "email"]]


# --- orders ----------------------------------------------------------------------------------


def test_place_order_takes_stock_and_computes_total(client: httpx.Client) -> None:
    customer = add_customer(client, "buyer@example.org")
    cheap = add_book(client, price_cents=500, stock=3)
    dear = add_book(client, price_cents=1250, stock=10)
    lines = [{"book_id": cheap["id"], "quantity": 2}, {"book_id": dear["id"], "quantity": 1}]
    response = client.post("/api/orders", json={"customer_id": customer["id"], "lines": lines})
    assert response.status_code == 201, response.text
    order = response.json()
    assert order["customer_id"] == customer["id"]
    assert order["status"] == "pending"
    prices = [500, 1250]
    assert order["lines"] == [line | {"unit_price_cents": p} for line, p in zip(lines, prices)]
    assert order["total_cents"] == 2 * 500 + 1250
    assert response.headers["location"] == f"/api/orders/{order['id']}"
    assert client.get(response.headers["location"]).json() == order
    assert client.get(f"/api/books/{cheap['id']}").json()["stock"] == 1


def test_bestsellers_add_up_every_order_line(server: Server) -> None:
    report = server.client.get("/api/reports/bestsellers", params={"limit": 3})
    assert report.status_code == 200
    rows = report.json()
    assert len(rows) == 3
    assert [r["copies_sold"] for r in rows] == sorted((r["copies_sold"] for r in rows), reverse=True)
    with server.app.state.engine.connect() as conn:
        sold = conn.execute(
            sa.select(sa.func.sum(schema.order_lines.c.quantity)).where(schema.order_lines.c.book_id == rows[0]["id"])
        ).scalar_one()
    assert rows[0]["copies_sold"] == sold
    assert server.client.get("/api/reports/bestsellers", params={"limit": 0}).status_code == 422


def test_get_seeded_order_and_unknown_order(client: httpx.Client) -> None:
    order = client.get("/api/orders/1").json()
    subtotals = [line["quantity"] * line["unit_price_cents"] for line in order["lines"]]
    assert order["total_cents"] == sum(subtotals)
    assert client.get("/api/orders/999999").status_code == 404


def test_out_of_stock_is_409_and_rolls_back_the_whole_order(server: Server) -> None:
    client = server.client
    customer = add_customer(client, "rollback@example.org")
    plenty, scarce = add_book(client, stock=10), add_book(client, stock=1)
    orders_before = count_rows(server, schema.orders)
    lines = [{"book_id": plenty["id"], "quantity": 4}, {"book_id": scarce["id"], "quantity": 2}]
    response = client.post("/api/orders", json={"customer_id": customer["id"], "lines": lines})
    assert response.status_code == 409
    assert response.json() == {"detail": f"book {scarce['id']}: 2 requested but only 1 in stock"}
    # The first line had already taken 4 copies inside the transaction: all of it was undone.
    assert client.get(f"/api/books/{plenty['id']}").json()["stock"] == 10
    assert count_rows(server, schema.orders) == orders_before


def test_unknown_book_or_customer_in_order_is_404_and_rolls_back(client: httpx.Client) -> None:
    customer = add_customer(client, "unknown-book@example.org")
    book = add_book(client, stock=5)
    lines = [{"book_id": book["id"], "quantity": 1}, {"book_id": 999999, "quantity": 1}]
    response = client.post("/api/orders", json={"customer_id": customer["id"], "lines": lines})
    assert response.json() == {"detail": "book 999999 not found"}
    assert client.get(f"/api/books/{book['id']}").json()["stock"] == 5
    response = client.post("/api/orders", json={"customer_id": 999999, "lines": lines[:1]})
    assert (response.status_code, response.json()) == (404, {"detail": "customer 999999 not found"})


QUANTITY = ["body", "lines", 0, "quantity"]


@pytest.mark.parametrize(
    ("order", "location"),
    [
        ({"customer_id": 1, "lines": []}, ["body", "lines"]),
        ({"customer_id": 1, "lines": [{"book_id": 1, "quantity": 0}]}, QUANTITY),
        ({"customer_id": 1, "lines": [{"book_id": 1, "quantity": 1001}]}, QUANTITY),
        ({"customer_id": 0, "lines": [{"book_id": 1, "quantity": 1}]}, ["body", "customer_id"]),
        ({"lines": [{"book_id": 1, "quantity": 1}]}, ["body", "customer_id"]),
    ],
)
def test_invalid_orders_are_422(client: httpx.Client, order: dict, location: list) -> None:
    assert error_locations(client.post("/api/orders", json=order)) == [location]


def test_concurrent_orders_never_oversell(server: Server) -> None:
    client = server.client
    customer = add_customer(client, "rush@example.org")
    book = add_book(client, stock=5)
    order = {"customer_id": customer["id"], "lines": [{"book_id": book["id"], "quantity": 1}]}

    def place(_: int) -> int:
        with httpx.Client(base_url=server.url, timeout=10) as own_client:
            return own_client.post("/api/orders", json=order).status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(place, range(16)))
    assert sorted(statuses) == [201] * 5 + [409] * 11
    assert client.get(f"/api/books/{book['id']}").json()["stock"] == 0


def test_take_stock_is_one_statement_so_two_sales_cannot_take_the_last_copy(engine) -> None:
    """The API test above also passes with a read-then-write take_stock, because the order's
    INSERT takes SQLite's write lock first and serializes the orders. This races the
    repository itself. (Mutation that failed this: take_stock reading the stock, sleeping
    1 ms, then writing stock - quantity.)"""
    import threading

    store = repositories.Store(engine)
    with engine.begin() as conn:
        conn.execute(schema.books.insert().values(id=1, title="Last", author="A", genre="g", price_cents=1, stock=0))
    for _ in range(10):
        with engine.begin() as conn:
            conn.execute(schema.books.update().values(stock=1))
        start = threading.Barrier(4)

        def sell(_: int, start: threading.Barrier = start) -> bool:
            start.wait()
            with store.unit_of_work() as uow:
                return uow.books.take_stock(1, 1)

        with ThreadPoolExecutor(max_workers=4) as pool:
            sold = list(pool.map(sell, range(4)))
        assert sold.count(True) == 1, sold
        with engine.connect() as conn:
            assert conn.execute(sa.select(schema.books.c.stock)).scalar_one() == 0


# --- the app as a whole ----------------------------------------------------------------------


def test_openapi_schema_lists_every_path_and_its_errors(client: httpx.Client) -> None:
    spec = client.get("/openapi.json").json()
    assert spec["info"]["title"] == "Bookshop API"
    assert spec["info"]["version"]
    assert set(spec["paths"]) == {
        "/api/health",
        "/api/books",
        "/api/books/{book_id}",
        "/api/customers",
        "/api/customers/{customer_id}",
        "/api/orders",
        "/api/orders/{order_id}",
        "/api/reports/bestsellers",
    }
    book = spec["paths"]["/api/books/{book_id}"]
    assert {"404", "409", "422"} <= set(book["delete"]["responses"])
    assert "Location" in spec["paths"]["/api/orders"]["post"]["responses"]["201"]["headers"]
    assert {"404", "409"} <= set(spec["paths"]["/api/orders"]["post"]["responses"])


def test_create_app_with_an_engine_uses_it_without_seeding() -> None:
    engine = sql_engine()
    app = create_app(engine)
    assert app.state.engine is engine
    assert set(sa.inspect(engine).get_table_names()) == set(schema.metadata.tables)
    service = app.state.service
    assert service.list_books(genre=None, author=None, sort="id", limit=10, offset=0) == []
    with pytest.raises(services.NotFound, match="book 1 not found"):
        service.get_book(1)


def test_service_works_without_http() -> None:
    shop = services.BookshopService(repositories.Store(create_app(sql_engine()).state.engine))
    book = shop.add_book(NEW_BOOK)
    customer = shop.add_customer({"name": "N", "email": "n@example.org", "city": "C"})
    with pytest.raises(services.OutOfStock):
        shop.place_order(customer["id"], [{"book_id": book["id"], "quantity": 6}])
    with pytest.raises(services.Conflict):
        shop.add_customer({"name": "M", "email": "n@example.org", "city": "D"})
    order = shop.place_order(customer["id"], [{"book_id": book["id"], "quantity": 5}])
    assert order["total_cents"] == 5 * NEW_BOOK["price_cents"]
    assert shop.get_book(book["id"])["stock"] == 0


def imported_modules(module: object) -> set[str]:
    tree = ast.parse(inspect.getsource(module))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_layers_only_know_their_neighbours() -> None:
    route_source = inspect.getsource(routes)
    assert "sqlalchemy" not in route_source and "sa." not in route_source
    assert not imported_modules(routes) & {"sqlalchemy", "sqlite3"}
    assert not imported_modules(services) & {"fastapi", "starlette", "sqlalchemy", "sqlite3"}
    assert not imported_modules(repositories) & {"fastapi", "starlette"}
    assert bookshop.__all__ == ["create_app"]


# --- races: two clients at once get an answer, never a 500 ----------------------------------


def _at_once(server: Server, calls: list) -> list[httpx.Response]:
    """Send each (method, path, json) from its own client, all released at the same moment."""
    import threading

    start = threading.Barrier(len(calls))

    def send(call: tuple) -> httpx.Response:
        method, path, body = call
        with httpx.Client(base_url=server.url, timeout=10) as own_client:
            request = own_client.build_request(method, path, json=body)
            start.wait()
            return own_client.send(request)

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(send, calls))


def test_two_clients_creating_the_same_email_get_201_and_409_never_500(server: Server) -> None:
    """(Mutation that failed this: unit_of_work beginning with a plain, deferred BEGIN.)"""
    for round_ in range(25):
        customer = {"name": "Twin", "email": f"twin{round_}@example.org", "city": "Leeds"}
        statuses = sorted(r.status_code for r in _at_once(server, [("POST", "/api/customers", customer)] * 2))
        assert statuses == [201, 409], (round_, statuses)


def test_deleting_a_book_while_it_is_ordered_is_409_or_done_never_500(server: Server) -> None:
    """(Mutation that failed this: no explicit BEGIN, sqlite3 beginning at the first write.)"""
    customer = add_customer(server.client, "racer@example.org")
    outcomes = set()
    for _ in range(25):
        book = add_book(server.client, stock=3)
        order = {"customer_id": customer["id"], "lines": [{"book_id": book["id"], "quantity": 1}]}
        calls = [("POST", "/api/orders", order), ("DELETE", f"/api/books/{book['id']}", None)]
        ordered, deleted = _at_once(server, calls)
        outcome = (ordered.status_code, deleted.status_code)
        # Either the order came first (then the book cannot be deleted), or the delete did
        # (then the order names a book that does not exist).
        assert outcome in {(201, 409), (404, 204)}, (outcome, ordered.text, deleted.text)
        outcomes.add(outcome)


@pytest.mark.parametrize(
    "path",
    ["/api/health", "/api/books", "/api/books/1", "/api/reports/bestsellers", "/api/customers/1", "/api/orders/1"],
)
def test_head_works_wherever_get_does(client: httpx.Client, path: str) -> None:
    got, head = client.get(path), client.head(path)
    assert head.status_code == got.status_code == 200
    assert head.content == b""
    assert head.headers["content-type"] == got.headers["content-type"]
