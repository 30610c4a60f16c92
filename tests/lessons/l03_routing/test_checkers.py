"""Tests for labsupport.lessons.l03_routing.checkers: each checker against its corpus of wrong answers (what
students write, and what an attacker gets past: each must fail with the hint for that mistake) and of
right answers (each must pass), plus malformed ones (a plain message, never a traceback)."""

from __future__ import annotations

import hmac
import logging
import re
import secrets
import uuid
from collections.abc import Callable
from typing import Annotated, Any

import pytest
from fastapi import APIRouter, Cookie, FastAPI, Header, HTTPException, Request
from fastapi.responses import JSONResponse, PlainTextResponse

from labsupport.lessons.l03_routing.checkers import (
    check_api_key_guard,
    check_onion_prediction,
    check_request_id,
    check_route_order,
)
from labsupport.lessons.l03_routing.middleware import record_step, traced
from labsupport.servers import running_servers
from lessons.corpus import assert_hint, ids

pytestmark = [pytest.mark.usefixtures("stop_servers"), pytest.mark.timeout(60)]

PATTERN = re.compile(r"[A-Za-z0-9._-]{1,64}")
KEY = "lab-key-7f3a"
UNAUTHORIZED = {"WWW-Authenticate": "APIKey"}


# --- exercise 1: request id ------------------------------------------------------------------


async def request_id_middleware(request, call_next):
    incoming = request.headers.get("X-Request-ID", "")
    request_id = incoming if PATTERN.fullmatch(incoming) else uuid.uuid4().hex
    request.state.request_id = request_id
    response = await call_next(request)
    response.headers["X-Request-ID"] = request_id
    return response


async def uuid_with_dashes(request: Request, call_next):
    incoming = request.headers.get("x-request-id")
    request.state.request_id = incoming if incoming and PATTERN.fullmatch(incoming) else str(uuid.uuid4())
    response = await call_next(request)
    response.headers["x-request-id"] = request.state.request_id
    return response


async def explicit_rules(request, call_next):
    """No regex: the same rule written out by hand."""
    allowed = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")
    incoming = request.headers.get("X-Request-ID")
    ok = incoming is not None and 1 <= len(incoming) <= 64 and set(incoming) <= allowed
    request_id = incoming if ok else secrets.token_hex(16)
    request.state.request_id = request_id
    response = await call_next(request)
    response.headers["X-Request-ID"] = request_id
    return response


RIGHT_REQUEST_ID = [
    ("fullmatch and uuid4().hex", request_id_middleware),
    ("str(uuid4()) with dashes, lower-case header names", uuid_with_dashes),
    ("the rule written out without a regex", explicit_rules),
]


@pytest.mark.parametrize(("name", "middleware"), RIGHT_REQUEST_ID, ids=ids(RIGHT_REQUEST_ID))
def test_request_id_right_answers_pass_and_stop_their_server(name, middleware):
    """Mutation that failed this: _GOOD_IDS held a 65-character id (the check then wanted it kept)."""
    result = check_request_id(middleware)
    assert result.passed, result
    assert "Why it worked" in result.message
    assert running_servers() == []


def _middleware_keeping(accept: Callable[[str], bool]):
    """A request-id middleware that keeps an incoming id when `accept(id)` — the rule is the mistake."""

    async def middleware(request, call_next):
        incoming = request.headers.get("X-Request-ID")
        request.state.request_id = incoming if incoming is not None and accept(incoming) else uuid.uuid4().hex
        response = await call_next(request)
        response.headers["X-Request-ID"] = request.state.request_id
        return response

    return middleware


async def raises_key_error(request, call_next):
    raise KeyError("x-request-id")


async def reads_a_missing_header(request, call_next):
    request.state.request_id = request.headers["X-Request-ID"]
    return await call_next(request)


async def uuid_object_in_a_header(request, call_next):
    request.state.request_id = uuid.uuid4()
    response = await call_next(request)
    response.headers["X-Request-ID"] = request.state.request_id
    return response


async def call_next_not_awaited(request, call_next):
    return call_next(request)


async def returns_nothing(request, call_next):
    request.state.request_id = uuid.uuid4().hex
    await call_next(request)


async def replaces_the_route_response(request, call_next):
    await call_next(request)
    return PlainTextResponse("hello", status_code=204)


async def no_response_header(request, call_next):
    request.state.request_id = uuid.uuid4().hex
    return await call_next(request)


async def not_on_request_state(request, call_next):
    response = await call_next(request)
    response.headers["X-Request-ID"] = uuid.uuid4().hex
    return response


async def state_and_header_differ(request, call_next):
    request.state.request_id = uuid.uuid4().hex
    response = await call_next(request)
    response.headers["X-Request-ID"] = uuid.uuid4().hex
    return response


MADE_ONCE = uuid.uuid4().hex


async def made_once_not_per_request(request, call_next):
    request.state.request_id = request.headers.get("X-Request-ID") or MADE_ONCE
    response = await call_next(request)
    response.headers["X-Request-ID"] = request.state.request_id
    return response


async def generated_id_breaks_the_rule(request, call_next):
    request.state.request_id = f"request {uuid.uuid4()}"
    response = await call_next(request)
    response.headers["X-Request-ID"] = request.state.request_id
    return response


async def ignores_the_incoming_id(request, call_next):
    request.state.request_id = uuid.uuid4().hex
    response = await call_next(request)
    response.headers["X-Request-ID"] = request.state.request_id
    return response


async def rejects_a_bad_id_with_400(request, call_next):
    incoming = request.headers.get("X-Request-ID")
    if incoming is not None and not PATTERN.fullmatch(incoming):
        return JSONResponse({"detail": "bad request id"}, status_code=400)
    request.state.request_id = incoming or uuid.uuid4().hex
    response = await call_next(request)
    response.headers["X-Request-ID"] = request.state.request_id
    return response


CURRENT: dict[str, str] = {}


async def id_in_a_global(request, call_next):
    """Right for one request at a time; overlapping requests overwrite each other's id."""
    incoming = request.headers.get("X-Request-ID", "")
    CURRENT["id"] = incoming if PATTERN.fullmatch(incoming) else uuid.uuid4().hex
    request.state.request_id = CURRENT["id"]
    response = await call_next(request)
    response.headers["X-Request-ID"] = CURRENT["id"]
    return response


async def header_echoes_the_raw_incoming_id(request, call_next):
    incoming = request.headers.get("X-Request-ID", "")
    request.state.request_id = incoming if PATTERN.fullmatch(incoming) else uuid.uuid4().hex
    response = await call_next(request)
    response.headers["X-Request-ID"] = incoming or request.state.request_id
    return response


WRONG_REQUEST_ID = [
    ("raises", raises_key_error, r"raised KeyError.*x-request-id"),
    ("reads a missing header with []", reads_a_missing_header, r"raised KeyError.*request\.headers\.get"),
    ("a uuid object as a header value", uuid_object_in_a_header, r"raised AttributeError.*must be strings"),
    ("call_next not awaited", call_next_not_awaited, r"without awaiting"),
    ("returns nothing", returns_nothing, r"returned NoneType.*return response"),
    ("replaces the route's response", replaces_the_route_response, r"should answer 200.*204"),
    ("no X-Request-ID on the response", no_response_header, r"no X-Request-ID header"),
    ("id not on request.state", not_on_request_state, r"request\.state\.request_id.*before"),
    ("state and header differ", state_and_header_differ, r"differ"),
    ("header echoes the raw incoming id", header_echoes_the_raw_incoming_id, r"differ"),
    ("made once when the cell runs", made_once_not_per_request, r"same one.*inside"),
    ("generated id breaks the rule", generated_id_breaks_the_rule, r"1–64 letters"),
    ("ignores the incoming id", ignores_the_incoming_id, r"valid id 'checkout-42\.a_B'.*keep it"),
    ("trusts any incoming id", _middleware_keeping(lambda rid: True), r"you kept it.*REQUEST_ID_PATTERN"),
    ("length check only", _middleware_keeping(lambda rid: len(rid) <= 64), r"'bad id; DROP TABLE logs'.*you kept"),
    ("off by one: 65 characters allowed", _middleware_keeping(lambda rid: bool(re.fullmatch(r"[\w.-]{1,65}", rid))),
     r"'xxxxxxxxxxxx… \(65 characters\)' and you kept it"),
    ("too strict: 63 characters at most",
     _middleware_keeping(lambda rid: bool(re.fullmatch(r"[A-Za-z0-9._-]{1,63}", rid))),
     r"valid id 'kkkkkkkkkkkk… \(64 characters\)'.*keep it"),
    ("match instead of fullmatch", _middleware_keeping(lambda rid: bool(PATTERN.match(rid))),
     r"'xxxxxxxxxxxx… \(65 characters\)' and you kept it"),
    ("search instead of fullmatch", _middleware_keeping(lambda rid: bool(PATTERN.search(rid))),
     r"you kept it"),
    ("\\w lets non-ASCII letters in", _middleware_keeping(lambda rid: bool(re.fullmatch(r"[\w.-]{1,64}", rid))),
     r"'café-1' and you kept it"),
    ("a deny-list of characters", _middleware_keeping(lambda rid: 0 < len(rid) <= 64 and not set(rid) & set(" ;\n")),
     r"'<script>alert\(1\)</script>' and you kept it"),
    ("keeps an empty id", _middleware_keeping(lambda rid: len(rid) <= 64 and " " not in rid and "<" not in rid
                                              and rid.isascii()),
     r"for a request with '' yours was ''"),
    ("rejects a bad id with 400 instead of replacing it", rejects_a_bad_id_with_400,
     r"got 400\. Do not turn the request away"),
    ("the id kept in a global variable", id_in_a_global, r"at the same time.*never in a global"),
]


@pytest.mark.parametrize(("name", "middleware", "hint"), WRONG_REQUEST_ID, ids=ids(WRONG_REQUEST_ID))
def test_request_id_wrong_answers_fail_with_their_hint(name, middleware, hint):
    """Mutations that failed this: dropping the 65-character id from _BAD_IDS (the off-by-one passed),
    dropping _expect_own_ids_when_overlapping (the global passed), b'caf\\xe9-1' removed (\\w passed)."""
    assert_hint(check_request_id(middleware), hint)
    assert running_servers() == []


def test_request_id_placeholders_are_not_attempted():
    async def stub(request, call_next):
        return ...

    assert check_request_id(...).status == "not attempted"
    assert check_request_id(stub).status == "not attempted"


@pytest.mark.parametrize("answer", [42, "request_id_middleware", None])
def test_request_id_not_a_function(answer):
    assert_hint(check_request_id(answer), "should be a function")


def test_request_id_wrong_number_of_arguments():
    async def middleware(request):
        return request

    assert_hint(check_request_id(middleware), "exactly two arguments")


def test_request_id_sync_function():
    def middleware(request, call_next):
        return call_next(request)

    assert_hint(check_request_id(middleware), "async def")


# --- exercise 2: API-key guard ---------------------------------------------------------------


def require_api_key(x_api_key: Annotated[str | None, Header()] = None) -> None:
    if x_api_key is None or not secrets.compare_digest(x_api_key, KEY):
        raise HTTPException(401, "Missing or wrong API key", headers=UNAUTHORIZED)


async def async_guard_with_an_alias(key: Annotated[str | None, Header(alias="X-API-Key")] = None) -> str:
    if not hmac.compare_digest((key or "").encode(), KEY.encode()):
        raise HTTPException(401, headers=UNAUTHORIZED)
    return key


def guard_reading_request_headers(request: Request) -> None:
    """Not in the OpenAPI docs, but it reads the header and nothing else."""
    given = request.headers.get("x-api-key", "")
    if not secrets.compare_digest(given.encode(), KEY.encode()):
        raise HTTPException(401, "Missing or wrong API key", headers=UNAUTHORIZED)


def _keys_match(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode(), expected.encode())


def guard_with_a_helper(x_api_key: Annotated[str | None, Header()] = None) -> None:
    if x_api_key is None or len(x_api_key) != len(KEY) or not _keys_match(x_api_key, KEY):
        raise HTTPException(401, "Missing or wrong API key", headers={"WWW-Authenticate": 'APIKey realm="lab"'})


class KeyGuard:
    """A guard as a callable object, as FastAPI's own APIKeyHeader is."""

    def __init__(self, key: str) -> None:
        self.key = key

    async def __call__(self, x_api_key: Annotated[str | None, Header()] = None) -> None:
        if x_api_key is None or not secrets.compare_digest(x_api_key, self.key):
            raise HTTPException(401, "Missing or wrong API key", headers=UNAUTHORIZED)


class KeyGuardWithEquals(KeyGuard):
    async def __call__(self, x_api_key: Annotated[str | None, Header()] = None) -> None:
        if x_api_key != self.key:
            raise HTTPException(401, "Missing or wrong API key", headers=UNAUTHORIZED)


RIGHT_API_KEY = [
    ("compare_digest on str", require_api_key),
    ("async, alias, hmac.compare_digest on bytes", async_guard_with_an_alias),
    ("request.headers and compare_digest", guard_reading_request_headers),
    ("a helper that compares, after a length check", guard_with_a_helper),
    ("a callable object", KeyGuard(KEY)),
]


@pytest.mark.parametrize(("name", "guard"), RIGHT_API_KEY, ids=ids(RIGHT_API_KEY))
def test_api_key_right_answers_pass_and_stop_their_server(name, guard):
    """Mutation that failed this: _DigestCalls._profile matched 'call' instead of 'c_call' (nothing counted)."""
    result = check_api_key_guard(guard, KEY)
    assert result.passed, result
    assert "Why it worked" in result.message
    assert running_servers() == []


def _guard(accept: Callable[[str], bool]):
    """A header guard that lets `x_api_key` in when `accept(x_api_key)` — the comparison is the mistake."""

    def guard(x_api_key: Annotated[str | None, Header()] = None) -> None:
        if x_api_key is None or not accept(x_api_key):
            raise HTTPException(401, "Missing or wrong API key", headers=UNAUTHORIZED)

    return guard


def checks_nothing(x_api_key: Annotated[str | None, Header()] = None) -> str | None:
    return x_api_key


def only_logs(x_api_key: Annotated[str | None, Header()] = None) -> None:
    if x_api_key is None or not secrets.compare_digest(x_api_key, KEY):
        logging.getLogger("lab.tests").info("wrong API key")  # and the request goes on


def missing_key_lets_through(x_api_key: Annotated[str | None, Header()] = None) -> None:
    if x_api_key is not None and not secrets.compare_digest(x_api_key, KEY):
        raise HTTPException(401, headers=UNAUTHORIZED)


def empty_key_lets_through(x_api_key: Annotated[str | None, Header()] = None) -> None:
    if x_api_key is None:
        raise HTTPException(401, headers=UNAUTHORIZED)
    if x_api_key and not secrets.compare_digest(x_api_key, KEY):
        raise HTTPException(401, headers=UNAUTHORIZED)


def answers_403(x_api_key: Annotated[str | None, Header()] = None) -> None:
    if x_api_key is None or not secrets.compare_digest(x_api_key, KEY):
        raise HTTPException(403, "Forbidden")


def no_www_authenticate(x_api_key: Annotated[str | None, Header()] = None) -> None:
    if x_api_key is None or not secrets.compare_digest(x_api_key, KEY):
        raise HTTPException(401, "Missing or wrong API key")


def returns_a_response(x_api_key: Annotated[str | None, Header()] = None):
    if x_api_key != KEY:
        return JSONResponse({"detail": "no"}, status_code=401)  # a dependency's return value is ignored
    return None


def required_header(x_api_key: Annotated[str, Header()]) -> None:
    if not secrets.compare_digest(x_api_key, KEY):
        raise HTTPException(401, headers=UNAUTHORIZED)


def reads_the_query_string(api_key: str | None = None) -> None:
    if api_key is None or not secrets.compare_digest(api_key, KEY):
        raise HTTPException(401, headers=UNAUTHORIZED)


def header_with_the_wrong_name(api_key: Annotated[str | None, Header()] = None) -> None:
    if api_key is None or not secrets.compare_digest(api_key, KEY):
        raise HTTPException(401, headers=UNAUTHORIZED)


def compares_with_another_key(x_api_key: Annotated[str | None, Header()] = None) -> None:
    if x_api_key is None or not secrets.compare_digest(x_api_key, "lab-key-0000"):
        raise HTTPException(401, headers=UNAUTHORIZED)


def header_or_query(x_api_key: Annotated[str | None, Header()] = None, api_key: str | None = None) -> None:
    given = x_api_key or api_key
    if given is None or not secrets.compare_digest(given, KEY):
        raise HTTPException(401, headers=UNAUTHORIZED)


def header_or_query_by_hand(request: Request) -> None:
    given = request.headers.get("x-api-key") or request.query_params.get("key") or ""
    if not secrets.compare_digest(given, KEY):
        raise HTTPException(401, headers=UNAUTHORIZED)


def header_or_cookie(
    x_api_key: Annotated[str | None, Header()] = None, api_key: Annotated[str | None, Cookie()] = None
) -> None:
    given = x_api_key or api_key or ""
    if not secrets.compare_digest(given, KEY):
        raise HTTPException(401, headers=UNAUTHORIZED)


def header_or_bearer(
    x_api_key: Annotated[str | None, Header()] = None, authorization: Annotated[str | None, Header()] = None
) -> None:
    given = x_api_key or (authorization or "").removeprefix("Bearer ")
    if not secrets.compare_digest(given, KEY):
        raise HTTPException(401, headers=UNAUTHORIZED)


def crashes_without_a_key(x_api_key: Annotated[str | None, Header()] = None) -> None:
    if len(x_api_key) != len(KEY) or not secrets.compare_digest(x_api_key, KEY):
        raise HTTPException(401, headers=UNAUTHORIZED)


async def async_equals(key: Annotated[str | None, Header(alias="X-API-Key")] = None) -> None:
    if key != KEY:
        raise HTTPException(401, headers=UNAUTHORIZED)


def digest_only_for_the_right_length(x_api_key: Annotated[str | None, Header()] = None) -> None:
    """compare_digest is only reached after `==` has already decided."""
    if x_api_key != KEY or not secrets.compare_digest(x_api_key, KEY):
        raise HTTPException(401, headers=UNAUTHORIZED)


WRONG_API_KEY = [
    ("checks nothing", checks_nothing, r"without a key got through"),
    ("only logs a wrong key", only_logs, r"without a key got through.*returning a value or writing a log line"),
    ("a missing header lets the request through", missing_key_lets_through, r"without a key got through"),
    ("an empty header lets the request through", empty_key_lets_through, r"An empty key got through"),
    ("403 instead of 401", answers_403, r"got 403.*answer 401"),
    ("401 without WWW-Authenticate", no_www_authenticate, r"without a WWW-Authenticate header"),
    ("returns a 401 response instead of raising", returns_a_response, r"got through"),
    ("required header gives 422", required_header, r"422.*default of None"),
    ("reads the query string", reads_the_query_string, r"query string.*Header\(\)"),
    ("header with the wrong name", header_with_the_wrong_name, r"`api-key`.*x_api_key"),
    ("compares with another key", compares_with_another_key, r"The right key.*got status 401"),
    ("x in KEY", _guard(lambda given: given in KEY), r"An empty key got through"),
    ("x in KEY, but not empty", _guard(lambda given: bool(given) and given in KEY),
     r"The key minus its last character got through.*part of the key"),
    ("KEY.startswith(x)", _guard(lambda given: len(given) > 3 and KEY.startswith(given)),
     r"The key minus its last character got through"),
    ("KEY.endswith(x)", _guard(lambda given: len(given) > 3 and KEY.endswith(given)),
     r"The key minus its first character got through"),
    ("x.startswith(KEY)", _guard(lambda given: given.startswith(KEY)),
     r"The key followed by extra characters got through.*contains the key"),
    ("KEY in x", _guard(lambda given: KEY in given), r"The key followed by extra characters got through"),
    ("x.endswith(KEY)", _guard(lambda given: given.endswith(KEY)),
     r"The key after extra characters got through"),
    ("x[:len(KEY)] == KEY", _guard(lambda given: secrets.compare_digest(given[: len(KEY)], KEY)),
     r"The key followed by extra characters got through"),
    ("case-insensitive", _guard(lambda given: secrets.compare_digest(given.lower(), KEY.lower())),
     r"The key in another case got through.*without case"),
    ("casefold", _guard(lambda given: given.casefold() == KEY.casefold()), r"The key in another case got through"),
    ("header or query parameter", header_or_query, r"in the URL \(`/private\?api_key=\.\.\.`\) got through"),
    ("header or query_params by hand", header_or_query_by_hand, r"in the URL \(`/private\?key=\.\.\.`\) got through"),
    ("header or cookie", header_or_cookie, r"in a cookie \(`Cookie: api_key=\.\.\.`\) got through.*CSRF"),
    ("header or Authorization: Bearer", header_or_bearer, r"in the Authorization header.*got through"),
    ("crashes without a key", crashes_without_a_key, r"raised TypeError.*without a key"),
    ("== instead of compare_digest", _guard(lambda given: given == KEY),
     r"checked the right key without secrets\.compare_digest"),
    ("async guard with !=", async_equals, r"checked the right key without secrets\.compare_digest"),
    ("hmac.new digests compared with ==",
     _guard(lambda given: hmac.new(b"k", given.encode(), "sha256").digest() == hmac.new(b"k", KEY.encode(),
                                                                                           "sha256").digest()),
     r"without secrets\.compare_digest"),
    ("a callable object comparing with !=", KeyGuardWithEquals(KEY),
     r"checked the right key without secrets\.compare_digest"),
    ("compare_digest reached only after ==", digest_only_for_the_right_length,
     r"checked a wrong key of the right length without secrets\.compare_digest"),
]


@pytest.mark.parametrize(("name", "guard", "hint"), WRONG_API_KEY, ids=ids(WRONG_API_KEY))
def test_api_key_wrong_answers_fail_with_their_hint(name, guard, hint):
    """Mutations that failed this: dropping `api_key[1:]`, `api_key + '-extra'` or the other-case key
    from _wrong_keys, the cookie or Authorization requests from _expect_header_only, or the final
    compare_digest loop (each let its entries pass); _observed serving callable objects unwatched (the
    callable object comparing with != passed)."""
    assert_hint(check_api_key_guard(guard, KEY), hint)
    assert running_servers() == []


def test_api_key_with_no_letters_skips_the_case_attack():
    """A key of digits has no other case: the check must not send the same key as a 'wrong' one."""
    digits = "4815162342"

    def guard(x_api_key: Annotated[str | None, Header()] = None) -> None:
        if x_api_key is None or not secrets.compare_digest(x_api_key, digits):
            raise HTTPException(401, headers=UNAUTHORIZED)

    assert check_api_key_guard(guard, digits).passed


def test_api_key_placeholders_are_not_attempted():
    def stub(x_api_key=None):
        return ...

    assert check_api_key_guard(..., KEY).status == "not attempted"
    assert check_api_key_guard(stub, KEY).status == "not attempted"


def test_api_key_not_a_function():
    assert_hint(check_api_key_guard("require_api_key", KEY), "should be a function")


@pytest.mark.parametrize(("key", "fragment"), [(123, "as a string"), ("k", "at least two")])
def test_api_key_bad_key_argument(key, fragment):
    assert_hint(check_api_key_guard(require_api_key, key), fragment)


def test_api_key_middleware_instead_of_dependency():
    async def guard(request, call_next):
        return await call_next(request)

    assert_hint(check_api_key_guard(guard, KEY), "dependency, not a middleware")


def test_api_key_function_fastapi_cannot_use_is_a_plain_message():
    class Thing:
        pass

    def guard(thing: Thing) -> Thing:  # FastAPI cannot read a Thing from a request
        return thing

    result = check_api_key_guard(guard, KEY)
    assert result.status == "failed"
    assert result.message.startswith("Could not check your answer: it raised")
    assert "Expected: a dependency function and the key" in result.message


# --- exercise 3: route order -----------------------------------------------------------------

BOOKS = {
    1: {"id": 1, "title": "Dune", "stock": 3},
    2: {"id": 2, "title": "Emma", "stock": 0},
}


def _search(q: str) -> list[dict]:
    return [book for book in BOOKS.values() if q.lower() in book["title"].lower()]


def _in_stock() -> list[dict]:
    return [book for book in BOOKS.values() if book["stock"] > 0]


def _get_book(book_id: int) -> dict:
    if book_id not in BOOKS:
        raise HTTPException(404, f"no book {book_id}")
    return BOOKS[book_id]


def _router(*routes: tuple[str, Callable[..., Any]], prefix: str = "/api/books") -> Callable[[], APIRouter]:
    """make_books_router that adds `routes` in this order: the order is what the exercise is about."""

    def make_books_router() -> APIRouter:
        router = APIRouter(prefix=prefix)
        for path, endpoint in routes:
            router.add_api_route(path, endpoint, methods=["GET"])
        return router

    return make_books_router


def _get_book_by_str(book_id: str) -> dict:
    if book_id not in BOOKS:
        raise HTTPException(404, f"no book {book_id}")
    return BOOKS[book_id]


def _get_book_special_cased(book_id: str) -> Any:
    if book_id in ("search", "in-stock"):
        return []
    return BOOKS[int(book_id)]


RIGHT_ROUTE_ORDER = [
    ("fixed paths first", _router(("/search", _search), ("/in-stock", _in_stock), ("/{book_id}", _get_book))),
    ("{book_id:int}, order unchanged",
     _router(("/{book_id:int}", _get_book), ("/search", _search), ("/in-stock", _in_stock))),
    ("both", _router(("/in-stock", _in_stock), ("/search", _search), ("/{book_id:int}", _get_book))),
]


@pytest.mark.parametrize(("name", "make"), RIGHT_ROUTE_ORDER, ids=ids(RIGHT_ROUTE_ORDER))
def test_route_order_right_answers_pass(name, make):
    """Mutation that failed this: accepting only 422 (not 404) for /api/books/two rejected `{book_id:int}`."""
    result = check_route_order(make, BOOKS)
    assert result.passed, result
    assert "Why it worked" in result.message
    assert running_servers() == []


WRONG_ROUTE_ORDER = [
    ("the buggy router as given", _router(("/{book_id}", _get_book), ("/search", _search), ("/in-stock", _in_stock)),
     r"GET /api/books/search got 422 about `book_id`.*order they were added"),
    ("only search moved up", _router(("/search", _search), ("/{book_id}", _get_book), ("/in-stock", _in_stock)),
     r"GET /api/books/in-stock got 422 about `book_id`"),
    ("book_id: str to silence the 422",
     _router(("/{book_id}", _get_book_by_str), ("/search", _search), ("/in-stock", _in_stock)),
     r"GET /api/books/search got 404"),
    ("the book route deleted", _router(("/search", _search), ("/in-stock", _in_stock)),
     r"missing: /api/books/\{book_id\}"),
    ("special-cased 'search' inside get_book",
     _router(("/{book_id}", _get_book_special_cased), ("/search", _search), ("/in-stock", _in_stock)),
     r"Searching for 'Dune' should find that book"),
    ("static routes first, book_id: str",
     _router(("/search", _search), ("/in-stock", _in_stock), ("/{book_id}", _get_book_by_str)),
     r"GET /api/books/1 should answer 200"),
    ("another prefix",
     _router(("/search", _search), ("/in-stock", _in_stock), ("/{book_id}", _get_book), prefix="/books"),
     r"under the prefix '/api/books'"),
    ("in-stock lists every book",
     _router(("/search", _search), ("/in-stock", lambda: list(BOOKS.values())), ("/{book_id}", _get_book)),
     r"stock > 0"),
]


@pytest.mark.parametrize(("name", "make", "hint"), WRONG_ROUTE_ORDER, ids=ids(WRONG_ROUTE_ORDER))
def test_route_order_wrong_answers_fail_with_their_hint(name, make, hint):
    """Mutation that failed this: checking only /search (not /in-stock) let 'only search moved up' pass."""
    assert_hint(check_route_order(make, BOOKS), hint)
    assert running_servers() == []


def test_route_order_placeholders_and_malformed_answers():
    def stub():
        return ...

    def returns_a_list():
        return []

    assert check_route_order(..., BOOKS).status == "not attempted"
    assert check_route_order(stub, BOOKS).status == "not attempted"
    assert_hint(check_route_order(returns_a_list, BOOKS), r"return the APIRouter.*not list")
    assert_hint(check_route_order("router", BOOKS), r"should be a function")
    assert_hint(check_route_order(RIGHT_ROUTE_ORDER[0][1], [1, 2]), r"Expected the BOOKS dict")


# --- predict, then run: the order middleware see a request in ----------------------------------


def _pass_through(name: str):
    @traced(name)
    async def middleware(request, call_next):
        return await call_next(request)

    return middleware


@traced("api-key")
async def _key_check(request, call_next):
    if request.headers.get("X-API-Key") != KEY:
        return JSONResponse({"detail": "missing or wrong API key"}, status_code=401)
    return await call_next(request)


def _onion_app(*names: str) -> FastAPI:
    """The notebook's onion_app: GET /hello, and traced middleware added one by one, in this order."""
    app = FastAPI()
    for name in names:
        app.middleware("http")(_key_check if name == "api-key" else _pass_through(name))

    @app.get("/hello")
    def hello(request: Request):
        record_step(request, "route")
        return {"hello": "world"}

    return app


ADDED = ("timing", "request-id", "logging", "api-key")  # the notebook's order: Express's
WITH_KEY = {"X-API-Key": KEY}


def test_onion_prediction_right_answer_passes_and_stops_its_server():
    """The right answer is the reverse of the order added; a tuple is a list too.
    Mutation that failed this: _order_in kept the names with the arrow before them (the way out)."""
    for answer in (["api-key", "logging", "request-id", "timing"], ("api-key", "logging", "request-id", "timing")):
        result = check_onion_prediction(answer, _onion_app(*ADDED), headers=WITH_KEY)
        assert result.passed, result
        assert "outermost" in result.message
    assert running_servers() == []


def test_onion_prediction_is_judged_against_the_app_it_is_given():
    """The truth is measured, not stored: added the other way round, the Express order is right.
    Mutation that failed this: the Express-order test compared with `truth` instead of `truth[::-1]`."""
    assert check_onion_prediction(list(ADDED), _onion_app(*ADDED[::-1]), headers=WITH_KEY).passed
    assert_hint(check_onion_prediction(list(ADDED[::-1]), _onion_app(*ADDED[::-1]), headers=WITH_KEY), "other way")


WRONG_ONION = [
    ("the Express order (as added)", ["timing", "request-id", "logging", "api-key"],
     r"order they were added in, the order Express runs them.*api-key→ logging→ request-id→ timing→ route"
     r".*exactly the other way round.*last one added is the outermost"),
    ("outermost right, the rest as added", ["api-key", "timing", "request-id", "logging"],
     r"^The request really went api-key→ logging→ request-id→ timing→ route\. .*last one added is the outermost"),
    ("function names instead of trace names", ["api_key", "access_log", "request_id", "timing"],
     r"'api_key' is not one of the names the trace writes.*'api-key', 'logging', 'request-id', 'timing'"),
    ("only the first one", ["api-key"], r"Name each of the 4 middleware exactly once"),
    ("one twice", ["api-key", "api-key", "logging", "timing"], r"exactly once"),
    ("not strings", [4, 3, 2, 1], r"as a string in quotes"),
    ("one string, not a list", "api-key logging request-id timing", r"Expected a list of names.*\(str\)"),
    ("a dict", {"api-key": 1}, r"Expected a list of names"),
]


@pytest.mark.parametrize(("name", "answer", "hint"), WRONG_ONION, ids=ids(WRONG_ONION))
def test_onion_prediction_wrong_answers_fail_with_their_hint(name, answer, hint):
    """Mutation that failed this: the reversed-order test compared with `truth` instead of `truth[::-1]`
    (the Express order then got the generic hint, without "the order they were added in")."""
    assert_hint(check_onion_prediction(answer, _onion_app(*ADDED), headers=WITH_KEY), hint)
    assert running_servers() == []


def test_onion_prediction_placeholder_and_malformed_calls():
    assert check_onion_prediction(..., _onion_app(*ADDED), headers=WITH_KEY).status == "not attempted"
    assert_hint(check_onion_prediction(list(ADDED), "app"), r"Pass the app .* not str")
    # without the key the request never reaches the route: the notebook forgot the headers
    assert_hint(check_onion_prediction(list(ADDED), _onion_app(*ADDED)), r"got 401 and did not reach the route")
    assert running_servers() == []
