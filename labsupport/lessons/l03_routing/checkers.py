"""Checkers for the exercises of 03-routing-middleware-controllers: a request-id middleware and an
API-key guard.

Each checker attaches the student's function to a fresh FastAPI app, serves it on 127.0.0.1 and
sends it real requests, then stops it. Whatever goes wrong inside the server (the student's code
raising, returning the wrong thing) is caught there and recorded, so it becomes a one-line hint in
the notebook instead of a traceback logged by uvicorn.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from typing import Any

import httpx
from fastapi import Depends, FastAPI, Request
from starlette.responses import PlainTextResponse, Response

from labsupport.checks import Hint, checker, expect_type
from labsupport.crashes import RecordCrashes, describe_exception
from labsupport.servers import serve

__all__ = ["check_request_id", "check_api_key_guard"]

# What the notebook asks of a request id (its REQUEST_ID_PATTERN): 1–64 letters, digits, '-', '_', '.'.
_REQUEST_ID_RULE = re.compile(r"[A-Za-z0-9._-]{1,64}")
_GOOD_ID = "checkout-42.a_B"
_BAD_IDS = ("x" * 200, "bad id; DROP TABLE logs")
_KEY_HEADER = "X-API-Key"


def _parameter_names(fn: Callable[..., Any]) -> list[str]:
    try:
        return list(inspect.signature(fn).parameters)
    except (TypeError, ValueError):
        return []


def _looks_like_middleware(fn: Callable[..., Any]) -> bool:
    return _parameter_names(fn)[:2] == ["request", "call_next"]


# --- exercise 1: a request-id middleware -----------------------------------------------------


def _request_id_app(middleware: Callable[..., Any], problems: list[str]) -> FastAPI:
    """A fresh app whose one route reports the id it found on ``request.state``."""
    app = FastAPI()

    @app.get("/whoami")
    def whoami(request: Request) -> dict:
        return {"request_id": getattr(request.state, "request_id", None)}

    @app.middleware("http")
    async def under_test(request: Request, call_next: Callable[..., Any]) -> Response:
        try:
            response = await middleware(request, call_next)
        except Exception as exc:
            problems.append(f"Your middleware raised {describe_exception(exc)}.{_advice(exc)}")
            return PlainTextResponse("the middleware under test raised", status_code=500)
        if inspect.iscoroutine(response):
            response.close()  # never awaited: close it, or Python warns about it later
            problems.append(
                "Your middleware returned call_next(request) without awaiting it: "
                "write `response = await call_next(request)`."
            )
            return PlainTextResponse("not awaited", status_code=500)
        if not isinstance(response, Response):
            problems.append(
                f"Your middleware returned {type(response).__name__}, not a response: "
                "end it with `return response`, the response that `await call_next(request)` gave you."
            )
            return PlainTextResponse("no response", status_code=500)
        return response

    return app


def _ask(client: httpx.Client, problems: list[str], request_id: str | None) -> str:
    """Send one request (with `request_id` in X-Request-ID if given); return the id it got back.

    Raises `Hint` unless the response is the route's 200 with the same id in the X-Request-ID
    header and on ``request.state.request_id``.
    """
    headers = {} if request_id is None else {"X-Request-ID": request_id}
    response = client.get("/whoami", headers=headers)
    if problems:
        raise Hint(problems[0])
    if response.status_code != 200:
        raise Hint(
            f"The route behind your middleware should answer 200, but the response was "
            f"{response.status_code}: return the response that `await call_next(request)` gave you."
        )
    header = response.headers.get("X-Request-ID")
    if header is None:
        raise Hint(
            "The response has no X-Request-ID header: after `response = await call_next(request)`, "
            "set `response.headers['X-Request-ID'] = request_id`."
        )
    found = response.json().get("request_id")
    if found is None:
        raise Hint(
            "The route found no `request.state.request_id`: store the id there *before* calling "
            "call_next, so routes (and their log lines) can use it."
        )
    if found != header:
        raise Hint(
            f"request.state.request_id ({found!r}) and the X-Request-ID header ({header!r}) differ: "
            "use the same id for both."
        )
    return header


def _advice(exc: Exception) -> str:
    """A sentence for the two mistakes behind most crashes of a request-id middleware."""
    if isinstance(exc, KeyError):
        return " A header may be missing: use request.headers.get(...)."
    if isinstance(exc, AttributeError) and "encode" in str(exc):
        return " Header values must be strings: use uuid.uuid4().hex, not uuid.uuid4()."
    return ""


def _expect_new_id(request_id: str, sent: str | None) -> None:
    if not _REQUEST_ID_RULE.fullmatch(request_id):
        raise Hint(
            f"A new id should be 1–64 letters, digits, '-', '_' or '.', like uuid.uuid4().hex; "
            f"for a request with {'no X-Request-ID' if sent is None else repr(sent)} yours was {request_id!r}."
        )


@checker(
    "Exercise 1: a request-id middleware",
    expects="an async function request_id_middleware(request, call_next)",
)
def check_request_id(request_id_middleware: Callable[..., Any]) -> str:
    """Serve the middleware on a fresh app; send requests with no id, a good id and bad ids."""
    middleware = request_id_middleware
    if not callable(middleware):
        raise Hint(
            "request_id_middleware should be a function: `async def request_id_middleware(request, call_next): ...`."
        )
    if len(_parameter_names(middleware)) != 2:
        raise Hint("A middleware function takes exactly two arguments: (request, call_next).")
    if not inspect.iscoroutinefunction(middleware):
        raise Hint("Make it `async def`: a middleware has to `await call_next(request)`.")
    problems: list[str] = []
    with serve(_request_id_app(middleware, problems), name="check-request-id") as server:
        client = server.client
        generated = [_ask(client, problems, None) for _ in range(3)]
        for request_id in generated:
            _expect_new_id(request_id, None)
        if len(set(generated)) < len(generated):
            raise Hint(
                "Three requests without an id all got the same one: make a new id *inside* the "
                "middleware, for every request (uuid.uuid4().hex), not once when the cell runs."
            )
        echoed = _ask(client, problems, _GOOD_ID)
        if echoed != _GOOD_ID:
            raise Hint(
                f"The client sent `X-Request-ID: {_GOOD_ID}` but got back {echoed!r}. When a caller "
                "(a gateway, another service) already sent a valid id, keep it: that is how one id "
                "follows a request across services."
            )
        for bad in _BAD_IDS:
            answered = _ask(client, problems, bad)
            shown = bad if len(bad) <= 30 else bad[:12] + f"… ({len(bad)} characters)"
            if answered == bad:
                raise Hint(
                    f"The client sent the id {shown!r} and you kept it. Ids end up in log lines: "
                    "accept one only if REQUEST_ID_PATTERN.fullmatch(it) (1–64 letters, digits, "
                    "'-', '_' or '.'), otherwise make a new one."
                )
            _expect_new_id(answered, shown)
        _expect_new_id(_ask(client, problems, ""), "")
    return "Right: a safe incoming id is kept, an unsafe one replaced, and every other request gets a fresh id."


# --- exercise 2: an API-key guard (a dependency) ---------------------------------------------


def _guarded_app(guard: Callable[..., Any], crashes: list[BaseException]) -> FastAPI:
    app = FastAPI()

    @app.get("/private", dependencies=[Depends(guard)])
    def private() -> dict:
        return {"secret": "the private data"}

    app.add_middleware(RecordCrashes, errors=crashes)
    return app


def _where_parameters_come_from(app: FastAPI) -> dict[str, str]:
    """{parameter name as sent: where FastAPI reads it from} for the guarded route."""
    operation = app.openapi()["paths"]["/private"]["get"]
    return {p["name"]: p["in"] for p in operation.get("parameters", [])}


def _expect_rejected(response: httpx.Response, what: str, crashes: list[BaseException]) -> None:
    status = response.status_code
    if crashes:
        raise Hint(f"Your guard raised {describe_exception(crashes[0])} for {what}: it should answer 401 instead.")
    if status == 401:
        if "www-authenticate" not in response.headers:
            raise Hint(
                f"{what.capitalize()} got 401 — good — but without a WWW-Authenticate header, which "
                "HTTP requires on every 401. Raise "
                "`HTTPException(401, 'Missing or wrong API key', headers={'WWW-Authenticate': 'APIKey'})`."
            )
        return
    if 200 <= status < 300:
        raise Hint(f"{what.capitalize()} got through (status {status}): the guard must answer 401.")
    if status == 403:
        raise Hint(
            f"{what.capitalize()} got 403. 403 means 'I know who you are, and you may not'; "
            "with no valid key there is no identity at all: answer 401."
        )
    if status == 422:
        raise Hint(
            f"FastAPI answered 422 for {what} before your guard ran: a parameter without a default "
            "is required. Give the header parameter a default of None and raise the 401 yourself."
        )
    raise Hint(f"{what.capitalize()} got status {status}; expected 401 with a WWW-Authenticate header.")


@checker(
    "Exercise 2: an API-key guard",
    expects="a dependency function and the key, as in check_api_key_guard(require_api_key, API_KEY)",
)
def check_api_key_guard(require_api_key: Callable[..., Any], api_key: str) -> str:
    """Guard a route with ``Depends(require_api_key)`` and attack it: no key, wrong keys, the right
    key in the X-API-Key header, the right key in the URL."""
    guard = require_api_key
    if not callable(guard):
        raise Hint("require_api_key should be a function, used as `Depends(require_api_key)`.")
    expect_type(api_key, str, "the API key as a string, e.g. API_KEY")
    if len(api_key) < 2:
        raise Hint("Use a key of at least two characters, e.g. API_KEY from the cell above.")
    if _looks_like_middleware(guard):
        raise Hint(
            "This exercise wants a dependency, not a middleware: "
            "`def require_api_key(x_api_key: Annotated[str | None, Header()] = None): ...`."
        )
    crashes: list[BaseException] = []
    app = _guarded_app(guard, crashes)
    sources = _where_parameters_come_from(app)
    with serve(app, name="check-api-key") as server:
        client = server.client
        _expect_rejected(client.get("/private"), "a request without a key", crashes)
        wrong_keys = {
            "a wrong key": "not-the-key",
            "the key minus its last character": api_key[:-1],
            "an empty key": "",
        }
        for what, wrong in wrong_keys.items():
            _expect_rejected(client.get("/private", headers={_KEY_HEADER: wrong}), what, crashes)
        right = client.get("/private", headers={_KEY_HEADER: api_key})
        if crashes:
            raise Hint(f"Your guard raised {describe_exception(crashes[0])} for the right key.")
        if right.status_code != 200:
            in_query = [name for name, where in sources.items() if where == "query"]
            headers = [name for name, where in sources.items() if where == "header"]
            if in_query:
                raise Hint(
                    f"FastAPI reads `{in_query[0]}` from the query string (the URL), not from a header: "
                    "declare it with Header(), as in `x_api_key: Annotated[str | None, Header()] = None`."
                )
            if headers and _KEY_HEADER.lower() not in headers:
                raise Hint(
                    f"Your guard reads the header `{headers[0]}`, but the key comes in `{_KEY_HEADER}`. "
                    "FastAPI names the header after the parameter, `_` becoming `-`: call it `x_api_key`."
                )
            raise Hint(
                f"The right key, sent as `{_KEY_HEADER}: <key>`, got status {right.status_code}: "
                "compare the header's value with the key you were given."
            )
        names = dict.fromkeys([*_parameter_names(guard), "api_key", "x_api_key", "key"])
        for name in names:
            in_url = client.get("/private", params={name: api_key})
            if in_url.status_code == 200:
                raise Hint(
                    f"Your guard accepted the key in the URL (`/private?{name}=...`). URLs end up in "
                    "server logs, proxies and browser history: read the key only from the "
                    f"{_KEY_HEADER} header, with Header()."
                )
            _expect_rejected(in_url, "the key in the URL", crashes)
    return (
        "Right: no key, wrong keys and a key in the URL get 401 with WWW-Authenticate; "
        "the right key in X-API-Key gets through."
    )
