"""Checkers for the exercises of 07-indexing: choose an index, predict which queries use one.

Every check runs the student's SQL on a fresh, private SQLite database (a small generated
bookshop) and reads the real query plan with `labsupport.lessons.l07_indexing.plans`, so an answer is judged by
what the planner does, not by matching text. The practice database is always SQLite, even when
the notebook itself runs on PostgreSQL: the hints speak SQLite's plan vocabulary.
"""

from __future__ import annotations

import re
from dataclasses import replace

import sqlalchemy as sa

from labsupport.checks import Hint, checker, expect_type
from labsupport.datagen import bookshop_rows, insert_bookshop
from labsupport.lessons.l07_indexing.plans import Plan, PlanStep, explain

__all__ = [
    "RANGE_QUERY",
    "COVERING_QUERY",
    "QUERY_PARAMS",
    "PRACTICE_INDEXES",
    "PREDICT_QUERIES",
    "practice_database",
    "check_search_index",
    "check_covering_index",
    "check_index_predictions",
]

RANGE_QUERY = "SELECT id, status FROM orders WHERE customer_id = :customer AND ordered_on >= :since"
COVERING_QUERY = "SELECT ordered_on, status FROM orders WHERE customer_id = :customer"
QUERY_PARAMS = {"customer": 42, "since": "2024-07-01"}

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
PRACTICE_ORDERS = 1_000  # small: a check must run in milliseconds; the planner's choice is the same

_CREATE_INDEX = re.compile(r"^\s*CREATE\s+(UNIQUE\s+)?INDEX\s", re.IGNORECASE)


def practice_database(indexes: tuple[str, ...] = ()) -> sa.Engine:
    """A fresh in-memory SQLite bookshop (customers, books and orders) with `indexes` created.

    In memory rather than `sql_engine()`: it must be SQLite whatever ``LAB_DATABASE_URL`` says,
    and nothing is left behind. (SQLAlchemy keeps one connection for an in-memory database per
    thread, so every call on the engine sees the same data.)
    """
    engine = sa.create_engine("sqlite://")
    insert_bookshop(engine, replace(bookshop_rows(PRACTICE_ORDERS), order_lines=[]))
    with engine.begin() as conn:
        for statement in indexes:
            conn.exec_driver_sql(statement)
    return engine


def _apply_index(statement: object) -> tuple[sa.Engine, str, str, list[str]]:
    """Create the student's index on a practice database: (engine, name, table, columns)."""
    expect_type(statement, str, "a CREATE INDEX statement as a string")
    if not _CREATE_INDEX.match(statement):  # type: ignore[arg-type]
        raise Hint(
            "Write one statement that starts with CREATE INDEX, e.g. "
            "'CREATE INDEX ix_orders_status ON orders (status)'."
        )
    engine = practice_database()
    with engine.begin() as conn:
        before = _index_names(conn)
        try:
            conn.exec_driver_sql(statement)  # type: ignore[arg-type]
        except sa.exc.DBAPIError as error:
            raise Hint(f"SQLite could not run your statement: {error.orig}") from None
        created = sorted(_index_names(conn) - before)
        if not created:
            raise Hint("Your statement created no index (is the name already taken?).")
        name = created[0]
        table = conn.exec_driver_sql(
            "SELECT tbl_name FROM sqlite_schema WHERE type = 'index' AND name = ?", (name,)
        ).scalar_one()
        # index_info names each column; an expression (lower(email)) has no name.
        columns = [
            row[2] or "<expression>"
            for row in conn.exec_driver_sql(f"PRAGMA index_info('{name.replace(chr(39), chr(39) * 2)}')").fetchall()
        ]
    return engine, name, table, columns


def _index_names(conn: sa.Connection) -> set[str]:
    rows = conn.exec_driver_sql("SELECT name FROM sqlite_schema WHERE type = 'index'").fetchall()
    return {row[0] for row in rows}


def _step_using(plan: Plan, name: str) -> PlanStep | None:
    return next((s for s in plan.walk() if s.index and s.index.lower() == name.lower()), None)


def _not_searched_hint(plan: Plan, table: str, columns: list[str]) -> Hint:
    listed = ", ".join(columns)
    if table != "orders":
        return Hint(f"Your index is on the {table} table, but the query reads orders.")
    return Hint(
        f"The plan is still `{plan.lines()[-1].lstrip('`|- ')}`: your index on ({listed}) does "
        f"not help. SQLite can search an index only when the WHERE clause constrains its first "
        f"column ({columns[0]})."
    )


@checker("Exercise 1: an index for both conditions", expects="a CREATE INDEX statement")
def check_search_index(statement: str) -> str:
    engine, name, table, columns = _apply_index(statement)
    plan = explain(engine, RANGE_QUERY, QUERY_PARAMS)
    step = _step_using(plan, name)
    if step is None or not plan.uses_index(name):
        raise _not_searched_hint(plan, table, columns)
    condition = step.condition or ""
    if "customer_id=" in condition and "ordered_on>" in condition:
        return (
            f"Right: {step.detail}. Both conditions are searched in the index: "
            "the equality column first, then the range."
        )
    if columns[0] == "ordered_on":
        raise Hint(
            f"The plan is `{step.detail}`: with ordered_on first, SQLite walks every order since "
            "that date and checks customer_id on each one. Put the equality column "
            "(customer_id) first and the range column (ordered_on) second."
        )
    raise Hint(
        f"The plan is `{step.detail}`: only customer_id is searched in the index. Put ordered_on "
        "right after customer_id, so that the date range is searched in the index too."
    )


@checker("Exercise 2: a covering index", expects="a CREATE INDEX statement")
def check_covering_index(statement: str) -> str:
    engine, name, table, columns = _apply_index(statement)
    plan = explain(engine, COVERING_QUERY, QUERY_PARAMS)
    step = _step_using(plan, name)
    if step is not None and plan.uses_index(name) and step.covering:
        return f"Right: {step.detail}. SQLite answers from the index alone and never reads the table."
    if step is not None and plan.uses_index(name):
        missing = [c for c in ("ordered_on", "status") if c not in columns]
        raise Hint(
            f"The plan is `{step.detail}`: the index finds the rows, but SQLite still reads each "
            f"one from the table to get {' and '.join(missing)}. Add the column(s) the SELECT "
            "needs to the index, after customer_id."
        )
    if step is not None and step.covering:
        raise Hint(
            f"The plan is `{step.detail}`: your index holds every column the query needs, but "
            "SQLite reads all of it. Put customer_id first so that it can search the index."
        )
    raise _not_searched_hint(plan, table, columns)


@checker("Exercise 3: which queries can use an index?", expects="a dict {letter: True or False}")
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
