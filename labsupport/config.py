"""The real-server switches, read in one place (CONTRIBUTING.md, "Real servers").

Introduced in 05-nosql, which shows which server it talks to. Every helper that could use a real
server asks `settings()`; nothing reads these variables anywhere else. They are read when asked,
not at import, so a notebook can set ``os.environ`` in its first cell and a test can use
``monkeypatch.setenv``.

- ``LAB_DATABASE_URL`` — SQLAlchemy URL of a real database (``postgresql+psycopg://…``).
- ``LAB_DATABASE=postgres`` — start a throwaway PostgreSQL via ``pgserver`` (extra ``postgres``).
- ``LAB_MONGO_URL`` — ``mongodb://…`` of a real MongoDB (default: mongomock, in memory).
- ``LAB_REDIS_URL`` — ``redis://…`` of a real Redis (default: fakeredis, in memory).
- ``LAB_STRICT=1`` — a measured claim that does not hold raises instead of showing a notice
  (`labsupport.claims`); the test suite sets it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

__all__ = ["Settings", "settings"]


@dataclass(frozen=True)
class Settings:
    database_url: str | None
    database: str  # "sqlite" (default) or "postgres"
    mongo_url: str | None
    redis_url: str | None
    strict: bool = False  # LAB_STRICT: measured claims raise instead of showing a notice


def settings() -> Settings:
    """Return the switches as they are in the environment right now."""

    def get(name: str) -> str | None:
        value = os.environ.get(name, "").strip()
        return value or None

    database = (get("LAB_DATABASE") or "sqlite").lower()
    if database not in {"sqlite", "postgres"}:
        raise ValueError(f"LAB_DATABASE must be 'sqlite' or 'postgres', not {database!r}")
    return Settings(
        database_url=get("LAB_DATABASE_URL"),
        database=database,
        mongo_url=get("LAB_MONGO_URL"),
        redis_url=get("LAB_REDIS_URL"),
        strict=(get("LAB_STRICT") or "0").lower() in {"1", "true", "yes", "on"},
    )
