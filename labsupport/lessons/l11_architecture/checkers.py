"""Checkers for the exercises of 11-architecture: a tangled endpoint split into layers, a call to a
slow service with a timeout and a fallback, idempotency keys that survive a second instance, and a
prediction of the work a timed-out request still does.

Each checker runs the student's code against services of its own, served on 127.0.0.1, and
judges behaviour, not source text — with one exception: `check_quote_layers` also reads which
packages each layer uses (`labsupport.lessons.l11_architecture.layers`), since "the service does
not know about HTTP" is the point of the exercise and no request can see it. Its reference for
the behaviour is `tangled_quote_app` itself, the code the notebook shows.
"""

from __future__ import annotations

import contextlib
import numbers
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, ClassVar

import httpx
import sqlalchemy as sa
from fastapi import FastAPI

from labsupport.checks import Hint, NotAttempted, checker, expect_type, is_placeholder
from labsupport.crashes import RecordCrashes, describe_exception
from labsupport.databases import sql_engine
from labsupport.lessons.l11_architecture.faults import Faults
from labsupport.lessons.l11_architecture.layers import layer_problems, tangled_quote_app
from labsupport.schema import books, create_tables
from labsupport.servers import Server, serve

__all__ = [
    "check_fallback",
    "check_idempotent_orders",
    "check_quote_layers",
    "check_quote_service",
    "check_reservations_prediction",
]


def _short(value: Any, limit: int = 160) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


@contextlib.contextmanager
def _served(app: Any, name: str) -> Iterator[tuple[Server, list[BaseException]]]:
    """Serve `app` with its crashes recorded (they become hints, not tracebacks); stop it after."""
    crashes: list[BaseException] = []
    server = serve(RecordCrashes(app, crashes), name=name)
    try:
        yield server, crashes
    finally:
        server.stop()


# --- predict: the work behind a timeout ------------------------------------------------------


@checker("Predict: what a timed-out request still does", expects="a whole number of reservations")
def check_reservations_prediction(
    predicted: object, reserve: Callable[[], Any], count_reservations: Callable[[], int], faults: Faults
) -> str:
    """Run the notebook's `reserve()` against its slow catalogue and count what the catalogue did."""
    guess = int(expect_type(predicted, (numbers.Integral,), "a whole number of reservations, such as 2"))
    previous = faults.mode
    faults.mode = "slow"
    try:
        before = count_reservations()
        with contextlib.suppress(Exception):  # the orders service reports a failure: expected
            reserve()
        faults.wait_idle(timeout=5.0)
        made = count_reservations() - before
    finally:
        faults.mode = previous
    if guess == made:
        return (
            f"Right: {made}. The timeout ended the orders service's wait, not the catalogue's work: "
            "every attempt arrived, was carried out and committed after the caller had given up."
        )
    if guess == 0:
        raise Hint(
            f"The catalogue made {made}. A timeout ends the *caller's* wait; the catalogue had received "
            "each request and finished it, unaware that nobody was listening any more."
        )
    if guess < made:
        raise Hint(
            f"The catalogue made {made}. Each attempt is a new request: the catalogue cannot tell that "
            "attempt 2 repeats attempt 1, so every attempt that reached it was carried out."
        )
    raise Hint(f"The catalogue made {made}: one reservation per attempt that reached it, and no more.")


# --- exercise 1: layers ------------------------------------------------------------------------

_BOOKS = {  # id -> title, price_cents, stock. 1997 × 3 × 0.9 = 5391.9: rounding shows.
    1: ("The Rounding Error", 1997, 10),
    2: ("Two Left", 4999, 2),
    3: ("Sold Out", 1500, 0),
}
# (book, quantity): healthy quotes around the 3-copy discount, each error, and which error wins.
_QUOTE_CASES: list[tuple[int, object]] = [
    (1, 1), (1, 2), (1, 3), (1, 4), (1, 10), (2, 2), (2, 1),
    (99, 1), (99, 0), (1, 0), (1, -2), (1, 21), (1, 11), (2, 3), (3, 1), (3, 25), (1, "two"),
]  # fmt: skip


def _expected_quote(book_id: int, quantity: int) -> dict:
    title, price, _ = _BOOKS[book_id]
    total = price * quantity
    if quantity >= 3:
        total = total * 90 // 100
    return {"book_id": book_id, "title": title, "quantity": quantity, "total_cents": total}


def _quote_engine() -> sa.Engine:
    engine = sql_engine()
    create_tables(engine)
    with engine.begin() as conn:
        conn.execute(
            books.insert(),
            [
                {"id": i, "title": t, "author": "A. Checker", "genre": "test", "price_cents": p, "stock": s}
                for i, (t, p, s) in _BOOKS.items()
            ],
        )
    return engine


class _FakeRepository:
    """Stands in for the student's repository: only find_book, data from a dict."""

    def __init__(self) -> None:
        self.calls: list[Any] = []

    def find_book(self, book_id: int) -> dict | None:
        self.calls.append(book_id)
        if book_id not in _BOOKS:
            return None
        title, price, stock = _BOOKS[book_id]
        return {"title": title, "price_cents": price, "stock": stock}


class _FakeService:
    """Stands in for the student's service: fixed answers, and their own domain errors on cue."""

    ANSWER: ClassVar[dict[str, Any]] = {"title": "from the fake service", "total_cents": 12345}

    def __init__(self, errors: dict[int, type[BaseException]]) -> None:
        self.errors = errors  # book id -> the student's exception class to raise

    def quote(self, book_id: int, quantity: int) -> dict:
        if book_id in self.errors:
            raise self.errors[book_id]("raised by the checker's fake service")
        return {"book_id": book_id, "quantity": quantity, **self.ANSWER}


def _is_http_error(exc: BaseException) -> bool:
    return any(klass.__name__ == "HTTPException" for klass in type(exc).__mro__)


_LAYER_HINTS = {
    ("service", "fastapi"): "QuoteService uses fastapi (HTTPException?): a service raises its own domain errors, "
    "and the route turns them into status codes.",
    ("service", "starlette"): "QuoteService uses starlette: a service knows nothing of HTTP; raise domain errors.",
    ("service", "sqlalchemy"): "QuoteService uses sqlalchemy: the SQL belongs in QuoteRepository.find_book.",
    ("service", "SQL text"): "QuoteService holds SQL text: the query belongs in QuoteRepository.find_book.",
    ("route", "sqlalchemy"): "make_quote_app uses sqlalchemy: the route must not touch the database; it calls "
    "service.quote and nothing below it.",
    ("route", "SQL text"): "make_quote_app holds SQL text: the route calls service.quote; only the repository "
    "speaks SQL.",
    ("repository", "fastapi"): "QuoteRepository uses fastapi: a repository returns None for a missing book; "
    "that this is a 404 is the route's business.",
    ("repository", "starlette"): "QuoteRepository uses starlette: storage code knows nothing of HTTP.",
}


def _check_layer_rules(layers: dict[str, Any]) -> None:
    for layer, obj in layers.items():
        for problem in layer_problems(layer, obj):
            raise Hint(_LAYER_HINTS.get((layer, problem), f"The {layer} layer uses {problem}, which it must not."))


def _get_json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return response.text


def _compare_with_tangled(student: Server, crashes: list[BaseException], reference: Server) -> None:
    for book_id, quantity in _QUOTE_CASES:
        path = f"/books/{book_id}/quote?quantity={quantity}"
        want, got = reference.client.get(path), student.client.get(path)
        if crashes:
            raise Hint(f"GET {path}: your app raised {describe_exception(crashes[0])}.")
        if want.status_code != got.status_code:
            raise Hint(
                f"GET {path}: the tangled endpoint answers {want.status_code}, yours {got.status_code} "
                f"{_short(_get_json(got))}. A refactoring keeps every answer: check the rule (and which check "
                "comes first) and the status each domain error maps to."
            )
        if want.status_code == 200 and want.json() != _get_json(got):
            raise Hint(
                f"GET {path}: the tangled endpoint answers {want.json()}, yours {_short(_get_json(got))}. "
                "A refactoring keeps every answer, rounding included (the original rounds down with //)."
            )


def _service_errors(service_class: type) -> dict[str, type[BaseException]]:
    """Run the student's service on a fake repository; return the exception class per mistake."""
    try:
        service = service_class(_FakeRepository())
    except TypeError as exc:
        raise Hint(f"QuoteService(repository) failed: {describe_exception(exc)}.") from None
    for book_id, quantity in [(1, 1), (1, 3), (2, 2), (1, 10)]:
        try:
            got = service.quote(book_id, quantity)
        except AttributeError as exc:
            raise Hint(
                f"Given a repository that only has find_book(book_id), your service raised "
                f"{describe_exception(exc)}: a service asks its repository, through find_book, and nothing else."
            ) from None
        if got != _expected_quote(book_id, quantity):
            title, price, stock = _BOOKS[book_id]
            raise Hint(
                f"Given a repository holding {title!r} at {price} cents with {stock} in stock, "
                f"QuoteService.quote({book_id}, {quantity}) returned {_short(got)}; the tangled endpoint's rule gives "
                f"{_expected_quote(book_id, quantity)}."
            )
    errors: dict[str, type[BaseException]] = {}
    for mistake, (book_id, quantity) in {
        "no such book": (99, 1),
        "bad quantity": (1, 0),
        "not enough stock": (2, 3),
    }.items():
        try:
            got = service.quote(book_id, quantity)
        except Exception as exc:
            if _is_http_error(exc):
                raise Hint(
                    f"For {mistake}, QuoteService raised an HTTPException: a service raises a domain error "
                    "(your own exception class); the route maps it to a status."
                ) from None
            errors[mistake] = type(exc)
            continue
        raise Hint(
            f"QuoteService.quote({book_id}, {quantity}) ({mistake}) returned {_short(got)} instead of raising a "
            "domain error: the service decides what is a mistake; the route only translates it."
        )
    if len(set(errors.values())) < len(errors):
        raise Hint(
            "QuoteService raised the same exception class for different mistakes "
            f"({', '.join(f'{m}: {e.__name__}' for m, e in errors.items())}): use one class per mistake, so the "
            "route can map each to its status without reading messages."
        )
    return errors


def _check_thin_route(make_app: Callable[[Any], Any], errors: dict[str, type[BaseException]]) -> None:
    """The route with a fake service: it must pass answers through and map each error to its status."""
    statuses = {"no such book": (8, 404), "bad quantity": (9, 422), "not enough stock": (10, 409)}
    fake = _FakeService({book_id: errors[mistake] for mistake, (book_id, _) in statuses.items()})
    with _served(make_app(fake), "check-quote-route") as (server, crashes):
        for quantity in (4, 50):
            response = server.client.get(f"/books/7/quote?quantity={quantity}")
            want = {"book_id": 7, "quantity": quantity, **_FakeService.ANSWER}
            if crashes:
                raise Hint(
                    f"With a fake service, your route raised {describe_exception(crashes[0])}: the route may only "
                    "call service.quote(book_id, quantity)."
                )
            if response.status_code != 200 or _get_json(response) != want:
                raise Hint(
                    f"Given a fake service that quotes {want}, your route answered {response.status_code} "
                    f"{_short(_get_json(response))} for quantity={quantity}. The route must pass the service's answer "
                    "through: the pricing rule and the limit of 20 copies belong in the service."
                )
        for mistake, (book_id, status) in statuses.items():
            response = server.client.get(f"/books/{book_id}/quote?quantity=1")
            if response.status_code != status:
                raise Hint(
                    f"When the service raises {errors[mistake].__name__} ({mistake}), your route answers "
                    f"{response.status_code}; the tangled endpoint answers {status}. Map each domain error to its "
                    "status in the route (try/except, or an exception handler)."
                )


def _expect_classes(repository_class: object, service_class: object) -> None:
    for name, value, method in [
        ("QuoteRepository", repository_class, "find_book"),
        ("QuoteService", service_class, "quote"),
    ]:
        if not isinstance(value, type):
            raise Hint(f"{name} should be a class (class {name}: ...), not {type(value).__name__}.")
        if is_placeholder(getattr(value, method, None)):  # the student notebook's skeleton, still empty
            raise NotAttempted(f"{name}.{method} still holds `...`: write it, then run this cell again.")


def _check_repository(repository_class: type, engine: sa.Engine) -> Any:
    """The student's repository on the checker's books: find_book gives the row as a dict, or None."""
    repository = repository_class(engine)
    if not callable(getattr(repository, "find_book", None)):
        raise Hint("QuoteRepository has no method find_book(book_id): the service will ask for books by that name.")
    for book_id in (1, 99):
        try:
            found = repository.find_book(book_id)
        except Exception as exc:
            raise Hint(
                f"QuoteRepository.find_book({book_id}) raised {describe_exception(exc)}. A repository returns the "
                "book, or None when there is none: whether a missing book is an error is the service's rule."
            ) from None
        want = None if book_id == 99 else dict(zip(("title", "price_cents", "stock"), _BOOKS[book_id]))
        if want is None and found is not None:
            raise Hint(
                f"QuoteRepository.find_book(99) returned {_short(found)} for a book that does not exist: "
                "return None (whether that is an error is for the service to decide)."
            )
        if want is not None and (not isinstance(found, dict) or any(found.get(k) != v for k, v in want.items())):
            raise Hint(f"QuoteRepository.find_book(1) returned {_short(found)}; it should hold {want}.")
    return repository


@checker("Exercise 1, part 1: the repository and the service", time_limit=20)
def check_quote_service(repository_class: type, service_class: type) -> str:
    """The two lower layers alone: their rules, the repository on real rows, the service on a fake repository."""
    _expect_classes(repository_class, service_class)
    _check_layer_rules({"repository": repository_class, "service": service_class})
    engine = _quote_engine()
    try:
        _check_repository(repository_class, engine)
    finally:
        engine.dispose()
    _service_errors(service_class)
    return (
        "Right so far: the repository reads the books, and the service prices them from a fake repository, "
        "raising its own errors. Now the route."
    )


@checker("Exercise 1: untangle the quote endpoint", time_limit=20)
def check_quote_layers(repository_class: type, service_class: type, make_app: Callable[[Any], Any]) -> str:
    _expect_classes(repository_class, service_class)
    if not callable(make_app):
        raise Hint("make_quote_app should be a function make_quote_app(service) that returns a FastAPI app.")
    _check_layer_rules({"repository": repository_class, "service": service_class, "route": make_app})
    errors = _service_errors(service_class)
    engine = _quote_engine()
    try:
        app = make_app(service_class(_check_repository(repository_class, engine)))
        if not isinstance(app, FastAPI):
            raise Hint(f"make_quote_app(service) returned {type(app).__name__}, not a FastAPI app.")
        with (
            _served(app, "check-quote") as (student, crashes),
            _served(tangled_quote_app(engine), "check-quote-tangled") as (reference, _),
        ):
            _compare_with_tangled(student, crashes, reference)
    finally:
        engine.dispose()
    _check_thin_route(make_app, errors)
    return (
        "Right: the same answers as the tangled endpoint; the service priced books from a fake repository and the "
        "route passed a fake service's answers through. Why it worked: each layer depends only on the one below, "
        "so each can be tested, and replaced, on its own."
    )


# --- exercise 2: timeout and fallback -------------------------------------------------------------

_CATALOGUE = {1: {"id": 1, "title": "Dune", "price_cents": 1999}, 2: {"id": 2, "title": "Emma", "price_cents": 899}}
_HEALTHY_DELAY = 0.02  # a healthy catalogue on a busy day: must still get through
_SLOW_DELAY = 0.5


def _fallback(book_id: int) -> dict:
    return {"id": book_id, "title": None, "fallback": True}


def _check_catalogue() -> FastAPI:
    app = FastAPI()

    @app.get("/books/{book_id}")
    def get_book(book_id: int) -> Any:
        if book_id not in _CATALOGUE:
            from fastapi import HTTPException

            raise HTTPException(404, f"book {book_id} not found")
        return _CATALOGUE[book_id]

    return app


def _call(fn: Callable[..., Any], client: httpx.Client, book_id: int, situation: str) -> tuple[Any, float]:
    start = time.perf_counter()
    try:
        result = fn(client, book_id)
    except Exception as exc:
        advice = ""
        if isinstance(exc, httpx.TimeoutException):
            advice = " Catch httpx.TimeoutException (or httpx.TransportError, which covers it) and return the fallback."
        elif isinstance(exc, httpx.ConnectError):
            advice = (
                " A service that is down refuses the connection: catch httpx.ConnectError too (httpx.TransportError "
                "covers timeouts and connection failures)."
            )
        elif isinstance(exc, httpx.HTTPStatusError):
            advice = " Look at response.status_code before raise_for_status(): 404 means None, 5xx means the fallback."
        raise Hint(
            f"When the catalogue is {situation}, your function raised {describe_exception(exc)}.{advice}"
        ) from None
    if isinstance(result, httpx.Response):
        raise Hint("Your function returned the httpx.Response itself: return response.json() (the book's dict).")
    return result, time.perf_counter() - start


@checker("Exercise 2: a timeout and a fallback", time_limit=20)
def check_fallback(fn: Callable[..., Any], timeout: object) -> str:
    limit = float(expect_type(timeout, (numbers.Real,), "the number of seconds CATALOGUE_TIMEOUT holds"))
    if not 0.05 <= limit <= 0.2:
        raise Hint(
            f"CATALOGUE_TIMEOUT is {limit} s: keep it at 0.1 s. A page waits that long for each call to a service "
            "that is slow; a timeout near zero fails even a healthy call."
        )
    if not callable(fn):
        raise Hint("book_or_fallback should be a function book_or_fallback(client, book_id).")
    faults = Faults(_check_catalogue(), delay=_HEALTHY_DELAY)
    server = serve(faults, name="check-fallback-catalogue")
    try:
        with httpx.Client(base_url=server.url, timeout=5.0) as client:
            _check_healthy(fn, client, faults)
            found, _ = _call(fn, client, 99, "healthy and the book does not exist (404)")
            if found is not None:
                raise Hint(
                    f"For a book the catalogue does not have (404) your function returned {_short(found)}. A 404 is an "
                    "answer, not an outage: return None, or the page would show a book that does not exist."
                )
            faults.mode = "failing"
            for book_id in (1, 2):
                got, _ = _call(fn, client, book_id, "failing (503)")
                if got != _fallback(book_id):
                    raise Hint(
                        f"When the catalogue answers 503 your function returned {_short(got)}, not the fallback "
                        f"{_fallback(book_id)}: a 5xx status is a failure of the catalogue; check response.status_code."
                    )
            faults.mode, faults.delay = "slow", _SLOW_DELAY
            for book_id in (1, 2):
                got, took = _call(fn, client, book_id, "slow")
                if took >= limit + 0.25:
                    raise Hint(
                        f"The catalogue was slow ({_SLOW_DELAY} s) and your function waited {took:.2f} s. Pass "
                        "timeout=CATALOGUE_TIMEOUT to client.get: the client's own 5 s is far too long for a page."
                    )
                if got != _fallback(book_id):
                    raise Hint(
                        f"When the catalogue is slow your function returned {_short(got)}, not {_fallback(book_id)}."
                    )
            faults.release()  # the slow requests the client gave up on end now, not in 0.5 s
            faults.wait_idle(timeout=_SLOW_DELAY + 1)
            server.stop()
            for book_id in (1, 2):
                got, _ = _call(fn, client, book_id, "down (nothing listens)")
                if got != _fallback(book_id):
                    raise Hint(
                        f"When the catalogue is down your function returned {_short(got)}, not {_fallback(book_id)}."
                    )
    finally:
        server.stop()
    return (
        "Right: the book when the catalogue answers, None for a 404, and the fallback within the timeout when it is "
        "slow, failing or down. Why it worked: the timeout bounds the wait, and only failures of the catalogue "
        "(no answer, 5xx) fall back; an answer (404) is passed on."
    )


def _check_healthy(fn: Callable[..., Any], client: httpx.Client, faults: Faults) -> None:
    faults.mode = "slow"  # healthy, but 20 ms: a busy day
    for book_id in (1, 2):
        for _ in range(3):  # a busy machine may slow one call past even a sensible timeout
            got, _ = _call(fn, client, book_id, "healthy (answering in 20 ms)")
            if got == _CATALOGUE[book_id]:
                break
        else:
            if isinstance(got, dict) and got.get("fallback"):
                raise Hint(
                    f"The catalogue was healthy (answering in {_HEALTHY_DELAY * 1000:.0f} ms) and your function "
                    "returned the fallback: is the timeout shorter than that, or is the fallback returned always?"
                )
            raise Hint(
                f"For book {book_id} the healthy catalogue answered {_CATALOGUE[book_id]}; your function returned "
                f"{_short(got)}."
            )


# --- exercise 3: idempotency keys -----------------------------------------------------------------

_CONCURRENT = 6
_SLOW_INSERT = 0.05  # seconds added to each order insert: widens the window a check-then-insert leaves


def _slow_order_inserts(engine: sa.Engine) -> None:
    def before(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO PLACED_ORDERS"):
            time.sleep(_SLOW_INSERT)

    sa.event.listen(engine, "before_cursor_execute", before)


def _count_orders(engine: sa.Engine) -> int:
    try:
        with engine.connect() as conn:
            return conn.execute(sa.text("SELECT count(*) FROM placed_orders")).scalar_one()
    except sa.exc.DBAPIError:
        raise Hint("There is no table placed_orders: keep the line create_placed_orders(engine).") from None


def _stored_in_database(engine: sa.Engine, key: str) -> bool:
    """True if some text column of some table of `engine` holds `key` (the tables are a few rows each)."""
    inspector = sa.inspect(engine)
    with engine.connect() as conn:
        for table in inspector.get_table_names():
            rows = conn.execute(sa.select(sa.Table(table, sa.MetaData(), autoload_with=conn))).all()
            if any(isinstance(value, str) and key in value for row in rows for value in row):
                return True
    return False


class _Orders:
    """Two served instances of the student's app on one database, and what they did."""

    def __init__(self, a: Server, b: Server, crashes: list[BaseException], engine: sa.Engine) -> None:
        self.servers = {"A": a, "B": b}
        self.crashes = crashes
        self.engine = engine

    def post(self, instance: str, body: dict, key: str | None, *, crashes_are_hints: bool = True) -> httpx.Response:
        headers = {} if key is None else {"Idempotency-Key": key}
        response = self.servers[instance].client.post("/orders", json=body, headers=headers)
        if self.crashes and crashes_are_hints:
            raise Hint(f"POST /orders on instance {instance}: your app raised {describe_exception(self.crashes[0])}.")
        return response

    def count(self) -> int:
        return _count_orders(self.engine)


def _expect_created(response: httpx.Response, body: dict, what: str) -> dict:
    got = _get_json(response)
    if (
        response.status_code != 201
        or not isinstance(got, dict)
        or {k: got.get(k) for k in body} != body
        or "id" not in got
    ):
        raise Hint(
            f"{what}: expected 201 with the order {{'id': ..., **{body}}}, got {response.status_code} {_short(got)}."
        )
    return got


def _check_sequential(orders: _Orders) -> None:
    body, other = {"book_id": 3, "quantity": 1}, {"book_id": 3, "quantity": 5}
    no_key = orders.post("A", body, None)
    if no_key.status_code not in (400, 422) or orders.count() != 0:
        raise Hint(
            f"A POST without an Idempotency-Key got {no_key.status_code} and {orders.count()} orders exist: refuse it "
            "(400, or 422 as FastAPI does for a required header) and create nothing."
        )
    first = _expect_created(orders.post("A", body, "key-1"), body, "The first POST with a key")
    if orders.count() != 1:
        raise Hint(f"One POST with a new key should create one order; there are {orders.count()}.")
    for instance, where in [("A", "the same instance"), ("B", "the other instance (same database)")]:
        again = _expect_created(orders.post(instance, body, "key-1"), body, f"A repeat on {where}")
        if orders.count() != 1:
            advice = (
                "Keys kept in the memory of one process are invisible to the other instance: store them in the "
                "database, with the order."
                if instance == "B"
                else "Look the key up before creating anything."
            )
            raise Hint(f"A repeat with the same key on {where} created a second order. {advice}")
        if again != first:
            raise Hint(
                f"A repeat on {where} answered {_short(again)}; the first answer was {first}: send the same answer."
            )
    if not _stored_in_database(orders.engine, "key-1"):
        raise Hint(
            "Your app recognises repeats, but the key is in no table of the database: it lives in the memory of "
            "this Python process, which a second instance on another machine (or a restart) does not share. "
            "Store the keys in the database, with the order."
        )
    new = _expect_created(orders.post("B", body, "key-2"), body, "A POST with a new key and the same body")
    if orders.count() != 2 or new["id"] == first["id"]:
        raise Hint(
            "A new key with the same body must create a new order (a customer may buy the same book twice): "
            "recognise repeats by their key, not by their body."
        )
    changed = orders.post("A", other, "key-1")
    if changed.status_code != 422 or orders.count() != 2:
        raise Hint(
            f"The key of the first order sent with another body ({other}) got {changed.status_code} and there are "
            f"{orders.count()} orders. Refuse it with 422 and create nothing: store the body with the key and compare."
        )


def _check_concurrent(orders: _Orders) -> None:
    body = {"book_id": 4, "quantity": 2}
    before = orders.count()
    start = threading.Barrier(_CONCURRENT)

    def post(i: int) -> httpx.Response:
        start.wait(timeout=5)
        return orders.post("AB"[i % 2], body, "key-at-once", crashes_are_hints=False)

    with ThreadPoolExecutor(_CONCURRENT) as pool:
        responses = list(pool.map(post, range(_CONCURRENT)))
    created = orders.count() - before
    statuses = sorted(r.status_code for r in responses)
    if created != 1:
        raise Hint(
            f"{_CONCURRENT} repeats with one key sent at the same moment (to both instances) created {created} orders "
            f"(statuses {statuses}). Looking the key up, then inserting, leaves a gap where all of them see no key: "
            "insert the key first, in the order's transaction, and let its PRIMARY KEY refuse the others."
        )
    if orders.crashes:
        raise Hint(
            f"Repeats sent at the same moment made your app raise {describe_exception(orders.crashes[0], 160)}. "
            "Several passed the look-up together and the database refused the later ones: insert the key first, "
            "in the order's transaction, catch sa.exc.IntegrityError and answer with the stored order."
        )
    if not set(statuses) <= {201, 409} or 201 not in statuses:
        raise Hint(
            f"Repeats sent at the same moment got statuses {statuses}: the one that wins answers 201, the others "
            "the same 201 (catch sa.exc.IntegrityError and read the stored order) or 409 while it is in progress."
        )
    answers = [r.json() for r in responses if r.status_code == 201]
    if any(answer != answers[0] for answer in answers):
        raise Hint(f"Repeats sent at the same moment got different answers: {answers}.")


@checker("Exercise 3: a retried POST creates one order", time_limit=30)
def check_idempotent_orders(make_app: Callable[[sa.Engine], Any]) -> str:
    if not callable(make_app):
        raise Hint("make_orders_app should be a function make_orders_app(engine) that returns a FastAPI app.")
    engine = sql_engine()
    try:
        apps = [make_app(engine), make_app(engine)]  # two instances, one database
        if apps[0] is ...:  # the student notebook's skeleton: `return ...`
            raise NotAttempted("make_orders_app still returns `...`: write it, then run this cell again.")
        if not all(isinstance(app, FastAPI) for app in apps):
            raise Hint(f"make_orders_app(engine) returned {type(apps[0]).__name__}, not a FastAPI app.")
        _count_orders(engine)
        _slow_order_inserts(engine)
        crashes: list[BaseException] = []
        a = serve(RecordCrashes(apps[0], crashes), name="check-orders-a")
        b = serve(RecordCrashes(apps[1], crashes), name="check-orders-b")
        try:
            orders = _Orders(a, b, crashes, engine)
            _check_sequential(orders)
            _check_concurrent(orders)
        finally:
            a.stop()
            b.stop()
    finally:
        engine.dispose()
    return (
        "Right: one order per key, the same answer to every repeat on either instance, a new order for a new key, "
        "and one order when repeats race. Why it worked: the database holds the keys, and its unique key decides "
        "which of two simultaneous requests wins."
    )
