"""The notebooks as a whole. nbval (configured in pyproject.toml) re-runs each one and compares
every stored output; these tests check what nbval cannot: that stored outputs come from a clean
`make notebooks` run, that the student version runs, and that notebooks survive being run twice
in one kernel and side by side."""

import asyncio
import copy

import nbformat
import pytest
from nbclient import NotebookClient

from labsupport.notebooks import NOTEBOOKS_DIR, clean, contents, notebook_paths
from labsupport.student import student_notebook

NOTEBOOKS = notebook_paths()
pytestmark = pytest.mark.timeout(300)


def _client(nb, cwd) -> NotebookClient:
    return NotebookClient(nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(cwd)}})


def _code_cells(nb):
    return [cell for cell in nb.cells if cell.cell_type == "code"]


def test_there_are_notebooks():
    assert [p.name for p in NOTEBOOKS][:1] == ["00-start-here.ipynb"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_stored_outputs_come_from_a_clean_run(path):
    nb = nbformat.read(path, as_version=4)
    cells = _code_cells(nb)
    assert [c.execution_count for c in cells] == list(range(1, len(cells) + 1)), "run `make notebooks`"
    for index, cell in enumerate(cells):
        assert "execution" not in cell.metadata, f"cell {index}: timestamps left in metadata"
        for output in cell.outputs:
            assert output.output_type != "error", f"cell {index} stored an error"
            assert output.get("name") != "stderr", f"cell {index} stored stderr: {output.get('text')!r}"
            data = output.get("data", {})
            assert "<Figure" not in data.get("text/plain", "") or "image/png" in data, f"cell {index}: empty figure"
        kinds = [(o.output_type, o.get("name")) for o in cell.outputs]
        assert all(a != b or a[0] != "stream" for a, b in zip(kinds, kinds[1:])), f"cell {index}: split stream"


def test_contents_table_in_start_here_is_current():
    nb = nbformat.read(NOTEBOOKS_DIR / "00-start-here.ipynb", as_version=4)
    stored = [
        output.data["text/markdown"]
        for cell in _code_cells(nb)
        if "contents()" in cell.source
        for output in cell.outputs
        if "text/markdown" in output.get("data", {})
    ]
    assert stored == [contents().data], "re-run 00-start-here (`make notebooks`) after adding a notebook"


def _student_then_solutions(path):
    """The student version, then the committed one, as one notebook: a student's Run All with
    the exercises unanswered, then Run All again in the same kernel with the answers in."""
    teacher = nbformat.read(path, as_version=4)
    student = student_notebook(teacher, name=path.name)
    both = copy.deepcopy(student)
    both.cells = student.cells + copy.deepcopy(teacher.cells)
    return teacher, both


def _assert_unanswered_exercises_say_so(teacher, student_cells):
    code = [i for i, cell in enumerate(teacher.cells) if cell.cell_type == "code"]
    for position, index in enumerate(code):
        if "### BEGIN SOLUTION" not in teacher.cells[index].source:
            continue
        # The exercise's check is in the solution's cell or the next code cell.
        shown = [student_cells[i] for i in code[position : position + 2]]
        text = "\n".join(str(o.get("data", {}).get("text/plain", "")) for c in shown for o in c.outputs)
        assert "not attempted yet" in text, f"cell {index}: the unanswered exercise does not say so"
        assert "✔ passed" not in text, f"cell {index}: a placeholder answer passed its check"


# Each notebook is executed twice in all: once by nbval (outputs compared, in a fresh kernel) and
# once here, where one execution covers three things an instructor relies on: the student
# version runs top to bottom (every check "not attempted yet"), Run All a second time in the
# same kernel works (the committed version follows in that kernel), and two students' kernels
# can run side by side on one machine (the notebooks run in pairs, at once; their claims hold
# strict with the other kernel busy).
PAIRS = [NOTEBOOKS[i : i + 2] for i in range(0, len(NOTEBOOKS), 2)]


@pytest.mark.parametrize("pair", PAIRS, ids=lambda pair: "+".join(p.stem for p in pair))
def test_student_version_then_solutions_in_one_kernel_two_notebooks_at_once(pair):
    runs = [(path, *_student_then_solutions(path)) for path in pair]

    async def run_side_by_side():
        await asyncio.gather(*(_client(both, path.parent).async_execute() for path, _, both in runs))

    asyncio.run(run_side_by_side())  # raises CellExecutionError on the first failing cell
    for _path, teacher, both in runs:
        _assert_unanswered_exercises_say_so(teacher, both.cells[: len(teacher.cells)])


def test_notebooks_are_paired_for_the_side_by_side_runs():
    assert [path for pair in PAIRS for path in pair] == NOTEBOOKS
    assert all(1 <= len(pair) <= 2 for pair in PAIRS)


def _write_notebook(path, heading):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(heading), nbformat.v4.new_code_cell("1")])
    nbformat.write(nb, path)


def test_contents_lists_numbered_notebooks_in_order_with_titles(tmp_path):
    _write_notebook(tmp_path / "01-http.ipynb", "# 01 · HTTP on the wire\n\ntext")
    _write_notebook(tmp_path / "00-start-here.ipynb", "Intro without heading\n## 00 · Start here")
    _write_notebook(tmp_path / "notes.ipynb", "# not a lesson")
    table = contents(tmp_path).data.splitlines()
    assert table[2:] == [
        "| 00 | Start here | [00-start-here.ipynb](00-start-here.ipynb) |",
        "| 01 | HTTP on the wire | [01-http.ipynb](01-http.ipynb) |",
    ]


def test_notebook_paths_are_in_number_order_whatever_the_folder_lists_first(tmp_path):
    """(Mutation that failed this: notebook_paths without sorted(); a folder of two files
    happened to list them in order.)"""
    import random

    names = [f"{n:02d}-topic.ipynb" for n in range(40)]
    random.Random(7).shuffle(names)
    for name in names:
        _write_notebook(tmp_path / name, "# x")
    assert [p.name for p in notebook_paths(tmp_path)] == sorted(names)


def test_clean_joins_the_pieces_of_one_stream_and_keeps_others_apart():
    """The kernel flushes printed text when it likes: a busy run stores one print as two pieces.
    (Mutation that failed this: _joined_streams returning its input.)"""
    cell = nbformat.v4.new_code_cell("print(1); print(2)")
    cell.outputs = [
        nbformat.v4.new_output("stream", name="stdout", text="1\n"),
        nbformat.v4.new_output("stream", name="stdout", text="2\n"),
        nbformat.v4.new_output("execute_result", data={"text/plain": "3"}, execution_count=1),
        nbformat.v4.new_output("stream", name="stdout", text="4\n"),
        nbformat.v4.new_output("stream", name="stderr", text="5\n"),
    ]
    outputs = clean(nbformat.v4.new_notebook(cells=[cell])).cells[0].outputs
    assert [(o.output_type, o.get("name"), o.get("text")) for o in outputs] == [
        ("stream", "stdout", "1\n2\n"),
        ("execute_result", None, None),
        ("stream", "stdout", "4\n"),
        ("stream", "stderr", "5\n"),
    ]


def test_clean_drops_execution_timestamps_only():
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1")])
    nb.cells[0].metadata["execution"] = {"iopub.execute_input": "2026-11-23T19:00:00Z"}
    nb.cells[0].metadata["tags"] = ["keep"]
    assert clean(nb).cells[0].metadata == {"tags": ["keep"]}
