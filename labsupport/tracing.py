"""Where did the time of one request go? Server-side spans, sent back in a `Server-Timing` header.

Introduced in 00-start-here, which follows one request through the bookshop's layers.

Server side, `ServerTimingMiddleware` gives every request a fresh `SpanRecorder` (held in a
`contextvars.ContextVar`, so concurrent requests never mix) and, when the response starts, adds
the standard header that browsers' developer tools also display::

    Server-Timing: db;dur=0.412;desc="3 queries", service;dur=0.733, route;dur=0.901, app;dur=1.520

``app`` is the whole application (request received → response started); `span("route")` and
`span("service")` time the code inside it; `instrument_engine` adds the SQL time as ``db``.
FastAPI runs sync endpoints in a thread pool with a *copy* of the request's context; the copy
refers to the same recorder object, so spans recorded in that thread land in the same header.

Client side, `trace_request` times the whole round trip and subtracts the nested server spans
to get the layers of the 00-start-here chart: HTTP (client + server), framework, route, logic,
database. The first is *not* network time: in the lab, client and server share one machine and
a request never leaves it; that layer is the HTTP handling at both ends (httpx, the loopback
socket, uvicorn).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from time import perf_counter
from types import TracebackType
from typing import Any, Protocol, TypeVar

import httpx
import sqlalchemy as sa
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = [
    "SpanRecorder",
    "record_spans",
    "span",
    "instrument_engine",
    "ServerTimingMiddleware",
    "ServerTimingMetric",
    "parse_server_timing",
    "RequestTrace",
    "trace_request",
    "HTTP_LAYER",
]

# A metric name must be an HTTP token (RFC 9110) to be sent in the header unquoted.
_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_QUERY_START = "labsupport.tracing.query_start"
# The label of the layer outside the app: HTTP handling by the client and the server, both on
# this machine. Not "network": in the lab no request crosses one.
HTTP_LAYER = "HTTP (client + server)"
_current: ContextVar[SpanRecorder | None] = ContextVar("labsupport_tracing_spans", default=None)
_Function = TypeVar("_Function", bound=Callable[..., Any])


class SpanRecorder:
    """The durations (ms) recorded during one request, by metric name, and its SQL query count.

    Names keep the order in which they were first recorded; recording a name again adds to it.
    """

    def __init__(self) -> None:
        self.durations: dict[str, float] = {}
        self.queries = 0

    def add(self, name: str, ms: float) -> None:
        self.durations[name] = self.durations.get(name, 0.0) + ms

    def header(self) -> str:
        """The value of a `Server-Timing` header holding every metric."""
        parts = []
        for name, ms in self.durations.items():
            part = f"{name};dur={ms:.3f}"
            if name == "db":
                noun = "query" if self.queries == 1 else "queries"
                part += f';desc="{self.queries} {noun}"'
            parts.append(part)
        return ", ".join(parts)


@contextmanager
def record_spans() -> Iterator[SpanRecorder]:
    """Record the spans of the enclosed block into a new `SpanRecorder` (the middleware uses this).

    Also handy without HTTP: ``with record_spans() as spans: service.get_book(1)``.
    """
    spans = SpanRecorder()
    token = _current.set(spans)
    try:
        yield spans
    finally:
        _current.reset(token)


class Span(Protocol):
    """What `span` returns: a context manager (``with span("cache"):``) that is also a
    decorator (``@span("service")``) handing back the function with the same signature."""

    def __enter__(self) -> None: ...

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> bool | None: ...

    def __call__(self, function: _Function, /) -> _Function: ...


def span(name: str) -> Span:
    """Add the time spent in a block, or in each call of a decorated function, to metric `name`.

    ``with span("cache"): ...`` or ``@span("service")`` above a (sync) function. Outside
    `record_spans` (no traced request) it just runs the code.
    """
    if not isinstance(name, str) or not _TOKEN.fullmatch(name):
        raise ValueError(f"span name {name!r} must be one word such as 'service' or 'cache-lookup'")
    return _span(name)


@contextmanager
def _span(name: str) -> Iterator[None]:
    # A @contextmanager object used as a decorator starts a fresh generator on every call,
    # so one decorated function can run in several threads at once.
    spans = _current.get()
    if spans is None:
        yield
        return
    start = perf_counter()
    try:
        yield
    finally:
        spans.add(name, (perf_counter() - start) * 1000)


def _before_cursor_execute(conn: sa.Connection, *_args: Any) -> None:
    conn.info[_QUERY_START] = perf_counter()


def _after_cursor_execute(conn: sa.Connection, *_args: Any) -> None:
    start = conn.info.pop(_QUERY_START, None)
    spans = _current.get()
    if spans is not None and start is not None:
        spans.add("db", (perf_counter() - start) * 1000)
        spans.queries += 1


def instrument_engine(engine: sa.Engine) -> sa.Engine:
    """Record the time of every SQL statement run on `engine` during a traced request as ``db``.

    It times the driver's execute call; fetching rows afterwards and committing count as the
    caller's time. Calling it again on the same engine changes nothing. Returns the engine.
    """
    if not sa.event.contains(engine, "before_cursor_execute", _before_cursor_execute):
        sa.event.listen(engine, "before_cursor_execute", _before_cursor_execute)
        sa.event.listen(engine, "after_cursor_execute", _after_cursor_execute)
    return engine


class ServerTimingMiddleware:
    """Pure ASGI middleware: time each request as ``app``, send every span in `Server-Timing`.

    ``app`` runs from the moment the request reaches this middleware until the response starts
    (status and headers), which is also when the header has to be written.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = perf_counter()
        with record_spans() as spans:

            async def send_with_header(message: Message) -> None:
                if message["type"] == "http.response.start":
                    spans.add("app", (perf_counter() - start) * 1000)
                    header = (b"server-timing", spans.header().encode("latin-1"))
                    message = {**message, "headers": [*message.get("headers", []), header]}
                await send(message)

            await self.app(scope, receive, send_with_header)


@dataclass(frozen=True)
class ServerTimingMetric:
    """One metric of a `Server-Timing` header; `duration` in ms, None when the server sent none."""

    name: str
    duration: float | None = None
    description: str | None = None


def _split_outside_quotes(text: str, separator: str) -> list[str]:
    parts: list[str] = []
    current: list[str] = []
    quoted = escaped = False
    for char in text:
        if escaped:
            escaped = False
        elif quoted and char == "\\":
            escaped = True
        elif char == '"':
            quoted = not quoted
        elif char == separator and not quoted:
            parts.append("".join(current))
            current = []
            continue
        current.append(char)
    parts.append("".join(current))
    return parts


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] == '"':
        return re.sub(r"\\(.)", r"\1", value[1:-1])
    return value


def parse_server_timing(header: str) -> dict[str, ServerTimingMetric]:
    """Parse a `Server-Timing` header value into ``{name: ServerTimingMetric}``.

    Lenient like a browser: spaces anywhere, quoted descriptions (with commas or semicolons
    inside), a missing or malformed ``dur``, unknown parameters and empty entries are all
    accepted. For a name that appears twice the first entry wins, as for repeated parameters.
    """
    metrics: dict[str, ServerTimingMetric] = {}
    for entry in _split_outside_quotes(header, ","):
        name, *params = (part.strip() for part in _split_outside_quotes(entry, ";"))
        if not _TOKEN.fullmatch(name) or name in metrics:
            continue
        values: dict[str, str] = {}
        for param in params:
            key, _, value = param.partition("=")
            values.setdefault(key.strip().lower(), _unquote(value.strip()))
        try:
            duration: float | None = float(values["dur"])
        except (KeyError, ValueError):
            duration = None
        if duration is not None and not math.isfinite(duration):
            duration = None
        metrics[name] = ServerTimingMetric(name, duration, values.get("desc"))
    return metrics


@dataclass(frozen=True)
class RequestTrace:
    """One request seen from both ends; the five layers are in ms and add up to `total`.

    - ``http``: total − app — HTTP handling at both ends on this machine: httpx writing the
      request and reading the response, the loopback socket, uvicorn parsing and writing HTTP.
      No real network is crossed here (client and server share one machine), so it is not
      "network time"; across a real network the round trips would add to it.
    - ``framework``: app − route — FastAPI routing, validation, serialization, the thread hop
    - ``route``: route − service — our route function itself (the controller)
    - ``logic``: service − db — business rules, and SQLAlchemy's Python side (taking a
      pooled connection, building the statement, turning rows into dicts, committing)
    - ``database``: db — SQL statements inside the driver

    A span the server did not send counts as the one nested inside it, so its layer is 0;
    a layer made slightly negative by clock jitter is clamped to 0.
    """

    response: httpx.Response
    total: float
    http: float
    framework: float
    route: float
    logic: float
    database: float
    queries: int
    metrics: dict[str, ServerTimingMetric] = field(default_factory=dict)

    def layers(self) -> dict[str, float]:
        """``{layer: ms}`` from the outside in: one bar of `labsupport.plots.stacked_bars`.

        The keys are the labels a chart shows: ``HTTP (client + server)`` for `http`.
        """
        return {
            HTTP_LAYER: self.http,
            "framework": self.framework,
            "route": self.route,
            "logic": self.logic,
            "database": self.database,
        }

    def __str__(self) -> str:
        request = self.response.request
        layers = ", ".join(f"{name} {ms:.3f}" for name, ms in self.layers().items())
        queries = f"{self.queries} SQL {'query' if self.queries == 1 else 'queries'}"
        return (
            f"{request.method} {request.url.path} → {self.response.status_code} "
            f"in {self.total:.3f} ms ({layers}; {queries})"
        )


def trace_request(client: httpx.Client, method: str, path: str, **kwargs: Any) -> RequestTrace:
    """Send one request with `client` and split its time into layers using `Server-Timing`.

    `kwargs` go to ``client.request`` (``json=...``, ``params=...``). The client's total is
    measured around the whole call, so it includes reading the response body.
    """
    start = perf_counter()
    response = client.request(method, path, **kwargs)
    total = (perf_counter() - start) * 1000
    metrics = parse_server_timing(response.headers.get("server-timing", ""))

    def ms(name: str, default: float) -> float:
        metric = metrics.get(name)
        return default if metric is None or metric.duration is None else metric.duration

    db = ms("db", 0.0)
    service = ms("service", db)
    route = ms("route", service)
    app = ms("app", route)
    description = metrics["db"].description if "db" in metrics else None
    queries = re.match(r"\s*(\d+)", description or "")
    return RequestTrace(
        response=response,
        total=total,
        http=max(total - app, 0.0),
        framework=max(app - route, 0.0),
        route=max(route - service, 0.0),
        logic=max(service - db, 0.0),
        database=max(db, 0.0),
        queries=int(queries.group(1)) if queries else 0,
        metrics=metrics,
    )
