"""Build the student notebooks: solutions replaced by placeholders, outputs cleared.

Run as ``make student`` or ``python -m labsupport student`` (README).

The committed notebooks hold the solutions between a ``### BEGIN SOLUTION`` and a
``### END SOLUTION`` line (the nbgrader convention; the markers may be indented, e.g. inside a
function body). Each region, markers included, becomes placeholder lines that use ``...`` (the
otter convention), so "Run All" on the student notebook keeps going and every check says
"not attempted yet" (see `labsupport.checks.is_placeholder`). The placeholder, at the indentation
of the ``### BEGIN SOLUTION`` line, after a ``# YOUR ANSWER HERE`` comment line, is:

- ``return ...`` if the region returns (a ``return`` anywhere in its own code, outside nested
  functions): the function then hands back the placeholder, and the code after the region,
  which could use the region's names, never runs. A function whose whole body was the region
  becomes a stub that checks recognise; otherwise a check should treat a returned ``...`` as
  not attempted (`labsupport.checks.expect_type` does);
- otherwise ``name = ...`` for each name the region binds in its own scope, in order of first
  binding: assignment targets (tuple unpacking, annotated and augmented assignments, ``for``
  and ``with ... as`` targets, also inside ``if``/``for``/``try`` blocks), ``def`` and ``class``
  names and imports — so later cells that use those names still run;
- otherwise (the region binds nothing, e.g. ``items.append(x)``) a bare ``...``.

The region must be valid Python on its own once dedented (no IPython ``%magics``).
"""

from __future__ import annotations

import argparse
import ast
import copy
import re
import sys
import textwrap
from pathlib import Path

import nbformat

from labsupport.notebooks import NOTEBOOKS_DIR, clean, notebook_paths

__all__ = ["build_student", "main", "student_notebook"]

_BUILD_DIR = NOTEBOOKS_DIR.parent / "build" / "student"

_BEGIN = re.compile(r"^(?P<indent>[ \t]*)### BEGIN SOLUTION[ \t]*$")
_END = re.compile(r"^[ \t]*### END SOLUTION[ \t]*$")


def student_notebook(nb: nbformat.NotebookNode, *, name: str = "notebook") -> nbformat.NotebookNode:
    """Return the student version of `nb`; `nb` itself is left unchanged.

    Code cells get their solution regions replaced, outputs cleared, ``execution_count`` set to
    None and run timestamps removed from their metadata. Other cells are copied as they are.
    `name` (usually the file name) is used in error messages.

    Raises ValueError for unbalanced markers or a region that is not valid Python.
    """
    result = nbformat.from_dict(copy.deepcopy(nb))
    for index, cell in enumerate(result.cells):
        if cell.cell_type != "code":
            continue
        cell.source = _replace_solutions(cell.source, where=f"{name}, cell {index}")
        cell.outputs = []
        cell.execution_count = None
    return clean(result)


def _replace_solutions(source: str, *, where: str) -> str:
    lines = source.splitlines(keepends=True)
    out: list[str] = []
    begin: int | None = None  # index of the open region's BEGIN line
    for number, line in enumerate(lines):
        if _BEGIN.match(line):
            if begin is not None:
                raise ValueError(
                    f"{where}: line {number + 1}: '### BEGIN SOLUTION' inside the region opened "
                    f"on line {begin + 1}; close it with '### END SOLUTION' first"
                )
            begin = number
        elif _END.match(line):
            if begin is None:
                raise ValueError(
                    f"{where}: line {number + 1}: '### END SOLUTION' without '### BEGIN SOLUTION'"
                )
            indent = _BEGIN.match(lines[begin])["indent"]  # type: ignore[index]
            code = "".join(lines[begin + 1 : number])
            placeholder = _placeholder(code, indent, where=where, first_line=begin + 2)
            ending = "\n" if line.endswith("\n") else ""
            out.append("\n".join(placeholder) + ending)
            begin = None
        elif begin is None:
            out.append(line)
    if begin is not None:
        raise ValueError(
            f"{where}: line {begin + 1}: '### BEGIN SOLUTION' without '### END SOLUTION'"
        )
    return "".join(out)


def _placeholder(code: str, indent: str, *, where: str, first_line: int) -> list[str]:
    try:
        tree = ast.parse(textwrap.dedent(code))
    except SyntaxError as exc:
        line = first_line + (exc.lineno or 1) - 1
        raise ValueError(
            f"{where}: line {line}: the solution region is not valid Python on its own "
            f"({exc.msg}); keep each region a whole statement or block, without %magics"
        ) from None
    lines = [f"{indent}# YOUR ANSWER HERE"]
    if any(isinstance(node, ast.Return) for node in _own_scope(tree.body)):
        return [*lines, f"{indent}return ..."]
    names = list(dict.fromkeys(_bound_names(tree.body)))
    if not names:
        return [*lines, f"{indent}..."]
    return [*lines, *(f"{indent}{name} = ..." for name in names)]


_NEW_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)


def _own_scope(nodes: list[ast.stmt]):
    """Every node in `nodes`, not descending into nested functions, classes or lambdas."""
    stack: list[ast.AST] = list(reversed(nodes))
    while stack:
        node = stack.pop()
        yield node
        if not isinstance(node, _NEW_SCOPES):
            stack.extend(reversed(list(ast.iter_child_nodes(node))))


def _bound_names(statements: list[ast.stmt]):
    """Names the statements bind in their own scope, in source order (may repeat)."""
    for statement in statements:
        match statement:
            case ast.FunctionDef(name=name) | ast.AsyncFunctionDef(name=name):
                yield name
                continue  # the function's own names are local to it
            case ast.ClassDef(name=name):
                yield name
                continue
            case ast.Assign(targets=targets):
                for target in targets:
                    yield from _target_names(target)
            case ast.AugAssign(target=target) | ast.AnnAssign(target=target):
                yield from _target_names(target)
            case ast.For(target=target) | ast.AsyncFor(target=target):
                yield from _target_names(target)
            case ast.With(items=items) | ast.AsyncWith(items=items):
                for item in items:
                    if item.optional_vars is not None:
                        yield from _target_names(item.optional_vars)
            case ast.Import(names=aliases) | ast.ImportFrom(names=aliases):
                for alias in aliases:
                    if alias.name != "*":
                        yield alias.asname or alias.name.split(".")[0]
        # Names bound inside blocks (if/for/while/with/try bodies, except handlers, match
        # cases) belong to the same scope; visited in source order: try, except, else, finally.
        yield from _bound_names(getattr(statement, "body", []))
        for block in (*getattr(statement, "handlers", []), *getattr(statement, "cases", [])):
            yield from _bound_names(block.body)
        for field in ("orelse", "finalbody"):
            yield from _bound_names(getattr(statement, field, []))


def _target_names(target: ast.expr):
    # `obj.attr = …` and `items[0] = …` change an object; they bind no name.
    match target:
        case ast.Name(id=name):
            yield name
        case ast.Tuple(elts=elements) | ast.List(elts=elements):
            for element in elements:
                yield from _target_names(element)
        case ast.Starred(value=value):
            yield from _target_names(value)


def build_student(src: Path | None = None, dest: Path | None = None) -> list[Path]:
    """Write the student version of every ``NN-*.ipynb`` in `src` into `dest`; return the paths.

    Defaults: `src` is the repository's ``notebooks/`` directory, `dest` is ``build/student``
    under the repository root (git-ignored). `dest` is created; it may not be `src`, so the
    solutions are never overwritten.
    """
    src = Path(src) if src is not None else NOTEBOOKS_DIR
    dest = Path(dest) if dest is not None else _BUILD_DIR
    if not src.is_dir():
        raise FileNotFoundError(f"no notebooks directory at {src}")
    if dest.resolve() == src.resolve():
        raise ValueError(f"the output directory must differ from the source directory {src}")
    dest.mkdir(parents=True, exist_ok=True)
    written = []
    for path in notebook_paths(src):
        nb = nbformat.read(path, as_version=4)
        target = dest / path.name
        nbformat.write(student_notebook(nb, name=path.name), target)
        written.append(target)
    return written


def main(argv: list[str] | None = None) -> int:
    """Command line: ``python -m labsupport student [--src DIR] [--out DIR]``."""
    parser = argparse.ArgumentParser(
        prog="python -m labsupport student",
        description="Build the student notebooks: solutions replaced by '...', outputs cleared.",
    )
    parser.add_argument("--src", type=Path, help="notebooks to read (default: notebooks/)")
    parser.add_argument("--out", type=Path, help="where to write them (default: build/student)")
    args = parser.parse_args(argv)
    try:
        written = build_student(args.src, args.out)
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if not written:
        source = args.src or NOTEBOOKS_DIR
        print(f"error: no notebooks named NN-*.ipynb in {source}", file=sys.stderr)
        return 1
    for path in written:
        print(f"wrote {path}")
    return 0
