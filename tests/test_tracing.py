"""Tests of labsupport.tracing: spans, the Server-Timing middleware, and client-side traces."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
import sqlalchemy as sa
from fastapi import FastAPI

from labsupport.apps.bookshop import create_app
from labsupport.databases import sql_engine
from labsupport.servers import Server, serve
from labsupport.tracing import (
    HTTP_LAYER,
    RequestTrace,
    ServerTimingMetric,
    ServerTimingMiddleware,
    SpanRecorder,
    instrument_engine,
    parse_server_timing,
    record_spans,
    span,
    trace_request,
)

LAYERS = [HTTP_LAYER, "framework", "route", "logic", "database"]


@pytest.fixture(scope="module")
def bookshop() -> Iterator[Server]:
    with serve(create_app(orders=200), name="test-tracing-bookshop") as server:
        yield server


# --- parsing the header ----------------------------------------------------------------------


def test_parse_server_timing_reads_names_durations_and_descriptions() -> None:
    metrics = parse_server_timing('db;dur=0.412;desc="3 queries", service;dur=0.733, app;dur=1.5')
    assert list(metrics) == ["db", "service", "app"]
    assert metrics["db"] == ServerTimingMetric("db", 0.412, "3 queries")
    assert metrics["app"].duration == 1.5
    assert metrics["service"].description is None


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("", {}),
        ("  app ;  dur = 2.5 ,route;dur=1", {"app": 2.5, "route": 1.0}),  # spaces anywhere
        ("cache", {"cache": None}),  # a metric without dur
        ("app;dur=fast", {"app": None}),  # malformed dur
        ("app;dur=inf", {"app": None}),
        ("app;DUR=3", {"app": 3.0}),  # parameter names are case-insensitive
        ("app;dur=1;dur=2", {"app": 1.0}),  # the first parameter wins
        ("app;dur=1, app;dur=9", {"app": 1.0}),  # the first metric wins
        ("app;dur=1;colour=blue;x", {"app": 1.0}),  # unknown parameters are ignored
        (",, app;dur=1 ,", {"app": 1.0}),  # empty entries
        ("bad name;dur=1, ok;dur=2", {"ok": 2.0}),  # a name that is not a token
        ('db;desc="a, b; c";dur=4, app;dur=5', {"db": 4.0, "app": 5.0}),  # separators inside quotes
    ],
)
def test_parse_server_timing_is_lenient(header: str, expected: dict) -> None:
    durations = {name: metric.duration for name, metric in parse_server_timing(header).items()}
    assert durations == expected


def test_parse_server_timing_unquotes_descriptions() -> None:
    metrics = parse_server_timing(r'db;desc="say \"hi\", twice";dur=1, cache;desc=hit')
    assert metrics["db"].description == 'say "hi", twice'
    assert metrics["cache"].description == "hit"


# --- recording spans -------------------------------------------------------------------------


def test_recorder_header_round_trips_through_the_parser() -> None:
    spans = SpanRecorder()
    spans.add("service", 0.5)
    spans.add("service", 0.25)
    spans.add("db", 0.125)
    spans.queries = 1
    assert spans.header() == 'service;dur=0.750, db;dur=0.125;desc="1 query"'
    parsed = parse_server_timing(spans.header())
    assert (parsed["service"].duration, parsed["db"].description) == (0.75, "1 query")


def test_span_accumulates_inside_record_spans_and_is_a_no_op_outside() -> None:
    with span("work"):  # nothing to record into: just runs
        pass

    @span("decorated")
    def double(x: int) -> int:
        return 2 * x

    with record_spans() as spans:
        with span("work"):
            pass
        with span("work"):
            pass
        assert double(21) == 42
    assert list(spans.durations) == ["work", "decorated"]
    assert all(ms >= 0 for ms in spans.durations.values())
    with record_spans() as fresh:
        pass
    assert fresh.durations == {}


def test_span_records_even_when_the_block_raises() -> None:
    with record_spans() as spans:
        with pytest.raises(KeyError):
            with span("failing"):
                raise KeyError("boom")
    assert "failing" in spans.durations


@pytest.mark.parametrize("name", ["", "two words", "semi;colon", 'quo"te', 3])
def test_span_rejects_names_the_header_cannot_carry(name: object) -> None:
    with pytest.raises(ValueError, match="span name"):
        span(name)  # type: ignore[arg-type]


def test_instrument_engine_counts_queries_once_and_only_in_a_trace() -> None:
    engine = sql_engine()
    assert instrument_engine(engine) is engine
    instrument_engine(engine)  # a second call must not double count
    with engine.connect() as conn:
        conn.execute(sa.text("SELECT 1"))  # outside a trace: not recorded anywhere
        with record_spans() as spans:
            conn.execute(sa.text("SELECT 1"))
            conn.execute(sa.text("SELECT 2"))
    assert spans.queries == 2
    assert spans.durations["db"] >= 0
    with engine.connect() as conn, record_spans() as failing:
        with pytest.raises(sa.exc.OperationalError):
            conn.execute(sa.text("SELECT * FROM no_such_table"))
        conn.execute(sa.text("SELECT 1"))  # the failed statement leaves nothing behind
    assert failing.queries == 1


# --- the middleware on a real server ---------------------------------------------------------


def test_bookshop_responses_carry_every_layer(bookshop: Server) -> None:
    response = bookshop.client.get("/api/books/1")
    metrics = parse_server_timing(response.headers["server-timing"])
    assert list(metrics) == ["db", "service", "route", "app"]
    assert metrics["db"].description == "1 query"
    durations = {name: metric.duration for name, metric in metrics.items()}
    assert 0 <= durations["db"] <= durations["service"] <= durations["route"] <= durations["app"]


def test_error_responses_are_traced_too(bookshop: Server) -> None:
    response = bookshop.client.get("/api/books/999999")
    not_found = parse_server_timing(response.headers["server-timing"])
    assert {"db", "service", "route", "app"} <= set(not_found)
    invalid = parse_server_timing(bookshop.client.get("/api/books/0").headers["server-timing"])
    assert list(invalid) == ["app"]  # refused by validation before any of our code ran


def test_trace_request_layers_add_up_to_the_client_total(bookshop: Server) -> None:
    trace = trace_request(bookshop.client, "GET", "/api/orders/1")
    assert trace.response.status_code == 200
    assert list(trace.layers()) == LAYERS
    assert all(ms >= 0 for ms in trace.layers().values())
    assert sum(trace.layers().values()) == pytest.approx(trace.total, abs=0.01)
    assert trace.queries == 2
    assert trace.database == trace.metrics["db"].duration
    assert "GET /api/orders/1 → 200" in str(trace)


def test_trace_request_passes_arguments_through(bookshop: Server) -> None:
    trace = trace_request(bookshop.client, "GET", "/api/books", params={"limit": 2})
    assert len(trace.response.json()) == 2
    customer = {"name": "T", "email": "t@example.org", "city": "C"}
    trace = trace_request(bookshop.client, "POST", "/api/customers", json=customer)
    assert trace.response.status_code == 201
    assert trace.queries == 2  # the duplicate-email check, then the insert


def fake_client(server_timing: str | None) -> httpx.Client:
    headers = {} if server_timing is None else {"Server-Timing": server_timing}
    reply = httpx.Response(200, headers=headers)
    return httpx.Client(transport=httpx.MockTransport(lambda _: reply))


def test_trace_request_without_server_timing_is_all_http_handling() -> None:
    with fake_client(None) as client:
        trace = trace_request(client, "GET", "http://lab.test/")
    assert trace.http == trace.total > 0
    assert trace.framework == trace.route == trace.logic == trace.database == trace.queries == 0


def test_trace_request_treats_missing_spans_as_empty_layers_and_clamps() -> None:
    # No route or service span: those layers are 0, and app − db counts as framework.
    with fake_client('db;dur=1;desc="4 queries", app;dur=3') as client:
        trace = trace_request(client, "GET", "http://lab.test/")
    assert (trace.framework, trace.route, trace.logic, trace.database) == (2, 0, 0, 1)
    assert trace.queries == 4
    # A server clock claiming more than the client measured cannot make the HTTP layer negative.
    with fake_client("app;dur=100000") as client:
        assert trace_request(client, "GET", "http://lab.test/").http == 0


def test_sync_endpoints_record_into_the_request_trace() -> None:
    # FastAPI runs sync endpoints in a worker thread with a copy of the request's context.
    app = FastAPI()
    app.add_middleware(ServerTimingMiddleware)

    @app.get("/sync")
    def sync_endpoint() -> dict:
        with span("worker"):
            return {"thread": threading.current_thread().name}

    @app.get("/async")
    async def async_endpoint() -> dict:
        with span("loop"):
            return {"thread": threading.current_thread().name}

    with serve(app, name="test-tracing-threads") as server:
        sync = server.client.get("/sync")
        asynchronous = server.client.get("/async")
    assert sync.json()["thread"] != asynchronous.json()["thread"]
    assert list(parse_server_timing(sync.headers["server-timing"])) == ["worker", "app"]
    assert list(parse_server_timing(asynchronous.headers["server-timing"])) == ["loop", "app"]


def test_concurrent_requests_keep_their_own_spans() -> None:
    # Every request waits at the barrier until all are in flight, so they truly overlap.
    requests = 6
    barrier = threading.Barrier(requests, timeout=10)
    app = FastAPI()
    app.add_middleware(ServerTimingMiddleware)

    @app.get("/work/{name}")
    def work(name: str) -> dict:
        with span(name):
            barrier.wait()
        return {}

    with serve(app, name="test-tracing-concurrency") as server:

        def call(name: str) -> list[str]:
            with httpx.Client(base_url=server.url, timeout=10) as client:
                response = client.get(f"/work/{name}")
                return list(parse_server_timing(response.headers["server-timing"]))

        names = [f"request-{i}" for i in range(requests)]
        with ThreadPoolExecutor(max_workers=requests) as pool:
            seen = list(pool.map(call, names))
    assert seen == [[name, "app"] for name in names]


def test_concurrent_bookshop_requests_count_only_their_own_queries(bookshop: Server) -> None:
    paths = {"/api/books/1": 1, "/api/orders/1": 2, "/api/books?genre=fiction": 1}

    def call(path: str) -> tuple[str, int]:
        with httpx.Client(base_url=bookshop.url, timeout=10) as client:
            return path, trace_request(client, "GET", path).queries

    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(pool.map(call, list(paths) * 10))
    assert all(queries == paths[path] for path, queries in results)


def test_request_trace_is_a_plain_record() -> None:
    response = httpx.Response(200, request=httpx.Request("GET", "http://lab.test/x"))
    trace = RequestTrace(response, 10.0, 4.0, 3.0, 1.0, 1.5, 0.5, queries=1)
    assert trace.layers() == dict(zip(LAYERS, [4.0, 3.0, 1.0, 1.5, 0.5]))
    assert str(trace).startswith("GET /x → 200 in 10.000 ms")


def test_the_layer_outside_the_app_is_not_called_network() -> None:
    # Client and server share one machine: that time is HTTP handling at both ends, not a network.
    response = httpx.Response(200, request=httpx.Request("GET", "http://lab.test/x"))
    trace = RequestTrace(response, 10.0, 4.0, 3.0, 1.0, 1.5, 0.5, queries=1)
    assert not hasattr(trace, "network")
    assert "network" not in " ".join(trace.layers()).lower()
    assert "network" not in str(trace).lower()
    assert str(trace).startswith("GET /x → 200 in 10.000 ms (HTTP (client + server) 4.000, framework 3.000")


@pytest.mark.parametrize(("queries", "said"), [(0, "0 SQL queries"), (1, "1 SQL query"), (2, "2 SQL queries")])
def test_request_trace_text_ends_with_its_query_count(queries: int, said: str) -> None:
    """The line 00-start-here prints for a traced request ends with the SQL count, singular for one.

    Mutations that survived mutmut (issue #15): in `RequestTrace.__str__`, `queries = None`, the
    condition `self.queries == 1` -> `!= 1`, `== 2`, `... and False`, `... or True`, and the words
    'query'/'queries' misspelt.
    """
    response = httpx.Response(200, request=httpx.Request("GET", "http://lab.test/x"))
    trace = RequestTrace(response, 10.0, 4.0, 3.0, 1.0, 1.5, 0.5, queries=queries)
    assert str(trace) == (
        "GET /x → 200 in 10.000 ms (HTTP (client + server) 4.000, framework 3.000, route 1.000, "
        f"logic 1.500, database 0.500; {said})"
    )


# --- added after a mutmut run over labsupport (issue #15): each test kills surviving mutants -----


class Clock:
    """Stands in for tracing.perf_counter: every reading is `step` seconds after the last."""

    def __init__(self, step: float) -> None:
        self.now, self.step = 1000.0, step

    def __call__(self) -> float:
        self.now += self.step
        return self.now


def test_the_middleware_appends_its_header_to_the_apps_own_in_milliseconds(monkeypatch) -> None:
    """Mutations that survived mutmut: `message.get("headers", [])` -> `.get(None, [])`,
    `.get("XXheadersXX", [])`, `.get("HEADERS", [])` (the app's own headers dropped), and
    `.get("headers", None)` or `.get("headers")` (a start message without headers crashed); the app time
    `* 1000` -> `* 1001`; the header name `b"server-timing"` -> `b"SERVER-TIMING"` (ASGI header
    names are lowercase)."""
    import asyncio

    monkeypatch.setattr("labsupport.tracing.perf_counter", Clock(0.001))

    async def app(scope, receive, send):
        with span("service"):  # two readings: 1 ms
            pass
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
        await send({"type": "http.response.body", "body": b"ok"})

    sent = []

    async def send(message):
        sent.append(message)

    async def receive():
        return {"type": "http.request", "body": b""}

    asyncio.run(ServerTimingMiddleware(app)({"type": "http"}, receive, send))
    # readings: request in (1), span start (2) and end (3), response start (4): app = 3 ms
    assert sent[0]["headers"] == [
        (b"content-type", b"text/plain"),
        (b"server-timing", b"service;dur=1.000, app;dur=3.000"),
    ]
    assert sent[1] == {"type": "http.response.body", "body": b"ok"}

    async def bare_app(scope, receive, send):  # ASGI lets a response start without "headers"
        await send({"type": "http.response.start", "status": 204})

    sent.clear()
    asyncio.run(ServerTimingMiddleware(bare_app)({"type": "http"}, receive, send))
    assert sent[0]["headers"] == [(b"server-timing", b"app;dur=1.000")]


def test_the_middleware_passes_lifespan_events_through_untouched() -> None:
    """An app's start-up (the bookshop loads its data there) runs through the middleware.

    Mutations that survived mutmut: for a non-HTTP scope, `await self.app(scope, receive, send)` with
    any argument replaced by None or left out. uvicorn's lifespan="auto" swallows a failing start-up,
    so no test that serves an app noticed.
    """
    import asyncio

    events = []

    async def app(scope, receive, send):
        assert scope["type"] == "lifespan"
        message = await receive()
        events.append(message["type"])
        await send({"type": "lifespan.startup.complete"})

    sent = []

    async def send(message):
        sent.append(message)

    async def receive():
        return {"type": "lifespan.startup"}

    asyncio.run(ServerTimingMiddleware(app)({"type": "lifespan"}, receive, send))
    assert events == ["lifespan.startup"] and sent == [{"type": "lifespan.startup.complete"}]


def test_sql_time_is_recorded_in_milliseconds(monkeypatch) -> None:
    """Mutations that survived mutmut: the db time `* 1000` -> `/ 1000` and `* 1001` (the only test
    checked `>= 0`)."""
    engine = instrument_engine(sql_engine())
    monkeypatch.setattr("labsupport.tracing.perf_counter", Clock(0.002))
    with engine.connect() as conn, record_spans() as spans:
        conn.execute(sa.text("SELECT 1"))
    engine.dispose()
    assert spans.durations == {"db": pytest.approx(2.0)} and spans.queries == 1


def test_trace_request_splits_a_full_header_into_exact_layers(monkeypatch) -> None:
    """Mutations that survived mutmut: `ms("service", db)` and `ms("route", service)` with the name
    replaced by None or misspelt (the layer read as the one nested inside it); the client total
    `* 1000` -> `* 1001`. The real-server tests only checked that the layers add up."""
    monkeypatch.setattr("labsupport.tracing.perf_counter", Clock(0.015))
    with fake_client('db;dur=1;desc="2 queries", service;dur=3, route;dur=6, app;dur=10') as client:
        trace = trace_request(client, "GET", "http://lab.test/")
    assert trace.total == pytest.approx(15.0)
    assert trace.layers() == pytest.approx(dict(zip(LAYERS, [5.0, 4.0, 3.0, 2.0, 1.0])))
    assert trace.queries == 2


@pytest.mark.parametrize(
    ("header", "description"),
    [
        (r'db;desc="1 \" 2, 3";dur=4, app;dur=5', '1 " 2, 3'),  # an escaped quote, then a comma
        ('db;desc="";dur=4, app;dur=5', ""),  # an empty quoted description
        ('db;desc="a=b";dur=4, app;dur=5', "a=b"),  # "=" inside the value
    ],
)
def test_parse_server_timing_descriptions_with_quotes_and_equals(header: str, description: str) -> None:
    """Mutations that survived mutmut: in `_split_outside_quotes`, the backslash test
    `char == "\\\\"` misspelt and `escaped = True` -> `False`/`None` (an escaped quote ended the
    quoted string, so the comma after it split the entry); in `_unquote`, `len(value) >= 2` -> `> 2`
    or `>= 3` (`""` stayed two quote characters); `param.partition("=")` -> `rpartition`."""
    metrics = parse_server_timing(header)
    assert metrics["db"] == ServerTimingMetric("db", 4.0, description)
    assert metrics["app"].duration == 5.0


@pytest.mark.parametrize(("queries", "desc"), [(0, "0 queries"), (1, "1 query"), (2, "2 queries")])
def test_recorder_header_says_query_or_queries(queries: int, desc: str) -> None:
    """Mutations that survived mutmut: in `SpanRecorder.header`, `self.queries == 1` -> `... or True`
    and "queries" misspelt (only one query was ever tested)."""
    spans = SpanRecorder()
    spans.add("db", 0.5)
    spans.queries = queries
    assert spans.header() == f'db;dur=0.500;desc="{desc}"'
