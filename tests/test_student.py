"""Tests for labsupport.student: solution regions become placeholders, outputs are cleared."""

from __future__ import annotations

import copy
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from labsupport.checks import is_placeholder
from labsupport.student import build_student, main, student_notebook


def _cell(source: str) -> str:
    """The student version of one code cell's source."""
    nb = new_notebook(cells=[new_code_cell(source)])
    return student_notebook(nb, name="00-test.ipynb").cells[0].source


# --- placeholders ----------------------------------------------------------------------------


def test_assignments_become_placeholders_and_the_rest_is_kept():
    source = (
        "limit = 10\n"
        "### BEGIN SOLUTION\n"
        "answer = 'database'\n"
        "a, (b, *rest) = 1, (2, 3, 4)\n"
        "ms: float = 12.5\n"
        "answer = answer.upper()\n"
        "### END SOLUTION\n"
        "check_layer(answer)\n"
    )
    assert _cell(source) == (
        "limit = 10\n"
        "# YOUR ANSWER HERE\n"
        "answer = ...\n"
        "a = ...\n"
        "b = ...\n"
        "rest = ...\n"
        "ms = ...\n"
        "check_layer(answer)\n"
    )


def test_imports_are_bound_by_name_and_definitions_keep_their_header():
    """(Mutation that failed this: def and class treated like the other statements: `handler = ...`.)"""
    source = (
        "### BEGIN SOLUTION\n"
        "import os.path, json as js\n"
        "from collections import Counter as C\n"
        "def handler(request):\n"
        "    secret = 1\n"
        "    return secret\n"
        "class Repo:\n"
        "    table = 'books'\n"
        "### END SOLUTION"
    )
    assert _cell(source) == (
        "# YOUR ANSWER HERE\nos = ...\njs = ...\nC = ...\n\ndef handler(request):\n    ...\n\nclass Repo:\n    ..."
    )


def test_names_bound_inside_blocks_count_but_attributes_do_not():
    source = (
        "### BEGIN SOLUTION\n"
        "if fast:\n"
        "    plan = 'SEARCH'\n"
        "else:\n"
        "    for row in rows:\n"
        "        total += row\n"
        "with open(path) as handle:\n"
        "    pass\n"
        "try:\n"
        "    ok = True\n"
        "except OSError as error:\n"
        "    fallback = False\n"  # bound only in the handler (mutation: handlers ignored)
        "finally:\n"
        "    closed = True\n"
        "match status:\n"
        "    case 404:\n"
        "        verdict = 'missing'\n"  # bound only in a case (mutation: cases ignored)
        "app.state.limit = 3\n"
        "items[0] = 1\n"
        "### END SOLUTION\n"
    )
    assert _cell(source) == (
        "# YOUR ANSWER HERE\nplan = ...\nrow = ...\ntotal = ...\nhandle = ...\nok = ...\n"
        "fallback = ...\nclosed = ...\nverdict = ...\n"
    )


def test_indented_region_returning_becomes_return_placeholder():
    source = (
        "def slowest(timings):\n"
        "    ### BEGIN SOLUTION\n"
        "    layer = max(timings, key=timings.get)\n"
        "    return layer\n"
        "    ### END SOLUTION\n"
        "\n"
        "check_slowest(slowest)\n"
    )
    assert _cell(source) == (
        "def slowest(timings):\n"
        "    # YOUR ANSWER HERE\n"
        "    return ...\n"
        "\n"
        "check_slowest(slowest)\n"
    )


def test_return_nested_in_a_block_counts_but_not_in_a_nested_function():
    returning = (
        "def f(x):\n    ### BEGIN SOLUTION\n    if x:\n        return 1\n    ### END SOLUTION\n"
    )
    assert _cell(returning).endswith("    return ...\n")
    nested = (
        "### BEGIN SOLUTION\n"
        "def helper():\n"
        "    return 1\n"
        "### END SOLUTION\n"
    )
    assert _cell(nested) == "# YOUR ANSWER HERE\ndef helper():\n    ...\n"


def test_region_binding_nothing_becomes_ellipsis_with_its_indentation():
    source = "def add(items):\n\t### BEGIN SOLUTION\n\titems.append(1)\n\t### END SOLUTION\n"
    assert _cell(source) == "def add(items):\n\t# YOUR ANSWER HERE\n\t...\n"
    assert _cell("### BEGIN SOLUTION\n### END SOLUTION\n") == "# YOUR ANSWER HERE\n...\n"


def test_several_regions_in_one_cell():
    source = (
        "### BEGIN SOLUTION\n"
        "first = 1\n"
        "### END SOLUTION\n"
        "middle = 2\n"
        "  ### BEGIN SOLUTION  \n"
        "second = 3\n"
        "### END SOLUTION\n"
    )
    assert _cell(source) == (
        "# YOUR ANSWER HERE\nfirst = ...\nmiddle = 2\n  # YOUR ANSWER HERE\n  second = ...\n"
    )


def test_placeholders_compile_and_run(tmp_path):
    source = (
        "import math\n"
        "### BEGIN SOLUTION\n"
        "x, y = 1, 2\n"
        "def f(a):\n"
        "    return a\n"
        "### END SOLUTION\n"
        "def g(a):\n"
        "    ### BEGIN SOLUTION\n"
        "    return math.sqrt(a)\n"
        "    ### END SOLUTION\n"
        "result = (x, y, f, g(4))\n"
    )
    namespace: dict = {}
    exec(compile(_cell(source), "cell", "exec"), namespace)
    x, y, f, g = namespace["result"]
    assert (x, y, g) == (..., ..., ...)
    assert f is namespace["f"] and is_placeholder(f)


# --- definitions keep their header ----------------------------------------------------------


def test_def_keeps_signature_type_hints_and_docstring_with_a_blank_line_before_the_code_after():
    """(Mutation that failed this: _stub without the docstring lines.)"""
    source = (
        "### BEGIN SOLUTION\n"
        "def find_customer(conn: sa.Connection, email: str = '') -> list[tuple]:\n"
        '    """Rows of the customer with this email,\n'
        "    as (id, name).\n"
        '    """\n'
        "    query = sa.text('SELECT id, name FROM customers WHERE email = :email')\n"
        "    return conn.execute(query, {'email': email}).fetchall()\n"
        "### END SOLUTION\n"
        "check_find_customer(find_customer)\n"
    )
    assert _cell(source) == (
        "# YOUR ANSWER HERE\n"
        "def find_customer(conn: sa.Connection, email: str = '') -> list[tuple]:\n"
        '    """Rows of the customer with this email,\n'
        "    as (id, name).\n"
        '    """\n'
        "    ...\n"
        "\n"
        "check_find_customer(find_customer)\n"
    )


def test_a_header_is_kept_as_written_without_the_comments_before_the_body():
    """(Mutation that failed this: the header taken up to the body's line, comments included.)"""
    source = (
        "### BEGIN SOLUTION\n"
        "def total(\n"
        "    prices,  # in cents\n"
        "    tax: float = 0.2,\n"
        ") -> int:  # rounded down\n"
        "    # add them up\n"
        "\n"
        "    return int(sum(prices) * (1 + tax))\n"
        "### END SOLUTION\n"
    )
    assert _cell(source) == (
        "# YOUR ANSWER HERE\n"
        "def total(\n"
        "    prices,  # in cents\n"
        "    tax: float = 0.2,\n"
        ") -> int:  # rounded down\n"
        "    ...\n"
    )


def test_one_line_def_and_async_def():
    """(Mutation that failed this: the one-line case not cut at the body: `def double(x): return 2 * x`
    was kept whole.)"""
    source = (
        "### BEGIN SOLUTION\n"
        "def double(x): return 2 * x\n"
        "async def request_id(request, call_next):\n"
        "    response = await call_next(request)\n"
        "    return response\n"
        "### END SOLUTION\n"
    )
    assert _cell(source) == (
        "# YOUR ANSWER HERE\n"
        "def double(x):\n"
        "    ...\n"
        "\n"
        "async def request_id(request, call_next):\n"
        "    ...\n"
    )


def test_columns_are_counted_in_bytes_as_ast_counts_them():
    """(Mutation that failed this: _columns slicing the str itself: the header was cut 2 characters
    late, `ë"): r`.)"""
    source = (
        "### BEGIN SOLUTION\n"
        'def greet(name="Zoë — 2"): return f"Hello, {name}"\n'
        'class Café: "Où l’on sert — du café."\n'
        "### END SOLUTION\n"
    )
    assert _cell(source) == (
        "# YOUR ANSWER HERE\n"
        'def greet(name="Zoë — 2"):\n'
        "    ...\n"
        "\n"
        "class Café:\n"
        '    "Où l’on sert — du café."\n'
        "    ...\n"
    )


def test_decorators_are_kept_at_the_top_and_in_a_class():
    """(Mutation that failed this: stubs built without their decorators everywhere.)"""
    source = (
        "### BEGIN SOLUTION\n"
        "@app.get(\n"
        "    '/items/{item_id}',\n"
        "    status_code=200,\n"
        ")\n"
        "@functools.cache\n"
        "def read_item(item_id: int) -> dict:\n"
        "    return {'id': item_id}\n"
        "### END SOLUTION\n"
        "class Repo:\n"
        "    ### BEGIN SOLUTION\n"
        "    @property\n"
        "    def table(self) -> str:\n"
        "        return 'books'\n"
        "    ### END SOLUTION\n"
    )
    assert _cell(source) == (
        "# YOUR ANSWER HERE\n"
        "@app.get(\n"
        "    '/items/{item_id}',\n"
        "    status_code=200,\n"
        ")\n"
        "@functools.cache\n"
        "def read_item(item_id: int) -> dict:\n"
        "    ...\n"
        "\n"
        "class Repo:\n"
        "    # YOUR ANSWER HERE\n"
        "    @property\n"
        "    def table(self) -> str:\n"
        "        ...\n"
    )


def test_decorators_are_left_out_inside_a_function_body():
    """A route decorator there would register an empty route each time the function runs.
    (Mutation that failed this: _regions_in_function_bodies answering False for every region.)"""
    source = (
        "def add_user_routes(app, store):\n"
        '    """The routes you add."""\n'
        "    ### BEGIN SOLUTION\n"
        "    @app.post('/api/users', status_code=201)\n"
        "    def create_user(user: UserIn, response: Response):\n"
        "        return store.add(user)\n"
        "\n"
        "    @app.delete('/api/users/{user_id}', status_code=204)\n"
        "    async def delete_user(user_id: int):\n"
        "        store.delete(user_id)\n"
        "    ### END SOLUTION\n"
        "\n"
        "\n"
        "class Api:\n"
        "    def routes(\n"
        "        self,\n"
        "    ):\n"
        "        ### BEGIN SOLUTION\n"
        "        @self.app.get('/')\n"
        "        def home():\n"
        "            return {}\n"
        "        ### END SOLUTION\n"
    )
    assert _cell(source) == (
        "def add_user_routes(app, store):\n"
        '    """The routes you add."""\n'
        "    # YOUR ANSWER HERE\n"
        "    def create_user(user: UserIn, response: Response):\n"
        "        ...\n"
        "\n"
        "    async def delete_user(user_id: int):\n"
        "        ...\n"
        "\n"
        "\n"
        "class Api:\n"
        "    def routes(\n"
        "        self,\n"
        "    ):\n"
        "        # YOUR ANSWER HERE\n"
        "        def home():\n"
        "            ...\n"
    )


@pytest.mark.parametrize(("indent", "kept"), [("", True), ("    ", False)], ids=["at the top", "indented"])
def test_a_cell_that_does_not_parse_decides_by_indentation(indent, kept):
    """A %magic elsewhere in the cell: an indented region is taken for a function body. (Mutation
    that failed this: the fallback answering False for every region.)"""
    decorator = f"{indent}@app.get('/')\n" if kept else ""
    source = (
        "%timeit -n 1 pass\n"
        f"{indent}### BEGIN SOLUTION\n"
        f"{indent}@app.get('/')\n"
        f"{indent}def home():\n"
        f"{indent}    return {{}}\n"
        f"{indent}### END SOLUTION\n"
    )
    assert _cell(source) == (
        f"%timeit -n 1 pass\n{indent}# YOUR ANSWER HERE\n{decorator}{indent}def home():\n{indent}    ...\n"
    )


def test_class_keeps_its_docstring_and_its_methods_headers():
    """(Mutation that failed this: a class stub always `...`, without its methods.)"""
    source = (
        "### BEGIN SOLUTION\n"
        "class UserStore(Store):\n"
        '    """Users in memory."""\n'
        "    table = 'users'\n"
        "\n"
        "    def __init__(self) -> None:\n"
        "        self.rows = []\n"
        "\n"
        "    @staticmethod\n"
        "    def clean(email: str) -> str:\n"
        "        return email.lower()\n"
        "\n"
        "    class Row:\n"
        "        id: int\n"
        "### END SOLUTION\n"
    )
    assert _cell(source) == (
        "# YOUR ANSWER HERE\n"
        "class UserStore(Store):\n"
        '    """Users in memory."""\n'
        "    def __init__(self) -> None:\n"
        "        ...\n"
        "\n"
        "    @staticmethod\n"
        "    def clean(email: str) -> str:\n"
        "        ...\n"
        "\n"
        "    class Row:\n"
        "        ...\n"
    )


def test_mixed_region_keeps_the_order_and_binds_each_name_once():
    """(Mutation that failed this: names bound by a def not recorded, so `parse = ...` followed.)"""
    source = (
        "### BEGIN SOLUTION\n"
        "LIMIT = 10\n"
        "import re\n"
        "def parse(text):\n"
        "    return re.findall('x', text)\n"
        "PATTERN = re.compile('y')\n"
        "LIMIT = 20\n"
        "parse = functools.cache(parse)\n"
        "class Parser:\n"
        "    pass\n"
        "### END SOLUTION\n"
        "print(parse, PATTERN, Parser)\n"
    )
    assert _cell(source) == (
        "# YOUR ANSWER HERE\n"
        "LIMIT = ...\n"
        "re = ...\n"
        "\n"
        "def parse(text):\n"
        "    ...\n"
        "\n"
        "PATTERN = ...\n"
        "\n"
        "class Parser:\n"
        "    ...\n"
        "\n"
        "print(parse, PATTERN, Parser)\n"
    )


def test_every_stub_is_not_attempted_for_the_checks():
    """The build and the checks agree: each function the build leaves is a placeholder. (Mutation
    that failed this: is_placeholder not unwrapping: the functools.cache'd stub counted as an answer.)"""
    source = (
        "import functools\n"
        "### BEGIN SOLUTION\n"
        "def plain(x):\n"
        '    """Twice x."""\n'
        "    return 2 * x\n"
        "async def asynchronous(request, call_next):\n"
        "    return await call_next(request)\n"
        "@functools.cache\n"
        "def cached(n: int) -> int:\n"
        "    return n\n"
        "class Guard:\n"
        "    def __call__(self, token: str) -> dict:\n"
        "        return {'token': token}\n"
        "### END SOLUTION\n"
    )
    namespace: dict = {}
    exec(compile(_cell(source), "cell", "exec"), namespace)
    for name in ("plain", "asynchronous", "cached"):
        assert is_placeholder(namespace[name]), name
    assert is_placeholder(namespace["Guard"].__call__)


def test_cell_without_markers_is_identical():
    source = "x = 1  # ### BEGIN SOLUTION is only a marker on a line of its own\nprint(x)"
    assert _cell(source) == source


# --- errors ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("x = 1\n### BEGIN SOLUTION\nx = 2\n", "cell 0: line 2: '### BEGIN SOLUTION' without"),
        ("x = 1\n### END SOLUTION\n", "cell 0: line 2: '### END SOLUTION' without"),
        (
            "### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION\n",
            "cell 0: line 2: '### BEGIN SOLUTION' inside the region opened on line 1",
        ),
        ("### BEGIN SOLUTION\nx = 1\nx = (\n### END SOLUTION\n", "cell 0: line 3: .*not valid"),
        ("### BEGIN SOLUTION\n%timeit f()\n### END SOLUTION\n", "cell 0: line 2: .*%magics"),
    ],
)
def test_bad_regions_name_notebook_cell_and_line(source, message):
    with pytest.raises(ValueError, match=f"^00-test.ipynb, {message}"):
        _cell(source)


def test_error_names_the_right_cell():
    nb = new_notebook(cells=[new_markdown_cell("# Title"), new_code_cell("### END SOLUTION")])
    with pytest.raises(ValueError, match="^02-x.ipynb, cell 1: "):
        student_notebook(nb, name="02-x.ipynb")


# --- whole notebooks -------------------------------------------------------------------------


def _solution_notebook() -> nbformat.NotebookNode:
    code = new_code_cell(
        "### BEGIN SOLUTION\nanswer = 'the secret solution'\n### END SOLUTION\ncheck(answer)",
        execution_count=3,
        outputs=[new_output("stream", name="stdout", text="✔ passed\n")],
        metadata={
            "tags": ["keep-me"],
            "execution": {"iopub.execute_input": "2024-01-01T00:00:00Z"},
            "ExecuteTime": {"end_time": "2024-01-01T00:00:01Z"},
        },
    )
    markdown = new_markdown_cell("### BEGIN SOLUTION\nmarkdown is untouched\n### END SOLUTION")
    plain = new_code_cell("print(1)", execution_count=4, outputs=[new_output("stream", text="1\n")])
    kernelspec = {"name": "python3", "display_name": "Python 3"}
    return new_notebook(cells=[markdown, code, plain], metadata={"kernelspec": kernelspec})


def test_notebook_outputs_cleared_and_other_cells_identical():
    nb = _solution_notebook()
    built = student_notebook(nb)
    markdown, code, plain = built.cells
    assert markdown == nb.cells[0]
    assert code.source == "# YOUR ANSWER HERE\nanswer = ...\ncheck(answer)"
    assert "secret" not in nbformat.writes(built)
    for cell in (code, plain):
        assert cell.outputs == []
        assert cell.execution_count is None
    assert code.metadata == {"tags": ["keep-me"]}
    assert code.id == nb.cells[1].id
    assert built.metadata == nb.metadata
    nbformat.validate(built)


def test_input_notebook_is_not_mutated():
    nb = _solution_notebook()
    before = copy.deepcopy(nb)
    student_notebook(nb)
    assert nb == before


def _write_notebooks(directory: Path) -> None:
    directory.mkdir()
    nbformat.write(_solution_notebook(), directory / "01-http.ipynb")
    nbformat.write(_solution_notebook(), directory / "00-start-here.ipynb")
    nbformat.write(_solution_notebook(), directory / "scratch.ipynb")  # not NN-*: skipped


def test_build_student_writes_each_numbered_notebook(tmp_path):
    src, dest = tmp_path / "notebooks", tmp_path / "out" / "student"
    _write_notebooks(src)
    written = build_student(src, dest)
    assert written == [dest / "00-start-here.ipynb", dest / "01-http.ipynb"]
    for path in written:
        text = path.read_text(encoding="utf-8")
        assert "secret" not in text
        assert "BEGIN SOLUTION" in text  # only in the markdown cell
        nbformat.validate(nbformat.read(path, as_version=4))
    assert "secret" in (src / "01-http.ipynb").read_text(encoding="utf-8")


def test_build_student_refuses_to_overwrite_sources_and_missing_dirs(tmp_path):
    src = tmp_path / "notebooks"
    _write_notebooks(src)
    with pytest.raises(ValueError, match="must differ"):
        build_student(src, src)
    with pytest.raises(FileNotFoundError, match="no notebooks directory"):
        build_student(tmp_path / "missing", tmp_path / "out")


def test_build_student_error_names_the_file(tmp_path):
    src = tmp_path / "notebooks"
    src.mkdir()
    nbformat.write(new_notebook(cells=[new_code_cell("### BEGIN SOLUTION")]), src / "03-bad.ipynb")
    with pytest.raises(ValueError, match="^03-bad.ipynb, cell 0: "):
        build_student(src, tmp_path / "out")




# --- command line ----------------------------------------------------------------------------


def test_main_prints_what_it_wrote(tmp_path, capsys):
    src, dest = tmp_path / "notebooks", tmp_path / "out"
    _write_notebooks(src)
    assert main(["--src", str(src), "--out", str(dest)]) == 0
    out = capsys.readouterr().out
    assert out.splitlines() == [
        f"wrote {dest / '00-start-here.ipynb'}",
        f"wrote {dest / '01-http.ipynb'}",
    ]


def test_main_reports_errors_without_traceback(tmp_path, capsys):
    src = tmp_path / "notebooks"
    src.mkdir()
    assert main(["--src", str(src), "--out", str(tmp_path / "out")]) == 1
    assert "error: no notebooks named NN-*.ipynb in" in capsys.readouterr().err

    nbformat.write(new_notebook(cells=[new_code_cell("### END SOLUTION")]), src / "04-sql.ipynb")
    assert main(["--src", str(src), "--out", str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: 04-sql.ipynb, cell 0: line 1:")
    assert "Traceback" not in err
