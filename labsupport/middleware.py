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
"""

from __future__ import annotations

import functools
import inspect
import re
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Protocol

from starlette.requests import Request
from starlette.responses import Response

__all__ = ["TRACE_HEADER", "traced", "record_step", "onion"]

TRACE_HEADER = "X-Trace"
_STATE_KEY = "labsupport.middleware.steps"
# Names travel in a header (latin-1 only) separated by commas: keep them plain.
_NAME = re.compile(r"[A-Za-z0-9_.-]+")
_IN, _OUT = ">", "<"

CallNext = Callable[[Request], Awaitable[Response]]
Middleware = Callable[[Request, CallNext], Awaitable[Response]]


class _HasHeaders(Protocol):
    headers: Mapping[str, str]


def _check_name(name: object) -> str:
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise ValueError(
            f"a trace name must be letters, digits, '-', '_' or '.', such as 'request-id', not {name!r}"
        )
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
