"""`python -m labsupport bench`: measure the lab's own machinery on this machine.

Benchmarks, not tests: they print numbers for a person (or an issue note) to read. Each compares
side by side in one run where a comparison is the point, so a busy machine slows both sides.

- server start and stop (`serve()` / `Server.stop()`), medians;
- requests per second through `serve(...).client` vs a bare uvicorn thread with a keep-alive
  httpx client, interleaved rounds;
- generating and loading about a million bookshop rows into SQLite;
- executing each notebook in a fresh kernel (``--notebooks``).
"""

from __future__ import annotations

import argparse
import socket
import statistics
import threading
import time

import httpx
import uvicorn
from fastapi import FastAPI

from labsupport.servers import serve

__all__ = ["server_start_stop", "throughput_vs_bare_uvicorn", "main"]


def _ping_app() -> FastAPI:
    app = FastAPI()

    @app.get("/ping")
    def ping() -> dict[str, bool]:
        return {"ok": True}

    return app


def server_start_stop(n: int = 30) -> dict[str, float]:
    """Median ms to start a server with `serve()` and to stop it, over `n` rounds."""
    app = _ping_app()
    starts, stops = [], []
    for _ in range(n):
        began = time.perf_counter()
        server = serve(app, name="bench-start")
        starts.append(time.perf_counter() - began)
        server.client.get("/ping").raise_for_status()
        began = time.perf_counter()
        server.stop()
        stops.append(time.perf_counter() - began)
    return {"start_ms": statistics.median(starts) * 1e3, "stop_ms": statistics.median(stops) * 1e3, "n": n}


def _bare_uvicorn(app: FastAPI) -> tuple[uvicorn.Server, threading.Thread, int]:
    """uvicorn in a thread the plain way: its own bind on a port we found free."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False, ws="none")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.perf_counter() + 5
    while not server.started:
        if not thread.is_alive() or time.perf_counter() > deadline:
            raise RuntimeError("bare uvicorn did not start")
        time.sleep(0.001)
    return server, thread, port


def _rate(client: httpx.Client, requests: int) -> float:
    began = time.perf_counter()
    for _ in range(requests):
        client.get("/ping")
    return requests / (time.perf_counter() - began)


def throughput_vs_bare_uvicorn(requests: int = 1000, rounds: int = 7) -> dict[str, float]:
    """Requests/s through `serve().client` and through a bare uvicorn + httpx.Client, interleaved."""
    app = _ping_app()
    lab = serve(app, name="bench-throughput")
    bare, thread, port = _bare_uvicorn(app)
    bare_client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10)
    try:
        for client in (lab.client, bare_client):  # warm both connections and code paths
            _rate(client, 200)
        lab_rates, bare_rates = [], []
        for _ in range(rounds):
            lab_rates.append(_rate(lab.client, requests))
            bare_rates.append(_rate(bare_client, requests))
    finally:
        bare_client.close()
        lab.stop()
        bare.should_exit = True
        thread.join(5)
    lab_rate, bare_rate = statistics.median(lab_rates), statistics.median(bare_rates)
    return {"serve_req_per_s": lab_rate, "bare_req_per_s": bare_rate, "ratio": lab_rate / bare_rate}


def _notebook_times() -> dict[str, float]:
    from labsupport.notebooks import execute, notebook_paths

    times = {}
    for path in notebook_paths():
        began = time.perf_counter()
        execute(path)
        times[path.name] = time.perf_counter() - began
    return times


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m labsupport bench", description=__doc__.splitlines()[0])
    parser.add_argument("--notebooks", action="store_true", help="also time each notebook in a fresh kernel")
    args = parser.parse_args(argv)

    timing = server_start_stop()
    print(
        f"server start: median {timing['start_ms']:.1f} ms, "
        f"stop: median {timing['stop_ms']:.0f} ms (n={timing['n']})"
    )
    rates = throughput_vs_bare_uvicorn()
    print(
        f"throughput: serve().client {rates['serve_req_per_s']:,.0f} req/s, bare uvicorn + httpx.Client "
        f"{rates['bare_req_per_s']:,.0f} req/s, ratio {rates['ratio']:.2f}"
    )
    from labsupport.datagen import benchmark_load

    load = benchmark_load(1_000_000)
    print(
        f"bookshop data: {load['rows']:,} rows ({load['orders']:,} orders) generated in "
        f"{load['generate_s']:.2f} s and loaded into SQLite in {load['load_s']:.2f} s: {load['total_s']:.2f} s"
    )
    if args.notebooks:
        for name, seconds in _notebook_times().items():
            print(f"{name}: {seconds:.1f} s in a fresh kernel")
    return 0
