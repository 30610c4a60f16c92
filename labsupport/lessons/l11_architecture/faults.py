"""Make a lab service slow, failing or flaky on demand, and measure what its callers see.

Introduced in 11-architecture. Real services fail in a few typical ways; `Faults` wraps an ASGI
app so a cell can switch one on with a line (``catalogue_faults.mode = "slow"``) instead of
editing the service's code, and counts the requests that reached the service (the load the
callers put on it, retries included). `call_stats` sends requests one after another and sums up
what a caller saw: latency and error rate.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Callable
from typing import Any

__all__ = ["MODES", "Faults", "call_stats"]

MODES = ("ok", "slow", "failing", "flaky")
"""ok: pass through; slow: wait `delay` s first; failing: answer 503; flaky: every `every`-th request 503."""


class Faults:
    """ASGI middleware: injects the fault named by `mode` and counts requests.

    `hits` counts every HTTP request that arrived (also the ones answered 503), `finished` the
    ones the wrapped app answered to the end (even after the caller gave up waiting: the server
    does not know), `in_flight` the ones still running.
    """

    def __init__(self, app: Callable[..., Any], *, delay: float = 0.15, every: int = 3) -> None:
        self.app = app
        self.mode = "ok"
        self.delay = delay
        self.every = every
        self.hits = 0
        self.finished = 0
        self.in_flight = 0
        self._released = False

    @property
    def mode(self) -> str:
        return self._mode

    @mode.setter
    def mode(self, value: str) -> None:
        if value not in MODES:
            raise ValueError(f"mode must be one of {MODES}, not {value!r}")
        self._mode = value

    def reset(self, mode: str = "ok") -> None:
        """Set `mode` and zero the counters."""
        self.mode = mode
        self.hits = self.finished = 0
        self._released = False

    def release(self) -> None:
        """End the slow waits now: the requests still waiting go on to the app at once, and every
        later one until `reset`. For a checker that is done with a slow service and stops it."""
        self._released = True

    def wait_idle(self, timeout: float = 2.0) -> bool:
        """Wait until no request is running (the slow ones finished); True if it got there."""
        deadline = time.monotonic() + timeout
        while self.in_flight and time.monotonic() < deadline:
            time.sleep(0.005)
        return self.in_flight == 0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        self.hits += 1
        fail = self.mode == "failing" or (self.mode == "flaky" and self.hits % self.every == 0)
        if fail:
            body = b'{"detail":"service unavailable"}'
            headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
            await send({"type": "http.response.start", "status": 503, "headers": headers})
            await send({"type": "http.response.body", "body": body})
            return
        self.in_flight += 1
        try:
            if self.mode == "slow":
                # Read the whole request first, as a server does before its slow part: the work
                # then goes on even if the caller hangs up while we wait.
                receive = await _buffered(receive)
                await self._slow_wait()
            await self.app(scope, receive, send)
            self.finished += 1
        finally:
            self.in_flight -= 1


    async def _slow_wait(self) -> None:
        deadline = time.monotonic() + self.delay
        while not self._released and (left := deadline - time.monotonic()) > 0:
            await asyncio.sleep(min(left, 0.01))


async def _buffered(receive: Callable[[], Any]) -> Callable[[], Any]:
    """Receive the request body now; return a `receive` that replays it, then passes on."""
    messages = []
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request" or not message.get("more_body", False):
            break

    async def replay() -> Any:
        return messages.pop(0) if messages else await receive()

    return replay


def call_stats(call: Callable[[], Any], n: int) -> dict[str, float]:
    """Call ``call()`` `n` times in a row; the caller's view: median and worst latency, error rate.

    A call is an error if it raises or returns something with a ``status_code`` of 500 or more
    (an `httpx.Response`). Latencies are in milliseconds.
    """
    if n < 1:
        raise ValueError("n must be at least 1")
    latencies, errors = [], 0
    for _ in range(n):
        start = time.perf_counter()
        try:
            status = getattr(call(), "status_code", 200)
        except Exception:
            status = 599
        latencies.append((time.perf_counter() - start) * 1000)
        errors += status >= 500
    return {"median ms": statistics.median(latencies), "max ms": max(latencies), "error rate": errors / n}
