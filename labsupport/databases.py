"""Databases for the lessons: a fresh SQLite file per call (foreign keys on), mongomock, fakeredis.

Introduced in 00-start-here. Each function switches to a real server when the environment says
so (see `labsupport.config`); the embedded defaults need nothing installed or started. The
real-server paths are kept thin on purpose: CI has no MongoDB, Redis or PostgreSQL to test them.
"""

from __future__ import annotations

import functools
import itertools
import os
import shutil
import tempfile
import weakref
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from labsupport.config import settings

if TYPE_CHECKING:
    import mongomock
    import pymongo
    import redis

__all__ = ["sql_engine", "mongo_client", "redis_client"]

TIMEOUT_S = 2  # how long a real server may take to answer before we give up

_postgres_databases = itertools.count(1)  # names lab_1, lab_2, ... on the throwaway PostgreSQL


def _enable_sqlite_foreign_keys(dbapi_connection, _record) -> None:
    # SQLite ignores FOREIGN KEY clauses unless each connection turns them on (04-sql shows why).
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def sql_engine(*, echo: bool = False) -> sa.Engine:
    """A SQLAlchemy engine on a new, empty SQLite file in its own temporary directory.

    Foreign keys are enforced. The file is removed when the engine is garbage-collected or the
    process exits, so re-running a cell never sees an old database.

    ``LAB_DATABASE_URL`` switches to that database as it is (point it at a scratch database: the
    lessons create and fill tables). ``LAB_DATABASE=postgres`` starts one throwaway PostgreSQL
    per process with the ``pgserver`` package and gives each call a new, empty database on it.
    """
    config = settings()
    if config.database_url is not None:
        engine = sa.create_engine(config.database_url, echo=echo)
        if engine.dialect.name == "sqlite":
            sa.event.listen(engine, "connect", _enable_sqlite_foreign_keys)
        return engine
    if config.database == "postgres":
        return sa.create_engine(_new_postgres_database(), echo=echo)

    _remove_databases_of_dead_processes()
    directory = Path(tempfile.mkdtemp(prefix=f"{_SQLITE_PREFIX}{os.getpid()}-"))
    engine = sa.create_engine(f"sqlite:///{directory / 'lab.db'}", echo=echo)
    sa.event.listen(engine, "connect", _enable_sqlite_foreign_keys)
    weakref.finalize(engine, shutil.rmtree, directory, True)
    return engine


_SQLITE_PREFIX = "labsupport-db-"  # + the owning process's id + "-" + a random part


@functools.cache  # once per process: the first sql_engine() of a kernel
def _remove_databases_of_dead_processes() -> None:
    """Remove the SQLite folders that killed kernels left behind.

    Each folder is removed when its engine is garbage-collected or its process exits, but a
    kernel that is killed (or crashes) runs no exit code. Its folder names its process id:
    when no such process lives any more, nothing can be using it.
    """
    for folder in Path(tempfile.gettempdir()).glob(f"{_SQLITE_PREFIX}*-*"):
        pid = folder.name.removeprefix(_SQLITE_PREFIX).split("-", 1)[0]
        if pid.isdigit() and not _process_exists(int(pid)):
            shutil.rmtree(folder, ignore_errors=True)


def _process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return False
    except OSError:  # it exists but belongs to someone else (PermissionError), or we cannot tell
        return True
    return True


def _new_postgres_database() -> str:
    """Create an empty database on this process's PostgreSQL and return its URL."""
    server = _postgres_server()
    name = f"lab_{next(_postgres_databases)}"
    server.psql(f"CREATE DATABASE {name};")
    # pgserver's URL names no driver; the "postgres" extra installs psycopg 3.
    return server.get_uri(name).replace("postgresql://", "postgresql+psycopg://", 1)


@functools.cache
def _postgres_server() -> Any:
    """Start this process's throwaway PostgreSQL on first use; later calls return the same one.

    pgserver listens on a Unix socket only (no TCP port) and deletes the data at exit.
    """
    try:
        import pgserver  # optional extra: only this switch needs it
    except ImportError:
        raise ImportError(
            "LAB_DATABASE=postgres needs the optional PostgreSQL packages: "
            'pip install -e ".[postgres]"'
        ) from None
    return pgserver.get_server(tempfile.mkdtemp(prefix="labsupport-pg-"), cleanup_mode="delete")


def mongo_client() -> pymongo.MongoClient | mongomock.MongoClient:
    """An in-memory MongoDB stand-in (mongomock), or a real MongoDB when ``LAB_MONGO_URL`` is set.

    Introduced in 05-nosql. Each mongomock client starts empty. The real client gives up after
    2 s when the server does not answer, instead of pymongo's default 30 s.
    """
    # Imported here: only the NoSQL lessons pay the 0.3 s these imports take.
    import mongomock
    import pymongo

    url = settings().mongo_url
    if url is None:
        return mongomock.MongoClient()
    timeout_ms = TIMEOUT_S * 1000
    return pymongo.MongoClient(
        url,
        serverSelectionTimeoutMS=timeout_ms,
        connectTimeoutMS=timeout_ms,
        socketTimeoutMS=5 * timeout_ms,  # a slow aggregation may take a while to answer
    )


def redis_client() -> redis.Redis:
    """An in-memory Redis stand-in (fakeredis), or a real Redis when ``LAB_REDIS_URL`` is set.

    Introduced in 05-nosql. Both decode replies to ``str``; each fakeredis client starts empty.
    """
    import fakeredis
    import redis

    url = settings().redis_url
    if url is None:
        return fakeredis.FakeRedis(decode_responses=True)
    return redis.Redis.from_url(
        url, decode_responses=True, socket_timeout=TIMEOUT_S, socket_connect_timeout=TIMEOUT_S
    )
