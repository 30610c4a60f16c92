"""What only PostgreSQL can show: run live on PostgreSQL, and a labelled recording of a real run otherwise.

Introduced in 04-sql. Some lessons exist in PostgreSQL alone (isolation levels, ``EXPLAIN
(ANALYZE, BUFFERS)``, the visibility map, ``pg_stat_statements``). A notebook cell calls
``postgres_only(name, engine, demo)``: on PostgreSQL it runs ``demo(engine)``, which returns the
text to show; on SQLite it shows the text that a real PostgreSQL run of the same `demo` returned,
under a label that says so. Either way the notebook gets a `Recording` and asserts its facts on
``.text``, so the stored output (SQLite's run) shows a recording whose facts were checked.

Recordings are written only by ``python -m labsupport notebooks --record-postgres`` (``make
recordings``): it runs the notebooks on the embedded PostgreSQL with ``LAB_RECORD_DIR`` set to
``data/recorded/``, storing no outputs. Each recording's first line names the PostgreSQL version
and a hash of `demo`'s source; on SQLite a recording whose hash no longer matches the notebook's
`demo` is an error, so a changed demo cannot go on showing an old run.
"""

from __future__ import annotations

import hashlib
import inspect
import os
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import sqlalchemy as sa

__all__ = ["Recording", "RecordingOutdated", "postgres_only"]

_HEADER = "-- recorded on PostgreSQL {version} · demo sha256 {digest}"


class RecordingOutdated(RuntimeError):
    """The stored recording was made by other code than the notebook's demo: run ``make recordings``."""


@dataclass(frozen=True)
class Recording:
    """What a PostgreSQL-only demo showed: `text`, and whether it ran just now (`live`) or was recorded."""

    name: str
    text: str
    live: bool
    version: str

    def __str__(self) -> str:
        if self.live:
            label = f"[live on PostgreSQL {self.version}]"
        else:
            label = (
                f"[recorded on PostgreSQL {self.version}: this notebook runs on SQLite; "
                "set LAB_DATABASE=postgres to run it live]"
            )
        return f"{label}\n{self.text}"

    def __repr__(self) -> str:  # what Jupyter shows for a cell ending in a Recording
        return str(self)


def _digest(demo: Callable[[sa.Engine], str]) -> str:
    # Whitespace at line ends and blank lines do not count: only the code that produced the text.
    lines = [line.rstrip() for line in inspect.getsource(demo).splitlines() if line.strip()]
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()[:16]


def _stored(name: str) -> Path:
    return Path(str(resources.files("labsupport.data").joinpath("recorded", f"{name}.txt")))


def postgres_only(name: str, engine: sa.Engine, demo: Callable[[sa.Engine], str]) -> Recording:
    """Run `demo(engine)` on PostgreSQL, or show the stored recording `name` of a real run of it."""
    digest = _digest(demo)
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            version = str(conn.exec_driver_sql("SHOW server_version").scalar()).split()[0]
        text = demo(engine).rstrip("\n")
        record_dir = os.environ.get("LAB_RECORD_DIR", "").strip()
        if record_dir:  # only `make recordings` sets it
            path = Path(record_dir) / f"{name}.txt"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(_HEADER.format(version=version, digest=digest) + "\n" + text + "\n", encoding="utf-8")
        return Recording(name, text, live=True, version=version)
    path = _stored(name)
    if not path.is_file():
        raise RecordingOutdated(f"no recording named {name!r}: run `make recordings` (it needs the postgres extra)")
    header, _, text = path.read_text(encoding="utf-8").partition("\n")
    version, _, stored_digest = header.removeprefix("-- recorded on PostgreSQL ").partition(" · demo sha256 ")
    if stored_digest != digest:
        raise RecordingOutdated(
            f"the recording {name!r} was made by another version of this demo: run `make recordings`"
        )
    return Recording(name, text.rstrip("\n"), live=False, version=version)
