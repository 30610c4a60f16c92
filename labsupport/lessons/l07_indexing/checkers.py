"""Checkers for the exercises of 07-indexing: choose an index, predict which queries use one, fix
a query that hides its column from an index; and read pg_stat_statements (exercise 5).

Exercises 1 to 4 run the student's SQL on a fresh, private SQLite database (a small generated
bookshop) and read the real query plan with `labsupport.lessons.l07_indexing.plans`, so an answer is judged by
what the planner does, not by matching text. The plan is asked for several parameter values, and
the index's own DDL is read, so an index that fits only the values the check happens to ask with
(a partial index, ``WHERE customer_id = 42``) fails.

Why SQLite, even when the notebook runs on PostgreSQL: these exercises ask what an index *can*
do, and SQLite's planner answers that by fixed rules (without ANALYZE it searches any index that
fits), which is the truth the exercises and their hints are written against ("can SQLite search
an index?", ``USING COVERING INDEX``). PostgreSQL's planner chooses by cost: on a practice table of
1,000 orders it often reads the whole table even where an index fits, and PostgreSQL 18 can skip-
scan an index whose first column is not constrained, so the same question would have another
answer there. The notebook's prose says "SQLite" for these exercises. The practice engines are
disposed of and collected when a check ends, so no SQLite engine outlives it.
"""

from __future__ import annotations

import functools
import gc
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, TypeVar

import sqlalchemy as sa

from labsupport.checks import Hint, checker, expect_type
from labsupport.datagen import bookshop_rows, insert_bookshop
from labsupport.lessons.l07_indexing.plans import Plan, PlanStep, explain

__all__ = [
    "MONTH_INDEXES",
    "MONTH_QUERY",
    "RANGE_QUERY",
    "COVERING_QUERY",
    "QUERY_PARAMS",
    "PRACTICE_INDEXES",
    "PREDICT_QUERIES",
    "practice_database",
    "check_search_index",
    "check_covering_index",
    "check_index_predictions",
    "check_month_query",
    "WORKLOAD_QUERIES",
    "check_busiest_query",
]

RANGE_QUERY = "SELECT id, status FROM orders WHERE customer_id = :customer AND ordered_on >= :since"
COVERING_QUERY = "SELECT ordered_on, status FROM orders WHERE customer_id = :customer"
QUERY_PARAMS = {"customer": 42, "since": "2024-07-01"}
# The plans are asked with each of these: an index must serve every customer and date, not one.
CHECKED_PARAMS = (
    QUERY_PARAMS,
    {"customer": 7, "since": "2023-02-01"},
    {"customer": 99, "since": "2024-12-15"},
)

# Exercise 3 runs on a database with these indexes (the customers' UNIQUE email brings its own).
PRACTICE_INDEXES = ("CREATE INDEX ix_orders_customer_date ON orders (customer_id, ordered_on)",)
PREDICT_QUERIES = {
    "a": "SELECT * FROM orders WHERE customer_id = 42",
    "b": "SELECT * FROM orders WHERE ordered_on = '2024-03-01'",
    "c": "SELECT * FROM customers WHERE email = 'ada.costa17@example.com'",
    "d": "SELECT * FROM customers WHERE lower(email) = 'ada.costa17@example.com'",
    "e": "SELECT * FROM customers WHERE email LIKE '%@example.org'",
    "f": "SELECT * FROM orders WHERE customer_id = 42 AND status = 'paid'",
    "g": "SELECT * FROM orders WHERE customer_id = 42 OR status = 'paid'",
}
# Why each query can or cannot search an index: shown when a prediction is wrong.
_REASONS = {
    "a": "customer_id is the first column of ix_orders_customer_date, so SQLite searches it.",
    "b": "ordered_on is only the second column of ix_orders_customer_date; an index is sorted "
    "by its first column, like a phone book by surname, so it cannot find a date on its own.",
    "c": "the UNIQUE constraint on customers.email is enforced with an index "
    "(sqlite_autoindex_customers_1), and an equality on it can search that index.",
    "d": "the index holds email, not lower(email): a function on the column hides it from the "
    "index (an expression index on lower(email) would fix that).",
    "e": "a pattern that starts with % can match anywhere, so the sorted order of the index "
    "does not narrow the search: every row is checked.",
    "f": "the index finds customer 42's orders; status is then checked on those few rows.",
    "g": "with OR, rows that match only status = 'paid' are wanted too, and no index can find "
    "them, so SQLite reads the whole table.",
}
# Exercise 4: a colleague's report of one month's orders, with an index it cannot use.
MONTH_INDEXES = ("CREATE INDEX ix_orders_date ON orders (ordered_on)",)
MONTH_QUERY = "SELECT id, customer_id, status FROM orders WHERE substr(ordered_on, 1, 7) = :month"
# Months whose first and last days both have orders (a test checks it), a February, and a month
# without any order: an off-by-one at either end of the range shows.
CHECKED_MONTHS = ("2024-03", "2024-12", "2023-04", "2024-02", "2025-01")
PRACTICE_ORDERS = 1_000  # small: a check must run in milliseconds; the planner's choice is the same

_CREATE_INDEX = re.compile(r"^\s*CREATE\s+(UNIQUE\s+)?INDEX\s", re.IGNORECASE)


_practice_engines: list[sa.Engine] = []
_F = TypeVar("_F", bound=Callable[..., Any])


def _cleans_up(check: _F) -> _F:
    """Dispose of the practice databases `check` made and collect them when it ends.

    An engine sits in reference cycles, so it would stay in memory (and be listed by the garbage
    collector) until the next collection: collected now, nothing of the check stays behind.
    """

    @functools.wraps(check)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return check(*args, **kwargs)
        except Hint as hint:
            # A hint is its message: its traceback (and the error it replaced) would keep the
            # check's frames, and with them the engine, alive.
            hint.__traceback__ = hint.__context__ = hint.__cause__ = None
            raise
        finally:
            while _practice_engines:
                _practice_engines.pop().dispose()
            gc.collect()

    return wrapper  # type: ignore[return-value]


def practice_database(indexes: tuple[str, ...] = ()) -> sa.Engine:
    """A fresh in-memory SQLite bookshop (customers, books and orders) with `indexes` created.

    In memory rather than `sql_engine()`: it must be SQLite whatever ``LAB_DATABASE_URL`` says,
    and nothing is left behind. (SQLAlchemy keeps one connection for an in-memory database per
    thread, so every call on the engine sees the same data.)
    """
    engine = sa.create_engine("sqlite://")
    _practice_engines.append(engine)
    insert_bookshop(engine, replace(bookshop_rows(PRACTICE_ORDERS), order_lines=[]))
    with engine.begin() as conn:
        for statement in indexes:
            conn.exec_driver_sql(statement)
    return engine


@dataclass(frozen=True)
class _Index:
    """What the student's statement created, read back from the database (not from the text)."""

    name: str
    table: str
    columns: list[str]
    unique: bool
    where: str | None  # the WHERE clause of a partial index


def _apply_index(statement: object) -> tuple[sa.Engine, _Index]:
    """Create the student's index on a practice database: the engine and what the index is."""
    statement = expect_type(statement, str, "a CREATE INDEX statement as a string")
    if not _CREATE_INDEX.match(statement):
        raise Hint(
            "Write one statement that starts with CREATE INDEX, e.g. "
            "'CREATE INDEX ix_orders_status ON orders (status)'."
        )
    engine = practice_database()
    with engine.begin() as conn:
        before = _index_names(conn)
        try:
            conn.exec_driver_sql(statement)
        except sa.exc.DBAPIError as error:
            raise Hint(f"SQLite could not run your statement: {error.orig}") from None
        created = sorted(_index_names(conn) - before)
        if not created:
            raise Hint("Your statement created no index (is the name already taken?).")
        name = created[0]
        table, ddl = conn.exec_driver_sql(
            "SELECT tbl_name, sql FROM sqlite_schema WHERE type = 'index' AND name = ?", (name,)
        ).one()
        quoted = name.replace("'", "''")
        # index_info names each column; an expression (lower(email)) has no name.
        columns = [
            row[2] or "<expression>" for row in conn.exec_driver_sql(f"PRAGMA index_info('{quoted}')").fetchall()
        ]
        # index_list: (seq, name, unique, origin, partial) for each index of the table.
        flags = {
            row[1]: row for row in conn.exec_driver_sql(f"PRAGMA index_list('{table.replace(chr(39), chr(39) * 2)}')")
        }
    unique, partial = bool(flags[name][2]), bool(flags[name][4])
    where = _WHERE.search(ddl or "") if partial else None
    index = _Index(name, table, columns, unique, where.group(1).strip() if where else ("..." if partial else None))
    return engine, index


_WHERE = re.compile(r"\)\s*WHERE\s+(.*)$", re.IGNORECASE | re.DOTALL)


def _check_ddl(index: _Index) -> None:
    """Hints for an index that the plan alone would not reveal: partial or UNIQUE."""
    if index.where is not None:
        raise Hint(
            f"Your index is partial (WHERE {index.where}): it holds only the rows that match, so SQLite can "
            "use it only for a query that repeats that condition. The query runs for every customer and "
            "every date (here, e.g., " + ", ".join(f"customer {p['customer']}" for p in CHECKED_PARAMS) + "): "
            "index all the rows, without WHERE."
        )
    if index.unique:
        raise Hint(
            f"A UNIQUE index adds a rule to the data: no two orders with the same ({', '.join(index.columns)}). "
            "That is a constraint, not a speed-up; an index for speed is a plain CREATE INDEX."
        )


def _index_names(conn: sa.Connection) -> set[str]:
    rows = conn.exec_driver_sql("SELECT name FROM sqlite_schema WHERE type = 'index'").fetchall()
    return {row[0] for row in rows}


def _step_using(plan: Plan, name: str) -> PlanStep | None:
    return next((s for s in plan.walk() if s.index and s.index.lower() == name.lower()), None)


def _not_searched_hint(plan: Plan, table: str, columns: list[str]) -> Hint:
    listed = ", ".join(columns)
    if table != "orders":
        return Hint(f"Your index is on the {table} table, but the query reads orders.")
    if columns and columns[0] == "<expression>":
        return Hint(
            f"The plan is still `{plan.lines()[-1].lstrip('`|- ')}`: your index starts with an expression, "
            "and the query compares the columns themselves. Index the columns, not a computation on them."
        )
    return Hint(
        f"The plan is still `{plan.lines()[-1].lstrip('`|- ')}`: your index on ({listed}) does "
        f"not help. SQLite can search an index only when the WHERE clause constrains its first "
        f"column ({columns[0]})."
    )


def _plans(engine: sa.Engine, query: str) -> list[Plan]:
    return [explain(engine, query, params) for params in CHECKED_PARAMS]


@checker("Exercise 1: an index for both conditions", expects="a CREATE INDEX statement")
@_cleans_up
def check_search_index(statement: str) -> str:
    engine, index = _apply_index(statement)
    _check_ddl(index)
    name, columns = index.name, index.columns
    for plan in _plans(engine, RANGE_QUERY):
        step = _step_using(plan, name)
        if step is None or not plan.uses_index(name):
            raise _not_searched_hint(plan, index.table, columns)
        condition = step.condition or ""
        if "customer_id=" in condition and "ordered_on>" in condition:
            continue
        if columns[0] == "ordered_on":
            raise Hint(
                f"The plan is `{step.detail}`: with ordered_on first, SQLite walks every order since "
                "that date and checks customer_id on each one. Put the equality column "
                "(customer_id) first and the range column (ordered_on) second."
            )
        if "<expression>" in columns[:2]:
            raise Hint(
                f"The plan is `{step.detail}`: only customer_id is searched. Your index holds an expression "
                "where the query compares ordered_on itself: index the column ordered_on, right after customer_id."
            )
        raise Hint(
            f"The plan is `{step.detail}`: only customer_id is searched in the index. Put ordered_on "
            "right after customer_id, so that the date range is searched in the index too."
        )
    assert step is not None  # every plan above used the index, or a hint was raised
    return (
        f"Right: {step.detail}, for every customer and date tried. Both conditions are searched in the index: "
        "the equality column first, then the range, because within one customer the entries are sorted by date."
    )


@checker("Exercise 2: a covering index", expects="a CREATE INDEX statement")
@_cleans_up
def check_covering_index(statement: str) -> str:
    engine, index = _apply_index(statement)
    _check_ddl(index)
    name, columns = index.name, index.columns
    for plan in _plans(engine, COVERING_QUERY):
        step = _step_using(plan, name)
        if step is not None and plan.uses_index(name) and step.covering:
            continue
        if step is not None and plan.uses_index(name):
            missing = [c for c in ("ordered_on", "status") if c not in columns]
            needed = " and ".join(missing) or "a column your index holds only inside an expression"
            raise Hint(
                f"The plan is `{step.detail}`: the index finds the rows, but SQLite still reads each "
                f"one from the table to get {needed}. "
                "Add the column(s) the SELECT needs to the index, after customer_id."
            )
        if step is not None and step.covering:
            raise Hint(
                f"The plan is `{step.detail}`: your index holds every column the query needs, but "
                "SQLite reads all of it. Put customer_id first so that it can search the index."
            )
        raise _not_searched_hint(plan, index.table, columns)
    assert step is not None  # every plan above used the index, or a hint was raised
    return (
        f"Right: {step.detail}. SQLite answers from the index alone and never reads the table: every column the "
        "query needs is in the index entry."
    )


@checker("Exercise 3: which queries can use an index?", expects="a dict {letter: True or False}")
@_cleans_up
def check_index_predictions(answer: dict[str, bool]) -> str:
    expect_type(answer, dict, "a dict such as {'a': True, 'b': False, ...}")
    unknown = sorted(str(key) for key in answer if key not in PREDICT_QUERIES)
    if unknown:
        raise Hint(f"The queries are lettered {', '.join(PREDICT_QUERIES)}; there is no {unknown[0]!r}.")
    for letter in PREDICT_QUERIES:
        if letter not in answer:
            raise Hint(f"Give True or False for query {letter!r} too.")
        if not isinstance(answer[letter], bool):
            raise Hint(f"The answer for {letter!r} should be True or False, not {answer[letter]!r}.")
    engine = practice_database(PRACTICE_INDEXES)
    wrong = []
    for letter, sql in PREDICT_QUERIES.items():
        plan = explain(engine, sql)
        if answer[letter] != plan.uses_index():
            shown = " + ".join(line.lstrip("`|- ") for line in plan.lines()[1:])
            wrong.append(f"{letter}: you said {answer[letter]}, but the plan is `{shown}`: {_REASONS[letter]}")
    if wrong:
        raise Hint(f"{len(wrong)} of {len(PREDICT_QUERIES)} wrong.\n" + "\n".join(wrong))
    return f"All {len(PREDICT_QUERIES)} right: an index is searched from its first column, on the column itself."


def _month_rows(conn: sa.Connection, sql: str, month: str) -> set[tuple]:
    try:
        result = conn.execute(sa.text(sql), {"month": month})
    except sa.exc.StatementError as error:
        raise Hint(f"SQLite could not run your query for month {month!r}: {error.orig}") from None
    if not result.returns_rows:
        raise Hint("Your statement returns no rows: write a SELECT.")
    return {tuple(row) for row in result}


def _days(conn: sa.Connection, ids: set[int]) -> list[str]:
    rows = conn.execute(
        sa.text("SELECT DISTINCT ordered_on FROM orders WHERE id IN (SELECT value FROM json_each(:ids))"),
        {"ids": f"[{','.join(map(str, sorted(ids)))}]"},
    )
    return sorted(row[0] for row in rows)


@checker("Exercise 4: a month's orders, searched", expects="a SELECT query as a string, with :month")
@_cleans_up
def check_month_query(sql: str) -> str:
    sql = expect_type(sql, str, "a SELECT query as a string, with the parameter :month")
    if ":month" not in sql:
        raise Hint("Keep the parameter :month in your query (e.g. '2024-03'): the check runs it for several months.")
    engine = practice_database(MONTH_INDEXES)
    with engine.connect() as conn:
        for month in CHECKED_MONTHS:
            expected, got = _month_rows(conn, MONTH_QUERY, month), _month_rows(conn, sql, month)
            if got and {len(row) for row in got} != {3}:
                raise Hint("Select the same columns as the original query: id, customer_id, status.")
            if got == expected:
                continue
            missing, extra = {r[0] for r in expected - got}, {r[0] for r in got - expected}
            if missing:
                days = ", ".join(_days(conn, missing)[:3])
                raise Hint(
                    f"For {month} your query misses {len(missing)} order(s), placed on {days}: "
                    "check both ends of your range (the first day counts, and so does the last)."
                )
            raise Hint(
                f"For {month} your query also returns {len(extra)} order(s) of other months, placed on "
                f"{', '.join(_days(conn, extra)[:3])}: the range must stop before the next month starts."
            )
    plan = explain(engine, sql, {"month": CHECKED_MONTHS[0]})
    step = _step_using(plan, "ix_orders_date")
    if step is None or not plan.uses_index("ix_orders_date") or plan.is_full_scan:
        raise Hint(
            f"Same rows, but the plan is still `{plan.lines()[-1].lstrip('`|- ')}`. The index holds ordered_on "
            "itself, sorted; a function of it (strftime, substr, date) or a LIKE pattern has to be computed for "
            "every row. Compare the column itself with a range: from the month's first day, up to (not "
            "including) the next month's first day."
        )
    return (
        f"Right: {step.detail}. The index is sorted by ordered_on, so one month is one stretch of it, found by "
        "a search; substr(ordered_on, 1, 7) had to be computed for every row of the table."
    )


# Exercise 5 (section "On PostgreSQL"): the workload the notebook's pg_stat_statements demo runs,
# as the view shows each query (constants become $1). The notebook asserts that the view's rows
# are exactly these three, live or recorded, so this checker and the data cannot drift apart.
# By design each is the answer to a different question: the unindexed lookup has the largest
# total time, the report the largest time per call, the indexed lookup the most calls.
WORKLOAD_QUERIES = {
    "total": "SELECT id, ordered_on, status FROM orders_unindexed WHERE customer_id = $1",
    "per call": (
        "SELECT c.city, count(*) FROM orders_unindexed o JOIN customers c ON c.id = o.customer_id GROUP BY c.city"
    ),
    "calls": "SELECT id, ordered_on, status FROM orders WHERE customer_id = $1",
}


def _same_query(a: str, b: str) -> bool:
    def norm(sql: str) -> str:
        return " ".join(sql.replace(";", " ").split()).lower()

    return norm(a) == norm(b)


@checker("Exercise 5: the query that costs the database most", expects="the query text, a string")
def check_busiest_query(query: str) -> str:
    """The query with the largest total time in pg_stat_statements, judged by the workload's design.

    The truth is fixed (`WORKLOAD_QUERIES`), not recomputed from a table the student passes in:
    a checker must not accept whatever data it is handed.
    """
    query = expect_type(query, str, "the text of one query, e.g. statements.loc[..., 'query']")
    if _same_query(query, WORKLOAD_QUERIES["total"]):
        return (
            "Right: it is not slow on its own (a few ms a call), but it runs so often that its calls add up to "
            "the most time. An index on orders_unindexed (customer_id) would remove most of it."
        )
    if _same_query(query, WORKLOAD_QUERIES["per call"]):
        raise Hint(
            "That query is the slowest per call (mean_ms), but it ran once. The database's time is "
            "calls × mean: look at total_ms, the column that adds every call up."
        )
    if _same_query(query, WORKLOAD_QUERIES["calls"]):
        raise Hint(
            "That query ran most often, but each call is quick (it searches an index). Calls alone do not say "
            "what the time went to: look at total_ms, calls × mean."
        )
    raise Hint(
        "That is not one of the three queries of the workload: copy the text from the `query` column of "
        "`statements` (for instance statements.loc[row, 'query'])."
    )
