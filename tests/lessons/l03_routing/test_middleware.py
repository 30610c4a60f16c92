"""Tests for labsupport.lessons.l03_routing.middleware: the X-Trace header shows the order middleware ran in."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse

from labsupport.lessons.l03_routing.middleware import TRACE_HEADER, call_asgi, onion, record_step, traced
from labsupport.servers import serve

pytestmark = [pytest.mark.usefixtures("stop_servers"), pytest.mark.timeout(30)]


@traced("outer")
async def outer(request, call_next):
    return await call_next(request)


@traced("guard")
async def guard(request, call_next):
    if request.headers.get("X-Let-In") != "yes":
        return PlainTextResponse("no", status_code=401)
    return await call_next(request)


@traced("catch")
async def catch(request, call_next):
    try:
        return await call_next(request)
    except RuntimeError:
        return JSONResponse({"detail": "crashed"}, status_code=500)


@traced("inner")
async def inner(request, call_next):
    return await call_next(request)


def make_app(*middleware) -> FastAPI:
    """`middleware` listed outermost first; add_middleware puts the last added outermost."""
    app = FastAPI()

    @app.get("/ok")
    def ok(request: Request):
        record_step(request, "route")
        return {"ok": True}

    @app.get("/crash")
    def crash(request: Request):
        record_step(request, "route")
        raise RuntimeError("bug")

    for function in reversed(middleware):
        app.middleware("http")(function)
    return app


def test_onion_shows_the_way_in_and_the_way_out():
    server = serve(make_app(outer, guard, inner), name="trace")
    response = server.client.get("/ok", headers={"X-Let-In": "yes"})
    assert response.status_code == 200
    assert response.headers[TRACE_HEADER] == ">outer,>guard,>inner,route,<inner,<guard,<outer"
    assert onion(response) == "outer→ guard→ inner→ route ←inner ←guard ←outer"


def test_a_layer_that_answers_itself_has_nothing_inside():
    server = serve(make_app(outer, guard, inner), name="trace")
    response = server.client.get("/ok")
    assert response.status_code == 401
    assert onion(response) == "outer→ guard→ ←guard ←outer"


def test_each_request_has_its_own_trace():
    server = serve(make_app(outer), name="trace")
    first, second = (server.client.get("/ok") for _ in range(2))
    assert onion(first) == onion(second) == "outer→ route ←outer"


def test_a_layer_skipped_by_an_exception_has_no_way_out():
    server = serve(make_app(catch, inner), name="trace")
    response = server.client.get("/crash")
    assert response.status_code == 500
    assert onion(response) == "catch→ inner→ route ←catch"


def test_onion_without_a_trace_header():
    assert onion(SimpleNamespace(headers={})).startswith("(no trace")
    with pytest.raises(TypeError, match="HTTP response"):
        onion("timing")


@pytest.mark.parametrize("name", ["", "request id", "a,b", "tímer", 42])
def test_trace_names_must_fit_in_a_header(name):
    with pytest.raises(ValueError, match="trace name"):
        traced(name)


def test_traced_needs_an_async_function():
    def sync(request, call_next):
        return call_next(request)

    with pytest.raises(TypeError, match="async"):
        traced("sync")(sync)


def test_record_step_needs_the_request():
    with pytest.raises(TypeError, match="Request"):
        record_step({"path": "/"}, "route")


def counting_app(seen: list[str]) -> FastAPI:
    """/ok through one function middleware (a BaseHTTPMiddleware) that notes each request."""
    app = FastAPI()

    @app.api_route("/ok", methods=["GET", "POST"])
    async def ok(request: Request):
        seen.append(f"{request.method} route")
        return {"ok": True}

    @app.get("/crash")
    async def crash():
        raise RuntimeError("bug in the route")

    @app.middleware("http")
    async def note(request, call_next):
        seen.append("middleware")
        return await call_next(request)

    return app


def test_call_asgi_sends_each_request_through_the_middleware_to_the_route():
    seen: list[str] = []
    app = counting_app(seen)
    assert call_asgi(app, "/ok", times=3) == 200
    assert seen == ["middleware", "GET route"] * 3
    assert call_asgi(app, "/ok", method="post") == 200
    assert seen[-1] == "POST route"
    assert call_asgi(app, "/missing") == 404


def test_call_asgi_runs_a_pure_asgi_app_and_gives_it_an_http_scope():
    scopes = []

    async def app(scope, receive, send):
        scopes.append(scope)
        assert (await receive())["type"] == "http.request"
        await send({"type": "http.response.start", "status": 418, "headers": []})
        await send({"type": "http.response.body", "body": b"teapot"})

    assert call_asgi(app, "/brew", times=2) == 418
    assert len(scopes) == 2 and scopes[0] is not scopes[1]
    assert {scope["type"] for scope in scopes} == {"http"}
    assert scopes[0]["path"] == "/brew" and scopes[0]["method"] == "GET"


def test_call_asgi_runs_traced_middleware():
    app = make_app(outer, inner)
    assert call_asgi(app, "/ok", times=2) == 200


def test_call_asgi_works_while_an_event_loop_runs_in_this_thread():
    # A notebook cell runs inside the kernel's event loop: asyncio.run() would refuse there.
    async def inside_a_loop():
        return call_asgi(counting_app([]), "/ok")

    assert asyncio.run(inside_a_loop()) == 200


def test_call_asgi_raises_what_the_app_raises():
    with pytest.raises(RuntimeError, match="bug in the route"):
        call_asgi(counting_app([]), "/crash")


def test_call_asgi_an_app_that_never_answers():
    async def silent(scope, receive, send):
        return None

    with pytest.raises(RuntimeError, match="no response"):
        call_asgi(silent, "/")


@pytest.mark.parametrize(
    ("arguments", "error"),
    [
        (("not an app", "/"), TypeError),
        ((FastAPI(), "ok"), ValueError),
        ((FastAPI(), b"/ok"), ValueError),
    ],
)
def test_call_asgi_refuses_bad_arguments(arguments, error):
    with pytest.raises(error):
        call_asgi(*arguments)


@pytest.mark.parametrize("times", [0, -1, True, 1.5])
def test_call_asgi_times_is_a_whole_number(times):
    with pytest.raises(ValueError, match="times"):
        call_asgi(FastAPI(), "/", times=times)
