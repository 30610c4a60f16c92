"""Grade submitted notebooks: run each in a fresh kernel, write one CSV row and a feedback file per submission.

Introduced in the README ("For instructors", "Grading"); run as
``python -m labsupport grade PATH... --out grades.csv [--timeout S]``.

**Which exercises.** A submission's lesson is the ``labsupport.lessons.lNN_topic`` package whose
checkers its code calls most (else the ``NN-`` of its file name; ``--lesson`` overrides). The
columns are every check that lesson defines, read statically from its ``checkers.py``
(`labsupport.checks.lesson_checks`), so a deleted cell is a column all the same, in the order the
reference notebook (the committed ``notebooks/NN-topic.ipynb``, ``--reference`` overrides) calls
them. Without a reference (a lab installed without its checkout) the grader falls back on the
student's own checking lines, which an edited cell can bend: grade from a checkout.
Predict-then-run prompts get a column (the instructor sees who answered) but do not count in the
total: a prediction is meant to be a guess, and the check tells the right answer at once, so its
pass means little.

**How a submission runs.** A copy of it, prepared as below, is executed with nbclient in a fresh
kernel, in a temporary folder of its own, with ``LAB_PROGRESS_FILE`` pointing there (never at the
instructor's file), errors allowed (one broken cell does not hide the later exercises), a
per-cell timeout (``--timeout``) and a bound on the whole run (``--total-timeout``: each cell
gets at most what is left). A cell that times out, or a kernel that dies (``os._exit``, a crash),
ends the run; the kernel is killed (``shutdown_kernel="immediate"``, which kills its process
group) whatever happened. A file that is not a notebook gets its row too, every check ``error``.
The temporary folder keeps the files a submission writes away from the others; it is no sandbox:
the student's code runs with the grader's permissions (README).

**The exercise's cell.** In the reference notebook the cell that calls a check and holds a
solution region is that exercise's cell (other calls are demonstrations). Nbgrader-style, the
grader does not trust the student's copy of the checking line: in the submission's cell with the
same cell id (or, failing that, the first one calling the same checker) every statement that
calls one of the lesson's checkers is removed, and the reference's checking statements are
appended, preceded by a fresh import of the checkers from the lesson's module. A deleted cell is
re-inserted with only that checking code, after the cell that preceded it (an answer defined
elsewhere is then still checked; otherwise the exercise is "not attempted").

**Statuses.** For each exercise: the outcome recorded in the output of its cell (`passed`,
`failed`, `not attempted`), or `error` when the cell raised before the check showed a result,
or the run stopped (timeout, dead kernel) before it.

**Forgeries.** What counts is only a record (`labsupport.checks.RECORD_KEY`, in the output's
metadata) that is (1) in the exercise's cell as the grader rebuilt it, (2) for that exercise's
title and lesson, and (3) signed with a key the grader writes to a file that the kernel reads and
deletes in a first cell of the grader's, before any student code runs. So these are defeated,
each by a test in tests/test_grading.py: displaying a fake "passed" record (unsigned: ignored,
and named in the feedback); redefining the check function in the notebook (the grader re-imports
it; a student-made `checker` is not a lesson check and signs nothing); editing or deleting the
checking line (replaced by the reference's). A determined student can still forge a grade, since
the kernel runs his code with the grader's key in memory: reading the key from
``labsupport.checks._grading_key`` and signing a record himself, or patching the lesson's
checker module (or ``labsupport.checks``) in the kernel before the check runs. Grades are
therefore evidence, not proof: read the code of a surprising submission (the feedback file
notes cells that touch labsupport's internals).
"""

from __future__ import annotations

import argparse
import ast
import collections
import csv
import hmac
import os
import re
import secrets
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from labsupport.checks import RECORD_KEY, LessonCheck, lesson_checks, record_signature
from labsupport.notebooks import NOTEBOOKS_DIR
from labsupport.scratch import new_folder, sweep_folders_of_dead_processes

if TYPE_CHECKING:
    from nbformat import NotebookNode

__all__ = [
    "DEFAULT_TIMEOUT",
    "DEFAULT_TOTAL_TIMEOUT",
    "Graded",
    "Outcome",
    "grade",
    "feedback_path",
    "grade_notebook",
    "lesson_of",
    "main",
    "prepare",
    "write_csv",
]

DEFAULT_TIMEOUT = 120
"""Seconds one cell may run (``--timeout``)."""
DEFAULT_TOTAL_TIMEOUT = 900
"""Seconds a whole submission may run (``--total-timeout``)."""

_SCRATCH_PREFIX = "lab-grade-"
_LESSON_RE = re.compile(r"labsupport\.lessons\.(l\d\d_\w+)")
_SUSPICIOUS = re.compile(
    r"_grading_key|_arm_grading|\._record\b|RECORD_KEY|backend_lab_check|record_signature|labsupport\.checks"
    r"|labsupport\.lessons\.\w+\.checkers|sys\.modules|__code__|__module__"
)
_SYMBOL = {"passed": "✔", "failed": "✘", "not attempted": "○", "error": "!"}


@dataclass(frozen=True)
class Outcome:
    """One exercise of one submission: its status and the message behind it (hint, reason)."""

    status: str  # passed, failed, not attempted, error
    message: str = ""


@dataclass
class Graded:
    """One submission graded: its outcome per check title, in the lesson's column order."""

    path: Path
    lesson: str | None
    checks: list[LessonCheck]
    outcomes: dict[str, Outcome]
    notes: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        """Exercises passed (predictions not counted)."""
        return sum(1 for c in self.checks if not c.prediction and self.outcomes[c.title].status == "passed")

    @property
    def exercises(self) -> int:
        return sum(1 for c in self.checks if not c.prediction)


# --- which lesson, which cells -----------------------------------------------------------------


def _lessons() -> list[str]:
    root = Path(__file__).resolve().parent / "lessons"
    return sorted(p.parent.name for p in root.glob("l[0-9][0-9]_*/checkers.py"))


def lesson_of(path: Path, text: str | None) -> str | None:
    """The lesson a submission belongs to: the lesson package whose checkers its code calls most
    (a notebook also imports other lessons' machinery), else the ``NN-`` in its file name."""
    if text is not None:
        votes: collections.Counter[str] = collections.Counter()
        for lesson in set(_LESSON_RE.findall(text)):
            votes[lesson] = sum(len(re.findall(rf"\b{c.name}\s*\(", text)) for c in lesson_checks(lesson))
        if votes and votes.most_common(1)[0][1] > 0:
            return votes.most_common(1)[0][0]
    number = re.search(r"(?:^|\D)(\d\d)(?:-|\.ipynb$)", path.name)
    if number:
        return next((lesson for lesson in _lessons() if lesson[1:3] == number.group(1)), None)
    return None


def _reference_path(lesson: str) -> Path | None:
    found = sorted(NOTEBOOKS_DIR.glob(f"{lesson[1:3]}-*.ipynb"))
    return found[0] if found else None


def _python(source: str) -> ast.Module | None:
    """The cell as Python (IPython's %magics turned into calls), or None if it does not parse."""
    from IPython.core.inputtransformer2 import TransformerManager

    try:
        return ast.parse(TransformerManager().transform_cell(source))
    except (SyntaxError, ValueError):
        return None


def _called(node: ast.AST, names: set[str]) -> list[str]:
    return [
        n.func.id
        for n in ast.walk(node)
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id in names
    ]


@dataclass
class _Exercise:
    """A reference cell that checks: its id, position, and the checking statements."""

    cell_id: str | None
    index: int
    names: list[str]
    statements: list[str]


def _reference_exercises(reference: NotebookNode, checks: list[LessonCheck]) -> dict[str, _Exercise]:
    """Check function name -> the reference cell that is that exercise's (see the module docstring)."""
    names = {c.name for c in checks}
    found: dict[str, _Exercise] = {}
    for index, cell in enumerate(reference.cells):
        if cell.cell_type != "code":
            continue
        tree = _python(cell.source)
        if tree is None:
            continue
        statements = [s for s in tree.body if _called(s, names)]
        if not statements:
            continue
        exercise = _Exercise(
            cell.get("id"),
            index,
            [n for s in statements for n in _called(s, names)],
            [ast.unparse(s) for s in statements],
        )
        has_solution = "### BEGIN SOLUTION" in cell.source
        for name in exercise.names:
            if name not in found or has_solution:
                found[name] = exercise
    return found


def _checking_code(lesson: str, exercise: _Exercise) -> str:
    """The grader's own checking lines: a fresh import of the checkers, and each call displayed."""
    names = ", ".join(sorted(set(exercise.names)))
    lines = [
        "# ---- added by the grader: the reference notebook's check, with the lesson's own checker ----",
        f"from labsupport.lessons.{lesson}.checkers import {names}",
        "from IPython.display import display as _grader_display",
    ]
    for statement in exercise.statements:
        tree = ast.parse(statement).body[0]
        lines.append(f"_grader_display({ast.unparse(tree.value)})" if isinstance(tree, ast.Expr) else statement)
    return "\n".join(lines)


def _without_checks(source: str, names: set[str]) -> str:
    """`source` without its top-level statements that call a checker (they are the grader's to add)."""
    tree = _python(source)
    if tree is None:
        return source  # it will fail as the student left it: an error for this exercise
    lines = source.splitlines()
    drop: set[int] = set()
    for statement in tree.body:
        if _called(statement, names) and statement.end_lineno is not None:
            drop.update(range(statement.lineno - 1, statement.end_lineno))
    return "\n".join(line for number, line in enumerate(lines) if number not in drop)


@dataclass
class _Plan:
    """Where each exercise's check runs in the prepared notebook."""

    cells: dict[str, int]  # check title -> cell index
    inserted: set[int]  # cells the grader inserted (the student's was deleted)


def prepare(
    submission: NotebookNode, reference: NotebookNode | None, lesson: str, key_file: str
) -> tuple[NotebookNode, _Plan]:
    """The notebook the grader runs for `submission` (which is left unchanged), and where its checks are."""
    import copy

    import nbformat

    nb = nbformat.from_dict(copy.deepcopy(dict(submission)))
    checks = lesson_checks(lesson)
    names = {c.name for c in checks}
    title_of = {c.name: c.title for c in checks}
    exercises = _reference_exercises(reference, checks) if reference is not None else {}
    if reference is None:  # no reference: the student's own cells that call a checker
        for index, cell in enumerate(nb.cells):
            tree = _python(cell.source) if cell.cell_type == "code" else None
            for statement in (tree.body if tree else []):
                for name in _called(statement, names):
                    exercises[name] = _Exercise(cell.get("id"), index, [name], [ast.unparse(statement)])
    ids = [cell.get("id") for cell in nb.cells]
    placed: dict[int, list[_Exercise]] = collections.defaultdict(list)  # submission cell -> its exercises
    after: dict[int, list[_Exercise]] = collections.defaultdict(list)  # deleted ones, by the cell they follow
    for exercise in {id(e): e for e in exercises.values()}.values():
        target = None
        if exercise.cell_id in ids and nb.cells[ids.index(exercise.cell_id)].cell_type == "code":
            target = ids.index(exercise.cell_id)
        else:
            for index, cell in enumerate(nb.cells):
                if cell.cell_type == "code" and any(re.search(rf"\b{n}\s*\(", cell.source) for n in exercise.names):
                    target = index
                    break
        if target is not None:
            placed[target].append(exercise)
            continue
        anchor = len(nb.cells) - 1  # no earlier cell left: at the end
        for earlier in reversed(reference.cells[: exercise.index] if reference is not None else []):
            if earlier.get("id") in ids:
                anchor = ids.index(earlier.get("id"))
                break
        after[anchor].append(exercise)
    arm = nbformat.v4.new_code_cell(
        f"import labsupport.checks as _grader_checks\n_grader_checks._arm_grading({key_file!r})\ndel _grader_checks"
    )
    cells = [arm]
    plan = _Plan({}, set())
    for index, cell in enumerate([*nb.cells, None] if not nb.cells else nb.cells):
        if cell is not None:
            if placed.get(index):
                cell.source = "\n".join(
                    [_without_checks(cell.source, names), *(_checking_code(lesson, e) for e in placed[index])]
                )
                plan.cells.update({title_of[n]: len(cells) for e in placed[index] for n in e.names})
            cells.append(cell)
        for exercise in after.get(index, []) + (after.get(-1, []) if index == max(len(nb.cells) - 1, 0) else []):
            plan.cells.update({title_of[n]: len(cells) for n in exercise.names})
            plan.inserted.add(len(cells))
            cells.append(nbformat.v4.new_code_cell(_checking_code(lesson, exercise)))
    nb.cells = cells
    return nb, plan


# --- running and reading -----------------------------------------------------------------------


class _WholeRunTimeout(Exception):
    """The bound on a whole submission's run is reached (raised before the next cell starts)."""


def _run(nb: NotebookNode, folder: Path, timeout: int, total_timeout: int) -> tuple[int, str | None]:
    """Execute `nb` in place; return the index of the last cell started and why the run stopped (or None)."""
    from jupyter_core.utils import ensure_async, run_sync
    from nbclient import NotebookClient

    deadline = time.monotonic() + total_timeout
    started = {"index": -1}

    def cell_timeout(cell: Any) -> int:
        left = int(deadline - time.monotonic())
        return max(1, min(timeout, left))

    def on_start(cell: Any, cell_index: int) -> None:
        started["index"] = cell_index
        if time.monotonic() >= deadline:
            raise _WholeRunTimeout(f"the whole notebook took more than {total_timeout} s")

    env = dict(os.environ, LAB_PROGRESS_FILE=str(folder / "progress.json"))
    env.pop("PYTEST_CURRENT_TEST", None)
    client = NotebookClient(
        nb,
        timeout=timeout,
        timeout_func=cell_timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(folder)}},
        allow_errors=True,
        shutdown_kernel="immediate",
        startup_timeout=60,
        on_cell_start=on_start,
    )
    reason = None
    try:
        client.execute(env=env, stderr=subprocess.DEVNULL)  # the kernel's own log lines are noise here
    except Exception as exc:  # a timeout, a dead kernel, a kernel that never started: the row still comes
        name = type(exc).__name__
        reason = {
            "CellTimeoutError": f"a cell ran longer than {timeout} s (or the whole run than {total_timeout} s)",
            "DeadKernelError": "the kernel died (the notebook crashed it or exited)",
        }.get(name, f"{name}: {str(exc).strip().splitlines()[0] if str(exc).strip() else ''}")
        if isinstance(exc, _WholeRunTimeout):
            reason = str(exc)
    finally:  # nbclient shuts its kernel down itself; this is in case it could not (killed, whatever happened)
        km = client.km
        if km is not None and km.has_kernel:
            run_sync(ensure_async)(km.shutdown_kernel(now=True))  # an AsyncKernelManager: a coroutine
    return started["index"], reason


def _records(cell: Any) -> list[dict[str, Any]]:
    return [
        output["metadata"][RECORD_KEY]
        for output in cell.get("outputs", [])
        if isinstance(output.get("metadata"), dict) and isinstance(output["metadata"].get(RECORD_KEY), dict)
    ]


def _error(cell: Any) -> str | None:
    for output in cell.get("outputs", []):
        if output.get("output_type") == "error":
            return f"{output.get('ename')}: {output.get('evalue')}"[:300]
    return None


def _read_outcomes(
    nb: NotebookNode, plan: _Plan, lesson: str, checks: list[LessonCheck], key: bytes, last: int, stopped: str | None
) -> tuple[dict[str, Outcome], list[str]]:
    outcomes: dict[str, Outcome] = {}
    notes: list[str] = []
    unsigned: collections.Counter[tuple[str, str]] = collections.Counter()
    for cell in nb.cells:
        for record in _records(cell):
            signature = record.get("signature")
            if not isinstance(signature, str) or not hmac.compare_digest(signature, record_signature(key, record)):
                unsigned[(str(record.get("title")), str(record.get("status")))] += 1
    for (title, status), times in unsigned.items():
        notes.append(
            f"A check result without the grader's signature ({title!r}: {status}) was shown {times} time(s), "
            "not by the lesson's checker: ignored."
        )
    for check in checks:
        if check.title not in plan.cells:
            outcomes[check.title] = Outcome("not attempted", "The notebook has no cell for this check.")
            continue
        index = plan.cells[check.title]
        cell = nb.cells[index]
        valid = [
            r
            for r in _records(cell)
            if r.get("lesson") == lesson
            and r.get("title") == check.title
            and isinstance(r.get("signature"), str)
            and hmac.compare_digest(r["signature"], record_signature(key, r))
        ]
        error = _error(cell)
        if valid:
            outcomes[check.title] = Outcome(str(valid[-1]["status"]), str(valid[-1].get("message", "")))
        elif index in plan.inserted and (error or "").startswith("NameError"):
            outcomes[check.title] = Outcome("not attempted", f"The exercise's cell was deleted ({error}).")
        elif error:
            outcomes[check.title] = Outcome("error", f"The cell raised before the check ran: {error}")
        elif index > last or (index == last and stopped):
            outcomes[check.title] = Outcome("error", f"The notebook stopped before this check: {stopped}.")
        else:
            outcomes[check.title] = Outcome("error", "The check ran but showed no result.")
    return outcomes, notes


def _text(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def grade_notebook(
    path: Path,
    *,
    lesson: str | None = None,
    reference: Path | None = None,
    timeout: int = DEFAULT_TIMEOUT,
    total_timeout: int = DEFAULT_TOTAL_TIMEOUT,
) -> Graded:
    """Run one submission (see the module docstring) and return its outcomes; never raises for a bad submission."""
    import nbformat

    text = _text(path)
    lesson = lesson or lesson_of(path, text)
    checks = lesson_checks(lesson) if lesson else []
    try:
        if text is None:
            raise ValueError("the file cannot be read as text")
        submission = nbformat.reads(text, as_version=4)
    except Exception as exc:
        reason = f"Not a notebook ({type(exc).__name__}: {str(exc).splitlines()[0][:200] if str(exc) else ''})."
        return Graded(path, lesson, checks, {c.title: Outcome("error", reason) for c in checks}, [reason])
    if lesson is None:
        return Graded(path, None, [], {}, ["Cannot tell which lesson this notebook is (use --lesson)."])
    reference = reference or _reference_path(lesson)
    reference_nb = nbformat.read(reference, as_version=4) if reference is not None and reference.exists() else None
    sweep_folders_of_dead_processes(_SCRATCH_PREFIX)
    folder = new_folder(_SCRATCH_PREFIX)
    try:
        key = secrets.token_bytes(32)
        key_file = folder / "grading.key"
        key_file.write_bytes(key)
        nb, plan = prepare(submission, reference_nb, lesson, str(key_file))
        last, stopped = _run(nb, folder, timeout, total_timeout)
        outcomes, notes = _read_outcomes(nb, plan, lesson, checks, key, last, stopped)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    if stopped:
        notes.append(f"The run stopped: {stopped}.")
    suspicious = [i for i, c in enumerate(submission.cells) if c.cell_type == "code" and _SUSPICIOUS.search(c.source)]
    if suspicious:
        notes.append(f"Cells {suspicious} touch labsupport's checking internals: read them before trusting this grade.")
    # Columns in the order the reference notebook checks (a check it never calls: last, in file order).
    called = {name: e.index for name, e in _reference_exercises(reference_nb, checks).items()} if reference_nb else {}
    ordered = sorted(checks, key=lambda c: (called.get(c.name, len(reference_nb.cells) if reference_nb else 0),))
    return Graded(path, lesson, ordered, outcomes, notes)


# --- output ------------------------------------------------------------------------------------


def _label(graded: Graded, root: Path | None) -> str:
    if root is not None:
        try:
            return str(graded.path.relative_to(root))
        except ValueError:
            pass
    return str(graded.path)


def write_csv(rows: list[Graded], out: Path, labels: dict[int, str]) -> None:
    """One row per submission (its file first), one column per check, then the total."""
    checks = rows[0].checks
    with out.open("w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(["file", *(c.title for c in checks), f"total (of {rows[0].exercises})"])
        for graded in rows:
            writer.writerow([labels[id(graded)], *(graded.outcomes[c.title].status for c in checks), graded.total])


def _feedback(graded: Graded, label: str) -> str:
    lines = [f"Feedback for {label}", ""]
    if graded.checks:
        lines.append(f"Exercises passed: {graded.total} of {graded.exercises} (predictions are not counted).")
        lines.append("")
    for check in graded.checks:
        outcome = graded.outcomes[check.title]
        lines.append(f"{_SYMBOL[outcome.status]} {outcome.status} — {check.title}")
        if outcome.message:
            prefix = "Hint: " if outcome.status == "failed" else ""
            lines.append(f"    {prefix}{outcome.message}")
    if graded.notes:
        lines += ["", "Notes:", *(f"- {note}" for note in graded.notes)]
    return "\n".join(lines) + "\n"


def feedback_path(folder: Path, label: str) -> Path:
    """``<folder>/<label>.txt``, always inside `folder` (an absolute label or ``..`` does not lead out)."""
    parts = [part for part in Path(label).parts if part not in ("..", ".", Path(label).anchor)]
    return folder.joinpath(*parts[:-1], f"{parts[-1] if parts else 'submission'}.txt")


def _submissions(paths: list[Path]) -> list[tuple[Path, Path | None]]:
    """(notebook, the folder it was found in or None) for files and folders (searched recursively)."""
    found: list[tuple[Path, Path | None]] = []
    for path in paths:
        if path.is_dir():
            for notebook in sorted(path.rglob("*.ipynb")):
                if ".ipynb_checkpoints" not in notebook.parts:
                    found.append((notebook, path))
        else:
            found.append((path, None))
    return found


def grade(
    paths: list[Path],
    out: Path,
    *,
    lesson: str | None = None,
    reference: Path | None = None,
    timeout: int = DEFAULT_TIMEOUT,
    total_timeout: int = DEFAULT_TOTAL_TIMEOUT,
    feedback: Path | None = None,
    log: Any = None,
) -> dict[str, Path]:
    """Grade every submission; write the CSV(s) and feedback files. Returns {lesson: CSV written}.

    One CSV per lesson: `out` itself when all submissions are of one lesson, else
    ``<out stem>-<NN-topic>.csv`` beside it (each lesson has its own columns). Feedback files go to
    `feedback` (default: ``<out stem>-feedback/`` beside `out`), one ``<submission>.txt`` each,
    mirroring the submissions' folders.
    """
    log = log or (lambda line: None)
    graded: list[tuple[Graded, str]] = []
    reference_lesson = lesson_of(reference, reference.read_text(encoding="utf-8")) if reference else None
    for path, root in _submissions(paths):
        started = time.monotonic()
        result = grade_notebook(
            path,
            lesson=lesson,
            # the reference given serves its own lesson's submissions; the others use the checkout's
            reference=reference if reference_lesson == (lesson or lesson_of(path, _text(path))) else None,
            timeout=timeout,
            total_timeout=total_timeout,
        )
        label = _label(result, root.parent if root is not None else None)
        statuses = ", ".join(f"{o.status}" for o in (result.outcomes[c.title] for c in result.checks))
        log(f"{label}: {result.total}/{result.exercises} [{statuses}] in {time.monotonic() - started:.1f} s")
        graded.append((result, label))
    lessons = sorted({g.lesson or "unknown" for g, _ in graded})
    if len(lessons) == 2 and "unknown" in lessons:  # with one lesson only, a file of no lesson is assumed to be of it
        known = next(lesson_ for lesson_ in lessons if lesson_ != "unknown")
        for g, _ in graded:
            if g.lesson is None:
                g.lesson = known
                g.checks = next(r.checks for r, _ in graded if r.lesson == known and r.checks)
                g.outcomes = {c.title: Outcome("error", " ".join(g.notes)) for c in g.checks}
        lessons = [known]
    feedback = feedback or out.with_name(f"{out.stem}-feedback")
    out.parent.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    for lesson_ in lessons:
        rows = [g for g, _ in graded if (g.lesson or "unknown") == lesson_]
        labels = {id(g): label for g, label in graded}
        target = out if len(lessons) == 1 else out.with_name(f"{out.stem}-{_notebook_stem(lesson_)}{out.suffix}")
        if lesson_ != "unknown":
            rows = _same_columns(rows)
            write_csv(rows, target, labels)
            written[lesson_] = target
        for g in rows:
            file = feedback_path(feedback, labels[id(g)])
            file.parent.mkdir(parents=True, exist_ok=True)
            file.write_text(_feedback(g, labels[id(g)]), encoding="utf-8")
    return written


def _same_columns(rows: list[Graded]) -> list[Graded]:
    """Every row of one lesson in the first row's column order (the same reference gives the same order)."""
    order = rows[0].checks
    for row in rows:
        row.checks = order
    return rows


def _notebook_stem(lesson: str) -> str:
    reference = _reference_path(lesson) if lesson != "unknown" else None
    return reference.stem if reference is not None else lesson


def main(argv: list[str] | None = None) -> int:
    """`python -m labsupport grade PATH... --out grades.csv`: run submitted notebooks and grade their exercises."""
    parser = argparse.ArgumentParser(prog="python -m labsupport grade", description=main.__doc__)
    parser.add_argument("paths", nargs="+", type=Path, help="submitted notebooks, or folders holding them")
    parser.add_argument("--out", type=Path, required=True, help="the CSV to write (one per lesson if several)")
    parser.add_argument("--timeout", type=int, default=DEFAULT_TIMEOUT, help="seconds one cell may run")
    parser.add_argument(
        "--total-timeout", type=int, default=DEFAULT_TOTAL_TIMEOUT, help="seconds one whole submission may run"
    )
    parser.add_argument("--lesson", help="the lesson of every submission, e.g. l04_sql (default: from each notebook)")
    parser.add_argument("--reference", type=Path, help="the reference notebook (default: the checkout's notebooks/)")
    parser.add_argument("--feedback", type=Path, help="folder for the feedback files (default: <out>-feedback/)")
    args = parser.parse_args(argv)
    if args.lesson and not lesson_checks(args.lesson):
        parser.error(f"no lesson {args.lesson!r} with checks (labsupport/lessons/)")
    if args.reference and not args.reference.is_file():
        parser.error(f"no reference notebook {args.reference}")
    missing = [str(path) for path in args.paths if not path.exists()]
    if missing:
        parser.error(f"not found: {', '.join(missing)}")
    written = grade(
        args.paths,
        args.out,
        lesson=args.lesson,
        reference=args.reference,
        timeout=args.timeout,
        total_timeout=args.total_timeout,
        feedback=args.feedback,
        log=lambda line: print(line, file=sys.stderr),
    )
    for path in written.values():
        print(path.read_text(encoding="utf-8"), end="")
        print(f"(written to {path})", file=sys.stderr)
    return 0 if written else 1
