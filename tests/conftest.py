"""Shared fixtures. Scopes are deliberate: servers per test (they are cheap, ~3 ms to start and
each test must see a fresh one); nothing is shared between test modules."""

from __future__ import annotations

import logging
import os
import socket
from pathlib import Path

import matplotlib
import pytest

# Plots render off-screen in the test process. (Not via MPLBACKEND: notebook kernels started by
# nbval inherit the environment and must keep their inline backend.)
matplotlib.use("Agg")

# Measured claims raise instead of showing a notice (labsupport.claims). Set here, in the
# environment, so that the notebook kernels nbval and nbclient start inherit it too.
os.environ["LAB_STRICT"] = "1"

# Every lesson check records its outcome in a progress file (labsupport.progress_store): off here
# and in every kernel the tests start (nbval's too, whose stored outputs show progress() off); the
# tests of recording name a file of their own.
os.environ["LAB_PROGRESS_FILE"] = "off"


@pytest.fixture
def engine():
    """A fresh SQLite file holding the bookshop's four empty tables (per test: tests write to it)."""
    from labsupport import schema, sql_engine

    engine = sql_engine()
    schema.create_tables(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def stop_servers():
    """Stop every lab server a test started, even when it fails."""
    from labsupport import servers

    yield
    servers.stop_all()


@pytest.fixture(scope="session")
def chromium():
    """The system's Chromium (labsupport.browser), shared by the browser lane's tests; each makes its own contexts.

    The lane runs with `make test-browser` (LAB_TEST_BROWSER=1), skipped otherwise. There, a missing
    playwright is an error (that target installs it); a missing Chromium is a skip that says what to
    install, except under CI=true, where .ci/run installs it: then it is an error too.
    """
    if os.environ.get("LAB_TEST_BROWSER") != "1":
        pytest.skip("the real browser runs with make test-browser (LAB_TEST_BROWSER=1)")
    from labsupport import browser

    reason = browser.unavailable_reason()
    if reason and (reason.startswith("no playwright") or os.environ.get("CI") == "true"):
        pytest.fail(f"the browser lane cannot run: {reason}")
    if reason:
        pytest.skip(reason)
    with browser.Chromium() as started:
        yield started


@pytest.fixture
def cell_output(caplog, capfd):
    """A function: -> what a notebook cell would have shown since the test began.

    In a kernel, a log record that reaches the root logger at WARNING or above is printed by
    logging's last-resort handler into the running cell. Under pytest the logging plugin's
    handler takes it first, so stderr alone (capfd) would stay empty whatever leaked: this reads
    both the captured output and the records that reached the root logger.
    """
    formatter = logging.Formatter()
    printed: list[str] = []

    def read() -> str:
        printed.extend(text for text in capfd.readouterr() if text)
        records = [
            f"{record.levelname}: {record.getMessage()}"
            + (f"\n{formatter.formatException(record.exc_info)}" if record.exc_info else "")
            for record in caplog.records
            if record.levelno >= logging.WARNING
        ]
        return "\n".join([*printed, *records])

    return read


def _listening_addresses(pid: int) -> list[str]:
    """"address:port" of every listening TCP socket process `pid` owns, read from /proc (Linux)."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = fd.readlink().name
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    found = []
    for table, family in (("tcp", socket.AF_INET), ("tcp6", socket.AF_INET6)):
        for line in Path(f"/proc/net/{table}").read_text().splitlines()[1:]:
            fields = line.split()
            local, state, inode = fields[1], fields[3], fields[9]
            if state != "0A" or inode not in inodes:  # 0A = LISTEN
                continue
            hex_address, hex_port = local.split(":")
            raw = bytes.fromhex(hex_address)
            # /proc prints each 32-bit word in host (little-endian) order
            raw = b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4))
            found.append(f"{socket.inet_ntop(family, raw)}:{int(hex_port, 16)}")
    return found


@pytest.fixture
def listening_addresses():
    """A function: pid -> the addresses that process listens on."""
    return _listening_addresses
