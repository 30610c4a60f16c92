"""Take an engine's database away and bring it back, the same way on SQLite and PostgreSQL.

Introduced in 13-deployment, for readiness: `/readyz` must fail while the database is down and
recover, without a restart, when it is back. A lesson cannot really stop the notebook's database
(on PostgreSQL other lessons share the server), so `DatabaseOutage` cuts the app off from it:

- every connection the engine's pool holds is closed (as when the server goes away), and
- every new connection is pointed at an address where nothing answers: for PostgreSQL a port on
  127.0.0.1 that was just closed (the driver gets "connection refused", as from a stopped server);
  for SQLite a file in a folder that does not exist ("unable to open database file").

So the driver raises its own, real error on both engines. `up()` removes the detour.
"""

from __future__ import annotations

import socket
import tempfile
import uuid
from pathlib import Path
from typing import Any

import sqlalchemy as sa

__all__ = ["DatabaseOutage"]


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])  # closed when the block ends: nothing listens there


class DatabaseOutage:
    """``outage = DatabaseOutage(engine)``; ``outage.down()`` / ``outage.up()``, or ``with outage:``."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        self.is_down = False
        self._nowhere = str(Path(tempfile.gettempdir()) / f"no-such-folder-{uuid.uuid4().hex}" / "lab.db")
        self._port = _closed_port()
        sa.event.listen(engine, "do_connect", self._detour)

    def _detour(self, dialect: Any, _record: Any, cargs: list[Any], cparams: dict[str, Any]) -> None:
        if not self.is_down:
            return
        if dialect.name == "sqlite":
            cargs[:1] = [self._nowhere]
            cparams.pop("database", None)
        else:
            cparams.update(host="127.0.0.1", port=self._port, connect_timeout=2)

    def down(self) -> None:
        """The database becomes unreachable: open connections are closed, new ones fail."""
        self.is_down = True
        self.engine.dispose()

    def up(self) -> None:
        """The database is reachable again (connections made while down were never made)."""
        self.is_down = False

    def __enter__(self) -> DatabaseOutage:
        self.down()
        return self

    def __exit__(self, *exc: object) -> None:
        self.up()

    def close(self) -> None:
        """Stop watching the engine's connections (the outage ends)."""
        self.up()
        if sa.event.contains(self.engine, "do_connect", self._detour):
            sa.event.remove(self.engine, "do_connect", self._detour)
