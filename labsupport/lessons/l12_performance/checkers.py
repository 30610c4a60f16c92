"""Checkers for the exercises of 12-performance-and-caching.

- `check_query_count_prediction`: how many statements a loop over orders and their lines sends
  with lazy loading; the checker fills a fresh database and counts them itself.
- `check_order_report` (exercise 1): a report over orders, customers and lines without an N+1.
  The checker runs it at several sizes on fresh data from `sql_engine()` (the notebook's engine
  kind), compares every row with its own SQL, and counts the statements: they must not grow
  with the number of orders. The data holds orders without lines and customers who share a name.
- `check_book_cache` (exercise 2): cache-aside with a TTL and invalidation on write. The checker
  reads, writes, then reads again, counts the statements of a hit (and changes the price behind the
  cache's back: a hit must still give the cached one), reads the TTLs, and puts a
  second reader between the write and its commit, which catches a key deleted too early.
- `check_concurrent_endpoint` (exercise 3): an app whose endpoint calls a blocking function. The
  checker serves it, sends 30 requests from 10 clients at once, and measures how many calls of
  the blocking function overlapped and how long the whole took (wide margins: 3 overlapping
  calls and half the serial time, where a right answer reaches 6 to 10 and a fifth).
"""

from __future__ import annotations

import inspect
import numbers
import secrets
import ssl
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any

import httpx
import sqlalchemy as sa
from sqlalchemy.orm import Session

from labsupport.checks import Hint, NotAttempted, checker, expect_type, is_placeholder
from labsupport.crashes import RecordCrashes, describe_exception
from labsupport.databases import redis_client, sql_engine
from labsupport.lessons.l12_performance.orders import fill_orders
from labsupport.measurement import count_queries
from labsupport.servers import serve

__all__ = ["check_book_cache", "check_concurrent_endpoint", "check_order_report", "check_query_count_prediction"]


def _mapped_orders(Order: Any) -> sa.MetaData:
    """The metadata of the notebook's models, after checking `Order` is the mapped class with `lines`."""
    try:
        mapper = sa.inspect(Order)
    except sa.exc.NoInspectionAvailable:
        raise Hint("Pass the mapped class itself as the second argument: Order (not an order, not a string).") from None
    if not isinstance(Order, type) or "lines" not in mapper.relationships:
        raise Hint("Pass the notebook's Order class: a mapped class with a `lines` relationship.")
    return mapper.local_table.metadata


# --- predict, then run: the statements of a lazy loop ---------------------------------------------


def lazy_loop_statements(Order: Any, orders: int) -> tuple[int, int]:
    """Fill a fresh database with `orders` orders; loop over them touching `order.lines`.

    Returns (statements sent, lines in the database). Lazy loading is the relationship's
    default, so this is what a plain loop costs.
    """
    metadata = _mapped_orders(Order)
    engine = sql_engine()
    try:
        counts = fill_orders(engine, metadata, orders)
        with Session(engine) as session, count_queries(engine) as queries:
            for order in session.scalars(sa.select(Order).order_by(Order.id)):
                len(order.lines)
        return queries.count, counts["order_lines"]
    finally:
        engine.dispose()


@checker("Predict: how many SQL statements does the loop send?", expects="a whole number of statements")
def check_query_count_prediction(predicted_queries: int, Order: Any, orders: int = 50) -> str:
    """Run the loop over `orders` orders and their lines on a fresh database; compare the count."""
    predicted = expect_type(predicted_queries, int, "a whole number of SQL statements, e.g. 3")
    truth, lines = lazy_loop_statements(Order, orders)
    why = (
        f"One SELECT fetched the {orders} orders; then, the first time the loop touched `order.lines` of an "
        "order, the ORM sent one more SELECT for that order's lines (lazy loading)."
    )
    if predicted == truth:
        return (
            f"Right: {truth} statements, 1 + {orders}. {why} That is the N+1 pattern: the count grows with the "
            "number of orders, and each statement is a round trip to the database."
        )
    if predicted == 1:
        raise Hint(f"The loop sent {truth} statements, not 1: the ORM does not join the lines in by itself. {why}")
    if predicted == 2:
        raise Hint(
            f"The loop sent {truth} statements. Two is what `selectinload` sends (the orders, then all their lines "
            f"in one IN query), but only when you ask for it. {why}"
        )
    if predicted == orders:
        raise Hint(f"The loop sent {truth}: one per order, plus the first SELECT that fetched the orders. {why}")
    if predicted in (lines, lines + 1):
        raise Hint(
            f"The loop sent {truth} statements, not one per line ({lines} lines): all the lines of one order come "
            f"in one SELECT. {why}"
        )
    raise Hint(f"The loop sent {truth} statements. {why}")


# --- exercise 1: a report without an N+1 -----------------------------------------------------------

REPORT_SIZES = (8, 24, 72)
REPORT_KEYS = {"order", "customer", "items", "total_cents"}
MAX_REPORT_STATEMENTS = 5

_TRUTH = sa.text(
    "SELECT o.id AS order_id, c.name AS customer, "
    "COALESCE(SUM(l.quantity), 0) AS items, COALESCE(SUM(l.quantity * l.unit_price_cents), 0) AS total_cents "
    "FROM orders o JOIN customers c ON c.id = o.customer_id LEFT JOIN order_lines l ON l.order_id = o.id "
    "GROUP BY o.id, c.name ORDER BY o.id"
)


def _whole(value: Any) -> int | None:
    """`value` as an int if it is a whole number (int, NumPy integer, integral Decimal), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, Decimal) and value == value.to_integral_value():
        return int(value)
    return None


def _compare_report(result: Any, truth: list[dict[str, Any]]) -> None:
    if not isinstance(result, list):
        raise Hint(f"order_report should return a list of dicts, one per order; it returned a {type(result).__name__}.")
    for row in result:
        if not isinstance(row, dict):
            raise Hint(f"Each row of the report should be a dict; one was a {type(row).__name__}.")
        if set(row) != REPORT_KEYS:
            raise Hint(f"Each row should have exactly the keys {sorted(REPORT_KEYS)}; one had {sorted(map(str, row))}.")
    got_ids = [_whole(row["order"]) for row in result]
    want_ids = [row["order"] for row in truth]
    if sorted(i for i in got_ids if i is not None) != want_ids or None in got_ids:
        missing = sorted(set(want_ids) - set(got_ids))
        empty = {row["order"] for row in truth if row["items"] == 0}
        if missing and set(missing) <= empty:
            raise Hint(
                f"Orders {missing[:5]} are missing from the report: they have no lines. An order without lines still "
                "belongs in it, with items 0 and total_cents 0 (an inner join drops such orders; a LEFT JOIN, or the "
                "ORM's relationship, keeps them)."
            )
        if len(got_ids) > len(want_ids):
            raise Hint(
                f"The report has {len(result)} rows for {len(want_ids)} orders: some order appears more than once "
                "(a join repeats each order once per line)."
            )
        raise Hint(f"The report should have one row for each of the {len(want_ids)} orders; it has {len(result)}.")
    if got_ids != want_ids:
        raise Hint("Return the rows ordered by order id, the first order first.")
    for got, want in zip(result, truth):
        if got["customer"] != want["customer"]:
            raise Hint(
                f"Order {want['order']}: customer should be {want['customer']!r}, the name of the order's own "
                f"customer; the report says {got['customer']!r}."
            )
        for key in ("items", "total_cents"):
            if _whole(got[key]) != want[key]:
                what = "copies ordered, the sum of the lines' quantities" if key == "items" else (
                    "the sum over the lines of quantity × unit_price_cents"
                )
                raise Hint(
                    f"Order {want['order']}: {key} should be {want[key]} ({what}); the report says {got[key]!r}."
                )


def _lazy_relationships(statements: list[str]) -> list[str]:
    """Which relationships were loaded one row at a time, read from the statements sent."""
    lazy = []
    for table, name in (("order_lines", "order.lines"), ("customers", "order.customer")):
        if sum(f"FROM {table}" in s for s in statements) > 1:
            lazy.append(name)
    return lazy


@checker(
    "Exercise 1: an order report without an N+1",
    expects="a function order_report(session) returning a list of dicts, and the Order class",
)
def check_order_report(order_report: Callable[[Session], Any], Order: Any) -> str:
    """Run `order_report` at each of `REPORT_SIZES`; compare rows with SQL; count statements per size."""
    if not callable(order_report):
        raise Hint("order_report should be a function: `def order_report(session): ...`.")
    metadata = _mapped_orders(Order)
    engine = sql_engine()
    counts: dict[int, int] = {}
    statements: dict[int, list[str]] = {}
    try:
        for size in REPORT_SIZES:
            fill_orders(engine, metadata, size, seed=size)
            with engine.connect() as conn:
                truth = [{"order": row.order_id, "customer": row.customer, "items": int(row.items),
                          "total_cents": int(row.total_cents)} for row in conn.execute(_TRUTH)]
            with Session(engine) as session, count_queries(engine) as queries:
                try:
                    result = order_report(session)
                except sa.exc.InvalidRequestError as exc:
                    if "unique()" in str(exc):
                        raise Hint(
                            "joinedload of a collection repeats each order once per line in the rows, so SQLAlchemy "
                            "asks you to call .unique() on the result (session.scalars(...).unique()), or use "
                            "selectinload for collections."
                        ) from None
                    raise
            counts[size], statements[size] = queries.count, queries.statements
            try:
                _compare_report(result, truth)
            except Hint:
                if queries.count:
                    raise
                raise Hint(
                    f"For {size} orders, order_report sent no SQL through the session it was given, and its rows are "
                    "not that database's. Query with the `session` argument on every call (the check passes a "
                    "database of its own each time), not a session or engine of the notebook, nor rows kept from "
                    "an earlier call."
                ) from None
    finally:
        engine.dispose()
    small, large = REPORT_SIZES[0], REPORT_SIZES[-1]
    if not all(counts.values()):
        raise Hint(
            "Right rows, but no statement went through SQLAlchemy at some size, so the check cannot count them "
            "(a raw DB-API cursor bypasses it). Query through the `session` you are given."
        )
    if counts[large] > counts[small]:
        lazy = _lazy_relationships(statements[large])
        which = f" Loaded one order at a time: {' and '.join(lazy)}." if lazy else ""
        raise Hint(
            f"The report is right, but it sent {counts[small]} statements for {small} orders and {counts[large]} for "
            f"{large}: the count grows with the orders, an N+1.{which} Load every relationship the report touches "
            "with the query (options(selectinload(...), ...)), or compute the report in one SQL query."
        )
    if counts[large] > MAX_REPORT_STATEMENTS:
        raise Hint(
            f"The count no longer grows, but {counts[large]} statements is more than it takes: one per relationship "
            f"at most (at most {MAX_REPORT_STATEMENTS})."
        )
    sizes = ", ".join(f"{size} orders: {counts[size]}" for size in REPORT_SIZES)
    return (
        f"Right, and the same number of statements at every size ({sizes}). Why it worked: the related rows came "
        "with the query, a statement per relationship (or one join), instead of one per order when the loop "
        "touched them."
    )


# --- exercise 2: cache-aside with invalidation -----------------------------------------------------

BOOKS_DDL = "CREATE TABLE books (id INTEGER PRIMARY KEY, title VARCHAR(200) NOT NULL, price_cents INTEGER NOT NULL)"
MIN_TTL_MS, MAX_TTL_MS = 1_000, 60_000


def _price_in_database(engine: sa.Engine, book_id: int) -> Any:
    with engine.connect() as conn:
        return conn.execute(sa.text("SELECT price_cents FROM books WHERE id = :id"), {"id": book_id}).scalar_one()


def _read(books: Any, book_id: int, engine: sa.Engine, what: str) -> tuple[int, int]:
    """``books.price(book_id)`` as a whole number, and the statements it sent."""
    with count_queries(engine) as queries:
        value = books.price(book_id)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        raise Hint(
            f"price({book_id}) returned the text {value!r} {what}. Redis stores and returns strings: turn the cached "
            "value back into an int (int(...), or json.loads) before returning it."
        )
    whole = _whole(value)
    if whole is None:
        raise Hint(f"price({book_id}) should return the price in cents as an int; it returned {value!r} {what}.")
    return whole, queries.count


def _keys(cache: Any) -> set[str]:
    return set(cache.scan_iter(count=1000))


@checker(
    "Exercise 2: a cache that is not stale",
    expects="a class BookCache(engine, cache) with methods price(book_id) and set_price(book_id, cents)",
)
def check_book_cache(BookCache: Any) -> str:
    """Read, hit, check TTLs, write, read; then write with a second reader between the write and its commit."""
    if not isinstance(BookCache, type):
        raise Hint("Pass the class itself: check_book_cache(BookCache).")
    stubs = [name for name in ("price", "set_price") if is_placeholder(getattr(BookCache, name, ...))]
    if len(stubs) == 2:
        raise NotAttempted("Write the bodies of price and set_price, then run this cell again.")
    if stubs:
        raise Hint(f"{stubs[0]} is still empty: write its body too.")
    engine = sql_engine()
    cache = redis_client()
    rng = secrets.SystemRandom()
    first, second = rng.sample(range(900_000, 999_999), 2)  # fresh ids: no key of the notebook's can answer
    prices = {first: rng.randrange(1000, 3000, 5), second: rng.randrange(3000, 5000, 5)}
    before = _keys(cache)
    hook = {"armed": False, "ran": False}
    try:
        with engine.begin() as conn:
            conn.execute(sa.text(BOOKS_DDL))
            conn.execute(
                sa.text("INSERT INTO books (id, title, price_cents) VALUES (:id, :title, :price)"),
                [{"id": book, "title": f"Book {book}", "price": price} for book, price in prices.items()],
            )
        try:
            books, other_reader = BookCache(engine, cache), BookCache(engine, cache)
        except TypeError as exc:
            raise Hint(f"BookCache(engine, cache) failed: {describe_exception(exc)}; keep the __init__.") from None

        value, _ = _read(books, first, engine, "the first time")
        if value != prices[first]:
            raise Hint(f"price({first}) returned {value}; the database says {prices[first]}.")
        value, statements = _read(books, first, engine, "the second time (from the cache)")
        if value != prices[first]:
            raise Hint(f"The second price({first}) returned {value}; the database says {prices[first]}.")
        if statements:
            raise Hint(
                f"The second price({first}) in a row sent {statements} SQL statement(s): it did not use the cache. "
                "Cache-aside: look in the cache first, and only on a miss query the database and store the answer."
            )
        with engine.begin() as conn:  # the price changes behind the cache's back: a hit must not see it
            conn.execute(sa.text("UPDATE books SET price_cents = price_cents + 1 WHERE id = :id"), {"id": first})
        value, _ = _read(books, first, engine, "from the cache")
        with engine.begin() as conn:
            conn.execute(sa.text("UPDATE books SET price_cents = price_cents - 1 WHERE id = :id"), {"id": first})
        if value != prices[first]:
            raise Hint(
                f"price({first}) did not answer from the cache: after the check changed the price in the database "
                "(without telling the cache), it returned the new one. Cache-aside answers a hit from the cache "
                "without asking the database."
            )
        stored = _keys(cache) - before
        if not stored:
            raise Hint("Nothing was stored in the cache: on a miss, set the key with the price you loaded.")
        for key in stored:
            ttl = cache.pttl(key)
            if ttl < 0:
                raise Hint(
                    f"The key {key!r} has no TTL: it would be served for ever, however stale. Store it with an expiry "
                    "(cache.set(key, value, ex=seconds)) of at most 60 s."
                )
            if ttl > MAX_TTL_MS:
                raise Hint(f"The key {key!r} lives {ttl / 1000:.0f} s; keep the TTL at most 60 s.")
            if ttl < MIN_TTL_MS:
                raise Hint(
                    f"The key {key!r} lives only {ttl} ms: it expires before the next request comes, so the cache "
                    "hardly ever answers. Use a TTL of at least 1 s (and invalidate on write for freshness)."
                )
        value, _ = _read(books, second, engine, "for a second book")
        if value != prices[second]:
            raise Hint(
                f"price({second}) returned {value}, but book {second} costs {prices[second]}: the cache key must "
                f"name the book (e.g. f'book:{{book_id}}:price'), or every book shares one price."
            )

        # A write, then a read: stale?
        new_price = prices[first] + 500
        books.set_price(first, new_price)
        if _whole(_price_in_database(engine, first)) != new_price:
            raise Hint(f"After set_price({first}, {new_price}) the database still says the old price: write it there.")
        _, statements = _read(books, second, engine, "after a write to another book")
        if statements:
            raise Hint(
                f"After set_price({first}, ...), price({second}) had to go to the database: the write emptied more "
                f"than the changed book's key. Delete only the key of book {first}: the rest of the cache is fine."
            )
        value, _ = _read(books, first, engine, "after set_price")
        if value != new_price:
            raise Hint(
                f"Stale read: after set_price({first}, {new_price}), price({first}) returned {value}, the old price "
                "still in the cache. Whoever writes must invalidate: delete the book's key (after the database "
                "write), so the next read misses and loads the new price."
            )

        # The same write with another reader between the write and its commit.
        def reader_at_commit(conn: sa.Connection) -> None:
            if hook["armed"] and not hook["ran"]:
                hook["ran"] = True
                other_reader.price(first)  # another request, served while the write is not yet committed

        sa.event.listen(engine, "commit", reader_at_commit)
        newest = new_price + 500
        hook["armed"] = True
        try:
            books.set_price(first, newest)
        finally:
            hook["armed"] = False
            sa.event.remove(engine, "commit", reader_at_commit)
        value, _ = _read(books, first, engine, "after a write that another request read during")
        if value != newest and hook["ran"]:
            raise Hint(
                f"Stale read after a race: while set_price({first}, {newest}) was not yet committed, another request "
                f"read book {first}, missed the cache (you had already deleted the key), loaded the old price "
                f"{value} and cached it, and nothing removed it after the commit. Delete the key after the write is "
                "committed (after the `with engine.begin()` block, or after update_price returns)."
            )
        if value != newest:
            raise Hint(f"After set_price({first}, {newest}), price({first}) returned {value}: stale.")
    finally:
        created = _keys(cache) - before
        if created:
            cache.delete(*created)
        engine.dispose()
    return (
        "Right: hits skip the database, every key expires within a minute, and no read after a write is stale, "
        "even with another request reading during the write. Why it worked: the key is deleted after the new "
        "price is committed, so whatever a reader cached before that moment is thrown away."
    )


# --- exercise 3: a blocking call that does not block the server ----------------------------------------

LOOKUP_DELAY_S = 0.05
CLIENTS = 10
REQUESTS_PER_CLIENT = 3
MIN_OVERLAP = 3
MAX_SHARE_OF_SERIAL = 1 / 2


class BlockingLookup:
    """The legacy client the endpoint must call: blocks for `delay` s, records how many calls overlap."""

    def __init__(self, delay: float = LOOKUP_DELAY_S) -> None:
        self.delay = delay
        self.token = secrets.token_hex(4)  # an endpoint cannot answer right without calling lookup
        self._lock = threading.Lock()
        self.active = self.peak = self.calls = 0

    def reset(self) -> None:
        with self._lock:
            self.active = self.peak = self.calls = 0

    def answer(self, book_id: int) -> dict[str, Any]:
        return {"id": book_id, "title": f"Book {book_id}", "stock": book_id * 7 % 13, "token": self.token}

    def __call__(self, book_id: int) -> dict[str, Any]:
        with self._lock:
            self.calls += 1
            self.active += 1
            self.peak = max(self.peak, self.active)
        try:
            time.sleep(self.delay)  # a synchronous driver waiting for its server
        finally:
            with self._lock:
                self.active -= 1
        return self.answer(book_id)


def _first_answer(client: httpx.Client, lookup: BlockingLookup, crashes: list[BaseException]) -> None:
    response = client.get("/books/7")
    if crashes:
        raise Hint(f"The endpoint raised {describe_exception(crashes[0])}. {_crash_advice(crashes[0])}".strip())
    if response.status_code in (404, 405):
        raise Hint(f"GET /books/7 answered {response.status_code}: the app needs the route GET /books/{{book_id}}.")
    if response.status_code == 422:
        raise Hint("GET /books/7 answered 422: take book_id from the path, as an int (`book_id: int`).")
    if response.status_code != 200:
        raise Hint(f"GET /books/7 answered {response.status_code}; it should answer 200 with what lookup returned.")
    if response.json() != lookup.answer(7):
        raise Hint(f"GET /books/7 returned {response.text[:120]}; return exactly what lookup(book_id) returns.")


def _crash_advice(exc: BaseException) -> str:
    text = str(exc)
    if isinstance(exc, TypeError) and ("not callable" in text or "coroutine" in text or "awaitable" in text):
        return (
            "Pass the function and its argument to the thread, not the result of calling it: "
            "asyncio.to_thread(lookup, book_id), not asyncio.to_thread(lookup(book_id))."
        )
    return ""


def _expect_async_endpoint(app: Any) -> None:
    """The exercise's rule: the endpoint stays `async def` (a plain `def` would also serve concurrently)."""
    for route in getattr(app, "routes", []):
        if getattr(route, "path", None) == "/books/{book_id}" and "GET" in (getattr(route, "methods", None) or ()):
            if not inspect.iscoroutinefunction(route.endpoint):
                raise Hint(
                    "A plain `def` endpoint does serve requests concurrently (FastAPI runs it in a thread pool), but "
                    "this exercise keeps the endpoint `async def`, as the real one awaits other things: run the "
                    "blocking call in a worker thread from inside it."
                )
            return


def _one_client(url: str, ids: list[int], context: ssl.SSLContext) -> list[tuple[int, int, Any]]:
    with httpx.Client(base_url=url, timeout=5.0, verify=context) as client:
        answers = []
        for book_id in ids:
            response = client.get(f"/books/{book_id}")
            answers.append((book_id, response.status_code, response.json() if response.status_code == 200 else None))
        return answers


@checker(
    "Exercise 3: a blocking call that does not block the server",
    expects="a function make_app(lookup) returning a FastAPI app",
)
def check_concurrent_endpoint(make_app: Callable[[Callable[[int], Any]], Any]) -> str:
    """Serve make_app(lookup); 10 clients send 3 requests each at once; measure overlap and time."""
    if not callable(make_app):
        raise Hint("make_app should be a function: `def make_app(lookup): ...` returning a FastAPI app.")
    lookup = BlockingLookup()
    app = make_app(lookup)
    if app is ...:
        raise NotAttempted("make_app still returns ...: build and return the app, then run this cell again.")
    if not callable(app):
        raise Hint(f"make_app(lookup) should return the FastAPI app; it returned {type(app).__name__}.")
    _expect_async_endpoint(app)
    crashes: list[BaseException] = []
    context = ssl.create_default_context()
    with serve(RecordCrashes(app, crashes), name="check-concurrency") as server:
        _first_answer(server.client, lookup, crashes)
        lookup.reset()
        batches = [[100 + c * REQUESTS_PER_CLIENT + r for r in range(REQUESTS_PER_CLIENT)] for c in range(CLIENTS)]
        start = time.perf_counter()
        with ThreadPoolExecutor(CLIENTS) as pool:
            runs = pool.map(lambda ids: _one_client(server.url, ids, context), batches)
            answers = [answer for run in runs for answer in run]
        elapsed = time.perf_counter() - start
    if crashes:
        advice = _crash_advice(crashes[0])
        raise Hint(f"The endpoint raised {describe_exception(crashes[0])} under load. {advice}".strip())
    for book_id, status, body in answers:
        if status != 200 or body != lookup.answer(book_id):
            raise Hint(f"GET /books/{book_id} answered {status} {str(body)[:80]}; it should return lookup({book_id}).")
    requests = CLIENTS * REQUESTS_PER_CLIENT
    if lookup.calls != requests:
        raise Hint(f"lookup ran {lookup.calls} times for {requests} requests: call it once per request.")
    serial = requests * LOOKUP_DELAY_S
    if lookup.peak < MIN_OVERLAP:
        raise Hint(
            f"{requests} requests from {CLIENTS} clients took {elapsed:.2f} s, and at most {lookup.peak} call(s) of "
            f"lookup ran at the same time: the requests were served one after another ({serial:.1f} s of waiting in "
            "a row). A blocking call inside `async def` holds the event loop, and no other request runs until it "
            "returns. Run it where waiting does not block the loop: a plain `def` endpoint (FastAPI runs it in a "
            "thread pool), or `await asyncio.to_thread(lookup, book_id)`."
        )
    if elapsed > serial * MAX_SHARE_OF_SERIAL:
        raise Hint(
            f"Up to {lookup.peak} calls overlapped, but the {requests} requests still took {elapsed:.2f} s, more "
            f"than half the {serial:.1f} s they take one after another. Is something else serialising them?"
        )
    return (
        f"Right: up to {lookup.peak} lookups waited at the same time, and {requests} requests took {elapsed:.2f} s "
        f"instead of {serial:.1f} s one after another. Why it worked: the blocking call waits in a worker thread, "
        "so the event loop keeps accepting and answering other requests meanwhile."
    )
