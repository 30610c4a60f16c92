"""See the order in which middleware ran: each traced layer writes itself into an `X-Trace` header.

Introduced in 03-routing-middleware-controllers, which draws the "onion" of a request::

    timing→ request-id→ api-key→ route ←api-key ←request-id ←timing

`traced(name)` wraps a function middleware (``async def mw(request, call_next)``, the kind that
``@app.middleware("http")`` registers). The wrapper notes ``name→`` when the request comes in and
``←name`` when the middleware hands its response back, then writes every step so far into the
response's `X-Trace` header; the outermost layer writes last, so the header ends up complete.
A route adds itself with `record_step`. The steps live in the request's ASGI ``state``, which
every layer of one request shares and no other request sees. `onion` renders the header.

A middleware that answers without calling ``call_next`` shows up as ``name→ ←name`` with nothing
inside it; one skipped because an exception passed through it shows ``name→`` without ``←name``.
This is machinery for showing the order only: the middleware themselves are written in the
notebook.

`call_asgi(app, path, times=n)` sends requests straight to an ASGI app, the way a server hands
them over (``await app(scope, receive, send)``) but without a socket, a client or HTTP parsing:
03 times middleware layers with it, so that only what the layers add is measured, not the
network's fixed cost, which is the same for every variant and grows on a busy machine.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import re
import threading
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Protocol

from starlette.requests import Request
from starlette.responses import Response

__all__ = ["TRACE_HEADER", "traced", "record_step", "onion", "call_asgi"]

TRACE_HEADER = "X-Trace"
_STATE_KEY = "labsupport.lessons.l03_routing.middleware.steps"
# Names travel in a header (latin-1 only) separated by commas: keep them plain.
_NAME = re.compile(r"[A-Za-z0-9_.-]+")
_IN, _OUT = ">", "<"

CallNext = Callable[[Request], Awaitable[Response]]
Middleware = Callable[[Request, CallNext], Awaitable[Response]]


class _HasHeaders(Protocol):
    headers: Mapping[str, str]


def _check_name(name: object) -> str:
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise ValueError(f"a trace name must be letters, digits, '-', '_' or '.', such as 'request-id', not {name!r}")
    return name


def _steps(request: Request) -> list[str]:
    # uvicorn gives each request its own copy of the ``state`` dict.
    state = request.scope.setdefault("state", {})
    return state.setdefault(_STATE_KEY, [])


def record_step(request: Request, name: str) -> None:
    """Note that `name` (usually ``"route"``) ran during this request, for the trace."""
    if not isinstance(request, Request):
        raise TypeError(f"record_step() needs the route's Request, not {type(request).__name__}")
    _steps(request).append(_check_name(name))


def traced(name: str) -> Callable[[Middleware], Middleware]:
    """Decorate a function middleware so the request's trace shows when it ran.

    Use it under ``@app.middleware("http")``, or on a function given to
    ``Middleware(BaseHTTPMiddleware, dispatch=...)``::

        @app.middleware("http")
        @traced("timing")
        async def timing(request, call_next): ...
    """
    _check_name(name)

    def decorate(middleware: Middleware) -> Middleware:
        if not inspect.iscoroutinefunction(middleware):
            raise TypeError(
                f"traced({name!r}) needs an async middleware function "
                "(async def middleware(request, call_next)), "
                f"not {getattr(middleware, '__name__', type(middleware).__name__)!r}"
            )

        @functools.wraps(middleware)
        async def wrapper(request: Request, call_next: CallNext) -> Response:
            steps = _steps(request)
            steps.append(_IN + name)
            response = await middleware(request, call_next)
            steps.append(_OUT + name)
            response.headers[TRACE_HEADER] = ",".join(steps)
            return response

        return wrapper

    return decorate


def onion(response: _HasHeaders | Any) -> str:
    """The trace of a response as ``a→ b→ route ←b ←a`` (in order, left to right).

    Accepts anything with ``.headers`` (an ``httpx.Response``); says so when no traced layer ran.
    """
    headers = getattr(response, "headers", None)
    if headers is None:
        raise TypeError(f"onion() needs an HTTP response, not {type(response).__name__}")
    header = headers.get(TRACE_HEADER)
    if not header:
        return "(no trace: no traced middleware answered this request)"
    shown = []
    for step in header.split(","):
        if step.startswith(_IN):
            shown.append(step[1:] + "→")
        elif step.startswith(_OUT):
            shown.append("←" + step[1:])
        else:
            shown.append(step)
    return " ".join(shown)


# call_asgi runs its requests on one private event loop in a daemon thread, started on first use:
# the kernel's own loop is busy running the cell, so asyncio.run() cannot be used there.
_loop_lock = threading.Lock()
_loop: asyncio.AbstractEventLoop | None = None


def _private_loop() -> asyncio.AbstractEventLoop:
    global _loop
    with _loop_lock:
        if _loop is None:
            loop = asyncio.new_event_loop()
            threading.Thread(target=loop.run_forever, name="labsupport-call-asgi", daemon=True).start()
            _loop = loop
        return _loop


async def _request(app: Callable[..., Any], method: str, path: str) -> int:
    scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode("ascii"),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"127.0.0.1")],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 80),
        "state": {},
    }
    sent: list[dict[str, Any]] = []
    request_read = False

    async def receive() -> dict[str, Any]:
        nonlocal request_read
        if not request_read:
            request_read = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await asyncio.Event().wait()  # as with a server: nothing more until the client leaves
        raise AssertionError("unreachable")  # pragma: no cover

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)
    starts = [message for message in sent if message["type"] == "http.response.start"]
    if not starts:
        raise RuntimeError(f"the app sent no response to {method} {path}")
    return starts[0]["status"]


async def _requests(app: Callable[..., Any], method: str, path: str, times: int) -> int:
    status = 0
    for _ in range(times):
        status = await _request(app, method, path)
    return status


def call_asgi(app: Callable[..., Any], path: str = "/", *, method: str = "GET", times: int = 1) -> int:
    """Send `times` bodyless requests to the ASGI `app` in this process, one after another; the last status.

    No socket, client or HTTP parsing: the request goes in as the dicts a server would build, so
    timing a call times the app alone (its middleware, routing and route). The app's lifespan
    (start-up events) is not run. An exception raised by the app is raised here.
    """
    if not callable(app):
        raise TypeError(f"call_asgi() needs an ASGI app (such as FastAPI()), not {type(app).__name__}")
    if not isinstance(path, str) or not path.startswith("/"):
        raise ValueError(f"call_asgi() needs a path starting with '/', not {path!r}")
    if isinstance(times, bool) or not isinstance(times, int) or times < 1:
        raise ValueError(f"times must be a whole number >= 1, not {times!r}")
    future = asyncio.run_coroutine_threadsafe(_requests(app, method.upper(), path, times), _private_loop())
    return future.result()
