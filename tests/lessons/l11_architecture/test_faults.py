"""Faults (a service made slow, failing or flaky on demand, its requests counted) and call_stats."""

from __future__ import annotations

import time

import httpx
import pytest
from fastapi import FastAPI, Request

from labsupport.lessons.l11_architecture.faults import Faults, call_stats
from labsupport.servers import serve

pytestmark = [pytest.mark.usefixtures("stop_servers"), pytest.mark.timeout(30)]


def _app(received: list) -> FastAPI:
    app = FastAPI()

    @app.get("/ping")
    def ping():
        return {"ok": True}

    @app.post("/echo")
    async def echo(request: Request):
        received.append(await request.json())
        return {"got": received[-1]}

    return app


@pytest.fixture
def served():
    received: list = []
    faults = Faults(_app(received), delay=0.1, every=3)
    server = serve(faults, name="faults-test")
    return faults, server, received


def test_ok_passes_through_and_counts(served):
    faults, server, _ = served
    assert [server.client.get("/ping").status_code for _ in range(3)] == [200, 200, 200]
    assert (faults.hits, faults.finished, faults.in_flight) == (3, 3, 0)


def test_failing_answers_503_without_running_the_app(served):
    """Mutation that failed this: the 503 branch fell through to the app (finished became 2)."""
    faults, server, _ = served
    faults.reset("failing")
    responses = [server.client.get("/ping") for _ in range(2)]
    assert [r.status_code for r in responses] == [503, 503]
    assert responses[0].json() == {"detail": "service unavailable"}
    assert (faults.hits, faults.finished) == (2, 0)


def test_flaky_fails_every_third_request(served):
    faults, server, _ = served
    faults.reset("flaky")
    assert [server.client.get("/ping").status_code for _ in range(6)] == [200, 200, 503, 200, 200, 503]


def test_slow_waits_then_answers(served):
    faults, server, _ = served
    faults.reset("slow")
    start = time.perf_counter()
    assert server.client.get("/ping").status_code == 200
    assert time.perf_counter() - start >= 0.1


def test_slow_work_goes_on_after_the_caller_gives_up(served):
    """The request body is read before the delay, so the app still runs once the client has hung up.
    Mutation that failed this: sleeping before buffering the body (the app then saw a disconnect: nothing received)."""
    faults, server, received = served
    faults.reset("slow")
    with pytest.raises(httpx.TimeoutException):
        server.client.post("/echo", json={"n": 1}, timeout=0.02)
    assert faults.wait_idle(timeout=2)
    assert received == [{"n": 1}] and faults.finished == 1


def test_release_ends_the_slow_waits_until_the_next_reset(served):
    """A 30 s delay: only `release` lets the request the client gave up on finish within 2 s, and
    `reset` makes the service slow again. (Mutation that failed this: `_slow_wait` ignoring
    `_released`; and `reset` not clearing it.)"""
    faults, server, received = served
    faults.delay = 30
    faults.reset("slow")
    with pytest.raises(httpx.TimeoutException):
        server.client.post("/echo", json={"n": 1}, timeout=0.05)
    faults.release()
    assert faults.wait_idle(timeout=2)
    assert received == [{"n": 1}] and faults.finished == 1
    assert server.client.get("/ping", timeout=2).status_code == 200  # released: no wait
    faults.reset("slow")
    with pytest.raises(httpx.TimeoutException):
        server.client.get("/ping", timeout=0.2)
    faults.release()
    assert faults.wait_idle(timeout=2)


def test_reset_zeroes_the_counters_and_modes_are_checked(served):
    faults, server, _ = served
    server.client.get("/ping")
    faults.reset("slow")
    assert (faults.mode, faults.hits, faults.finished) == ("slow", 0, 0)
    with pytest.raises(ValueError, match="mode must be one of"):
        faults.mode = "broken"


def test_call_stats_counts_raised_and_5xx_as_errors():
    """Mutation that failed this: `status > 500` (a 500 counted as a success)."""
    outcomes = iter([httpx.Response(200), httpx.Response(500), httpx.Response(404), "no status", None])

    def call():
        outcome = next(outcomes)
        if outcome is None:
            raise httpx.ConnectError("refused")
        return outcome

    stats = call_stats(call, 5)
    assert stats["error rate"] == 2 / 5
    assert 0 <= stats["median ms"] <= stats["max ms"]
    with pytest.raises(ValueError):
        call_stats(call, 0)
