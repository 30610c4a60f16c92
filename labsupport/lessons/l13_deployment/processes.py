"""The image's command run as child processes on 127.0.0.1, since Docker is not on these machines.

Introduced in 13-deployment. `image_command` reads the ``CMD`` of a Dockerfile; `start_shop` runs
it with the two things a container would give it differently — the address (127.0.0.1 here, never
0.0.0.0) and a free port — and the environment you pass (only that: a container does not inherit
your shell's variables). Each process gets its own process group, so that `ShopProcess.stop` (and
`stop_processes`, and the interpreter's exit) ends the process manager *and* its workers, and reaps
what it started. Every wait is bounded: a process that does not come up within `START_TIMEOUT_S`
is stopped and reported with the end of its log.

`requests_per_second` is the load generator of the lesson's measurement: a fixed number of GET
requests from a few threads, each on a new connection (as a load balancer without keep-alive
sends them), every one with a timeout.
"""

from __future__ import annotations

import atexit
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

__all__ = [
    "START_TIMEOUT_S",
    "ShopProcess",
    "ShopStartError",
    "free_port",
    "image_command",
    "requests_per_second",
    "start_shop",
    "stop_processes",
]

HOST = "127.0.0.1"
START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 10.0
_running: dict[int, ShopProcess] = {}


class ShopStartError(RuntimeError):
    """The process ended, or did not answer, before it was ready; the message ends with its log."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def image_command(dockerfile: str | Path) -> list[str]:
    """The last ``CMD`` of a Dockerfile in exec (JSON) form, as a list of arguments."""
    text = Path(dockerfile).read_text(encoding="utf-8").replace("\\\n", " ")
    commands = re.findall(r"^\s*CMD\s+(\[.*\])\s*$", text, re.MULTILINE)
    if not commands:
        raise ValueError(f"{dockerfile} has no CMD in exec form (CMD [\"program\", \"arg\", ...])")
    return list(json.loads(commands[-1]))


def _local(argv: Sequence[str], port: int) -> list[str]:
    """`argv` with 127.0.0.1 for the address, `port` for the port, and this Python's uvicorn."""
    args = list(argv)
    if args and args[0] == "uvicorn":
        args = [sys.executable, "-m", "uvicorn", *args[1:]]
    for flag, value in (("--host", HOST), ("--port", str(port))):
        if flag in args:
            args[args.index(flag) + 1] = value
        else:
            args += [flag, value]
    return args


class ShopProcess:
    """A process started by `start_shop`: `.url`, `.client`, `.pid`, `.log()`, `.stop()`, `.kill()`."""

    def __init__(self, argv: list[str], env: Mapping[str, str], port: int) -> None:
        self.argv = argv
        self.port = port
        self.url = f"http://{HOST}:{port}"
        self._folder = Path(tempfile.mkdtemp(prefix="labsupport-l13-"))
        self._log_path = self._folder / "output.log"
        with self._log_path.open("wb") as log:
            self.popen = subprocess.Popen(
                argv, env=dict(env), stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True, cwd=self._folder,  # own process group; cwd: no stray .env of yours
            )
        self.pid = self.popen.pid
        self.client = httpx.Client(base_url=self.url, timeout=5)
        if not _running:  # the first process of this interpreter: stop them all at its exit too
            atexit.unregister(stop_processes)
            atexit.register(stop_processes)
        _running[self.pid] = self

    def log(self) -> str:
        """Everything the process has written so far (standard output and error)."""
        try:
            return self._log_path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return ""

    def wait_until_ready(self, path: str = "/healthz", timeout: float = START_TIMEOUT_S) -> float:
        """Poll `path` until it answers 200; seconds it took. Raises `ShopStartError` otherwise."""
        started = time.perf_counter()
        while time.perf_counter() - started < timeout:
            if self.popen.poll() is not None:
                break
            try:
                if self.client.get(path, timeout=1).status_code == 200:
                    return time.perf_counter() - started
            except httpx.TransportError:
                pass
            time.sleep(0.02)
        code = self.popen.poll()
        why = f"ended with exit code {code}" if code is not None else f"did not answer {path} within {timeout:g} s"
        log = self.log()[-1500:]
        self.stop()
        raise ShopStartError(f"the process {why}. Its log ends with:\n{log}")

    def signal(self, signum: int) -> None:
        """Send `signum` to the main process only (what `docker stop` does to the container's PID 1)."""
        if self.popen.poll() is None:
            self.popen.send_signal(signum)

    def kill(self) -> None:
        """SIGKILL to the whole process group, at once: what `docker kill` does to the container."""
        _signal_group(self.pid, signal.SIGKILL)

    def wait(self, timeout: float = STOP_TIMEOUT_S) -> int | None:
        """Wait for the main process to end; its exit code (None if still running after `timeout`)."""
        try:
            return self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def stop(self) -> int | None:
        """SIGTERM to the group, SIGKILL after `STOP_TIMEOUT_S`; reaped; log folder removed. Safe to repeat."""
        if self.popen.poll() is None:
            _signal_group(self.pid, signal.SIGTERM)
            if self.wait() is None:
                _signal_group(self.pid, signal.SIGKILL)
                self.popen.wait(STOP_TIMEOUT_S)
        _signal_group(self.pid, signal.SIGKILL)  # workers (or multiprocessing's helper) the manager left behind
        deadline = time.monotonic() + STOP_TIMEOUT_S
        while self.group_alive() and time.monotonic() < deadline:  # until the system has reaped them all
            time.sleep(0.01)
        self.client.close()
        shutil.rmtree(self._folder, ignore_errors=True)
        _running.pop(self.pid, None)
        return self.popen.returncode

    def group_alive(self) -> bool:
        """Whether any process of this group still runs (the manager or one of its workers).

        A killed worker whose manager died first stays a zombie until the system's first process
        reaps it, which can take seconds in a container; a zombie runs nothing, so it does not count.
        """
        try:
            os.killpg(self.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        states = _group_states(self.pid)
        return states is None or any(state != "Z" for state in states)


def _group_states(pgid: int) -> list[str] | None:
    """The states (R, S, Z...) of the processes in group `pgid`, read from /proc; None without /proc."""
    proc = Path("/proc")
    if not (proc / "self" / "stat").exists():
        return None
    states = []
    for stat in proc.glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()  # after "pid (command name)"
        except (OSError, IndexError):
            continue  # the process ended while we looked
        if int(fields[2]) == pgid:  # fields: state, parent pid, process group, ...
            states.append(fields[0])
    return states


def _signal_group(pgid: int, signum: int) -> None:
    try:
        os.killpg(pgid, signum)
    except ProcessLookupError:
        pass


def start_shop(argv: Sequence[str], env: Mapping[str, str], *, wait: bool = True) -> ShopProcess:
    """Run `argv` (e.g. `image_command(...)`) on 127.0.0.1 and a free port, with exactly `env` (plus PATH).

    With ``wait=True`` returns once ``/healthz`` answers 200; ``wait=False`` returns at once (start
    several, then call `.wait_until_ready()` on each: they start side by side).
    """
    environment = {"PATH": os.environ.get("PATH", ""), **env}
    port = free_port()
    process = ShopProcess(_local(argv, port), environment, port)
    if wait:
        process.wait_until_ready()
    return process


def stop_processes() -> list[int]:
    """Stop every process `start_shop` started and that still runs; their process ids."""
    stopped = []
    for process in list(_running.values()):
        process.stop()
        stopped.append(process.pid)
    return stopped



def _get(port: int, path: str, timeout: float) -> int:
    connection = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


def requests_per_second(process: ShopProcess, path: str, *, requests: int = 60, concurrency: int = 6) -> float:
    """Send `requests` GETs to `path` from `concurrency` threads, a new connection each; requests per second."""
    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        statuses = list(pool.map(lambda _: _get(process.port, path, 10), range(requests)))
    elapsed = time.perf_counter() - started
    if set(statuses) != {200}:
        raise RuntimeError(f"{path} answered {sorted(set(statuses))}, not only 200")
    return requests / elapsed
