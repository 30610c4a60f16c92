"""Tests for labsupport.middleware: the X-Trace header shows the order middleware ran in."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse

from labsupport.middleware import TRACE_HEADER, onion, record_step, traced
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
