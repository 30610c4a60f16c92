"""Databases for the lessons: a fresh SQLite file per call (foreign keys on), mongomock, fakeredis.

Introduced in 00-start-here. Each function switches to a real server when the environment says
so (see `labsupport.config`); the defaults need nothing installed or started. PostgreSQL
(`labsupport.postgres`) and Redis (`labsupport.embedded_redis`) also come embedded, from pip
wheels, so CI runs the lessons on them; MongoDB by URL stays thin, tested with mongomock only,
since no MongoDB server can be installed from pip.
"""

from __future__ import annotations

import functools
import shutil
import weakref
from typing import TYPE_CHECKING

import sqlalchemy as sa

from labsupport.config import settings
from labsupport.scratch import new_folder, sweep_folders_of_dead_processes

if TYPE_CHECKING:
    import mongomock
    import pymongo
    import redis

__all__ = ["sql_engine", "mongo_client", "redis_client"]

TIMEOUT_S = 2  # how long a real server may take to answer before we give up


def _enable_sqlite_foreign_keys(dbapi_connection, _record) -> None:
    # SQLite ignores FOREIGN KEY clauses unless each connection turns them on (04-sql shows why).
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def sql_engine(*, echo: bool = False) -> sa.Engine:
    """A SQLAlchemy engine on a new, empty database: by default a SQLite file in its own temporary folder.

    With SQLite, foreign keys are enforced, and the file is removed when the engine is
    garbage-collected or the process exits, so re-running a cell never sees an old database.

    ``LAB_DATABASE=postgres`` starts one throwaway PostgreSQL per process (`labsupport.postgres`);
    ``LAB_DATABASE_URL`` names a PostgreSQL server of your own. On either, each call gets a new,
    empty database of its own, dropped when the engine goes.
    """
    config = settings()
    if config.database_url is not None or config.database == "postgres":
        from labsupport import postgres  # only these switches pay for it

        if config.database_url is not None:
            url = postgres.server_url(config.database_url)
            return postgres.fresh_database(url, switch="LAB_DATABASE_URL", echo=echo)
        server = postgres.embedded_server()  # removed whole at exit: no database needs dropping then
        return postgres.fresh_database(server.url, switch="LAB_DATABASE=postgres", drop_at_exit=False, echo=echo)

    _sweep_sqlite_folders_once()
    directory = new_folder(_SQLITE_PREFIX)
    engine = sa.create_engine(f"sqlite:///{directory / 'lab.db'}", echo=echo)
    sa.event.listen(engine, "connect", _enable_sqlite_foreign_keys)
    weakref.finalize(engine, shutil.rmtree, directory, True)
    return engine


_SQLITE_PREFIX = "labsupport-db-"  # + the owning process's id + "-" + a random part


@functools.cache  # once per process: the first sql_engine() of a kernel
def _sweep_sqlite_folders_once() -> None:
    """Remove the SQLite folders that killed kernels left behind (see `labsupport.scratch`)."""
    sweep_folders_of_dead_processes(_SQLITE_PREFIX)


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
    """An in-memory Redis stand-in (fakeredis), a private real Redis, or your own Redis.

    Introduced in 05-nosql. ``LAB_REDIS=embedded`` starts a real redis-server of its own for this
    client (`labsupport.embedded_redis`, 0.02 s), stopped when the client is garbage-collected;
    ``LAB_REDIS_URL`` connects to a Redis you run (and checks that it answers). All decode
    replies to ``str``; fakeredis and embedded clients start empty.
    """
    import fakeredis

    config = settings()
    if config.redis_url is not None:
        return _answering_redis(config.redis_url, "LAB_REDIS_URL")
    if config.redis == "embedded":
        from labsupport.embedded_redis import EmbeddedRedis

        server = EmbeddedRedis().start()
        client = _answering_redis(server.url, "LAB_REDIS=embedded")
        weakref.finalize(client, server.stop)
        return client
    return fakeredis.FakeRedis(decode_responses=True)


def _answering_redis(url: str, switch: str) -> redis.Redis:
    import redis

    from labsupport.embedded_redis import RedisUnavailable

    try:
        client = redis.Redis.from_url(
            url, decode_responses=True, socket_timeout=TIMEOUT_S, socket_connect_timeout=TIMEOUT_S
        )
        client.ping()
    except ValueError as exc:  # not a redis:// URL
        raise RedisUnavailable(
            f"{switch}: {exc}. Use redis://host:6379/0, or unset {switch} to use fakeredis"
        ) from None
    except redis.RedisError as exc:
        raise RedisUnavailable(
            f"{switch}: the Redis server did not answer ({exc}). Check that it runs and the URL, "
            f"or unset {switch} to use fakeredis"
        ) from None
    return client
