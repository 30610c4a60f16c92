"""The house plan, checked from the files themselves: nothing here is a hand-kept list of names.

The package has two parts (README, "How it is built"): the platform, ``labsupport``'s own
modules, whose public names ``labsupport/__init__.py`` re-exports, and one package per lesson,
``labsupport/lessons/lNN_topic``, whose ``__all__`` is what notebook NN imports. These tests read
the notebooks' code and the package's source, so they run in a second, long before the notebooks
are executed, and they fail when a plan rule is broken:

- every public name is imported by a notebook, or is deliberately public and says why;
- a name has one public path; notebooks import only public paths;
- each "Introduced in NN-topic" note names the notebook that first uses the thing;
- each notebook has its lesson package, with a checkers module and mirrored tests;
- the platform never imports a lesson, and a lesson imports only earlier lessons;
- notebook shape: setup cell first, a check right after each solution, ``stop_all()`` last.
"""

from __future__ import annotations

import ast
import functools
import importlib
import json
import re
import tomllib
from pathlib import Path

import pytest

import labsupport

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "labsupport"
LESSONS = PACKAGE / "lessons"
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]-*.ipynb"))

# Public although no notebook imports them, each with its reason.
DELIBERATELY_PUBLIC = {
    "Server": "the type serve() returns, for the type hints of a student's own helpers",
    "ServerError": "what serve() raises when a server cannot start; a student may catch it",
    "ClaimNotReproduced": "what claim() raises under LAB_STRICT=1; an instructor may catch it",
}


def _code_and_text(path: Path) -> tuple[list[str], str]:
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    code = ["".join(c["source"]) for c in cells if c["cell_type"] == "code"]
    markdown = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
    return code, markdown


def _parse(source: str) -> ast.Module:
    # IPython magics and shell escapes are not Python; nothing of the plan hides in them.
    return ast.parse("\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines()))


@functools.cache
def _imports(path: Path) -> tuple[tuple[str, str], ...]:
    """``(module, name)`` for each ``from module import name`` and ``import module`` in a notebook."""
    found: list[tuple[str, str]] = []
    for source in _code_and_text(path)[0]:
        for node in ast.walk(_parse(source)):
            if isinstance(node, ast.ImportFrom) and node.module:
                found += [(node.module, alias.name) for alias in node.names]
            elif isinstance(node, ast.Import):
                found += [(alias.name, "") for alias in node.names]
    return tuple(found)


def _number(path: Path) -> int:
    return int(path.name[:2])


def _lesson_packages() -> dict[int, str]:
    return {int(p.name[1:3]): p.name for p in sorted(LESSONS.iterdir()) if re.fullmatch(r"l\d\d_\w+", p.name)}


def _public_paths() -> dict[str, list[str]]:
    """name -> the public modules exporting it (``labsupport`` and each lesson package)."""
    paths: dict[str, list[str]] = {}
    for name in labsupport.__all__:
        paths.setdefault(name, []).append("labsupport")
    for package in _lesson_packages().values():
        module = importlib.import_module(f"labsupport.lessons.{package}")
        for name in module.__all__:
            paths.setdefault(name, []).append(module.__name__)
    return paths


def test_every_public_name_is_imported_by_a_notebook_or_says_why_it_is_public():
    """(Mutation that failed this: exporting `sweep`, which no notebook uses.)"""
    imported = {(module, name) for path in NOTEBOOKS for module, name in _imports(path)}
    unused = sorted(
        f"{module}.{name}"
        for name, modules in _public_paths().items()
        for module in modules
        if (module, name) not in imported and name not in DELIBERATELY_PUBLIC
    )
    assert not unused, f"exported but imported by no notebook (drop them, or say why in DELIBERATELY_PUBLIC): {unused}"
    stale = sorted(set(DELIBERATELY_PUBLIC) - set(labsupport.__all__))
    assert not stale, f"DELIBERATELY_PUBLIC names that are not exported: {stale}"


def test_each_name_has_one_public_path():
    twice = {name: modules for name, modules in _public_paths().items() if len(modules) > 1}
    assert not twice, twice


def test_public_names_resolve():
    for name, modules in _public_paths().items():
        for module in modules:
            assert getattr(importlib.import_module(module), name) is not None, f"{module}.{name}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebooks_import_only_public_paths_and_earlier_lessons(path):
    """A notebook imports ``labsupport``, the bookshop app, its own lesson and earlier ones — never
    a platform module (``labsupport.tracing``) or ``labsupport.__file__``.
    (Mutation that failed this: 00 importing HTTP_LAYER from labsupport.tracing.)"""
    lessons = _lesson_packages()
    for module, name in _imports(path):
        if not module.startswith("labsupport"):
            continue
        lesson = re.fullmatch(r"labsupport\.lessons\.(l(\d\d)_\w+)", module)
        if lesson:
            assert int(lesson[2]) <= _number(path), f"{path.name} imports a later lesson: {module}"
            assert lessons.get(int(lesson[2])) == lesson[1], f"{path.name}: no lesson package {module}"
        else:
            allowed = module == "labsupport" and name != "" or module.startswith("labsupport.apps.bookshop")
            assert allowed, f"{path.name}: `from {module} import {name}` is not a public path"
    assert "labsupport.__file__" not in "\n".join(_code_and_text(path)[0])


def test_each_notebook_has_its_lesson_package_with_checkers_and_mirrored_tests():
    """Adding notebook NN means adding lessons/lNN_topic/ (with checkers.py) and tests/lessons/lNN_topic/,
    with one test module per lesson module."""
    lessons = _lesson_packages()
    assert sorted(lessons) == [_number(p) for p in NOTEBOOKS], "one lesson package per notebook, same numbers"
    for number, package in lessons.items():
        folder = LESSONS / package
        assert (folder / "checkers.py").is_file(), f"{package} has no checkers.py"
        tests = ROOT / "tests" / "lessons" / package
        for module in folder.glob("*.py"):
            if module.name != "__init__.py":
                assert (tests / f"test_{module.name}").is_file(), f"{package}/{module.name} has no tests/{tests.name}"
        notebook = next(p for p in NOTEBOOKS if _number(p) == number)
        lesson_imports = [m for m, _ in _imports(notebook) if m == f"labsupport.lessons.{package}"]
        assert lesson_imports, f"{notebook.name} does not import its lesson package {package}"


def _imported_modules(path: Path) -> set[str]:
    modules = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            modules.add(node.module)
            modules.update(f"{node.module}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            modules.update(a.name for a in node.names)
    return modules


def test_the_platform_never_imports_a_lesson_and_lessons_import_only_earlier_ones():
    for path in PACKAGE.rglob("*.py"):
        lesson = re.search(r"lessons/l(\d\d)_", path.as_posix())
        for module in _imported_modules(path):
            imported = re.match(r"labsupport\.lessons\.l(\d\d)_", module)
            if not imported:
                continue
            where = path.relative_to(ROOT)
            assert lesson, f"platform module {where} imports the lesson {module}"
            assert int(imported[1]) <= int(lesson[1]), f"{where} imports a later lesson: {module}"


def test_the_distribution_ships_every_package_and_the_data():
    """pyproject.toml lists the packages (data/ is mapped into labsupport.data), so a new lesson
    folder missing from the list would be left out of a wheel."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    on_disk = {
        ".".join(p.parent.relative_to(ROOT).parts) for p in PACKAGE.rglob("__init__.py") if "__pycache__" not in p.parts
    }
    assert set(config["packages"]) == on_disk | {"labsupport.data"}
    assert config["package-dir"] == {"labsupport.data": "data"}
    assert (ROOT / "data" / "__init__.py").is_file()


# "Introduced in NN-topic" notes -------------------------------------------------------------

_INTRODUCED = re.compile(r"[Ii]ntroduced in (\d\d-[a-z-]+)")


def _first_notebook_using(names: set[str]) -> str | None:
    """The first notebook whose code uses one of `names`, or whose prose shows one in backticks."""
    for path in NOTEBOOKS:
        code, markdown = _code_and_text(path)
        words = set(re.findall(r"[A-Za-z_]\w*", "\n".join(code)))
        shown = set(re.findall(r"[A-Za-z_]\w*", " ".join(re.findall(r"`([^`]*)`", markdown))))
        if names & (words | shown):
            return path.stem
    return None


def _first_notebook_naming_module(module: str) -> str | None:
    """The first notebook that imports `module` or names it (``labsupport.schema``, ``labsupport doctor``)."""
    package, _, stem = module.rpartition(".")
    separator = "[./ ]"
    named = re.compile(separator.join([*map(re.escape, package.split(".")), stem]) + r"\b")
    for path in NOTEBOOKS:
        code, markdown = _code_and_text(path)
        if (package, stem) in _imports(path) or named.search("\n".join(code) + markdown):
            return path.stem
    return None


def _introduction_notes() -> list[tuple[str, str, str | None]]:
    """``(where, notebook it names, notebook that first uses the thing)`` for each note.

    A lesson module is introduced by its own lesson. A platform module's note is about the names
    ``labsupport`` exports from it or, if none, the module itself (e.g. ``labsupport.schema``);
    a function's or class's note is about that name.
    """
    public = {name: getattr(labsupport, name) for name in labsupport.__all__}
    notes: list[tuple[str, str, str | None]] = []
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        module = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        lesson = re.search(r"lessons/l(\d\d)_", path.as_posix())
        for node in [tree, *(n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.ClassDef))]:
            for notebook in _INTRODUCED.findall(ast.get_docstring(node) or ""):
                if lesson:
                    first = next((p.stem for p in NOTEBOOKS if _number(p) == int(lesson[1])), None)
                elif isinstance(node, ast.Module):
                    names = {n for n, v in public.items() if getattr(v, "__module__", None) == module}
                    first = _first_notebook_using(names) if names else _first_notebook_naming_module(module)
                else:
                    first = _first_notebook_using({node.name})
                where = module if isinstance(node, ast.Module) else f"{module}.{node.name}"
                notes.append((where, notebook, first))
    return notes


def test_introduced_in_notes_name_the_notebook_that_first_uses_the_thing():
    """(Mutation that failed this: count_queries' docstring saying "Introduced in 12-performance",
    a notebook that does not exist yet, when 00-start-here uses it.)"""
    wrong = [
        f"{where} says introduced in {notebook}; first used in {first}"
        for where, notebook, first in _introduction_notes()
        if notebook != first
    ]
    assert not wrong, "\n".join(wrong)


# Notebook shape -------------------------------------------------------------------------------


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_shape(path):
    """Setup cell first (it imports labsupport), a check right after each solution, stop_all() last.
    (Mutation that failed this: 04's first check call moved from its solution cell to after the next code cell.)"""
    code, _ = _code_and_text(path)
    assert any(m.startswith("labsupport") for m, _ in _imports_of(code[0])), "the first code cell imports labsupport"
    for index, source in enumerate(code):
        if "### BEGIN SOLUTION" in source:
            after = source.rsplit("### END SOLUTION", 1)[-1]
            # the next cell counts only up to its own solution, if it has one
            following = code[index + 1].split("### BEGIN SOLUTION")[0] if index + 1 < len(code) else ""
            called = re.search(r"\bcheck_\w+\(", after) or re.search(r"\bcheck_\w+\(", following)
            assert called, f"code cell {index}: a solution with no check in it or in the next cell"
    last = _parse(code[-1]).body[-1]
    assert isinstance(last, ast.Expr) and ast.unparse(last.value) == "stop_all()", "the last statement is stop_all()"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_each_notebook_has_a_checked_predict_then_run_prompt(path):
    """The common shape (#16): the student writes a prediction before running the cell that shows the
    truth, and a checker judges it against a fresh run. By convention its checker's name says
    `prediction`. (Mutation that failed this: 03's check_onion_prediction call removed.)"""
    code, text = _code_and_text(path)
    assert re.search(r"predict,? (then|before)", text, re.IGNORECASE), "no 'Predict, then run' prompt in the prose"
    assert any(re.search(r"\bcheck_\w*prediction\w*\(", source) for source in code), "no check_…prediction(…) call"


def _imports_of(source: str) -> list[tuple[str, str]]:
    return [
        (node.module or "", alias.name)
        for node in ast.walk(_parse(source))
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
    ]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_recap_ends_with_further_reading_from_primary_sources(path):
    """Each notebook's last markdown cell is its recap, with a few links to primary sources
    (the RFC, the OWASP cheat sheet, the database manual) before "Next"."""
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    recap = "".join([c for c in cells if c["cell_type"] == "markdown"][-1]["source"])
    assert recap.startswith("## Recap"), "the last markdown cell is the recap"
    reading = recap.split("**Further reading:**", 1)
    assert len(reading) == 2, "the recap has a **Further reading:** paragraph"
    links = re.findall(r"\]\((https://[^)\s]+)\)", reading[1].split("**Next:**")[0])
    assert len(links) >= 2, f"at least two links to sources, found {links}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_student_scaffolds_keep_every_def_and_class_line(path):
    """A coding exercise shows its skeleton: each function or class a solution defines keeps its
    `def`/`class` line in the student build, never a bare `name = ...` that hides that a
    function is expected. (Mutation that failed this: student.py's stub for a def reverted to
    `name = ...`.)"""
    import textwrap

    import nbformat

    from labsupport.student import student_notebook

    nb = nbformat.read(path, as_version=4)
    for original, student in zip(nb.cells, student_notebook(nb, name=path.name).cells):
        if original.cell_type != "code" or "### BEGIN SOLUTION" not in original.source:
            continue
        # Regions at the start of a line: a region inside a function body keeps that function's
        # own def line (it is outside the region) and becomes `return ...`.
        for region in re.findall(r"^### BEGIN SOLUTION\n(.*?)### END SOLUTION", original.source, re.DOTALL | re.M):
            tree = ast.parse(textwrap.dedent(region))
            for node in tree.body:
                if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                    keyword = "class" if isinstance(node, ast.ClassDef) else "def"
                    assert re.search(rf"^\s*(async )?{keyword} {node.name}\b", student.source, re.M), (
                        f"{node.name} lost its {keyword} line in the student build"
                    )
                    assert not re.search(rf"^\s*{node.name} = \.\.\.", student.source, re.M)
