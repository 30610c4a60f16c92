"""Tests for labsupport.lessons.l03_routing.checkers: each checker against right answers, the wrong answers a
student writes (each with its own hint) and malformed ones (a plain message, never a traceback)."""

from __future__ import annotations

import re
import secrets
import uuid
from typing import Annotated

import pytest
from fastapi import Header, HTTPException, Request
from fastapi.responses import JSONResponse, PlainTextResponse

from labsupport.lessons.l03_routing.checkers import check_api_key_guard, check_request_id
from labsupport.servers import running_servers

pytestmark = [pytest.mark.usefixtures("stop_servers"), pytest.mark.timeout(60)]

PATTERN = re.compile(r"[A-Za-z0-9._-]{1,64}")
KEY = "lab-key-7f3a"


def assert_hint(result, *fragments: str) -> None:
    assert result.status == "failed", result
    for fragment in fragments:
        assert fragment in result.message, result.message
    assert "Traceback" not in result.message


# --- exercise 1: request id ------------------------------------------------------------------


async def request_id_middleware(request, call_next):
    incoming = request.headers.get("X-Request-ID", "")
    request_id = incoming if PATTERN.fullmatch(incoming) else uuid.uuid4().hex
    request.state.request_id = request_id
    response = await call_next(request)
    response.headers["X-Request-ID"] = request_id
    return response


def test_request_id_right_answer_passes_and_stops_its_server():
    result = check_request_id(request_id_middleware)
    assert result.passed, result
    assert "fresh id" in result.message
    assert running_servers() == []


def test_request_id_a_uuid_with_dashes_passes_too():
    async def middleware(request: Request, call_next):
        incoming = request.headers.get("x-request-id")
        request.state.request_id = incoming if incoming and PATTERN.fullmatch(incoming) else str(uuid.uuid4())
        response = await call_next(request)
        response.headers["x-request-id"] = request.state.request_id
        return response

    assert check_request_id(middleware).passed


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


def test_request_id_middleware_that_raises():
    async def middleware(request, call_next):
        raise KeyError("x-request-id")

    assert_hint(check_request_id(middleware), "raised KeyError", "x-request-id")


def test_request_id_reading_a_missing_header_gets_advice():
    async def middleware(request, call_next):
        request.state.request_id = request.headers["X-Request-ID"]
        return await call_next(request)

    assert_hint(check_request_id(middleware), "raised KeyError", "request.headers.get")


def test_request_id_uuid_object_in_a_header_gets_advice():
    async def middleware(request, call_next):
        request.state.request_id = uuid.uuid4()
        response = await call_next(request)
        response.headers["X-Request-ID"] = request.state.request_id
        return response

    assert_hint(check_request_id(middleware), "raised AttributeError", "must be strings")


def test_request_id_call_next_not_awaited():
    async def middleware(request, call_next):
        return call_next(request)

    assert_hint(check_request_id(middleware), "without awaiting")


def test_request_id_returns_nothing():
    async def middleware(request, call_next):
        request.state.request_id = uuid.uuid4().hex
        await call_next(request)

    assert_hint(check_request_id(middleware), "returned NoneType", "return response")


def test_request_id_replaces_the_route_response():
    async def middleware(request, call_next):
        await call_next(request)
        return PlainTextResponse("hello", status_code=204)

    assert_hint(check_request_id(middleware), "should answer 200", "204")


def test_request_id_no_response_header():
    async def middleware(request, call_next):
        request.state.request_id = uuid.uuid4().hex
        return await call_next(request)

    assert_hint(check_request_id(middleware), "no X-Request-ID header")


def test_request_id_not_on_request_state():
    async def middleware(request, call_next):
        response = await call_next(request)
        response.headers["X-Request-ID"] = uuid.uuid4().hex
        return response

    assert_hint(check_request_id(middleware), "request.state.request_id", "before")


def test_request_id_state_and_header_differ():
    async def middleware(request, call_next):
        request.state.request_id = uuid.uuid4().hex
        response = await call_next(request)
        response.headers["X-Request-ID"] = uuid.uuid4().hex
        return response

    assert_hint(check_request_id(middleware), "differ")


def test_request_id_made_once_not_per_request():
    made_once = uuid.uuid4().hex

    async def middleware(request, call_next):
        request.state.request_id = request.headers.get("X-Request-ID") or made_once
        response = await call_next(request)
        response.headers["X-Request-ID"] = request.state.request_id
        return response

    assert_hint(check_request_id(middleware), "same one", "inside")


def test_request_id_generated_id_breaks_the_rule():
    async def middleware(request, call_next):
        request.state.request_id = f"request {uuid.uuid4()}"
        response = await call_next(request)
        response.headers["X-Request-ID"] = request.state.request_id
        return response

    assert_hint(check_request_id(middleware), "1–64 letters")


def test_request_id_ignores_the_incoming_id():
    async def middleware(request, call_next):
        request.state.request_id = uuid.uuid4().hex
        response = await call_next(request)
        response.headers["X-Request-ID"] = request.state.request_id
        return response

    assert_hint(check_request_id(middleware), "keep it", "checkout-42.a_B")


def test_request_id_trusts_any_incoming_id():
    async def middleware(request, call_next):
        request.state.request_id = request.headers.get("X-Request-ID") or uuid.uuid4().hex
        response = await call_next(request)
        response.headers["X-Request-ID"] = request.state.request_id
        return response

    assert_hint(check_request_id(middleware), "you kept it", "200 characters", "REQUEST_ID_PATTERN")


def test_request_id_keeps_an_unsafe_short_id():
    async def middleware(request, call_next):
        incoming = request.headers.get("X-Request-ID")
        request.state.request_id = incoming if incoming and len(incoming) <= 64 else uuid.uuid4().hex
        response = await call_next(request)
        response.headers["X-Request-ID"] = request.state.request_id
        return response

    assert_hint(check_request_id(middleware), "'bad id; DROP TABLE logs'")


def test_request_id_keeps_an_empty_id():
    async def middleware(request, call_next):
        incoming = request.headers.get("X-Request-ID")
        keep = incoming is not None and len(incoming) <= 64 and " " not in incoming
        request.state.request_id = incoming if keep else uuid.uuid4().hex
        response = await call_next(request)
        response.headers["X-Request-ID"] = request.state.request_id
        return response

    assert_hint(check_request_id(middleware), "A new id should be", "for a request with '' yours was ''")


# --- exercise 2: API-key guard ---------------------------------------------------------------


def require_api_key(x_api_key: Annotated[str | None, Header()] = None) -> None:
    if x_api_key is None or not secrets.compare_digest(x_api_key, KEY):
        raise HTTPException(401, "Missing or wrong API key", headers={"WWW-Authenticate": "APIKey"})


def test_api_key_right_answer_passes_and_stops_its_server():
    result = check_api_key_guard(require_api_key, KEY)
    assert result.passed, result
    assert "WWW-Authenticate" in result.message
    assert running_servers() == []


def test_api_key_async_guard_with_an_alias_passes():
    async def guard(key: Annotated[str | None, Header(alias="X-API-Key")] = None) -> str:
        if key != KEY:
            raise HTTPException(401, headers={"WWW-Authenticate": "APIKey"})
        return key

    assert check_api_key_guard(guard, KEY).passed


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


def test_api_key_guard_that_checks_nothing():
    def guard(x_api_key: Annotated[str | None, Header()] = None) -> str | None:
        return x_api_key

    assert_hint(check_api_key_guard(guard, KEY), "without a key got through")


def test_api_key_403_instead_of_401():
    def guard(x_api_key: Annotated[str | None, Header()] = None) -> None:
        if x_api_key != KEY:
            raise HTTPException(403, "Forbidden")

    assert_hint(check_api_key_guard(guard, KEY), "got 403", "answer 401")


def test_api_key_401_without_www_authenticate():
    def guard(x_api_key: Annotated[str | None, Header()] = None) -> None:
        if x_api_key != KEY:
            raise HTTPException(401, "Missing or wrong API key")

    assert_hint(check_api_key_guard(guard, KEY), "without a WWW-Authenticate header")


def test_api_key_json_response_instead_of_exception_is_a_crash_hint():
    def guard(x_api_key: Annotated[str | None, Header()] = None):
        if x_api_key != KEY:
            return JSONResponse({"detail": "no"}, status_code=401)  # a dependency's return value is ignored

    assert_hint(check_api_key_guard(guard, KEY), "got through")


def test_api_key_required_header_gives_422():
    def guard(x_api_key: Annotated[str, Header()]) -> None:
        if x_api_key != KEY:
            raise HTTPException(401, headers={"WWW-Authenticate": "APIKey"})

    assert_hint(check_api_key_guard(guard, KEY), "422", "default of None")


def test_api_key_read_from_the_query_string():
    def guard(api_key: str | None = None) -> None:
        if api_key != KEY:
            raise HTTPException(401, headers={"WWW-Authenticate": "APIKey"})

    assert_hint(check_api_key_guard(guard, KEY), "query string", "Header()")


def test_api_key_header_with_the_wrong_name():
    def guard(api_key: Annotated[str | None, Header()] = None) -> None:
        if api_key != KEY:
            raise HTTPException(401, headers={"WWW-Authenticate": "APIKey"})

    assert_hint(check_api_key_guard(guard, KEY), "`api-key`", "x_api_key")


def test_api_key_compared_wrongly():
    def guard(x_api_key: Annotated[str | None, Header()] = None) -> None:
        if x_api_key == "":
            pass
        if x_api_key != KEY.upper():
            raise HTTPException(401, headers={"WWW-Authenticate": "APIKey"})

    assert_hint(check_api_key_guard(guard, KEY), "The right key", "got status 401")


def test_api_key_substring_comparison_lets_a_prefix_in():
    def guard(x_api_key: Annotated[str | None, Header()] = None) -> None:
        if x_api_key is None or x_api_key not in KEY:
            raise HTTPException(401, headers={"WWW-Authenticate": "APIKey"})

    assert_hint(check_api_key_guard(guard, KEY), "The key minus its last character got through")


def test_api_key_accepted_in_the_url_as_well():
    def guard(
        x_api_key: Annotated[str | None, Header()] = None, api_key: str | None = None
    ) -> None:
        if (x_api_key or api_key) != KEY:
            raise HTTPException(401, headers={"WWW-Authenticate": "APIKey"})

    assert_hint(check_api_key_guard(guard, KEY), "in the URL", "?api_key=")


def test_api_key_guard_that_raises():
    def guard(x_api_key: Annotated[str | None, Header()] = None) -> None:
        if len(x_api_key) != len(KEY):
            raise HTTPException(401, headers={"WWW-Authenticate": "APIKey"})

    assert_hint(check_api_key_guard(guard, KEY), "raised TypeError", "without a key")


def test_api_key_function_fastapi_cannot_use_is_a_plain_message():
    class Thing:
        pass

    def guard(thing: Thing) -> Thing:  # FastAPI cannot read a Thing from a request
        return thing

    result = check_api_key_guard(guard, KEY)
    assert result.status == "failed"
    assert result.message.startswith("Could not check your answer: it raised")
    assert "Expected: a dependency function and the key" in result.message

