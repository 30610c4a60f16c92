"""Tests for labsupport.progress_store: best and latest outcomes, safe writes, a corrupt file, the display."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from labsupport.checks import lesson_checks
from labsupport.progress_store import DEFAULT_FILE, load, main, progress, progress_file, record

L00 = lesson_checks("l00_start_here")  # prediction, exercise 1, exercise 2
PREDICTION, EX1, EX2 = (check.title for check in L00)


def test_the_best_outcome_is_kept_and_the_latest_beside_it(tmp_path):
    """A fresh copy of the notebook run after a pass ("not attempted") does not undo the pass.
    Mutation that failed this: `record` storing the latest status as the best."""
    path = tmp_path / "progress.json"
    for status in ("failed", "passed", "not attempted"):
        assert record("l00_start_here", EX1, status, path=path) is None
    entry = load(path)["l00_start_here"][EX1]
    assert (entry["best"], entry["latest"], entry["runs"]) == ("passed", "not attempted", 3)
    with pytest.raises(ValueError, match="status must be"):
        record("l00_start_here", EX1, "great", path=path)


def test_the_file_defaults_to_the_home_folder_and_is_off_under_pytest_or_when_asked(monkeypatch, tmp_path):
    """Mutation that failed this: `progress_file` ignoring PYTEST_CURRENT_TEST (nbval's kernels inherit it)."""
    monkeypatch.delenv("LAB_PROGRESS_FILE", raising=False)
    assert progress_file() is None  # pytest sets PYTEST_CURRENT_TEST while a test runs
    monkeypatch.delenv("PYTEST_CURRENT_TEST")
    assert progress_file() == DEFAULT_FILE.expanduser() and str(progress_file()).startswith(str(Path.home()))
    for off in ("off", "", "0"):
        monkeypatch.setenv("LAB_PROGRESS_FILE", off)
        assert progress_file() is None
        assert record("l00_start_here", EX1, "passed") is None  # switched off: nothing written, no error
    monkeypatch.setenv("LAB_PROGRESS_FILE", str(tmp_path / "p.json"))
    assert progress_file() == tmp_path / "p.json"


_WRITER = """
import sys
from pathlib import Path
from labsupport.progress_store import record
for n in range(int(sys.argv[3])):
    record("l00_start_here", f"{sys.argv[2]} {n}", "passed", path=Path(sys.argv[1]))
"""


def test_two_processes_writing_at_once_lose_nothing(tmp_path):
    """Two kernels checking at the same moment: every outcome of both ends up in the file.
    Mutation that failed this: `_locked` yielding without taking the lock (outcomes were lost)."""
    path = tmp_path / "progress.json"
    writers = [
        subprocess.Popen([sys.executable, "-c", _WRITER, str(path), name, "150"]) for name in ("left", "right")
    ]
    assert [writer.wait(timeout=60) for writer in writers] == [0, 0]
    titles = set(load(path)["l00_start_here"])
    assert titles == {f"{name} {n}" for name in ("left", "right") for n in range(150)}
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".progress")] == []  # no temporary left


def test_a_corrupt_file_is_kept_aside_and_a_new_one_started(tmp_path):
    """Mutation that failed this: `record` without the `except _Corrupt` (the JSON error reached the check)."""
    path = tmp_path / "progress.json"
    path.write_text('{"lessons": {"l00_start_here": ')
    problem = record("l00_start_here", EX2, "passed", path=path)
    assert problem is not None and str(path) in problem and "could not be read" in problem
    assert (tmp_path / "progress.json.corrupt").read_text() == '{"lessons": {"l00_start_here": '
    assert load(path)["l00_start_here"][EX2]["best"] == "passed"
    path.write_text(json.dumps(["not", "a", "table"]))
    shown = progress(path)
    assert shown.problem is not None and "cannot be read" in repr(shown)  # shown, not raised
    assert record("l00_start_here", EX2, "failed", path=path) is not None
    assert load(path)["l00_start_here"][EX2] | {"updated": None} == {
        "best": "failed", "latest": "failed", "runs": 1, "updated": None
    }


def test_a_check_still_shows_when_the_file_is_corrupt(tmp_path, monkeypatch, capsys):
    """Mutation that failed this: `_recorded` not printing the problem `record` returned."""
    from labsupport.lessons.l00_start_here import check_database_share

    path = tmp_path / "progress.json"
    path.write_text("not json")
    monkeypatch.setenv("LAB_PROGRESS_FILE", str(path))
    result = check_database_share(..., None)
    assert result.status == "not attempted"
    assert "could not be read" in capsys.readouterr().err
    assert load(path)["l00_start_here"][EX1]["latest"] == "not attempted"


def test_progress_shows_what_is_done_per_notebook(tmp_path, monkeypatch, capsys):
    """Text (terminal), HTML (notebook) and `python -m labsupport progress` show the same.
    Mutation that failed this: counting the prediction as an exercise (3 of 2 done)."""
    path = tmp_path / "progress.json"
    for title, status in ((PREDICTION, "passed"), (EX1, "passed"), (EX2, "passed"), (EX2, "failed")):
        record("l00_start_here", title, status, path=path)
    shown = progress(path)
    text = repr(shown)
    line = next(line for line in text.splitlines() if line.startswith("00-start-here"))
    assert line.split()[1:] == ["2", "of", "2", "exercises", "done"]
    assert f"✔ {EX2} (last run: failed)" in text
    assert next(line for line in text.splitlines() if line.startswith("01-http")).split()[1:3] == ["0", "of"]
    assert "2 / 2" in shown._repr_html_() and "last run: failed" in shown._repr_html_()
    monkeypatch.setenv("LAB_PROGRESS_FILE", str(path))
    assert main([]) == 0
    assert capsys.readouterr().out.strip() == text


def test_progress_says_when_it_is_off(monkeypatch):
    monkeypatch.setenv("LAB_PROGRESS_FILE", "off")
    assert "switched off" in repr(progress())
