"""Tests for labsupport.grading: real submissions run in real kernels, each failure mode, each forgery.

One folder of small submissions, built here from a small reference notebook that uses 00-start-here's
real checkers on a small bookshop, is graded once (`graded`); each test reads its own rows. Then
one run of the real student build of 00-start-here, and the bound on a whole run.
"""

from __future__ import annotations

import copy
import csv
import os
import time
from pathlib import Path

import nbformat
import pytest

from labsupport import grading
from labsupport.checks import lesson_checks
from labsupport.notebooks import NOTEBOOKS_DIR
from labsupport.student import student_notebook

PREDICTION, EX1, EX2 = (check.title for check in lesson_checks("l00_start_here"))
TIMEOUT = 6  # seconds per cell: the setup cell takes ~2 s; the endless loop costs this much

SETUP = """\
from labsupport import serve, stop_all
from labsupport.apps.bookshop import create_app
from labsupport.lessons.l00_start_here import check_database_share, check_prediction, check_slowest_layer

shop = serve(create_app(orders=300), name="bookshop")"""
CELLS = {
    "setup": SETUP,
    "prediction": """\
### BEGIN SOLUTION
mostly_database = {"/api/books/1": False, "/api/reports/bestsellers": True}
### END SOLUTION
check_prediction(mostly_database, shop)""",
    "ex1": """\
### BEGIN SOLUTION
def database_share(trace):
    return trace.database / trace.total
### END SOLUTION
check_database_share(database_share, shop)""",
    "ex2": '''\
def slowest_layer(trace):
    """The layer where `trace` spent the most time."""
    ### BEGIN SOLUTION
    times = trace.layers()
    return max(times, key=times.get)
    ### END SOLUTION


check_slowest_layer(slowest_layer, shop)''',
    "end": "stop_all()",
}
CORRECT_SLOWEST = "def slowest_layer(trace):\n    times = trace.layers()\n    return max(times, key=times.get)\n"

FAKE_RECORDS = """\
from IPython.display import display

def _fake(result):
    for title in ["Exercise 1: the database's share of a trace", "Exercise 2: fix the slowest-layer helper"]:
        record = {"lesson": "l00_start_here", "title": title, "status": "passed", "message": "", "signature": "0" * 64}
        display({"text/plain": "✔ passed — " + title}, raw=True, metadata={"backend_lab_check": record})

get_ipython().events.register("post_run_cell", _fake)"""

REDEFINED = '''\
from labsupport import checker
from labsupport.checks import Result

@checker("Exercise 1: the database's share of a trace")
def check_database_share(function, server):
    return "Right."

def check_slowest_layer(function, server):
    return Result("passed", "Exercise 2: fix the slowest-layer helper")'''


def _reference() -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_markdown_cell("# 00 · A small test notebook", id="title")]
    nb.cells += [nbformat.v4.new_code_cell(source, id=cell_id) for cell_id, source in CELLS.items()]
    return nb


def _edited(nb: nbformat.NotebookNode, **sources: str | None) -> nbformat.NotebookNode:
    """A copy of `nb` with the cells of these ids given new sources (None: the cell deleted)."""
    nb = copy.deepcopy(nb)
    nb.cells = [cell for cell in nb.cells if sources.get(cell.id, "") is not None]
    for cell in nb.cells:
        if cell.id in sources:
            cell.source = sources[cell.id]
    return nb


def _after(nb: nbformat.NotebookNode, cell_id: str, source: str) -> nbformat.NotebookNode:
    nb = copy.deepcopy(nb)
    index = [cell.id for cell in nb.cells].index(cell_id)
    nb.cells.insert(index + 1, nbformat.v4.new_code_cell(source, id=f"added-{len(nb.cells)}"))
    return nb


def _kernel_children() -> list[str]:
    """Command lines of this process's children that are kernels (read from /proc)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parent = int(stat.read_text().rsplit(")", 1)[1].split()[1])
            command = (stat.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except (OSError, ValueError, IndexError):
            continue
        if parent == os.getpid() and "ipykernel" in command:
            found.append(command)
    return found


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """Grade one folder of submissions with the CLI; {label: {column: value}}, the feedback folder, and more."""
    root = tmp_path_factory.mktemp("grading")
    reference = _reference()
    nbformat.write(reference, root / "00-reference.ipynb")
    student = student_notebook(reference, name="reference")
    wrong_setup = SETUP + '\nopen("left-behind.txt", "w").write("written in the working folder")'
    submissions = {
        "solved": reference,
        "student": student,
        "wrong": _edited(
            student,
            setup=wrong_setup,
            ex1="def database_share(trace):\n    return trace.database\ncheck_database_share(database_share, shop)",
        ),
        "forged": _after(_after(student, "setup", FAKE_RECORDS), "setup", REDEFINED),
        "edited": _edited(
            student,
            ex1="database_share = ...\ncheck_database_share(lambda trace: trace.database / trace.total, shop)",
            ex2=CORRECT_SLOWEST + "check_slowest_layer(slowest_layr, shop)",  # a typo in the check line
        ),
        "deleted": _edited(student, ex1=None, ex2=None, setup=SETUP + "\n\n" + CORRECT_SLOWEST),
        "loops": _edited(reference, ex1="while True:\n    pass\n" + CELLS["ex1"]),
        "crashes": _edited(reference, ex1="import os\nos._exit(3)\n" + CELLS["ex1"]),
    }
    folder = root / "class"
    (folder / "bob").mkdir(parents=True)
    for name, nb in submissions.items():
        nbformat.write(nb, folder / f"{name}-00.ipynb")
    nbformat.write(student, folder / "bob" / "solved-00.ipynb")  # the same notebook twice, in two folders
    (folder / "not-json-00.ipynb").write_text('{"cells": [', encoding="utf-8")
    other = nbformat.v4.new_notebook()
    other.cells = [
        nbformat.v4.new_code_cell(
            "from labsupport.lessons.l01_http import check_status_class\n\n"
            "def status_class(code):\n    ...\n\ncheck_status_class(status_class)"
        )
    ]
    nbformat.write(other, folder / "http.ipynb")
    instructor_progress = root / "instructor-progress.json"
    saved = os.environ.get("LAB_PROGRESS_FILE")
    os.environ["LAB_PROGRESS_FILE"] = str(instructor_progress)
    try:
        out = root / "grades.csv"
        status = grading.main(
            [str(folder), "--out", str(out), "--timeout", str(TIMEOUT), "--reference", str(root / "00-reference.ipynb")]
        )
    finally:
        os.environ["LAB_PROGRESS_FILE"] = saved or "off"
    rows: dict[str, dict[str, str]] = {}
    columns: dict[str, list[str]] = {}
    for lesson_file in sorted(root.glob("grades-*.csv")):
        with lesson_file.open(encoding="utf-8") as file:
            reader = csv.DictReader(file)
            columns[lesson_file.name] = list(reader.fieldnames or [])
            rows.update({row["file"]: row for row in reader})
    return {
        "status": status,
        "rows": rows,
        "columns": columns,
        "feedback": root / "grades-feedback",
        "root": root,
        "folder": folder,
        "instructor_progress": instructor_progress,
        "kernels_left": _kernel_children(),
    }


def _row(graded, name: str) -> list[str]:
    row = graded["rows"][f"class/{name}"]
    return [row[PREDICTION], row[EX1], row[EX2], row["total (of 2)"]]


def test_one_csv_per_lesson_one_row_per_submission_file_first(graded):
    """Submissions of two lessons in one folder: a CSV each, with that lesson's checks as columns.
    Mutation that failed this: `grade` writing every lesson's rows to `out` (one file, wrong columns)."""
    assert graded["status"] == 0
    assert graded["columns"]["grades-00-start-here.csv"] == ["file", PREDICTION, EX1, EX2, "total (of 2)"]
    http = graded["columns"]["grades-01-http.csv"]
    assert http[0] == "file" and set(http[1:-1]) == {c.title for c in lesson_checks("l01_http")}
    assert graded["rows"]["class/http.ipynb"][http[-1]] == "0"
    assert {graded["rows"]["class/http.ipynb"][title] for title in http[1:-1]} == {"not attempted"}
    assert sorted(graded["rows"]) == sorted(
        f"class/{name}"
        for name in [*(f"{n}-00.ipynb" for n in (
            "solved", "student", "wrong", "forged", "edited", "deleted", "loops", "crashes",
            "not-json",
        )), "bob/solved-00.ipynb", "http.ipynb"]
    )


def test_a_solved_notebook_passes_and_a_fresh_student_build_is_not_attempted(graded):
    """Mutation that failed this: `_read_outcomes` ignoring the records (every check "error")."""
    assert _row(graded, "solved-00.ipynb")[1:] == ["passed", "passed", "2"]
    assert _row(graded, "student-00.ipynb") == ["not attempted"] * 3 + ["0"]
    assert _row(graded, "bob/solved-00.ipynb") == ["not attempted"] * 3 + ["0"]


def test_a_wrong_answer_fails_with_its_hint_in_the_feedback_file(graded):
    """Mutation that failed this: `_feedback` leaving out the outcome's message."""
    assert _row(graded, "wrong-00.ipynb") == ["not attempted", "failed", "not attempted", "0"]
    feedback = (graded["feedback"] / "class" / "wrong-00.ipynb.txt").read_text(encoding="utf-8")
    assert f"✘ failed — {EX1}\n    Hint: " in feedback
    assert "that is the database time in milliseconds; divide it by trace.total" in feedback
    assert "Exercises passed: 0 of 2" in feedback


def test_submissions_run_in_a_scratch_folder_and_never_touch_the_instructors_progress(graded):
    """Mutation that failed this: `_run` not setting LAB_PROGRESS_FILE for the kernel (the
    instructor's file got the students' outcomes)."""
    assert not graded["instructor_progress"].exists()
    assert list(graded["root"].rglob("left-behind.txt")) == []
    assert not Path("left-behind.txt").exists()


def test_a_fake_record_displayed_by_the_student_is_ignored_and_reported(graded):
    """The "forged" submission: a cell hook displays a "passed" record after every cell, the
    grader's check cells included (and the check functions are redefined, next test).
    Mutation that failed this: `_read_outcomes` accepting a record without checking its signature."""
    assert _row(graded, "forged-00.ipynb") == ["not attempted"] * 3 + ["0"]
    feedback = (graded["feedback"] / "class" / "forged-00.ipynb.txt").read_text(encoding="utf-8")
    assert "without the grader's signature" in feedback and EX2 in feedback


def test_a_check_function_redefined_in_the_notebook_is_replaced_by_the_lessons_own(graded):
    """The "forged" submission defines its own check_database_share (a `checker` of its own with
    the exercise's title) and check_slowest_layer (returning a hand-made "passed" Result).
    Mutation that failed this: `_checking_code` without its fresh import of the lesson's checkers."""
    assert _row(graded, "forged-00.ipynb") == ["not attempted"] * 3 + ["0"]
    feedback = (graded["feedback"] / "class" / "forged-00.ipynb.txt").read_text(encoding="utf-8")
    assert "Replace the ... with your answer" in feedback  # the lesson's checker spoke


def test_an_edited_check_line_is_replaced_by_the_references(graded):
    """Exercise 1's call was edited to check a correct lambda instead of the (unanswered)
    database_share; exercise 2's call has a typo (NameError) after a correct answer.
    Mutation that failed this: `prepare` keeping the student's own checking lines (no `_without_checks`):
    exercise 2 was an error."""
    assert _row(graded, "edited-00.ipynb") == ["not attempted", "not attempted", "passed", "1"]


def test_deleted_exercise_cells_are_reinserted(graded):
    """Exercise 1's cell deleted (its answer gone): not attempted; exercise 2's cell deleted but the
    answer defined in another cell: still checked, and passed.
    Mutation that failed this: `prepare` not inserting cells for deleted exercises."""
    row = _row(graded, "deleted-00.ipynb")
    assert row == ["not attempted", "not attempted", "passed", "1"]
    feedback = (graded["feedback"] / "class" / "deleted-00.ipynb.txt").read_text(encoding="utf-8")
    assert "deleted" in feedback


def test_an_endless_loop_times_out_and_the_rest_is_an_error(graded):
    """Mutation that failed this: `_read_outcomes` calling an unexecuted cell "not attempted"."""
    row = _row(graded, "loops-00.ipynb")
    assert row[1:] == ["error", "error", "0"] and row[0] != "error"  # the prediction ran before the loop
    feedback = (graded["feedback"] / "class" / "loops-00.ipynb.txt").read_text(encoding="utf-8")
    assert f"longer than {TIMEOUT} s" in feedback


def test_a_crashed_kernel_and_a_file_that_is_no_notebook_still_get_their_rows(graded):
    """Mutation that failed this: `_run` letting DeadKernelError through (grading stopped)."""
    assert _row(graded, "crashes-00.ipynb")[1:] == ["error", "error", "0"]
    assert "kernel died" in (graded["feedback"] / "class" / "crashes-00.ipynb.txt").read_text(encoding="utf-8")
    assert _row(graded, "not-json-00.ipynb") == ["error"] * 3 + ["0"]
    assert "Not a notebook" in (graded["feedback"] / "class" / "not-json-00.ipynb.txt").read_text(encoding="utf-8")


def test_no_kernel_is_left_running(graded):
    """Mutation that failed this: `client.execute(..., cleanup_kc=False)`, the kill in `_run`'s `finally` removed."""
    assert graded["kernels_left"] == []


def test_the_real_student_build_of_00_through_the_grader(tmp_path):
    """The committed notebook's student build, renamed as a student might, graded against the
    committed reference (the default).
    Mutation that failed this: `lesson_of` not reading the notebook's code (only its file name)."""
    nb = student_notebook(nbformat.read(NOTEBOOKS_DIR / "00-start-here.ipynb", as_version=4), name="00")
    nbformat.write(nb, tmp_path / "my-notebook.ipynb")
    result = grading.grade_notebook(tmp_path / "my-notebook.ipynb", timeout=60)
    assert result.lesson == "l00_start_here"
    assert [c.title for c in result.checks] == [PREDICTION, EX1, EX2]
    assert {o.status for o in result.outcomes.values()} == {"not attempted"} and result.notes == []


def test_the_whole_run_is_bounded_too(tmp_path):
    """A 30 s cell after two short ones, under a 60 s limit per cell but 4 s for the whole run.
    Mutation that failed this: `cell_timeout` ignoring the deadline (the run took 32 s)."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(f"import time\ntime.sleep({s})") for s in (1, 1, 30, 1)]
    started = time.monotonic()
    last, stopped = grading._run(nb, tmp_path, timeout=60, total_timeout=4)
    assert time.monotonic() - started < 15
    assert stopped is not None and last == 2
    assert _kernel_children() == []


def test_a_feedback_file_never_lands_outside_its_folder(tmp_path):
    """A submission given as an absolute path, or as ../x, still gets its feedback inside the folder.
    Mutation that failed this: `feedback_path` joining the label as it is (an absolute label escapes)."""
    folder = tmp_path / "feedback"
    for label in ("/home/alice/04-sql.ipynb", "../bob/04-sql.ipynb", "class/carol/04-sql.ipynb", "04-sql.ipynb"):
        path = grading.feedback_path(folder, label)
        assert path.is_relative_to(folder) and path.name == "04-sql.ipynb.txt"
    assert grading.feedback_path(folder, "class/carol/04-sql.ipynb") == folder / "class" / "carol" / "04-sql.ipynb.txt"


def test_the_cli_refuses_what_it_cannot_grade(tmp_path, capsys):
    """Mutation that failed this: dropping the check that every PATH exists (no CSV, no message)."""
    with pytest.raises(SystemExit):
        grading.main([str(tmp_path / "nothing-here"), "--out", str(tmp_path / "g.csv")])
    assert "not found" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        grading.main([str(tmp_path), "--out", str(tmp_path / "g.csv"), "--lesson", "l99_none"])
    assert "no lesson 'l99_none'" in capsys.readouterr().err
