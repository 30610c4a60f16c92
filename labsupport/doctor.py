"""``python -m labsupport doctor``: a short report on a student's set-up, one line per check.

Run as ``make doctor`` (README, "Two commands"). Each line starts with ``ok:`` or
``problem:`` (followed by ``— fix: …``); the exit code is 1 if any line is a problem. The doctor
only looks: it starts no server, writes no file, contacts nothing, and imports none of the
packages it reports on (it reads their installed metadata), so it works even when they are
broken.
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
    """Which servers the lessons will use (the switches in config.py), and the extra package each needs."""
    try:
        switches = config.settings()
    except ValueError as exc:
        fix = "set LAB_DATABASE to sqlite or postgres, or unset it"
        return [_Line(False, f"real-server switches: {exc}", fix)]
    if switches.database_url:
        sql = f"LAB_DATABASE_URL={_hide_password(switches.database_url)} (not contacted)"
        sql_needs = "psycopg" if switches.database_url.startswith("postgresql") else None
    elif switches.database == "postgres":
        sql, sql_needs = "a throwaway PostgreSQL (LAB_DATABASE=postgres)", "pgserver"
    else:
        sql, sql_needs = "SQLite in a temporary file (default)", None
    mongo = (
        f"LAB_MONGO_URL={_hide_password(switches.mongo_url)} (not contacted)"
        if switches.mongo_url
        else "mongomock, in memory (default)"
    )
    redis = (
        f"LAB_REDIS_URL={_hide_password(switches.redis_url)} (not contacted)"
        if switches.redis_url
        else "fakeredis, in memory (default)"
    )
    # (label, what is used, package it needs or None, pyproject extra that installs it)
    servers = [
        ("SQL database", sql, sql_needs, "postgres"),
        ("MongoDB", mongo, None, ""),
        ("Redis", redis, "redis" if switches.redis_url else None, "redis"),
    ]
    lines = []
    for label, used, needs, extra in servers:
        lines.append(_Line(True, f"{label}: {used}"))
        if needs and _distribution_version(needs) is None:
            problem = f"{label}: the {needs} package is not installed"
            lines.append(_Line(False, problem, f"pip install -e '.[{extra}]'"))
    return lines


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


_CHECKS: tuple[Callable[[], list[_Line]], ...] = (
    _python,
    _packages,
    _sqlite,
    _local_socket,
    _switches,
    _notebooks,
)


def main(argv: list[str] | None = None) -> int:
    """Print the report; return 0 if every line is ok, else 1."""
    argparse.ArgumentParser(
        prog="python -m labsupport doctor",
        description="Check this computer's set-up for the lab. Starts nothing, writes nothing.",
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
