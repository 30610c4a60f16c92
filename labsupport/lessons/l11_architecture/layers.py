"""What a layer of code depends on: the packages its functions use, and the SQL it holds.

Introduced in 11-architecture. In a project each layer is a module, and "what may the service
import" is read from its ``import`` lines. In a notebook every cell shares one namespace, so we
read the next best thing: the global names each function of a layer actually uses (its bytecode,
nested functions included), resolved to the package they come from — ``sa.text`` uses
``sqlalchemy``, ``HTTPException`` uses ``fastapi``. The exercise checker and the notebook's
table use the same rules, `LAYER_RULES`.
"""

from __future__ import annotations

import inspect
import re
import types
from collections.abc import Iterator, Mapping
from typing import Any

__all__ = [
    "LAYER_RULES",
    "QUOTE_MAX_COPIES",
    "layer_problems",
    "layer_report",
    "modules_used",
    "sql_strings",
    "tangled_quote_app",
]

_WEB = frozenset({"fastapi", "starlette"})
_DATABASE = frozenset({"sqlalchemy", "sqlite3", "psycopg", "psycopg2"})
_CLIENT = frozenset({"httpx", "requests", "urllib3"})

LAYER_RULES: dict[str, frozenset[str]] = {
    "route": _DATABASE,  # HTTP in, HTTP out: no SQL, no connections
    "service": _WEB | _DATABASE,  # the shop's rules: no HTTP, no SQL
    "repository": _WEB,  # storage: no HTTP status codes, no requests
}
"""layer -> the packages it must not use (the direction of the arrows: routes → services → repositories)."""

_SQL = re.compile(r"^\s*(SELECT|INSERT|UPDATE|DELETE|WITH)\b", re.IGNORECASE)


def _functions(obj: Any) -> Iterator[types.FunctionType]:
    """The Python functions that make up `obj`: itself, or a class's methods and properties."""
    if isinstance(obj, type):
        for klass in obj.__mro__:
            if klass is object or klass.__module__ == "builtins":
                continue
            for value in vars(klass).values():
                if isinstance(value, (staticmethod, classmethod)):
                    value = value.__func__
                if isinstance(value, property):
                    yield from (f for f in (value.fget, value.fset) if isinstance(f, types.FunctionType))
                elif isinstance(value, types.FunctionType):
                    yield value
    else:
        function = inspect.unwrap(obj) if callable(obj) else obj
        if isinstance(function, types.MethodType):
            function = function.__func__
        if isinstance(function, types.FunctionType):
            yield function


def _code_objects(code: types.CodeType) -> Iterator[types.CodeType]:
    yield code
    for constant in code.co_consts:
        if isinstance(constant, types.CodeType):
            yield from _code_objects(constant)


def _package_of(value: Any) -> str | None:
    name: object
    if isinstance(value, types.ModuleType):
        name = value.__name__
    else:
        name = getattr(value, "__module__", None)
        if not isinstance(name, str):
            name = getattr(type(value), "__module__", None)
    if not isinstance(name, str) or name in ("builtins", "__main__"):
        return None
    return name.split(".")[0]


def modules_used(obj: Any) -> set[str]:
    """The top-level packages whose names the functions of `obj` (a function or a class) use.

    Names defined in the notebook itself (module ``__main__``) and builtins are left out.
    """
    found: set[str] = set()
    for function in _functions(obj):
        namespace = function.__globals__
        for code in _code_objects(function.__code__):
            for name in code.co_names:
                if name in namespace:
                    package = _package_of(namespace[name])
                    if package is not None:
                        found.add(package)
        for cell in function.__closure__ or ():
            try:
                package = _package_of(cell.cell_contents)
            except ValueError:  # an empty cell
                continue
            if package is not None and isinstance(cell.cell_contents, (types.ModuleType, type, types.FunctionType)):
                found.add(package)
    return found


def sql_strings(obj: Any) -> list[str]:
    """The string constants in the functions of `obj` that start like a SQL statement."""
    found = []
    for function in _functions(obj):
        for code in _code_objects(function.__code__):
            found += [c for c in code.co_consts if isinstance(c, str) and _SQL.match(c)]
    return found


def layer_problems(layer: str, obj: Any) -> list[str]:
    """What `obj`, as the given layer, uses that it must not (empty when it keeps to its rules)."""
    if layer not in LAYER_RULES:
        raise ValueError(f"layer must be one of {sorted(LAYER_RULES)}, not {layer!r}")
    problems = sorted(modules_used(obj) & LAYER_RULES[layer])
    if layer != "repository" and sql_strings(obj):
        problems.append("SQL text")
    return problems


def layer_report(layers: Mapping[str, tuple[str, Any]]) -> list[dict[str, str]]:
    """One row per piece of code: ``{name: (layer, obj)}`` -> the packages it uses and what breaks the rules."""
    rows = []
    for name, (layer, obj) in layers.items():
        used = sorted(modules_used(obj)) + (["SQL text"] if sql_strings(obj) else [])
        rows.append(
            {
                "code": name,
                "layer": layer,
                "uses": ", ".join(used) or "-",
                "breaks the rules with": ", ".join(layer_problems(layer, obj)) or "-",
            }
        )
    return rows


QUOTE_MAX_COPIES = 20
"""The most copies one quote may ask for (the tangled endpoint answers 422 above it)."""


def tangled_quote_app(engine: Any) -> Any:
    """Exercise 1's starting point: one endpoint that holds the SQL, the pricing rule and the HTTP.

    ``GET /books/{book_id}/quote?quantity=N``: the price of N copies, 10 % off from 3 copies
    (rounded down to a whole cent); 404 for a book that does not exist, 422 for a quantity
    outside 1..20, 409 for more copies than are in stock. Its answers are the behaviour a
    refactoring must keep: the checker compares against this very function.
    """
    import sqlalchemy as sa
    from fastapi import FastAPI, HTTPException

    app = FastAPI()

    @app.get("/books/{book_id}/quote")
    def quote(book_id: int, quantity: int = 1) -> dict:
        with engine.connect() as conn:
            row = conn.execute(
                sa.text("SELECT title, price_cents, stock FROM books WHERE id = :id"), {"id": book_id}
            ).first()
        if row is None:
            raise HTTPException(404, f"book {book_id} not found")
        if not 1 <= quantity <= QUOTE_MAX_COPIES:
            raise HTTPException(422, f"quantity must be between 1 and {QUOTE_MAX_COPIES}")
        if quantity > row.stock:
            raise HTTPException(409, f"only {row.stock} in stock")
        total = row.price_cents * quantity
        if quantity >= 3:
            total = total * 90 // 100  # 10 % off three copies or more, rounded down to the cent
        return {"book_id": book_id, "title": row.title, "quantity": quantity, "total_cents": total}

    return app
