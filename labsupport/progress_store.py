"""Progress that survives kernel restarts: which exercises of which notebook are done.

Introduced in 00-start-here: a notebook shows it with ``progress()`` (``from labsupport import
progress``), a terminal with ``python -m labsupport progress``. Every lesson check (`labsupport.checks`)
writes its outcome here when it runs, so the file also remembers a notebook closed days ago.

**Where.** ``LAB_PROGRESS_FILE`` names the file; by default ``~/.backend-lab/progress.json``.
``LAB_PROGRESS_FILE=off`` (or empty) switches it off. Under pytest (``PYTEST_CURRENT_TEST`` is set,
and the kernels that pytest, nbval and nbclient start inherit it) the default is *off*, so that
the test suite, ``pytest notebooks/NN-x.ipynb`` and ``make notebooks`` never write into the user's
home; the grader points each submission at a file of its own.

**What is kept.** Per lesson and check title: the *best* outcome so far (passed > failed > not
attempted), the *latest* one, how many times it ran and when last. "Done" means the best is
passed: a student who passed an exercise and later runs a fresh copy of the notebook (every check
"not attempted" again) has not lost the work; the latest outcome is shown beside it when it is
worse, so a regression is still visible.

**Safe.** Writes are atomic (a temporary file in the same folder, then ``os.replace``) and
serialised between processes with an advisory lock (``fcntl.flock`` on ``<file>.lock``; two
kernels checking at once both get their outcome in). A file that cannot be read as progress is
moved aside to ``<file>.corrupt`` and a new one started; the check still shows its result, with
one line saying so. Nothing here is a security control: students can edit their own file.
"""

from __future__ import annotations

import argparse
import contextlib
import html
import json
import os
import re
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from labsupport.checks import lesson_checks

__all__ = ["ENV", "DEFAULT_FILE", "Progress", "load", "main", "progress", "progress_file", "record"]

ENV = "LAB_PROGRESS_FILE"
DEFAULT_FILE = Path("~/.backend-lab/progress.json")
_RANK = {"not attempted": 0, "failed": 1, "passed": 2}
_SYMBOL = {"passed": "✔", "failed": "✘", "not attempted": "○"}
_LESSONS_DIR = Path(__file__).resolve().parent / "lessons"


def progress_file() -> Path | None:
    """The progress file in use, or None when progress is switched off (see the module's docstring)."""
    value = os.environ.get(ENV)
    if value is None:
        return None if "PYTEST_CURRENT_TEST" in os.environ else DEFAULT_FILE.expanduser()
    if value.strip().lower() in ("", "off", "0", "no", "none"):
        return None
    return Path(value).expanduser()


class _Corrupt(Exception):
    """The file exists but does not hold progress."""


def _read(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {"version": 1, "lessons": {}}
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise _Corrupt(f"not JSON ({exc})") from None
    if not isinstance(data, dict) or not isinstance(data.get("lessons"), dict):
        raise _Corrupt("not a progress file (no 'lessons' table)")
    if not all(isinstance(checks, dict) for checks in data["lessons"].values()):
        raise _Corrupt("not a progress file (a lesson is not a table)")
    return data


def load(path: Path | None = None) -> dict[str, dict[str, dict[str, Any]]]:
    """{lesson: {title: {"best", "latest", "runs", "updated"}}} from the file (empty if there is none).

    Raises ValueError, naming the file, if it cannot be read as progress.
    """
    path = path or progress_file()
    if path is None:
        return {}
    try:
        return _read(path)["lessons"]
    except _Corrupt as exc:
        raise ValueError(f"{path} cannot be read: {exc}") from None


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    try:
        import fcntl
    except ImportError:  # Windows: no lock; the write is still atomic
        yield
        return
    with open(f"{path}.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def record(lesson: str, title: str, status: str, *, path: Path | None = None) -> str | None:
    """Note one check's outcome. Returns None, or one sentence for the student if something was off.

    Raises OSError if the file cannot be written (`labsupport.checks` turns that into a sentence).
    """
    if status not in _RANK:
        raise ValueError(f"status must be one of {sorted(_RANK)}, not {status!r}")
    path = path or progress_file()
    if path is None:
        return None
    path.parent.mkdir(parents=True, exist_ok=True)
    problem = None
    with _locked(path):
        try:
            data = _read(path)
        except _Corrupt as exc:
            aside = path.with_name(path.name + ".corrupt")
            os.replace(path, aside)
            problem = f"Your progress file {path} could not be read ({exc}); kept as {aside}, a new one started."
            data = {"version": 1, "lessons": {}}
        entry = data["lessons"].setdefault(lesson, {}).get(title)
        if not isinstance(entry, dict) or entry.get("best") not in _RANK:
            entry = {"best": status, "runs": 0}
        if _RANK[status] > _RANK[entry["best"]]:
            entry["best"] = status
        entry["latest"] = status
        runs = entry.get("runs")
        entry["runs"] = (runs if isinstance(runs, int) else 0) + 1
        entry["updated"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        data["lessons"][lesson][title] = entry
        _write_atomically(path, json.dumps(data, indent=1, ensure_ascii=False, sort_keys=True))
    return problem


def _write_atomically(path: Path, text: str) -> None:
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def _lessons() -> list[str]:
    return sorted(p.parent.name for p in _LESSONS_DIR.glob("l[0-9][0-9]_*/checkers.py"))


def _notebook_name(lesson: str) -> str:
    """``00-start-here`` for ``l00_start_here`` (the notebook's file name when there is a checkout)."""
    from labsupport.notebooks import notebook_paths

    number = lesson[1:3]
    for path in notebook_paths():
        if path.name.startswith(f"{number}-"):
            return path.stem
    return f"{number}-{lesson[4:].replace('_', '-')}"


@dataclass(frozen=True)
class _Line:
    notebook: str
    done: int
    exercises: int
    checks: list[tuple[str, str, str | None]]  # (title, best, latest when worse than best)


@dataclass(frozen=True)
class Progress:
    """What `progress()` returns: shown as a table in a notebook and as text in a terminal."""

    path: Path | None
    lines: tuple[_Line, ...]
    problem: str | None = None

    def __repr__(self) -> str:
        if self.path is None:
            return f"Progress is switched off ({ENV}=off, or running under pytest)."
        out = [f"Progress in {self.path} (the best outcome of each check; predictions are not counted):"]
        if self.problem:
            out.append(self.problem)
        for line in self.lines:
            out.append(f"{line.notebook:<36} {line.done} of {line.exercises} exercises done")
            for title, best, latest in line.checks:
                later = f" (last run: {latest})" if latest else ""
                out.append(f"    {_SYMBOL[best]} {title}{later}")
        return "\n".join(out)

    def _repr_html_(self) -> str:
        if self.path is None or self.problem:
            return f"<pre>{html.escape(repr(self))}</pre>"
        rows = []
        for line in self.lines:
            checks = "<br>".join(
                f"{_SYMBOL[best]} {html.escape(title)}" + (f" <em>(last run: {latest})</em>" if latest else "")
                for title, best, latest in line.checks
            )
            rows.append(
                f"<tr><td>{html.escape(line.notebook)}</td><td>{line.done} / {line.exercises}</td>"
                f"<td style='text-align: left'>{checks}</td></tr>"
            )
        return (
            f"<p>Progress in <code>{html.escape(str(self.path))}</code> (best outcome of each check; "
            "predictions are not counted)</p><table><tr><th>Notebook</th><th>Exercises done</th>"
            f"<th>Checks</th></tr>{''.join(rows)}</table>"
        )


def progress(path: Path | None = None) -> Progress:
    """What is done, per notebook: each check's best outcome, exercises passed out of the lesson's total."""
    path = path or progress_file()
    if path is None:
        return Progress(None, ())
    try:
        recorded = load(path)
    except ValueError as exc:
        return Progress(path, (), f"{exc}. The next check will keep it as {path.name}.corrupt and start a new one.")
    lines = []
    for lesson in _lessons():
        outcomes = recorded.get(lesson, {})
        checks = lesson_checks(lesson)
        shown = []
        for check in checks:
            entry = outcomes.get(check.title)
            best = entry.get("best") if isinstance(entry, dict) else None
            best = best if best in _RANK else "not attempted"
            latest = entry.get("latest") if isinstance(entry, dict) else None
            shown.append((check.title, best, latest if latest in _RANK and latest != best else None))
        done = sum(1 for check, (_, best, _) in zip(checks, shown) if best == "passed" and not check.prediction)
        exercises = sum(1 for check in checks if not check.prediction)
        lines.append(_Line(_notebook_name(lesson), done, exercises, shown if outcomes else []))
    return Progress(path, tuple(lines))


def main(argv: list[str] | None = None) -> int:
    """`python -m labsupport progress`: print what is done, per notebook."""
    parser = argparse.ArgumentParser(prog="python -m labsupport progress", description=main.__doc__)
    parser.add_argument("--file", type=Path, help=f"the progress file (default: ${ENV}, else {DEFAULT_FILE})")
    args = parser.parse_args(argv)
    shown = progress(args.file.expanduser() if args.file else None)
    print(re.sub(r"\n{3,}", "\n\n", repr(shown)))
    return 1 if shown.problem else 0
