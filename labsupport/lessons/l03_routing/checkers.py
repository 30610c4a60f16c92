"""Checkers for the exercises of 03-routing-middleware-controllers: a request-id middleware, an
API-key guard, a router whose routes are shadowed, and a prediction of the order in which
middleware see a request (`check_onion_prediction`, which sends a request through the notebook's
app and reads the order from its trace rather than trusting a stored answer).

Each checker attaches the student's code to a fresh FastAPI app, serves it on 127.0.0.1 and sends
it real requests, then stops it. Whatever goes wrong inside the server (the student's code
raising, returning the wrong thing) is caught there and recorded, so it becomes a one-line hint in
the notebook instead of a traceback logged by uvicorn.

The guard is attacked as an attacker would: keys that are only part of the real one or contain
it, the key in another case, in the URL, in a cookie, in another header; and it must compare with
``secrets.compare_digest`` (the notebook asks for it), which the checker sees by watching the
guard's calls while it runs (`sys.setprofile` in the thread that runs it).
"""

from __future__ import annotations

import _operator
import asyncio
import contextlib
import functools
import hmac
import inspect
import re
import secrets
import sys
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
from fastapi import APIRouter, Depends, FastAPI, Request
from starlette.responses import PlainTextResponse, Response

from labsupport.checks import Hint, NotAttempted, checker, expect_type
from labsupport.crashes import RecordCrashes, describe_exception
from labsupport.lessons.l03_routing.middleware import onion
from labsupport.servers import serve

__all__ = ["check_request_id", "check_api_key_guard", "check_route_order", "check_onion_prediction"]

# What the notebook asks of a request id (its REQUEST_ID_PATTERN): 1–64 letters, digits, '-', '_', '.'.
_REQUEST_ID_RULE = re.compile(r"[A-Za-z0-9._-]{1,64}")
_GOOD_IDS = ("checkout-42.a_B", "k" * 64)  # 64 characters is still allowed
# Ids a client must not get into the logs: too long (by one, and by far), spaces and ';', markup,
# a non-ASCII letter (which `\w` would let in; sent as latin-1 bytes, as HTTP allows).
_BAD_IDS: tuple[str | bytes, ...] = (
    "x" * 65,
    "x" * 200,
    "bad id; DROP TABLE logs",
    "<script>alert(1)</script>",
    b"caf\xe9-1",
)
_CONCURRENT = 5  # requests held inside the route at the same time
_KEY_HEADER = "X-API-Key"


def _parameter_names(fn: Callable[..., Any]) -> list[str]:
    try:
        return list(inspect.signature(fn).parameters)
    except (TypeError, ValueError):
        return []


def _looks_like_middleware(fn: Callable[..., Any]) -> bool:
    return _parameter_names(fn)[:2] == ["request", "call_next"]


# --- exercise 1: a request-id middleware -----------------------------------------------------


class _Rendezvous:
    """Holds requests inside the route until `expected` of them are there (or a second passed).

    Makes overlapping requests certain, so a middleware that keeps the id in a global variable
    hands one request's id to another every time, not only on a busy day.
    """

    def __init__(self, expected: int) -> None:
        self.expected = expected
        self.arrived = 0
        self.event: asyncio.Event | None = None

    async def wait(self) -> None:
        if self.event is None:  # made here, inside the server's event loop
            self.event = asyncio.Event()
        self.arrived += 1
        if self.arrived >= self.expected:
            self.event.set()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.event.wait(), timeout=1.0)


def _request_id_app(middleware: Callable[..., Any], problems: list[str]) -> FastAPI:
    """A fresh app whose routes report the id they found on ``request.state``."""
    app = FastAPI()
    rendezvous = _Rendezvous(_CONCURRENT)

    @app.get("/whoami")
    def whoami(request: Request) -> dict:
        return {"request_id": getattr(request.state, "request_id", None)}

    @app.get("/together")
    async def together(request: Request) -> dict:
        await rendezvous.wait()
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


def _shown(request_id: str | bytes | None) -> str:
    if request_id is None:
        return "no X-Request-ID"
    text = request_id.decode("latin-1") if isinstance(request_id, bytes) else request_id
    return repr(text if len(text) <= 30 else text[:12] + f"… ({len(text)} characters)")


def _ask(client: httpx.Client, problems: list[str], request_id: str | bytes | None, path: str = "/whoami") -> str:
    """Send one request (with `request_id` in X-Request-ID if given); return the id it got back.

    Raises `Hint` unless the response is the route's 200 with the same id in the X-Request-ID
    header and on ``request.state.request_id``.
    """
    # bytes go out as they are (latin-1 in HTTP); httpx wants names and values of one kind.
    headers: list[tuple[bytes, bytes]] = []
    if request_id is not None:
        value = request_id if isinstance(request_id, bytes) else request_id.encode("latin-1")
        headers.append((b"X-Request-ID", value))
    response = client.get(path, headers=headers)
    if problems:
        raise Hint(problems[0])
    if response.status_code != 200:
        if request_id is not None and 400 <= response.status_code < 500:
            raise Hint(
                f"A request with the id {_shown(request_id)} got {response.status_code}. Do not turn the "
                "request away because of its id: keep a valid id, replace anything else with a new one."
            )
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


def _expect_new_id(request_id: str, sent: str | bytes | None) -> None:
    if not _REQUEST_ID_RULE.fullmatch(request_id):
        raise Hint(
            f"A new id should be 1–64 letters, digits, '-', '_' or '.', like uuid.uuid4().hex; "
            f"for a request with {_shown(sent)} yours was {request_id!r}."
        )


def _expect_own_ids_when_overlapping(server_url: str, problems: list[str]) -> None:
    """Send requests that are inside the app at the same time; each must get its own id back."""
    sent = [f"together-{n}" for n in range(_CONCURRENT)]
    with httpx.Client(base_url=server_url, timeout=10) as client, ThreadPoolExecutor(_CONCURRENT) as pool:
        responses = list(pool.map(lambda rid: client.get("/together", headers={"X-Request-ID": rid}), sent))
    if problems:
        raise Hint(problems[0])
    for request_id, response in zip(sent, responses, strict=True):
        got = (response.headers.get("X-Request-ID"), (response.json() or {}).get("request_id"))
        if response.status_code != 200 or got != (request_id, request_id):
            raise Hint(
                f"{_CONCURRENT} requests were inside the app at the same time, each with its own id; the one "
                f"sent with {request_id!r} got back header {got[0]!r} and request.state {got[1]!r}. "
                "Keep the id in a local variable and on request.state, never in a global: one middleware "
                "function serves many requests at once."
            )


@checker(
    "Exercise 1: a request-id middleware",
    expects="an async function request_id_middleware(request, call_next)",
)
def check_request_id(request_id_middleware: Callable[..., Any]) -> str:
    """Serve the middleware on a fresh app; send requests with no id, good ids, bad ids, and
    several at the same time."""
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
        for good in _GOOD_IDS:
            echoed = _ask(client, problems, good)
            if echoed != good:
                raise Hint(
                    f"The client sent the valid id {_shown(good)} but got back {echoed!r}. When a caller "
                    "(a gateway, another service) already sent a valid id (1–64 letters, digits, '-', '_' "
                    "or '.'), keep it: that is how one id follows a request across services."
                )
        for bad in _BAD_IDS:
            answered = _ask(client, problems, bad)
            as_text = bad.decode("latin-1") if isinstance(bad, bytes) else bad
            if answered == as_text:
                raise Hint(
                    f"The client sent the id {_shown(bad)} and you kept it. Ids end up in log lines: "
                    "accept one only if REQUEST_ID_PATTERN.fullmatch(it) (1–64 letters, digits, "
                    "'-', '_' or '.'), otherwise make a new one."
                )
            _expect_new_id(answered, bad)
        _expect_new_id(_ask(client, problems, ""), "")
        _expect_own_ids_when_overlapping(server.url, problems)
    return (
        "Right: a safe incoming id is kept, an unsafe one replaced, every other request gets a fresh id, "
        "and overlapping requests keep their own. Why it worked: the id lives on request.state and in a "
        "local variable, which belong to one request, and fullmatch checks the whole id, length included."
    )


# --- exercise 2: an API-key guard (a dependency) ---------------------------------------------

# The constant-time comparisons the notebook teaches: secrets.compare_digest is hmac.compare_digest.
_CONSTANT_TIME = (hmac.compare_digest, secrets.compare_digest, _operator._compare_digest)


class _DigestCalls:
    """Counts the calls to ``compare_digest`` made while the guard runs, in the thread that runs it."""

    def __init__(self) -> None:
        self.count = 0
        self.watched = True  # False when the guard could not be wrapped (then nothing is judged)

    def _profile(self, frame: Any, event: str, arg: Any) -> None:
        if event == "c_call" and any(arg is f for f in _CONSTANT_TIME):
            self.count += 1

    @contextlib.contextmanager
    def watching(self) -> Iterator[None]:
        previous = sys.getprofile()
        sys.setprofile(self._profile)
        try:
            yield
        finally:
            sys.setprofile(previous)


def _observed(guard: Callable[..., Any], calls: _DigestCalls) -> Callable[..., Any]:
    """`guard` as FastAPI will see it (same signature, same globals), counting compare_digest calls."""
    call: Any = guard
    if not (inspect.isfunction(guard) or inspect.ismethod(guard)):
        call = type(guard).__call__  # a callable object: its method says whether it is async
    if isinstance(guard, type) or inspect.isgeneratorfunction(call) or inspect.isasyncgenfunction(call):
        calls.watched = False  # FastAPI treats these differently: serve them as they are
        return guard
    if inspect.iscoroutinefunction(call):

        async def watched_async(**kwargs: Any) -> Any:
            with calls.watching():
                return await guard(**kwargs)

        return functools.wraps(guard)(watched_async)

    def watched(**kwargs: Any) -> Any:  # FastAPI runs it in a worker thread, as it would the guard
        with calls.watching():
            return guard(**kwargs)

    return functools.wraps(guard)(watched)


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


def _sentence(text: str) -> str:
    """`text` with its first letter in upper case (str.capitalize would lower "URL" and "X-API-Key")."""
    return text[:1].upper() + text[1:]


def _expect_rejected(response: httpx.Response, what: str, crashes: list[BaseException], let_in: str = "") -> None:
    """Raise `Hint` unless `response` is a 401 with WWW-Authenticate; `let_in` explains a 2xx."""
    status = response.status_code
    if crashes:
        raise Hint(f"Your guard raised {describe_exception(crashes[0])} for {what}: it should answer 401 instead.")
    if status == 401:
        if "www-authenticate" not in response.headers:
            raise Hint(
                f"{_sentence(what)} got 401 — good — but without a WWW-Authenticate header, which "
                "HTTP requires on every 401. Raise "
                "`HTTPException(401, 'Missing or wrong API key', headers={'WWW-Authenticate': 'APIKey'})`."
            )
        return
    if 200 <= status < 300:
        raise Hint(f"{_sentence(what)} got through (status {status}): {let_in or 'the guard must answer 401.'}")
    if status == 403:
        raise Hint(
            f"{_sentence(what)} got 403. 403 means 'I know who you are, and you may not'; "
            "with no valid key there is no identity at all: answer 401."
        )
    if status == 422:
        raise Hint(
            f"FastAPI answered 422 for {what} before your guard ran: a parameter without a default "
            "is required. Give the header parameter a default of None and raise the 401 yourself."
        )
    raise Hint(f"{_sentence(what)} got status {status}; expected 401 with a WWW-Authenticate header.")


def _wrong_keys(api_key: str) -> list[tuple[str, str, str]]:
    """(what it is, the key sent, why it got in) for each near miss an attacker tries."""
    part = (
        "your guard accepts part of the key. Compare the whole key with "
        "secrets.compare_digest(x_api_key, API_KEY), not `in`, startswith() or endswith()."
    )
    more = (
        "your guard accepts anything that contains the key. Compare the whole key with "
        "secrets.compare_digest(x_api_key, API_KEY), not `in`, startswith() or endswith()."
    )
    keys = [
        (
            "a wrong key",
            "not-the-key",
            "the guard must raise HTTPException(401, 'missing or wrong API key', "
            "headers={'WWW-Authenticate': 'APIKey'}): returning a value or writing a log line "
            "does not stop the request.",
        ),
        ("an empty key", "", "an empty X-API-Key header is no key at all."),
        ("the key minus its last character", api_key[:-1], part),
        ("the key minus its first character", api_key[1:], part),
        ("the key followed by extra characters", api_key + "-extra", more),
        ("the key after extra characters", "extra-" + api_key, more),
    ]
    other_case = api_key.upper() if api_key.upper() != api_key else api_key.lower()
    if other_case != api_key:
        keys.append(
            (
                "the key in another case",
                other_case,
                "your guard compares without case (lower() or upper()), which makes the key far "
                "easier to guess. Compare it exactly, with secrets.compare_digest.",
            )
        )
    keys.append(
        (
            "a wrong key of the right length",
            _same_length_wrong_key(api_key),
            "compare the whole key with secrets.compare_digest(x_api_key, API_KEY).",
        )
    )
    return keys


def _same_length_wrong_key(api_key: str) -> str:
    last = "0" if api_key[-1] != "0" else "1"
    return api_key[:-1] + last


def _expect_header_only(
    client: httpx.Client,
    guard: Callable[..., Any],
    api_key: str,
    sources: dict[str, str],
    crashes: list[BaseException],
) -> None:
    """The right key sent anywhere but X-API-Key (and with no X-API-Key) must get 401."""
    names = dict.fromkeys(
        [*sources, *_parameter_names(guard), "api_key", "x_api_key", "X-API-Key", "apikey", "key", "token"]
    )
    for name in names:
        crashes.clear()
        in_url = client.get("/private", params={name: api_key})
        _expect_rejected(
            in_url,
            f"the key in the URL (`/private?{name}=...`)",
            crashes,
            "URLs end up in server logs, proxies and browser history: read the key only from the "
            f"{_KEY_HEADER} header, with Header().",
        )
        crashes.clear()
        in_cookie = client.get("/private", headers={"Cookie": f"{name}={api_key}"})
        _expect_rejected(
            in_cookie,
            f"the key in a cookie (`Cookie: {name}=...`)",
            crashes,
            "a browser sends its cookies with every request to the site, whoever made the page that "
            f"sent it (CSRF, 09-security): read the key only from the {_KEY_HEADER} header.",
        )
    for value in (f"Bearer {api_key}", api_key):
        crashes.clear()
        in_authorization = client.get("/private", headers={"Authorization": value})
        _expect_rejected(
            in_authorization,
            f"the key in the Authorization header (`Authorization: {value[:7]}...`)",
            crashes,
            f"the exercise's clients send the key in {_KEY_HEADER} only: read it there and nowhere else.",
        )


@checker(
    "Exercise 2: an API-key guard",
    expects="a dependency function and the key, as in check_api_key_guard(require_api_key, API_KEY)",
)
def check_api_key_guard(require_api_key: Callable[..., Any], api_key: str) -> str:
    """Guard a route with ``Depends(require_api_key)`` and attack it: no key, near-miss keys (part
    of the key, the key inside a longer one, another case, empty), the right key in the X-API-Key
    header, the right key in the URL, a cookie and the Authorization header. Both the right key
    and a wrong key of the same length must be compared with compare_digest."""
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
    digests = _DigestCalls()
    app = _guarded_app(_observed(guard, digests), crashes)
    sources = _where_parameters_come_from(app)
    compared: dict[str, int] = {}  # what was sent -> compare_digest calls while the guard ran
    with serve(app, name="check-api-key") as server:
        client = server.client
        _expect_rejected(
            client.get("/private"),
            "a request without a key",
            crashes,
            "the guard must raise HTTPException(401, 'missing or wrong API key', "
            "headers={'WWW-Authenticate': 'APIKey'}) when the header is missing: returning a value or "
            "writing a log line does not stop the request.",
        )
        for what, wrong, why in _wrong_keys(api_key):
            crashes.clear()
            digests.count = 0
            _expect_rejected(client.get("/private", headers={_KEY_HEADER: wrong}), what, crashes, why)
            compared[what] = digests.count
        crashes.clear()
        digests.count = 0
        right = client.get("/private", headers={_KEY_HEADER: api_key})
        compared["the right key"] = digests.count
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
        _expect_header_only(client, guard, api_key, sources, crashes)
    if digests.watched:
        for what in ("the right key", "a wrong key of the right length"):
            if not compared[what]:
                raise Hint(
                    f"Your guard lets only the right key in, but it checked {what} without "
                    "secrets.compare_digest. `==` stops at the first character that differs, so how long "
                    "it takes tells an attacker how much of a guess is right (08-auth): use "
                    "secrets.compare_digest(x_api_key, API_KEY)."
                )
    return (
        "Right: no key, near misses, another case, and the key in the URL, a cookie or Authorization get 401 "
        "with WWW-Authenticate; the right key in X-API-Key gets through. Why it worked: compare_digest "
        "compares the whole key, exactly, in the same time whatever the guess."
    )


# --- exercise 3: the route that never runs (route order) ---------------------------------------

_PREFIX = "/api/books"
_STATIC_ROUTES = ("/search", "/in-stock")


def _books_router(make_books_router: Callable[[], Any]) -> APIRouter:
    router = make_books_router()
    if router is ...:
        raise NotAttempted("make_books_router() still returns ...: write the router, then run this cell again.")
    if not isinstance(router, APIRouter):
        raise Hint(
            f"make_books_router() should return the APIRouter it built (`return router`), not {type(router).__name__}."
        )
    paths = {getattr(route, "path_format", getattr(route, "path", "")) for route in router.routes}
    expected = {_PREFIX + path for path in (*_STATIC_ROUTES, "/{book_id}")}
    if not expected <= paths:
        missing = ", ".join(sorted(expected - paths))
        raise Hint(
            f"The router should still have all three routes under the prefix {_PREFIX!r}; missing: {missing}. "
            "Keep every route: fix the order, not the list."
        )
    return router


def _get(client: httpx.Client, path: str, crashes: list[BaseException], **params: str) -> httpx.Response:
    crashes.clear()
    response = client.get(path, params=params)
    if crashes:
        raise Hint(f"GET {path} made your code raise {describe_exception(crashes[0])}.")
    return response


@checker(
    "Exercise 3: the route that never runs",
    expects="a function make_books_router() that returns an APIRouter, and the BOOKS dict",
)
def check_route_order(make_books_router: Callable[[], Any], books: dict[int, dict[str, Any]]) -> str:
    """Serve the router; every route must answer: search, in-stock, each book, a missing one, a word."""
    if not callable(make_books_router):
        raise Hint("make_books_router should be a function: `def make_books_router(): ...; return router`.")
    expect_type(books, dict, "the BOOKS dict of the notebook")
    router = _books_router(make_books_router)
    app = FastAPI()
    app.include_router(router)
    crashes: list[BaseException] = []
    app.add_middleware(RecordCrashes, errors=crashes)
    with serve(app, name="check-route-order") as server:
        client = server.client
        some = next(iter(books.values()))
        for path, params in ((f"{_PREFIX}/search", {"q": some["title"]}), (f"{_PREFIX}/in-stock", {})):
            response = _get(client, path, crashes, **params)
            if response.status_code == 422 and "book_id" in response.text:
                raise Hint(
                    f"GET {path} got 422 about `book_id`: the request went to get_book, not to its own "
                    "route. FastAPI tries routes in the order they were added and takes the first whose path "
                    "matches; `/{book_id}` matches any word. Add the fixed paths first (or write "
                    "`/{book_id:int}`, which matches digits only)."
                )
            if response.status_code != 200:
                raise Hint(f"GET {path} got {response.status_code}; it should answer 200 with a list of books.")
        found = _get(client, f"{_PREFIX}/search", crashes, q=some["title"]).json()
        if not isinstance(found, list) or some not in found:
            raise Hint(f"Searching for {some['title']!r} should find that book; the answer was {found!r}.")
        stocked = _get(client, f"{_PREFIX}/in-stock", crashes).json()
        expected = [book for book in books.values() if book.get("stock", 0) > 0]
        if stocked != expected:
            raise Hint(f"GET {_PREFIX}/in-stock should list the books with stock > 0, {expected!r}; got {stocked!r}.")
        for book_id, book in books.items():
            response = _get(client, f"{_PREFIX}/{book_id}", crashes)
            if response.status_code != 200 or response.json() != book:
                raise Hint(
                    f"GET {_PREFIX}/{book_id} should answer 200 with that book; it got {response.status_code}. "
                    "Keep `book_id: int`: the ids in BOOKS are numbers."
                )
        missing_id = max(books) + 1
        missing = _get(client, f"{_PREFIX}/{missing_id}", crashes)
        if missing.status_code != 404:
            raise Hint(f"GET {_PREFIX}/{missing_id} (no such book) got {missing.status_code}; expected 404.")
        word = _get(client, f"{_PREFIX}/two", crashes)
        if word.status_code not in (404, 422):
            raise Hint(
                f"GET {_PREFIX}/two got {word.status_code}: a book id that is not a number should be refused "
                "(422 from `book_id: int`, or 404 when `{book_id:int}` matches digits only)."
            )
    return (
        "Right: every route answers. Why it worked: FastAPI (like Express) tries routes in the order they "
        "were added and stops at the first path that matches, even if its parameters then fail to validate; "
        "fixed paths go first, or `{book_id:int}` makes the pattern itself refuse words."
    )


# --- predict, then run: the order middleware see a request in ----------------------------------


def _order_in(app: FastAPI, headers: dict[str, str] | None) -> tuple[list[str], int]:
    """Serve `app`, send GET /hello; the traced layers in the order the request met them, and the status."""
    with serve(app, name="check-onion-prediction") as server:
        response = server.client.get("/hello", headers=headers or {})
    # onion() draws "a→ b→ route ←b ←a": the names with an arrow after them, left to right.
    return [part[:-1] for part in onion(response).split() if part.endswith("→")], response.status_code


@checker(
    "Predict: which middleware sees the request first?",
    expects="a list of the middleware's trace names, the first to see the request first",
)
def check_onion_prediction(predicted_order: list[str], app: FastAPI, headers: dict[str, str] | None = None) -> str:
    """Send a request through `app` (the notebook's onion) and compare the order the layers saw it
    with the prediction; a wrong prediction is told the real order and the rule behind it."""
    predicted = expect_type(predicted_order, (list, tuple), "a list of names, e.g. ['a', 'b', 'c', 'd']")
    if not isinstance(app, FastAPI):
        raise Hint(f"Pass the app to run the prediction against (a FastAPI app), not {type(app).__name__}.")
    if not all(isinstance(name, str) for name in predicted):
        raise Hint("Write each middleware's name as a string in quotes, e.g. 'timing'.")
    truth, status = _order_in(app, headers)
    if status != 200 or not truth:
        raise Hint(
            f"The check's request got {status} and did not reach the route, so there is no order to compare: "
            "pass the headers a request needs to get through, e.g. headers={'X-API-Key': API_KEY}."
        )
    names = ", ".join(repr(name) for name in sorted(truth))
    unknown = [name for name in predicted if name not in truth]
    if unknown:
        raise Hint(
            f"{unknown[0]!r} is not one of the names the trace writes. Use the names given to @traced: {names}."
        )
    if len(predicted) != len(truth) or len(set(predicted)) != len(predicted):
        raise Hint(
            f"Name each of the {len(truth)} middleware exactly once ({names}), in the order they see the request."
        )
    shown = " ".join(f"{name}→" for name in truth) + " route"
    rule = (
        "In FastAPI each middleware added with app.middleware('http') wraps everything added before it, "
        "so the last one added is the outermost layer and sees the request first."
    )
    if list(predicted) == truth[::-1]:
        raise Hint(
            f"That is the order they were added in, the order Express runs them. The request really went "
            f"{shown}: exactly the other way round. {rule}"
        )
    if list(predicted) != truth:
        raise Hint(f"The request really went {shown}. {rule}")
    return (
        f"Right: {shown}. The last middleware added is the outermost layer, so it meets the request first and "
        "hands the response back last: the reverse of Express's app.use order."
    )
