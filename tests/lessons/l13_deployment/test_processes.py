"""Tests for labsupport.lessons.l13_deployment.processes: the image's command as child processes."""

from __future__ import annotations

import os
import signal
import sys
import time

import pytest

from labsupport import sql_engine
from labsupport.datagen import load_bookshop
from labsupport.lessons.l13_deployment.linters import lesson_file
from labsupport.lessons.l13_deployment.processes import (
    ShopProcess,
    ShopStartError,
    _local,
    image_command,
    requests_per_second,
    start_shop,
    stop_processes,
)
from labsupport.lessons.l13_deployment.shop import payments

pytestmark = pytest.mark.timeout(120)


def test_image_command_reads_the_last_exec_form_cmd(tmp_path):
    command = image_command(lesson_file("Dockerfile"))
    assert command[:3] == ["uvicorn", "labsupport.lessons.l13_deployment.shop:create_app", "--factory"]
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text('FROM x\nCMD ["a"]\nHEALTHCHECK CMD ["b"]\nCMD ["c", \\\n  "d"]\n')
    assert image_command(dockerfile) == ["c", "d"]
    dockerfile.write_text("FROM x\nCMD run me\n")
    with pytest.raises(ValueError, match="exec form"):
        image_command(dockerfile)


def test_local_command_listens_on_loopback_only():
    """Mutation that failed this: `--host` left as the image's 0.0.0.0."""
    argv = _local(["uvicorn", "app:app", "--host", "0.0.0.0", "--port", "8000"], 5555)
    assert argv[:3] == [sys.executable, "-m", "uvicorn"]
    assert argv[argv.index("--host") + 1] == "127.0.0.1" and argv[argv.index("--port") + 1] == "5555"
    assert _local(["uvicorn", "app:app"], 7)[-4:] == ["--host", "127.0.0.1", "--port", "7"]


@pytest.fixture
def deployment():
    engine = sql_engine()
    load_bookshop(engine, orders=20)
    payments.metadata.create_all(engine)
    yield {"BOOKSHOP_DATABASE_URL": engine.url.render_as_string(hide_password=False),
           "BOOKSHOP_SECRET_KEY": "k" * 40, "BOOKSHOP_CPU_ROUNDS": "1000", "BOOKSHOP_PAYMENT_DELAY_S": "0"}
    stop_processes()
    engine.dispose()


def _one_worker():
    command = image_command(lesson_file("Dockerfile"))
    at = command.index("--workers")
    return [*command[: at + 1], "1", *command[at + 2 :]]


def test_a_shop_starts_serves_and_is_stopped_and_reaped(deployment):
    """Mutation that failed this: `stop()` not waiting until the group is reaped (group_alive() still true)."""
    shop = start_shop(image_command(lesson_file("Dockerfile")), deployment)  # 2 workers and their manager
    assert shop.client.get("/readyz").json() == {"status": "ready"}
    assert requests_per_second(shop, "/api/cpu", requests=6, concurrency=2) > 0
    assert shop.client.post("/api/payments", params={"label": "t"}).status_code == 201
    assert stop_processes() == [shop.pid]
    assert not shop.group_alive() and shop.popen.returncode is not None
    assert stop_processes() == []
    shop.stop()  # again: harmless


def test_a_killed_process_not_yet_reaped_is_not_alive():
    """A zombie (dead, waiting to be reaped) runs nothing. After `kill -9` of a manager, its workers
    stay zombies until the system's first process reaps them, seconds in some containers, and
    `stop()` waited for that. (Mutation that failed this: `group_alive` counting zombies.)"""
    process = ShopProcess(["sleep", "30"], {"PATH": os.environ["PATH"]}, port=1)
    try:
        assert process.group_alive()
        process.kill()
        deadline = time.monotonic() + 5
        while process.group_alive() and time.monotonic() < deadline:
            time.sleep(0.01)
        assert not process.group_alive()
        assert process.popen.returncode is None  # not reaped yet: still a zombie, our child
        os.killpg(process.pid, 0)  # and the group still exists for the system
    finally:
        process.stop()
    assert process.popen.returncode == -signal.SIGKILL


def test_sigterm_then_exit_code(deployment):
    shop = start_shop(_one_worker(), deployment)
    shop.signal(signal.SIGTERM)
    assert shop.wait() == -signal.SIGTERM
    shop.stop()


def test_a_failed_start_names_the_reason_and_leaves_nothing(deployment):
    """A missing setting: the process ends at start-up, and the error carries its log."""
    env = {k: v for k, v in deployment.items() if k != "BOOKSHOP_SECRET_KEY"}
    with pytest.raises(ShopStartError, match=r"exit code 1(.|\n)*secret_key(.|\n)*Field required"):
        start_shop(_one_worker(), env)
    assert stop_processes() == []
