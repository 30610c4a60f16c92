"""`python -m labsupport bench`: measure the lab's own machinery on this machine.

Benchmarks, not tests: they print numbers for a person (or an issue note) to read. Each compares
side by side in one run where a comparison is the point, so a busy machine slows both sides.

- server start and stop (`serve()` / `Server.stop()`), medians;
- requests per second through `serve(...).client` vs a bare uvicorn thread with a keep-alive
  httpx client, interleaved rounds;
- generating and loading about a million bookshop rows into SQLite;
- executing each notebook in a fresh kernel (``--notebooks``);
- ``--busy``: each notebook (or the ones named) run strict (``LAB_STRICT=1``) in a fresh kernel,
  several times, while CPU-bound processes keep every core busy: a student's laptop or a shared
  hub node is never idle, and a lesson's claims must hold there too.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import uvicorn
from fastapi import FastAPI

from labsupport.servers import serve

__all__ = ["server_start_stop", "throughput_vs_bare_uvicorn", "busy_runs", "main"]


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


def notebook_time(path: Path) -> tuple[float, float]:
    """Seconds of "Restart & Run All" for one notebook (a fresh kernel's start, then every cell),
    and the seconds its kernel then takes to shut down (its exit handlers: servers, databases)."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}})
    began = time.perf_counter()
    with client.setup_kernel():
        for index, cell in enumerate(nb.cells):
            client.execute_cell(cell, index)
        ran = time.perf_counter()
    return ran - began, time.perf_counter() - ran


def _notebook_times() -> dict[str, tuple[float, float]]:
    from labsupport.notebooks import notebook_paths

    return {path.name: notebook_time(path) for path in notebook_paths()}


def busy_runs(paths: list[Path], *, runs: int = 3, burners: int = 2) -> list[tuple[str, int, float, str]]:
    """Run each notebook `runs` times, strict, while `burners` CPU-bound processes run alongside.

    Returns ``(notebook, run, seconds, error)`` rows; ``error`` is empty when the run passed, else
    the first line of what failed (a claim not reproduced, an assert, a timeout).
    """
    from nbclient.exceptions import CellExecutionError, CellTimeoutError

    from labsupport.notebooks import execute

    spinning = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(burners)]
    previous = os.environ.get("LAB_STRICT")
    os.environ["LAB_STRICT"] = "1"  # the kernels inherit it
    rows = []
    try:
        for path in paths:
            for run in range(1, runs + 1):
                began = time.perf_counter()
                error = ""
                try:
                    execute(path)
                except (CellExecutionError, CellTimeoutError) as exc:
                    lines = [line for line in str(exc).splitlines() if "Error" in line or "not reproduced" in line]
                    error = (lines[-1] if lines else str(exc).splitlines()[0])[:300]
                rows.append((path.name, run, time.perf_counter() - began, error))
    finally:
        if previous is None:
            os.environ.pop("LAB_STRICT", None)
        else:
            os.environ["LAB_STRICT"] = previous
        for process in spinning:
            process.kill()
            process.wait()
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m labsupport bench", description=__doc__.splitlines()[0])
    parser.add_argument("--notebooks", action="store_true", help="also time each notebook in a fresh kernel")
    parser.add_argument("--busy", action="store_true", help="only run notebooks strict with every core busy")
    parser.add_argument("--runs", type=int, default=3, help="runs per notebook with --busy (default 3)")
    parser.add_argument("--burners", type=int, default=os.cpu_count() or 2, help="CPU-bound processes alongside")
    parser.add_argument("paths", nargs="*", type=Path, help="notebooks for --busy (default: all)")
    args = parser.parse_args(argv)

    if args.busy:
        from labsupport.notebooks import notebook_paths

        rows = busy_runs(args.paths or notebook_paths(), runs=args.runs, burners=args.burners)
        for name, run, seconds, error in rows:
            print(f"{name} run {run}: {'FAILED ' + error if error else 'passed'} in {seconds:.1f} s")
        failed = sum(1 for row in rows if row[3])
        print(f"{len(rows) - failed} passed, {failed} failed ({args.burners} CPU-bound processes alongside)")
        return 1 if failed else 0

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
        for name, (run_all, shutdown) in _notebook_times().items():
            print(f"{name}: {run_all:.1f} s in a fresh kernel (its start and every cell), {shutdown:.1f} s to shut it")
    return 0
