"""Make SQL visible: the text a statement compiles to, the statements an engine sends, and the
database's own words when it refuses one.

Introduced in 04-sql. SQLAlchemy's ``echo=True`` writes through `logging`, which lands in a
notebook's stderr (and nbval refuses stored stderr), so `echo_sql` prints instead. A refused
statement raises an exception whose text carries the SQL, the parameters and a link; the lesson
only needs the database's sentence, so `show_db_error` prints that one line instead of a traceback.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.dialects import sqlite as sqlite_dialect
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler

__all__ = ["show_sql", "echo_sql", "show_db_error", "db_error_message", "DbErrorOutcome"]

_MAX_PARAMETER_ROWS = 3  # an executemany of 10,000 rows prints the first few and a count


def show_sql(statement: ClauseElement, bind: sa.Engine | sa.Connection | None = None) -> str:
    """The SQL text of a Core or ORM statement with its values written in, for reading.

    Compiled for ``bind``'s dialect (SQLite when none is given). The values are inlined only for
    display: code sends them separately as bound parameters (04-sql shows why). A value that
    cannot be written as a literal (JSON, say), or a ``bindparam`` still without one, keeps its
    placeholder, followed by the parameters.
    """
    if not isinstance(statement, ClauseElement):
        raise TypeError(
            f"show_sql() needs a SQLAlchemy statement such as sa.select(...), not {type(statement).__name__}"
        )
    dialect = bind.dialect if bind is not None else sqlite_dialect.dialect()
    compiled = statement.compile(dialect=dialect)
    with_placeholders = f"{str(compiled).strip()}\n-- parameters: {compiled.params}"
    # DDL (CREATE TABLE ...) compiles without bound parameters: only a query can have them.
    if isinstance(compiled, SQLCompiler) and any(parameter.required for parameter in compiled.binds.values()):
        return with_placeholders  # a bindparam("name") still waiting for its value: not NULL
    try:
        return str(statement.compile(dialect=dialect, compile_kwargs={"literal_binds": True})).strip()
    except (sa.exc.CompileError, NotImplementedError):
        return with_placeholders


def _format_parameters(parameters: object, executemany: bool) -> str:
    if not executemany:
        return repr(tuple(parameters) if isinstance(parameters, list) else parameters)
    rows = list(parameters)  # type: ignore[call-overload]
    shown = ", ".join(repr(row) for row in rows[:_MAX_PARAMETER_ROWS])
    more = f", ... ({len(rows)} rows)" if len(rows) > _MAX_PARAMETER_ROWS else ""
    return f"[{shown}{more}]"


@contextmanager
def echo_sql(engine: sa.Engine, *, parameters: bool = True) -> Iterator[None]:
    """Print every statement ``engine`` sends inside the ``with`` block, and each COMMIT/ROLLBACK.

    Like ``create_engine(echo=True)`` but printed, so it appears in the cell's output::

        with echo_sql(engine):
            conn.execute(sa.select(customers).where(customers.c.id == 1))

    prints ``SELECT ... WHERE customers.id = ?`` and then ``   parameters: (1,)``. The begin of
    a transaction is not shown: SQLite's driver sends its BEGIN itself, out of SQLAlchemy's sight.
    """
    if not isinstance(engine, sa.Engine):
        raise TypeError(f"echo_sql() needs a SQLAlchemy Engine, not {type(engine).__name__}")

    def before_execute(conn, cursor, statement, params, context, executemany) -> None:
        print(statement.strip())
        if parameters and params:
            print(f"   parameters: {_format_parameters(params, executemany)}")

    def commit(conn) -> None:
        print("COMMIT")

    def rollback(conn) -> None:
        print("ROLLBACK")

    listeners: list[tuple[str, Callable[..., None]]] = [
        ("before_cursor_execute", before_execute),
        ("commit", commit),
        ("rollback", rollback),
    ]
    for name, fn in listeners:
        sa.event.listen(engine, name, fn)
    try:
        yield
    finally:
        for name, fn in listeners:
            sa.event.remove(engine, name, fn)


def db_error_message(error: BaseException) -> str:
    """The database's own sentence for ``error``, e.g. ``NOT NULL constraint failed: customers.name``.

    SQLAlchemy wraps the driver's exception and adds the SQL, the parameters and a link; this
    returns only the driver's message (the wrapped one's text for any other exception), on one
    line: PostgreSQL adds a ``DETAIL:`` line (the offending values), joined here with a space.
    """
    original = getattr(error, "orig", None)
    return " ".join(str(original if original is not None else error).split())


@dataclass
class DbErrorOutcome:
    """What `show_db_error` caught: ``error`` is the exception, or None when nothing was refused."""

    error: BaseException | None = None

    @property
    def refused(self) -> bool:
        return self.error is not None

    @property
    def sent_values(self) -> tuple:
        """The values sent with the refused statement, in order, whatever the driver's placeholders.

        SQLite's driver takes a tuple (``?``), PostgreSQL's a dict (``%(name)s``, in the order of
        the SQL): both give e.g. ``(30, 'bob')``. Empty when nothing was refused or sent.
        """
        params = getattr(self.error, "params", None)
        if isinstance(params, dict):
            return tuple(params.values())
        return tuple(params) if isinstance(params, (list, tuple)) else ()

    @property
    def message(self) -> str:
        """``IntegrityError: <the database's sentence>``, or "" when nothing was refused."""
        if self.error is None:
            return ""
        original = getattr(self.error, "orig", None) or self.error
        return f"{type(original).__name__}: {db_error_message(self.error)}"


@contextmanager
def show_db_error() -> Iterator[DbErrorOutcome]:
    """Run the block; if the database refuses it, print one plain line instead of a traceback.

    Catches database errors only (SQLAlchemy's and the `sqlite3` module's); any other exception
    goes through. Prints e.g. ``refused: IntegrityError: UNIQUE constraint failed: customers.email``.
    The yielded `DbErrorOutcome` says what happened, for a later ``assert``. Put it outside a
    ``with engine.begin()`` block so the transaction is rolled back before the message prints.
    """
    outcome = DbErrorOutcome()
    try:
        yield outcome
    except (sa.exc.DBAPIError, sqlite3.Error) as exc:
        outcome.error = exc
        print(f"refused: {outcome.message}")
