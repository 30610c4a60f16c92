"""Tests for labsupport.lessons.l11_architecture.checkers: each checker against its corpus of wrong answers
(what students write, and what would get a ✔ it should not: each must fail with the hint for that mistake)
and of right answers (each must pass)."""

from __future__ import annotations

import json
import threading
import time
from typing import Annotated

import httpx
import pytest
import sqlalchemy as sa
from fastapi import APIRouter, FastAPI, Header, HTTPException, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from labsupport.lessons.l11_architecture.checkers import (
    check_fallback,
    check_idempotent_orders,
    check_quote_layers,
    check_quote_service,
    check_reservations_prediction,
)
from labsupport.lessons.l11_architecture.faults import Faults
from labsupport.servers import running_servers, serve
from lessons.corpus import assert_hint, ids

pytestmark = [pytest.mark.usefixtures("stop_servers"), pytest.mark.timeout(90)]


# --- predict: reservations behind a timeout --------------------------------------------------------


@pytest.fixture
def slow_catalogue():
    made: list[int] = []
    app = FastAPI()

    @app.post("/reservations", status_code=201)
    def reserve(book_id: int):
        made.append(book_id)
        return {"reserved": book_id}

    faults = Faults(app, delay=0.1)
    server = serve(faults, name="predict-catalogue")
    client = httpx.Client(base_url=server.url, timeout=5)

    def reserve_with_retries():
        for _ in range(3):
            try:
                return client.post("/reservations", params={"book_id": 3}, timeout=0.03).raise_for_status()
            except httpx.TimeoutException:
                continue
        raise RuntimeError("no answer")

    yield reserve_with_retries, lambda: len(made), faults
    client.close()


def test_prediction_right_answer_passes_and_restores_the_mode(slow_catalogue):
    reserve, count, faults = slow_catalogue
    faults.mode = "ok"
    result = check_reservations_prediction(3, reserve, count, faults)
    assert result.passed, result
    assert "not the catalogue's work" in result.message
    assert faults.mode == "ok"


WRONG_PREDICTIONS = [
    ("nothing happened, the caller saw a failure", 0, r"ends the \*caller's\* wait"),
    ("one: the retries repeat the first", 1, r"Each attempt is a new request"),
    ("two", 2, r"Each attempt is a new request"),
    ("more than the attempts", 4, r"one reservation per attempt that reached it"),
    ("a string", "3", r"Expected a whole number"),
    ("True is not a number here", True, r"Expected a whole number"),
]


@pytest.mark.parametrize(("name", "predicted", "hint"), WRONG_PREDICTIONS, ids=ids(WRONG_PREDICTIONS))
def test_prediction_wrong_answers_get_their_hint(slow_catalogue, name, predicted, hint):
    """The truth is counted from the catalogue, never stored. Mutation that failed this: comparing with
    `made - 1` (every right answer then got the hint for 2)."""
    reserve, count, faults = slow_catalogue
    assert_hint(check_reservations_prediction(predicted, reserve, count, faults), hint)


def test_prediction_placeholder_is_not_attempted(slow_catalogue):
    assert check_reservations_prediction(..., *slow_catalogue).status == "not attempted"


# --- exercise 1: layers ---------------------------------------------------------------------------------


class BookNotFound(Exception):
    pass


class InvalidQuantity(Exception):
    pass


class NotEnoughStock(Exception):
    pass


ERROR_STATUS = {BookNotFound: 404, InvalidQuantity: 422, NotEnoughStock: 409}


class QuoteRepository:
    def __init__(self, engine):
        self.engine = engine

    def find_book(self, book_id):
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.text("SELECT title, price_cents, stock FROM books WHERE id = :id"), {"id": book_id}
            ).first()
        return None if row is None else dict(row._mapping)


class QuoteService:
    def __init__(self, repository):
        self.books = repository

    def quote(self, book_id, quantity):
        book = self.books.find_book(book_id)
        if book is None:
            raise BookNotFound(f"book {book_id} not found")
        if not 1 <= quantity <= 20:
            raise InvalidQuantity("quantity must be between 1 and 20")
        if quantity > book["stock"]:
            raise NotEnoughStock(f"only {book['stock']} in stock")
        total = book["price_cents"] * quantity
        if quantity >= 3:
            total = total * 90 // 100
        return {"book_id": book_id, "title": book["title"], "quantity": quantity, "total_cents": total}


def make_quote_app(service):
    app = FastAPI()

    @app.get("/books/{book_id}/quote")
    def quote(book_id: int, quantity: int = 1):
        try:
            return service.quote(book_id, quantity)
        except tuple(ERROR_STATUS) as error:
            raise HTTPException(ERROR_STATUS[type(error)], str(error)) from None

    return app


# Right variants: Core instead of text, a base error class with handlers, a row with extra columns.


class CoreRepository:
    def __init__(self, engine):
        self.engine = engine
        self.books = sa.Table("books", sa.MetaData(), autoload_with=engine)

    def find_book(self, book_id):
        query = sa.select(self.books).where(self.books.c.id == book_id)
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        return None if row is None else dict(row._mapping)  # every column: more than asked, fine


class ShopError(Exception):
    status = 400


class Missing(ShopError):
    pass


class BadQuantity(ShopError):
    pass


class TooFew(ShopError):
    pass


class HandlerService:
    MAX = 20
    DISCOUNT_FROM = 3

    def __init__(self, repository):
        self.repository = repository

    def quote(self, book_id: int, quantity: int) -> dict:
        book = self.repository.find_book(book_id)
        if not book:
            raise Missing(book_id)
        if quantity < 1 or quantity > self.MAX:
            raise BadQuantity(quantity)
        if book["stock"] < quantity:
            raise TooFew(book["stock"])
        total = book["price_cents"] * quantity
        discounted = total - (total + 9) // 10 if quantity >= self.DISCOUNT_FROM else total  # floor(0.9 × total)
        return {"book_id": book_id, "title": book["title"], "quantity": quantity, "total_cents": discounted}


def make_app_with_handlers(service):
    app = FastAPI()
    for error, status in [(Missing, 404), (BadQuantity, 422), (TooFew, 409)]:

        async def handler(request, exc, status=status):
            return JSONResponse({"detail": f"{type(exc).__name__}: {exc}"}, status_code=status)

        app.add_exception_handler(error, handler)

    @app.get("/books/{book_id}/quote")
    def quote(book_id: int, quantity: int = 1):
        return service.quote(book_id=book_id, quantity=quantity)

    return app


RIGHT_LAYERS = [
    ("the notebook's solution", QuoteRepository, QuoteService, make_quote_app),
    ("Core select, error subclasses, exception handlers", CoreRepository, HandlerService, make_app_with_handlers),
]


@pytest.mark.parametrize(("name", "repository", "service", "make_app"), RIGHT_LAYERS, ids=ids(RIGHT_LAYERS))
def test_layers_right_answers_pass(name, repository, service, make_app):
    """Mutation that failed this: the service's healthy cases asking for 20 copies of a book with 10 in stock
    (every right service then raised NotEnoughStock)."""
    result = check_quote_layers(repository, service, make_app)
    assert result.passed, result
    assert "Why it worked" in result.message
    part_one = check_quote_service(repository, service)
    assert part_one.passed, part_one
    assert running_servers() == []


# Wrong variants: each one layer (or one rule) away from the right answer.


class ServiceRaisingHttp(QuoteService):
    def quote(self, book_id, quantity):
        if self.books.find_book(book_id) is None:
            raise HTTPException(404, "not found")
        return super().quote(book_id, quantity)


class ServiceWithSql(QuoteService):
    def quote(self, book_id, quantity):
        with self.books.engine.connect() as conn:  # reaches through the repository to the database
            conn.execute(sa.text("SELECT 1"))
        return super().quote(book_id, quantity)


class ServiceWithSqlText(QuoteService):
    def quote(self, book_id, quantity):
        self.books.engine.dispose()
        with self.books.engine.connect() as conn:
            conn.exec_driver_sql("SELECT count(*) FROM books")
        return super().quote(book_id, quantity)


class RepositoryRaisingHttp(QuoteRepository):
    def find_book(self, book_id):
        book = super().find_book(book_id)
        if book is None:
            raise HTTPException(404, "no such book")
        return book


class RepositoryRaisingLookup(QuoteRepository):
    def find_book(self, book_id):
        book = super().find_book(book_id)
        if book is None:
            raise LookupError(book_id)
        return book


class RepositoryReturningRow(QuoteRepository):
    def find_book(self, book_id):
        with self.engine.connect() as conn:
            return conn.execute(
                sa.text("SELECT title, price_cents, stock FROM books WHERE id = :i"), {"i": book_id}
            ).first()


class RepositoryWithOtherName(QuoteRepository):
    get_book = QuoteRepository.find_book
    find_book = None


def _service_with(price):
    class Service(QuoteService):
        def quote(self, book_id, quantity):
            answer = super().quote(book_id, quantity)
            answer["total_cents"] = price(self.books.find_book(book_id)["price_cents"], quantity)
            return answer

    return Service


DiscountFromFour = _service_with(lambda p, q: p * q * 90 // 100 if q > 3 else p * q)
RoundedDiscount = _service_with(lambda p, q: round(p * q * 0.9) if q >= 3 else p * q)
DiscountRoundedUp = _service_with(lambda p, q: p * q - (p * q) // 10 if q >= 3 else p * q)


class ServiceStockBeforeQuantity(QuoteService):
    def quote(self, book_id, quantity):
        book = self.books.find_book(book_id)
        if book is not None and quantity > book["stock"]:
            raise NotEnoughStock("not enough")
        return super().quote(book_id, quantity)


class ServiceOneErrorClass(QuoteService):
    def quote(self, book_id, quantity):
        try:
            return super().quote(book_id, quantity)
        except (BookNotFound, InvalidQuantity, NotEnoughStock) as error:
            raise ValueError(str(error)) from None


class ServiceReturningNone(QuoteService):
    def quote(self, book_id, quantity):
        if self.books.find_book(book_id) is None:
            return None
        return super().quote(book_id, quantity)


class ServiceAskingTheRepositoryElse(QuoteService):
    def quote(self, book_id, quantity):
        self.books.engine  # noqa: B018 - the service peeks at how the repository stores books
        return super().quote(book_id, quantity)


def service_as_a_function(repository):
    return QuoteService(repository)


def route_with_sql(service):
    app = make_quote_app(service)

    @app.get("/books/{book_id}/exists")
    def exists(book_id: int):
        with service.books.engine.connect() as conn:
            return conn.execute(sa.text("SELECT count(*) FROM books WHERE id = :id"), {"id": book_id}).scalar_one()

    return app


def route_not_mapping_errors(service):
    app = FastAPI()

    @app.get("/books/{book_id}/quote")
    def quote(book_id: int, quantity: int = 1):
        return service.quote(book_id, quantity)

    return app


def route_with_wrong_status(service):
    app = FastAPI()
    statuses = {**ERROR_STATUS, NotEnoughStock: 400}

    @app.get("/books/{book_id}/quote")
    def quote(book_id: int, quantity: int = 1):
        try:
            return service.quote(book_id, quantity)
        except tuple(statuses) as error:
            raise HTTPException(statuses[type(error)], str(error)) from None

    return app


def route_validating_quantity(service):
    app = FastAPI()

    @app.get("/books/{book_id}/quote")
    def quote(book_id: int, quantity: Annotated[int, Query(ge=1, le=20)] = 1):
        try:
            return service.quote(book_id, quantity)
        except tuple(ERROR_STATUS) as error:
            raise HTTPException(ERROR_STATUS[type(error)], str(error)) from None

    return app


def route_repeating_the_limit(service):
    app = FastAPI()

    @app.get("/books/{book_id}/quote")
    def quote(book_id: int, quantity: int = 1):
        if quantity > 20:  # the shop's rule, copied into the route
            raise HTTPException(422, "too many")
        try:
            return service.quote(book_id, quantity)
        except tuple(ERROR_STATUS) as error:
            raise HTTPException(ERROR_STATUS[type(error)], str(error)) from None

    return app


def route_reaching_the_repository(service):
    app = FastAPI()

    @app.get("/books/{book_id}/quote")
    def quote(book_id: int, quantity: int = 1):
        if service.books.find_book(book_id) is None:  # the route asks storage itself
            raise HTTPException(404, "not found")
        try:
            return service.quote(book_id, quantity)
        except tuple(ERROR_STATUS) as error:
            raise HTTPException(ERROR_STATUS[type(error)], str(error)) from None

    return app


def route_adding_a_field(service):
    app = FastAPI()

    @app.get("/books/{book_id}/quote")
    def quote(book_id: int, quantity: int = 1):
        try:
            return {**service.quote(book_id, quantity), "currency": "EUR"}
        except tuple(ERROR_STATUS) as error:
            raise HTTPException(ERROR_STATUS[type(error)], str(error)) from None

    return app


def returns_a_router(service):
    return APIRouter()


WRONG_LAYERS = [
    ("service raises HTTPException", QuoteRepository, ServiceRaisingHttp, make_quote_app, r"QuoteService uses fastapi"),
    ("service runs SQL through the repository's engine", QuoteRepository, ServiceWithSql, make_quote_app,
     r"QuoteService uses sqlalchemy"),
    ("service sends SQL text without sqlalchemy", QuoteRepository, ServiceWithSqlText, make_quote_app,
     r"QuoteService holds SQL text"),
    ("repository raises HTTPException(404)", RepositoryRaisingHttp, QuoteService, make_quote_app,
     r"QuoteRepository uses fastapi"),
    ("repository raises for a missing book", RepositoryRaisingLookup, QuoteService, make_quote_app,
     r"find_book\(99\) raised LookupError.*return.*None"),
    ("repository returns a Row, not a dict", RepositoryReturningRow, QuoteService, make_quote_app,
     r"find_book\(1\) returned"),
    ("repository method under another name", RepositoryWithOtherName, QuoteService, make_quote_app,
     r"has no method find_book"),
    ("discount from 4 copies", QuoteRepository, DiscountFromFour, make_quote_app,
     r"quote\(1, 3\) returned .*'total_cents': 5991"),
    ("discount rounded, not rounded down", QuoteRepository, RoundedDiscount, make_quote_app,
     r"quote\(1, 3\) returned .*5392"),
    ("discount as total - total // 10", QuoteRepository, DiscountRoundedUp, make_quote_app,
     r"quote\(1, 3\) returned .*5392"),
    ("stock checked before the quantity", QuoteRepository, ServiceStockBeforeQuantity, make_quote_app,
     r"quantity=\d+: the tangled endpoint answers 422, yours 409"),
    ("one exception class for every mistake", QuoteRepository, ServiceOneErrorClass, make_quote_app,
     r"same exception class for different mistakes"),
    ("service returns None for a missing book", QuoteRepository, ServiceReturningNone, make_quote_app,
     r"returned None instead of raising a domain error"),
    ("service asks the repository for more than find_book", QuoteRepository, ServiceAskingTheRepositoryElse,
     make_quote_app, r"asks its repository, through find_book, and nothing else"),
    ("service is a function", QuoteRepository, service_as_a_function, make_quote_app,
     r"QuoteService should be a class"),
    ("route runs SQL", QuoteRepository, QuoteService, route_with_sql, r"make_quote_app uses sqlalchemy"),
    ("route does not map the domain errors", QuoteRepository, QuoteService, route_not_mapping_errors,
     r"your app raised BookNotFound"),
    ("not enough stock answered 400", QuoteRepository, QuoteService, route_with_wrong_status,
     r"the tangled endpoint answers 409, yours 400"),
    ("the quantity validated by the route, before the book", QuoteRepository, QuoteService, route_validating_quantity,
     r"books/99/quote\?quantity=0: the tangled endpoint answers 404, yours 422"),
    ("the route repeats the 20-copy limit", QuoteRepository, QuoteService, route_repeating_the_limit,
     r"limit of 20 copies belong in the service"),
    ("the route asks the repository itself", QuoteRepository, QuoteService, route_reaching_the_repository,
     r"your route raised AttributeError.*only call service.quote"),
    ("the route adds a field", QuoteRepository, QuoteService, route_adding_a_field, r"'currency': 'EUR'"),
    ("an APIRouter instead of an app", QuoteRepository, QuoteService, returns_a_router, r"not a FastAPI app"),
]  # fmt: skip


@pytest.mark.parametrize(("name", "repository", "service", "make_app", "hint"), WRONG_LAYERS, ids=ids(WRONG_LAYERS))
def test_layers_wrong_answers_get_their_hint(name, repository, service, make_app, hint):
    """Mutation that failed this: dropping `_check_thin_route` (the route repeating the limit and the route
    reaching into the repository then passed)."""
    assert_hint(check_quote_layers(repository, service, make_app), hint)
    assert running_servers() == []


class SkeletonRepository:
    def __init__(self, engine): ...

    def find_book(self, book_id): ...


class SkeletonService:
    MAX_COPIES = ...

    def __init__(self, repository): ...

    def quote(self, book_id, quantity): ...


def test_the_student_skeletons_are_not_attempted():
    """The student build keeps each method's def line with `...` as its body. Mutation that failed this:
    `_expect_classes` not looking for placeholder methods (the skeleton got "has no method find_book"…)."""
    for result in [
        check_quote_service(SkeletonRepository, SkeletonService),
        check_quote_service(QuoteRepository, SkeletonService),
        check_quote_layers(SkeletonRepository, QuoteService, make_quote_app),
    ]:
        assert result.status == "not attempted", result
    assert "QuoteService.quote still holds" in check_quote_service(QuoteRepository, SkeletonService).message

    def make_orders_app(engine):
        orders_metadata.create_all(engine)
        return ...

    assert check_idempotent_orders(make_orders_app).status == "not attempted"


def test_part_one_judges_the_two_lower_layers_alone():
    """Mutation that failed this: check_quote_service skipping the layer rules (HTTP in the service passed)."""
    assert_hint(check_quote_service(QuoteRepository, ServiceRaisingHttp), r"QuoteService uses fastapi")
    assert_hint(check_quote_service(RepositoryRaisingLookup, QuoteService), r"raised LookupError")
    assert_hint(check_quote_service(QuoteRepository, DiscountFromFour), r"quote\(1, 3\) returned")
    assert check_quote_service(..., QuoteService).status == "not attempted"
    assert check_quote_layers(QuoteRepository, QuoteService, ...).status == "not attempted"


# --- exercise 2: timeout and fallback --------------------------------------------------------------------

CATALOGUE_TIMEOUT = 0.1


def _fallback(book_id):
    return {"id": book_id, "title": None, "fallback": True}


def book_or_fallback(client, book_id):
    try:
        response = client.get(f"/books/{book_id}", timeout=CATALOGUE_TIMEOUT)
    except httpx.TransportError:
        return _fallback(book_id)
    if response.status_code == 404:
        return None
    if response.status_code >= 500:
        return _fallback(book_id)
    response.raise_for_status()
    return response.json()


def with_raise_for_status(client, book_id):
    try:
        response = client.get(f"/books/{book_id}", timeout=httpx.Timeout(CATALOGUE_TIMEOUT))
        response.raise_for_status()
        return response.json()
    except httpx.HTTPStatusError as error:
        if error.response.status_code == 404:
            return None
        return _fallback(book_id)
    except (httpx.TimeoutException, httpx.ConnectError):
        return _fallback(book_id)


def with_is_server_error(client, book_id):
    try:
        response = client.get(f"/books/{book_id}", timeout=CATALOGUE_TIMEOUT)
    except (httpx.ReadTimeout, httpx.ConnectTimeout, httpx.ConnectError):
        return {"id": book_id, "title": None, "fallback": True}
    if response.is_server_error:
        return {"id": book_id, "title": None, "fallback": True}
    return None if response.status_code == 404 else response.json()


RIGHT_FALLBACKS = [
    ("the notebook's solution", book_or_fallback),
    ("raise_for_status, then sort the errors", with_raise_for_status),
    ("is_server_error and named transport errors", with_is_server_error),
]


@pytest.mark.parametrize(("name", "fn"), RIGHT_FALLBACKS, ids=ids(RIGHT_FALLBACKS))
def test_fallback_right_answers_pass(name, fn):
    """Mutation that failed this: the checker's slow case with _SLOW_DELAY 0.05 (shorter than the timeout:
    the solution then got the book, and the check said it was not the fallback)."""
    result = check_fallback(fn, CATALOGUE_TIMEOUT)
    assert result.passed, result
    assert running_servers() == []


def no_timeout(client, book_id):
    try:
        response = client.get(f"/books/{book_id}")
    except httpx.TransportError:
        return _fallback(book_id)
    if response.status_code == 404:
        return None
    return _fallback(book_id) if response.status_code >= 500 else response.json()


def _with_timeout(seconds):
    def fn(client, book_id):
        try:
            response = client.get(f"/books/{book_id}", timeout=seconds)
        except httpx.TransportError:
            return _fallback(book_id)
        if response.status_code == 404:
            return None
        return _fallback(book_id) if response.status_code >= 500 else response.json()

    return fn


def _catching(errors):
    def fn(client, book_id):
        try:
            response = client.get(f"/books/{book_id}", timeout=CATALOGUE_TIMEOUT)
        except errors:
            return _fallback(book_id)
        if response.status_code == 404:
            return None
        return _fallback(book_id) if response.status_code >= 500 else response.json()

    return fn


def no_status_check(client, book_id):
    try:
        response = client.get(f"/books/{book_id}", timeout=CATALOGUE_TIMEOUT)
    except httpx.TransportError:
        return _fallback(book_id)
    return None if response.status_code == 404 else response.json()


def falls_back_on_everything(client, book_id):
    try:
        response = client.get(f"/books/{book_id}", timeout=CATALOGUE_TIMEOUT)
        response.raise_for_status()
        return response.json()
    except Exception:
        return _fallback(book_id)


def raises_on_404(client, book_id):
    try:
        response = client.get(f"/books/{book_id}", timeout=CATALOGUE_TIMEOUT)
    except httpx.TransportError:
        return _fallback(book_id)
    if response.status_code >= 500:
        return _fallback(book_id)
    return response.raise_for_status().json()


def returns_the_response(client, book_id):
    try:
        response = client.get(f"/books/{book_id}", timeout=CATALOGUE_TIMEOUT)
    except httpx.TransportError:
        return _fallback(book_id)
    return None if response.status_code == 404 else response


def fallback_for_book_one(client, book_id):
    try:
        response = client.get(f"/books/{book_id}", timeout=CATALOGUE_TIMEOUT)
    except httpx.TransportError:
        return _fallback(1)
    if response.status_code == 404:
        return None
    return _fallback(1) if response.status_code >= 500 else response.json()


def always_the_fallback(client, book_id):
    return _fallback(book_id)


_last_good: dict = {}


def stale_cache(client, book_id):
    try:
        response = client.get(f"/books/{book_id}", timeout=CATALOGUE_TIMEOUT)
        if response.status_code == 404:
            return None
        response.raise_for_status()
        _last_good[book_id] = response.json()
        return _last_good[book_id]
    except httpx.HTTPError:
        return _last_good.get(book_id, _fallback(book_id))


def retries_until_it_answers(client, book_id):
    for _ in range(20):
        try:
            response = client.get(f"/books/{book_id}", timeout=CATALOGUE_TIMEOUT)
        except httpx.TimeoutException:
            continue
        except httpx.TransportError:
            return _fallback(book_id)
        if response.status_code == 404:
            return None
        return _fallback(book_id) if response.status_code >= 500 else response.json()
    return _fallback(book_id)


WRONG_FALLBACKS = [
    ("no timeout: the client's 5 s", no_timeout, CATALOGUE_TIMEOUT, r"waited .* Pass timeout=CATALOGUE_TIMEOUT"),
    ("a timeout of 1.5 s", _with_timeout(1.5), CATALOGUE_TIMEOUT, r"waited"),
    ("a timeout of 5 ms", _with_timeout(0.005), CATALOGUE_TIMEOUT, r"returned the fallback: is the timeout shorter"),
    ("catches only timeouts", _catching(httpx.TimeoutException), CATALOGUE_TIMEOUT, r"down .*catch httpx.ConnectError"),
    ("catches only refused connections", _catching(httpx.ConnectError), CATALOGUE_TIMEOUT,
     r"slow, your function raised ReadTimeout.*Catch httpx.TimeoutException"),
    ("no status check: the 503 body as a book", no_status_check, CATALOGUE_TIMEOUT, r"a 5xx status is a failure"),
    ("except Exception: a 404 falls back too", falls_back_on_everything, CATALOGUE_TIMEOUT, r"A 404 is an answer"),
    ("raise_for_status on a 404", raises_on_404, CATALOGUE_TIMEOUT, r"404 means None"),
    ("returns the Response", returns_the_response, CATALOGUE_TIMEOUT, r"returned the httpx.Response itself"),
    ("the fallback of book 1 for every book", fallback_for_book_one, CATALOGUE_TIMEOUT, r"not the fallback"),
    ("always the fallback", always_the_fallback, CATALOGUE_TIMEOUT, r"returned the fallback"),
    ("a stale cached book instead of the fallback", stale_cache, CATALOGUE_TIMEOUT,
     r"answers 503 your function returned \{'id': 1, 'title': 'Dune'"),
    ("retries a timeout until the catalogue answers", retries_until_it_answers, CATALOGUE_TIMEOUT, r"waited"),
    ("CATALOGUE_TIMEOUT set to 5 s", book_or_fallback, 5, r"keep it at 0.1 s"),
    ("CATALOGUE_TIMEOUT as text", book_or_fallback, "0.1", r"Expected the number of seconds"),
]  # fmt: skip


@pytest.mark.parametrize(("name", "fn", "timeout", "hint"), WRONG_FALLBACKS, ids=ids(WRONG_FALLBACKS))
def test_fallback_wrong_answers_get_their_hint(name, fn, timeout, hint):
    """Mutation that failed this: the slow case measured after the call returned the book (`took` taken
    before the call) — no timeout then passed."""
    _last_good.clear()
    assert_hint(check_fallback(fn, timeout), hint)
    assert running_servers() == []


def test_fallback_placeholder_is_not_attempted():
    assert check_fallback(..., CATALOGUE_TIMEOUT).status == "not attempted"


# --- exercise 3: idempotency keys ---------------------------------------------------------------------------


class NewOrder(BaseModel):
    book_id: int
    quantity: int


orders_metadata = sa.MetaData()
placed_orders = sa.Table(
    "placed_orders",
    orders_metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("book_id", sa.Integer, nullable=False),
    sa.Column("quantity", sa.Integer, nullable=False),
)


def insert_order(conn, order):
    result = conn.execute(placed_orders.insert().values(book_id=order.book_id, quantity=order.quantity))
    return {"id": result.inserted_primary_key[0], "book_id": order.book_id, "quantity": order.quantity}


def _keys_table(metadata):
    return sa.Table(
        "idempotency_keys",
        metadata,
        sa.Column("key", sa.String(200), primary_key=True),
        sa.Column("book_id", sa.Integer, nullable=False),
        sa.Column("quantity", sa.Integer, nullable=False),
        sa.Column("order_id", sa.Integer),
    )


def make_orders_app(engine):
    orders_metadata.create_all(engine)
    keys_metadata = sa.MetaData()
    keys = _keys_table(keys_metadata)
    keys_metadata.create_all(engine)
    app = FastAPI()

    @app.post("/orders", status_code=201)
    def place_order(order: NewOrder, idempotency_key: Annotated[str, Header()]):
        try:
            with engine.begin() as conn:
                conn.execute(keys.insert().values(key=idempotency_key, book_id=order.book_id, quantity=order.quantity))
                created = insert_order(conn, order)
                conn.execute(keys.update().where(keys.c.key == idempotency_key).values(order_id=created["id"]))
            return created
        except sa.exc.IntegrityError:
            with engine.connect() as conn:
                seen = conn.execute(sa.select(keys).where(keys.c.key == idempotency_key)).one()
            if (seen.book_id, seen.quantity) != (order.book_id, order.quantity):
                raise HTTPException(422, "this Idempotency-Key was used for another order") from None
            return {"id": seen.order_id, "book_id": seen.book_id, "quantity": seen.quantity}

    return app


def on_conflict_do_nothing(engine):
    """Raw SQL, the whole request stored as JSON, INSERT ... ON CONFLICT DO NOTHING (SQLite and PostgreSQL)."""
    orders_metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(
            sa.text("CREATE TABLE IF NOT EXISTS request_keys (k VARCHAR(100) PRIMARY KEY, body TEXT, answer TEXT)")
        )
    app = FastAPI()

    @app.post("/orders", status_code=201)
    def place_order(order: NewOrder, idempotency_key: Annotated[str | None, Header()] = None):
        if not idempotency_key:
            raise HTTPException(400, "an Idempotency-Key header is required")
        body = json.dumps(order.model_dump(), sort_keys=True)
        with engine.begin() as conn:
            claimed = conn.execute(
                sa.text("INSERT INTO request_keys (k, body) VALUES (:k, :b) ON CONFLICT (k) DO NOTHING"),
                {"k": idempotency_key, "b": body},
            ).rowcount
            if claimed:
                created = insert_order(conn, order)
                conn.execute(
                    sa.text("UPDATE request_keys SET answer = :a WHERE k = :k"),
                    {"a": json.dumps(created), "k": idempotency_key},
                )
                return created
            stored = conn.execute(
                sa.text("SELECT body, answer FROM request_keys WHERE k = :k"), {"k": idempotency_key}
            ).one()
        if stored.body != body:
            raise HTTPException(422, "this key was sent with another body")
        return json.loads(stored.answer)

    return app


RIGHT_ORDERS = [
    ("the notebook's solution", make_orders_app),
    ("ON CONFLICT DO NOTHING, answers stored as JSON", on_conflict_do_nothing),
]


@pytest.mark.parametrize(("name", "make_app"), RIGHT_ORDERS, ids=ids(RIGHT_ORDERS))
def test_orders_right_answers_pass(name, make_app):
    """Mutation that failed this: `_expect_created` demanding 200 instead of 201."""
    result = check_idempotent_orders(make_app)
    assert result.passed, result
    assert running_servers() == []


def no_idempotency(engine):
    orders_metadata.create_all(engine)
    app = FastAPI()

    @app.post("/orders", status_code=201)
    def place_order(order: NewOrder):
        with engine.begin() as conn:
            return insert_order(conn, order)

    return app


def _in_memory(shared: bool):
    global_answers: dict = {}
    lock = threading.Lock()

    def make_app(engine):
        orders_metadata.create_all(engine)
        answers = global_answers if shared else {}
        app = FastAPI()

        @app.post("/orders", status_code=201)
        def place_order(order: NewOrder, idempotency_key: Annotated[str, Header()]):
            with lock:
                if idempotency_key in answers:
                    if answers[idempotency_key]["quantity"] != order.quantity:
                        raise HTTPException(422, "other body")
                    return answers[idempotency_key]
                with engine.begin() as conn:
                    answers[idempotency_key] = insert_order(conn, order)
                return answers[idempotency_key]

        return app

    return make_app


def by_body(engine):
    orders_metadata.create_all(engine)
    app = FastAPI()

    @app.post("/orders", status_code=201)
    def place_order(order: NewOrder, idempotency_key: Annotated[str, Header()]):
        with engine.begin() as conn:
            same = conn.execute(
                sa.select(placed_orders).where(
                    placed_orders.c.book_id == order.book_id, placed_orders.c.quantity == order.quantity
                )
            ).first()
            return dict(same._mapping) if same else insert_order(conn, order)

    return app


def by_body_with_keys(engine):
    """Keys are written down, but a repeat is recognised by its body."""
    orders_metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE IF NOT EXISTS key_log (k VARCHAR(100) NOT NULL)"))
    app = FastAPI()

    @app.post("/orders", status_code=201)
    def place_order(order: NewOrder, idempotency_key: Annotated[str, Header()]):
        with engine.begin() as conn:
            conn.execute(sa.text("INSERT INTO key_log (k) VALUES (:k)"), {"k": idempotency_key})
            same = conn.execute(
                sa.select(placed_orders).where(
                    placed_orders.c.book_id == order.book_id, placed_orders.c.quantity == order.quantity
                )
            ).first()
            return dict(same._mapping) if same else insert_order(conn, order)

    return app


def _with_keys(on_other_body: str = "refuse", check_then_insert: bool = False, repeat_status: int = 201):
    """A keys table done (almost) right; the argument names the mistake."""

    def make_app(engine):
        orders_metadata.create_all(engine)
        metadata = sa.MetaData()
        keys = _keys_table(metadata)
        metadata.create_all(engine)
        app = FastAPI()

        @app.post("/orders", status_code=201)
        def place_order(order: NewOrder, idempotency_key: Annotated[str, Header()]):
            with engine.connect() as conn:
                seen = conn.execute(sa.select(keys).where(keys.c.key == idempotency_key)).first()
            if seen is not None and check_then_insert:
                if (seen.book_id, seen.quantity) != (order.book_id, order.quantity):
                    raise HTTPException(422, "other body")
                answer = {"id": seen.order_id, "book_id": seen.book_id, "quantity": seen.quantity}
                return JSONResponse(answer, status_code=repeat_status)
            if not check_then_insert:
                try:
                    with engine.begin() as conn:
                        conn.execute(
                            keys.insert().values(key=idempotency_key, book_id=order.book_id, quantity=order.quantity)
                        )
                        created = insert_order(conn, order)
                        conn.execute(keys.update().where(keys.c.key == idempotency_key).values(order_id=created["id"]))
                    return created
                except sa.exc.IntegrityError:
                    with engine.connect() as conn:
                        seen = conn.execute(sa.select(keys).where(keys.c.key == idempotency_key)).one()
                if on_other_body == "old order" or (seen.book_id, seen.quantity) == (order.book_id, order.quantity):
                    answer = {"id": seen.order_id, "book_id": seen.book_id, "quantity": seen.quantity}
                    return JSONResponse(answer, status_code=repeat_status)
                if on_other_body == "new order":
                    with engine.begin() as conn:
                        return insert_order(conn, order)
                raise HTTPException(422, "other body")
            with engine.begin() as conn:  # check, then insert: a gap between the two
                created = insert_order(conn, order)
            with engine.begin() as conn:
                conn.execute(
                    keys.insert().values(
                        key=idempotency_key, book_id=order.book_id, quantity=order.quantity, order_id=created["id"]
                    )
                )
            return created

        return app

    return make_app


def key_optional(engine):
    keyed = make_orders_app(engine).router.routes[-1].endpoint  # the solution's route function
    app = FastAPI()

    @app.post("/orders", status_code=201)
    def place_order(order: NewOrder, idempotency_key: Annotated[str | None, Header()] = None):
        if idempotency_key is None:  # without a key: created anyway
            with engine.begin() as conn:
                return insert_order(conn, order)
        return keyed(order, idempotency_key)

    return app


def new_id_each_time(engine):
    orders_metadata.create_all(engine)
    seen: set = set()
    app = FastAPI()

    @app.post("/orders", status_code=201)
    def place_order(order: NewOrder, idempotency_key: Annotated[str, Header()]):
        with engine.begin() as conn:
            if idempotency_key in seen:
                return {"id": int(time.time() * 1000), "book_id": order.book_id, "quantity": order.quantity}
            seen.add(idempotency_key)
            return insert_order(conn, order)

    return app


def forgets_placed_orders(engine):
    return FastAPI()


WRONG_ORDERS = [
    ("no idempotency at all", no_idempotency, r"without an Idempotency-Key got 201"),
    ("keys in each instance's memory", _in_memory(shared=False), r"other instance.*Keys kept in the memory"),
    ("keys in a global dict, one process", _in_memory(shared=True), r"in no table of the database"),
    ("repeats recognised by their body, no keys stored", by_body, r"in no table of the database"),
    ("keys stored, repeats recognised by their body", by_body_with_keys, r"recognise repeats by their key"),
    ("the same key, another body: the old order", _with_keys(on_other_body="old order"), r"Refuse it with 422"),
    ("the same key, another body: a new order", _with_keys(on_other_body="new order"), r"Refuse it with 422"),
    ("check, then insert, in separate transactions", _with_keys(check_then_insert=True), r"at the same moment"),
    ("a repeat answered 200", _with_keys(repeat_status=200, check_then_insert=True), r"A repeat on the same instance"),
    ("a key is optional", key_optional, r"without an Idempotency-Key got 201"),
    ("a repeat answered with a made-up id", new_id_each_time, r"A repeat on the same instance answered"),
    ("placed_orders never created", forgets_placed_orders, r"no table placed_orders"),
]


@pytest.mark.parametrize(("name", "make_app", "hint"), WRONG_ORDERS, ids=ids(WRONG_ORDERS))
def test_orders_wrong_answers_get_their_hint(name, make_app, hint):
    """Mutation that failed this: no database scan after the first order (the global dict then passed:
    the checker's two instances share one process)."""
    assert_hint(check_idempotent_orders(make_app), hint)
    assert running_servers() == []


def test_orders_placeholder_is_not_attempted():
    assert check_idempotent_orders(...).status == "not attempted"
