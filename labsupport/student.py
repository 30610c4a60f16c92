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
- otherwise, statement by statement, what the region defines:

  - a ``def``, ``async def`` or ``class`` at the region's top level keeps its header as written
    (decorators, name, signature and type hints) and its docstring, with ``...`` for a body: the
    student never retypes the ``def`` line, and a function whose body is ``...`` is "not
    attempted" for the checks. A class keeps the headers of its methods the same way. Inside a
    function's body the decorators are left out: there they run every time the function does,
    and a route decorator (``@app.post(...)``) would register an empty route, which a check
    counts as an attempt;
  - any other statement gives ``name = ...`` for each name it binds in its own scope and that
    is not bound yet: assignment targets (tuple unpacking, annotated and augmented
    assignments, ``for`` and ``with ... as`` targets, also inside ``if``/``for``/``try``
    blocks) and imports — so later cells that use those names still run;
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
    regions = _regions(lines, where=where)
    in_function = _regions_in_function_bodies(lines, regions)
    out: list[str] = []
    position = 0
    for (begin, end), inside in zip(regions, in_function, strict=True):
        out += lines[position:begin]
        indent = _BEGIN.match(lines[begin])["indent"]  # type: ignore[index]
        code = "".join(lines[begin + 1 : end])
        placeholder = _placeholder(code, indent, in_function=inside, where=where, first_line=begin + 2)
        ending = "\n" if lines[end].endswith("\n") else ""
        if len(placeholder) > 2 and placeholder[-1].strip() == "..." and lines[end + 1 : end + 2] != ["\n"]:
            ending += "\n" * bool(lines[end + 1 :])  # a stub's body: a blank line before the code after it
        out.append("\n".join(placeholder) + ending)
        position = end + 1
    out += lines[position:]
    return "".join(out)


def _regions(lines: list[str], *, where: str) -> list[tuple[int, int]]:
    """(BEGIN line index, END line index) of each solution region, in order."""
    regions = []
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
            regions.append((begin, number))
            begin = None
    if begin is not None:
        raise ValueError(
            f"{where}: line {begin + 1}: '### BEGIN SOLUTION' without '### END SOLUTION'"
        )
    return regions


def _regions_in_function_bodies(lines: list[str], regions: list[tuple[int, int]]) -> list[bool]:
    """For each region, whether it lies in a function's body (rather than at the top or in a class)."""
    if not regions:
        return []
    skeleton = list(lines)  # each region's lines become `pass` lines: same line numbers, valid Python
    for begin, end in regions:
        indent = _BEGIN.match(lines[begin])["indent"]  # type: ignore[index]
        skeleton[begin : end + 1] = [f"{indent}pass\n"] * (end + 1 - begin)
    try:
        tree = ast.parse("".join(skeleton))
    except SyntaxError:  # e.g. a %magic elsewhere in the cell: an indented region is taken for a body
        return [bool(_BEGIN.match(lines[begin])["indent"]) for begin, _ in regions]  # type: ignore[index]
    scopes = [
        (node.lineno, node.end_lineno or node.lineno, not isinstance(node, ast.ClassDef))
        for node in ast.walk(tree)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
    ]
    found = []
    for begin, _ in regions:
        line = begin + 1
        around = [scope for scope in scopes if scope[0] < line <= scope[1]]
        found.append(max(around)[2] if around else False)  # the innermost: the latest to start
    return found


def _placeholder(code: str, indent: str, *, in_function: bool, where: str, first_line: int) -> list[str]:
    code = textwrap.dedent(code)
    try:
        tree = ast.parse(code)
    except SyntaxError as exc:
        line = first_line + (exc.lineno or 1) - 1
        raise ValueError(
            f"{where}: line {line}: the solution region is not valid Python on its own "
            f"({exc.msg}); keep each region a whole statement or block, without %magics"
        ) from None
    if any(isinstance(node, ast.Return) for node in _own_scope(tree.body)):
        body = ["return ..."]
    else:
        body = _definitions_and_names(tree.body, code.splitlines(), decorators=not in_function) or ["..."]
    return [f"{indent}{line}" if line else "" for line in ["# YOUR ANSWER HERE", *body]]


_DEFINITIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
_Definition = ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef


def _definitions_and_names(statements: list[ast.stmt], source: list[str], *, decorators: bool) -> list[str]:
    """A stub for each definition, ``name = ...`` for the other names bound; a blank line between
    a stub and what follows it."""
    chunks: list[list[str]] = []  # each stub, and each run of `name = ...` lines
    bound: set[str] = set()
    assigning = False  # whether the last chunk is a run of `name = ...` lines
    for statement in statements:
        if isinstance(statement, _DEFINITIONS):
            chunks.append(_stub(statement, source, decorators=decorators))
            bound.add(statement.name)
            assigning = False
            continue
        names = [name for name in dict.fromkeys(_bound_names([statement])) if name not in bound]
        bound.update(names)
        if not names:
            continue
        if not assigning:
            chunks.append([])
            assigning = True
        chunks[-1] += [f"{name} = ..." for name in names]
    lines: list[str] = []
    for chunk in chunks:
        lines += [""] * bool(lines) + chunk
    return lines


def _stub(node: _Definition, source: list[str], *, decorators: bool) -> list[str]:
    """`node`'s header as written (with its decorators if `decorators`), its docstring, then ``...``.

    A class gets its methods' (and nested classes') stubs, decorators included, instead of ``...``.
    `source` holds the lines that the node's positions refer to.
    """
    start = node.decorator_list[0].lineno if decorators and node.decorator_list else node.lineno
    first = node.body[0]
    before_body = _columns(source[first.lineno - 1], 0, first.col_offset)
    if before_body.strip():  # the body starts on the header's last line: `def f(x): return x`
        header = source[start - 1 : first.lineno]
        header[-1] = before_body.rstrip()
        inner = _columns(source[node.lineno - 1], 0, node.col_offset) + " " * 4
    else:
        header = source[start - 1 : first.lineno - 1]
        while not header[-1].strip() or header[-1].lstrip().startswith("#"):  # not the header's own
            header.pop()
        inner = before_body
    lines = list(header)
    members = node.body
    if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
        docstring = source[first.lineno - 1 : first.end_lineno]
        docstring[-1] = _columns(docstring[-1], 0, first.end_col_offset)
        docstring[0] = inner + _columns(docstring[0], first.col_offset)
        lines += docstring
        members = members[1:]
    methods = [member for member in members if isinstance(member, _DEFINITIONS)]
    if isinstance(node, ast.ClassDef) and methods:
        for number, method in enumerate(methods):
            lines += [""] * bool(number) + _stub(method, source, decorators=True)
    else:
        lines.append(inner + "...")
    return lines


def _columns(line: str, start: int, end: int | None = None) -> str:
    """``line[start:end]`` counted as ast counts columns: in bytes of UTF-8."""
    return line.encode()[start:end].decode()


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
