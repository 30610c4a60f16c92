"""Ask the database how it will run a query: `explain(engine, sql)` → a `Plan`.

Introduced in 07-indexing. SQLite answers ``EXPLAIN QUERY PLAN`` with one line per step
(``SCAN orders``, ``SEARCH orders USING INDEX ix (customer_id=?)``); PostgreSQL answers
``EXPLAIN (FORMAT JSON)`` with a tree of nodes (``Seq Scan``, ``Index Scan``, ...). Both become
the same small model, so a lesson (and a checker) can ask the questions that matter without
parsing either format:

- `Plan.uses_index` — is an index *searched* to find the rows (not merely read end to end)?
- `Plan.is_full_scan` — does some step read a whole table or a whole index?
- `Plan.is_covering` — is some step answered from an index alone, without reading the table?
- `Plan.uses_automatic_index` — did SQLite build a throwaway index for this one query (a hint
  that a real one is missing)?

The plan prints like the ``sqlite3`` shell prints it, whatever the database (`Plan.raw` keeps what
the database answered). `btree_shape` shows why an index is fast: the number of pages of a table
or index, and how deep its B-tree is, on either database.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import sqlalchemy as sa

__all__ = ["BTreeShape", "Plan", "PlanStep", "btree_shape", "explain"]

Access = Literal["scan", "search", "other"]

_explain_calls = itertools.count(1)


@dataclass(frozen=True)
class PlanStep:
    """One step of a plan.

    ``access`` is ``"scan"`` (reads a whole table or index), ``"search"`` (seeks into a B-tree
    with ``condition``) or ``"other"`` (sorting, joining, grouping, ...). ``index`` names the
    index the step reads (``"PRIMARY KEY"`` for SQLite's rowid lookups), ``covering`` says the
    table itself is not read, ``automatic`` that SQLite built the index for this query only.
    """

    detail: str
    access: Access = "other"
    table: str | None = None
    index: str | None = None
    condition: str | None = None
    covering: bool = False
    automatic: bool = False
    children: tuple[PlanStep, ...] = ()

    def walk(self) -> Iterable[PlanStep]:
        """This step and every step below it, depth first."""
        yield self
        for child in self.children:
            yield from child.walk()


@dataclass(frozen=True)
class Plan:
    """A query plan: the top-level `steps` (each may have children) of one query on `dialect`."""

    dialect: str
    sql: str
    steps: tuple[PlanStep, ...]
    raw: Any = field(default=None, compare=False, repr=False)  # what the database returned

    @classmethod
    def from_sqlite(cls, rows: Iterable[Sequence[Any]], sql: str = "") -> Plan:
        """Build a plan from ``EXPLAIN QUERY PLAN`` rows ``(id, parent, notused, detail)``."""
        table = [tuple(row) for row in rows]
        children: dict[int, list[tuple]] = {}
        for row in table:
            children.setdefault(row[1], []).append(row)

        def build(row: tuple) -> PlanStep:
            below = tuple(build(child) for child in children.get(row[0], []))
            return _sqlite_step(str(row[3]), below)

        return cls("sqlite", sql, tuple(build(row) for row in children.get(0, [])), table)

    @classmethod
    def from_postgres(cls, document: str | Sequence[Any] | Mapping[str, Any], sql: str = "") -> Plan:
        """Build a plan from the output of PostgreSQL's ``EXPLAIN (FORMAT JSON)``.

        Accepts the JSON text, the parsed list ``[{"Plan": {...}}]`` or its ``{"Plan": ...}``.
        """
        data = json.loads(document) if isinstance(document, str) else document
        if isinstance(data, Sequence) and data:
            data = data[0]
        if not isinstance(data, Mapping) or not isinstance(data.get("Plan"), Mapping):
            raise ValueError('expected EXPLAIN (FORMAT JSON) output: [{"Plan": {...}}]')
        return cls("postgresql", sql, (_postgres_step(data["Plan"]),), data)

    def walk(self) -> list[PlanStep]:
        """Every step of the plan, depth first."""
        return [step for top in self.steps for step in top.walk()]

    def uses_index(self, name: str | None = None) -> bool:
        """Whether some step searches an index (named `name`, if given; case-insensitive).

        A whole-index scan does not count (it finds nothing faster), nor does an automatic
        index (it is rebuilt every time the query runs).
        """
        return any(
            step.access == "search"
            and step.index is not None
            and not step.automatic
            and (name is None or step.index.lower() == name.lower())
            for step in self.walk()
        )

    @property
    def is_full_scan(self) -> bool:
        """Whether some step reads a whole table or a whole index from start to end."""
        return any(step.access == "scan" for step in self.walk())

    @property
    def is_covering(self) -> bool:
        """Whether some step reads an index only, never the table (a covering index)."""
        return any(step.covering and not step.automatic for step in self.walk())

    @property
    def uses_automatic_index(self) -> bool:
        """Whether SQLite builds a temporary index for this query (a real one is missing)."""
        return any(step.automatic for step in self.walk())

    @property
    def indexes(self) -> list[str]:
        """The names of the indexes the plan reads, in order, without repeats."""
        names = [step.index for step in self.walk() if step.index and not step.automatic]
        return list(dict.fromkeys(names))

    def lines(self) -> list[str]:
        """The plan as indented lines, drawn like the ``sqlite3`` shell draws it."""
        out = ["QUERY PLAN"]

        def draw(steps: Sequence[PlanStep], prefix: str) -> None:
            for i, step in enumerate(steps):
                last = i == len(steps) - 1
                out.append(f"{prefix}{'`--' if last else '|--'}{step.detail}")
                draw(step.children, prefix + ("   " if last else "|  "))

        draw(self.steps, "")
        return out

    def __str__(self) -> str:
        return "\n".join(self.lines())

    def __repr__(self) -> str:
        return str(self)


# SQLite 3.36+ writes "SCAN orders"; older versions "SCAN TABLE orders". Both are accepted.
_SQLITE_ACCESS = re.compile(r"^(?P<access>SCAN|SEARCH)(?: TABLE)? (?P<table>\S+)(?P<rest>.*)$")
_SQLITE_USING = re.compile(
    r"USING (?P<automatic>AUTOMATIC )?(?:PARTIAL )?(?P<covering>COVERING )?INDEX(?: (?P<name>[^\s(]+))?"
)
_SQLITE_KEY = re.compile(r"USING (?:INTEGER )?PRIMARY KEY")
_SQLITE_CONDITION = re.compile(r"\((?P<condition>.*)\)\s*$")
_BACKGROUND = re.compile(r"\s*\(Background on this error at: \S+\)")  # SQLAlchemy's doc link


def _sqlite_step(detail: str, children: tuple[PlanStep, ...]) -> PlanStep:
    match = _SQLITE_ACCESS.match(detail)
    if match is None or match["table"] == "CONSTANT":  # "SCAN CONSTANT ROW" reads no table
        return PlanStep(detail, children=children)
    rest = match["rest"]
    using, key = _SQLITE_USING.search(rest), _SQLITE_KEY.search(rest)
    condition = _SQLITE_CONDITION.search(rest)
    index = None
    if using is not None:
        index = using["name"] or "AUTOMATIC"
    elif key is not None:
        index = "PRIMARY KEY"  # a rowid table is itself a B-tree keyed by its primary key
    return PlanStep(
        detail,
        access="search" if match["access"] == "SEARCH" else "scan",
        table=match["table"],
        index=index,
        condition=condition["condition"] if condition and match["access"] == "SEARCH" else None,
        covering=bool(using and using["covering"]),
        automatic=bool(using and using["automatic"]),
        children=children,
    )


def _postgres_step(node: Mapping[str, Any]) -> PlanStep:
    kind = str(node.get("Node Type", "?"))
    table, index = node.get("Relation Name"), node.get("Index Name")
    condition = node.get("Index Cond")
    children = tuple(_postgres_step(child) for child in node.get("Plans", ()))
    access: Access = "other"
    covering = False
    if kind == "Seq Scan":
        access, condition = "scan", None
    elif kind in ("Index Scan", "Index Only Scan", "Bitmap Index Scan"):
        # Without an Index Cond the index is read end to end (e.g. only for its order).
        access = "search" if condition else "scan"
        covering = kind == "Index Only Scan"
    detail = kind
    if index:
        detail += f" using {index}" if kind != "Bitmap Index Scan" else f" on {index}"
    if table:
        detail += f" on {table}"
    shown = condition or node.get("Filter")
    if shown:
        detail += f" {shown if str(shown).startswith('(') else f'({shown})'}"
    return PlanStep(detail, access, table, index, condition, covering, False, children)


def explain(
    engine: sa.Engine | sa.Connection,
    sql: str | sa.Executable,
    params: Mapping[str, Any] | None = None,
) -> Plan:
    """How the database behind `engine` would run `sql` (nothing is executed).

    `sql` is text with ``:name`` parameters (values in `params`), the same in ``sa.text()``, or
    a SQLAlchemy statement such as ``sa.select(orders).where(...)``.
    SQLite is asked ``EXPLAIN QUERY PLAN``, PostgreSQL ``EXPLAIN (FORMAT JSON)``. A
    `sa.Connection` is used as it is (inside its transaction, if one is open).
    """
    if isinstance(engine, sa.Engine):
        with engine.connect() as conn:
            return explain(conn, sql, params)
    if not isinstance(engine, sa.Connection):
        raise TypeError(f"explain() needs a SQLAlchemy Engine or Connection, not {type(engine).__name__}")
    dialect = engine.dialect.name
    if isinstance(sql, sa.TextClause):
        sql = sql.text
    elif isinstance(sql, sa.ClauseElement):  # a statement: every Executable SQLAlchemy builds is one
        sql = str(sql.compile(engine, compile_kwargs={"literal_binds": True}))
    if not isinstance(sql, str) or not sql.strip():
        raise TypeError("explain() needs a SQL query as text, e.g. 'SELECT * FROM orders WHERE id = :id'")
    prefix = {"sqlite": "EXPLAIN QUERY PLAN ", "postgresql": "EXPLAIN (FORMAT JSON) "}.get(dialect)
    if prefix is None:
        raise ValueError(f"explain() knows SQLite and PostgreSQL, not {dialect!r}")
    if dialect == "sqlite":
        # Python's sqlite3 caches prepared statements by their text, and SQLite does not
        # re-plan a cached EXPLAIN after CREATE or DROP INDEX: a fresh comment makes each new.
        prefix += f"/* explain {next(_explain_calls)} */ "
        refresh_sqlite_schema(engine)
    try:
        result = engine.execute(sa.text(prefix + sql), dict(params or {})).all()
    except sa.exc.StatementError as error:  # bad SQL, or a :name without a value
        reason = _BACKGROUND.sub("", str(error.orig))
        raise ValueError(f"{dialect} could not plan this query: {reason}") from None
    if dialect == "sqlite":
        return Plan.from_sqlite(result, sql)
    return Plan.from_postgres(result[0][0], sql)


def refresh_sqlite_schema(conn: sa.Connection) -> None:
    """Make a pooled SQLite connection re-read the schema that another connection changed.

    Each SQLite connection caches the schema. ``EXPLAIN QUERY PLAN`` and ``PRAGMA`` statements
    do not read the database file, so on a connection that last read before another connection
    ran ``CREATE INDEX`` they plan against the old schema (a plan one index late). A real read
    of the file notices the change and reloads it; ``PRAGMA schema_version`` does not.
    """
    conn.exec_driver_sql("SELECT count(*) FROM sqlite_schema").all()


@dataclass(frozen=True)
class BTreeShape:
    """The size of one table or index on disk: ``pages`` in all, and ``depth``, the number of
    pages a lookup reads from the root down to a leaf (1 for a PostgreSQL table: see `btree_shape`)."""

    name: str
    pages: int
    depth: int


def btree_shape(engine: sa.Engine | sa.Connection, name: str) -> BTreeShape:
    """Count the pages of table or index `name`, and the depth of its B-tree.

    SQLite: reads the ``dbstat`` table, one row per page (4 KiB) with its ``path`` from the root
    (``/``, ``/000/``, ``/000/01a/``...): the depth is the number of steps in the longest path.
    SQLite stores a table as a B-tree keyed by the row id, so a table has a depth too.

    PostgreSQL: the pages (8 KiB) are the relation's size on disk; an index's depth is its root's
    level plus one, read from the B-tree's first page with the ``pageinspect`` extension (created
    in this database if missing: that needs a superuser, as the embedded server's user is). A
    PostgreSQL table is a *heap*, pages in no particular order, and an index entry points at a
    row's page directly: reaching a row reads one page, so its depth is 1.
    """
    if isinstance(engine, sa.Engine):
        with engine.connect() as conn:
            shape = btree_shape(conn, name)
            conn.commit()  # PostgreSQL: keep the pageinspect extension created for it
            return shape
    if engine.dialect.name == "postgresql":
        return _postgres_shape(engine, name)
    if engine.dialect.name != "sqlite":
        raise ValueError(f"btree_shape() knows SQLite and PostgreSQL, not {engine.dialect.name!r}")
    refresh_sqlite_schema(engine)  # dbstat lists the pages of the schema this connection knows
    query = "SELECT count(*), max(length(path) - length(replace(path, '/', ''))) FROM dbstat WHERE name = :name"
    try:
        pages, depth = engine.execute(sa.text(query), {"name": name}).one()
    except sa.exc.OperationalError:
        raise ValueError(
            "this SQLite was built without the dbstat table (SQLITE_ENABLE_DBSTAT_VTAB), so it cannot show its pages"
        ) from None
    if not pages:
        raise ValueError(f"there is no table or index named {name!r}")
    return BTreeShape(name, pages, depth)


def _postgres_shape(conn: sa.Connection, name: str) -> BTreeShape:
    found = conn.execute(
        sa.text(
            "SELECT c.relkind, a.amname, pg_relation_size(c.oid) / current_setting('block_size')::int "
            "FROM pg_class c LEFT JOIN pg_am a ON a.oid = c.relam "
            "WHERE c.relname = :name AND pg_table_is_visible(c.oid)"
        ),
        {"name": name},
    ).first()
    if found is None or found[0] not in ("r", "i"):
        raise ValueError(f"there is no table or index named {name!r}")
    kind, method, pages = found
    if kind == "r":
        return BTreeShape(name, int(pages), 1)
    if method != "btree":
        raise ValueError(f"{name!r} is a {method} index, not a B-tree")
    try:
        with conn.begin_nested():
            conn.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS pageinspect")
    except sa.exc.DBAPIError as error:
        reason = _BACKGROUND.sub("", str(error.orig)).strip()
        raise ValueError(f"btree_shape() reads the index with the pageinspect extension, and: {reason}") from None
    level = conn.execute(sa.text("SELECT level FROM bt_metap(:name)"), {"name": name}).scalar_one()
    return BTreeShape(name, int(pages), int(level) + 1)
