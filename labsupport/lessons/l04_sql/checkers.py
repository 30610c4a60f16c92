"""Checkers for the exercises of 04-sql: write a join, then fix an injectable query.

Both run the student's answer against a fresh database holding a few hand-written rows
(`exercise_engine`), so the expected answer is known exactly and nothing a student runs can
damage anything else. Exercise 1 compares the rows a SQL query returns with the right ones and
names the usual mistake (inner join, no GROUP BY, COUNT(*)). Exercise 2 attacks the student's
``find_customer(conn, email)`` with injection strings and checks that honest lookups still work.
"""

from __future__ import annotations

import inspect
from collections import Counter
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa

from labsupport import schema
from labsupport.checks import Hint, checker, expect_type
from labsupport.databases import sql_engine
from labsupport.lessons.l04_sql.sqlshow import db_error_message

__all__ = ["CUSTOMERS", "ORDERS", "ATTACKS", "exercise_engine", "check_orders_per_customer", "check_find_customer"]

# (id, name, email, city): two customers have no orders; one email has an apostrophe, which
# is legal in an email address and breaks any query built by pasting it between quotes.
CUSTOMERS = (
    (1, "Ada Costa", "ada@example.com", "Lisbon"),
    (2, "Ben Weber", "ben@example.com", "Berlin"),
    (3, "Chloe Dubois", "chloe@example.com", "Lyon"),
    (4, "Daniel Evans", "daniel@example.com", "Leeds"),
    (5, "Farah O'Brien", "farah.o'brien@example.com", "Dublin"),
)
# (id, customer_id, ordered_on, status)
ORDERS = (
    (1, 1, "2024-01-05", "delivered"),
    (2, 2, "2024-01-09", "paid"),
    (3, 1, "2024-02-11", "shipped"),
    (4, 4, "2024-02-20", "delivered"),
    (5, 1, "2024-03-02", "pending"),
    (6, 4, "2024-03-15", "cancelled"),
)
ORDERS_PER_CUSTOMER = {name: sum(o[1] == cid for o in ORDERS) for cid, name, _, _ in CUSTOMERS}

# Each returns every customer (or runs a second statement) when pasted between quotes.
ATTACKS = (
    "' OR '1'='1",
    "nobody@example.com' OR 1=1 --",
    "' UNION SELECT id, email FROM customers --",
    "x' OR email LIKE '%",
    "'; DELETE FROM customers; --",
)


def exercise_engine() -> sa.Engine:
    """A fresh database with the bookshop tables and the exercise's 5 customers and 6 orders."""
    engine = sql_engine()
    schema.create_tables(engine)
    with engine.begin() as conn:
        for table, rows in ((schema.customers, CUSTOMERS), (schema.orders, ORDERS)):
            conn.execute(table.insert(), [dict(zip(table.columns.keys(), row)) for row in rows])
    return engine


def _run_query(sql: str) -> tuple[list[str], list[tuple]]:
    engine = exercise_engine()
    try:
        with engine.connect() as conn:
            try:
                result = conn.exec_driver_sql(sql)
            except sa.exc.DBAPIError as exc:
                raise Hint(f"The database refused your SQL: {db_error_message(exc)}") from None
            if not result.returns_rows:
                raise Hint("Your statement returns no rows: write a SELECT query.")
            columns, rows = list(result.keys()), [tuple(row) for row in result.fetchall()]
            conn.rollback()  # whatever the statement did, it is undone
    finally:
        engine.dispose()
    return columns, rows


def _names(names: set[str], singular: str, plural: str) -> str:
    """'Chloe Dubois is' or 'Chloe Dubois, Farah O'Brien are': the names and the right verb."""
    return f"{', '.join(sorted(names))} {singular if len(names) == 1 else plural}"


@checker("Exercise 1: orders per customer", expects="SQL text in a string")
def check_orders_per_customer(sql: str) -> str:
    expect_type(sql, str, 'SQL text in a string, e.g. "SELECT ... FROM customers ..."')
    if not sql.strip():
        raise Hint("The string is empty: write a SELECT query in it.")
    columns, rows = _run_query(sql)
    if len(columns) != 2:
        raise Hint(
            f"Your query returns {len(columns)} column(s) ({', '.join(columns)}); the result needs exactly 2: "
            "the customer's name, then their number of orders."
        )
    if rows and all(isinstance(a, int) and isinstance(b, str) for a, b in rows):
        raise Hint("The columns are the wrong way round: the customer's name first, then the count.")
    names = [row[0] for row in rows]
    if len(rows) == 1 and len(ORDERS_PER_CUSTOMER) > 1:
        raise Hint(
            "Only one row: an aggregate such as COUNT(...) without GROUP BY folds all rows into one. "
            "GROUP BY the customer to get one row per customer."
        )
    repeated = {name for name, k in Counter(names).items() if k > 1}
    if repeated:
        raise Hint(
            f"{_names({str(n) for n in repeated}, 'appears', 'appear')} more than once: one row per customer needs "
            "GROUP BY the customer (c.id) and COUNT(o.id) to count their orders."
        )
    unknown = {str(n) for n in names} - set(ORDERS_PER_CUSTOMER)
    if unknown:
        raise Hint(
            f"The first column holds {', '.join(sorted(unknown))}, which are not customer names; "
            "select customers.name first."
        )
    missing = set(ORDERS_PER_CUSTOMER) - set(names)
    if missing:
        without_orders = {name for name, k in ORDERS_PER_CUSTOMER.items() if k == 0}
        if missing <= without_orders:
            raise Hint(
                f"{_names(missing, 'is', 'are')} missing: they have no orders, and an inner JOIN drops rows "
                "without a match. A LEFT JOIN keeps every customer."
            )
        raise Hint(f"Rows for {', '.join(sorted(missing))} are missing: every customer should get a row.")
    counts = dict(rows)
    for name, count in counts.items():
        if isinstance(count, bool) or not isinstance(count, int):
            raise Hint(f"The second column should be a whole number of orders, but {name} has {count!r}.")
    wrong = {name for name, count in counts.items() if count != ORDERS_PER_CUSTOMER[name]}
    if wrong and all(ORDERS_PER_CUSTOMER[name] == 0 and counts[name] == 1 for name in wrong):
        raise Hint(
            f"{_names(wrong, 'has', 'have')} no orders but your count says 1: COUNT(*) counts the row of NULLs "
            "that the LEFT JOIN made up. Count a column of orders instead, COUNT(o.id), which skips NULLs."
        )
    if wrong:
        name = sorted(wrong)[0]
        raise Hint(
            f"The count for {name} is {counts[name]}, but they placed {ORDERS_PER_CUSTOMER[name]} order(s): "
            "count the rows of orders that belong to each customer (ON o.customer_id = c.id)."
        )
    return (
        "Right: the LEFT JOIN keeps customers without orders, GROUP BY makes one row per customer, "
        "and COUNT(o.id) gives 0 where there is no order."
    )


def _call(find_customer: Callable[..., Any], engine: sa.Engine, email: str) -> list[tuple]:
    """Call the student's function on a fresh connection; the result as a list of tuples."""
    with engine.connect() as conn:
        try:
            result = find_customer(conn, email)
        except sa.exc.DBAPIError as exc:
            raise Hint(
                f"find_customer({email!r}) crashed: the database said {db_error_message(exc)!r}. The quote in "
                "the input changed the SQL itself: pass email as a bound parameter instead."
            ) from None
        if isinstance(result, sa.Result):
            result = result.fetchall()
        if not isinstance(result, (list, tuple)):
            raise Hint(f"find_customer should return a list of rows (e.g. .fetchall()), not {type(result).__name__}.")
        try:
            rows = [tuple(row) for row in result]
        except TypeError:
            raise Hint(
                "Each item of the list should be a row starting with the customer's id, as .fetchall() returns."
            ) from None
        conn.rollback()
    return rows


def _customer_count(engine: sa.Engine) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(schema.customers)).scalar_one()


@checker("Exercise 2: a lookup that injection cannot bend", expects="a function find_customer(conn, email)")
def check_find_customer(find_customer: Callable[..., Any]) -> str:
    if not callable(find_customer):
        raise Hint("find_customer should be a function: def find_customer(conn, email): ...")
    try:
        inspect.signature(find_customer).bind("conn", "email")
    except (TypeError, ValueError):
        raise Hint("find_customer should take two arguments: the connection and the email, (conn, email).") from None
    engine = exercise_engine()
    try:
        rows = _call(find_customer, engine, "ada@example.com")
        if not rows:
            raise Hint("find_customer(conn, 'ada@example.com') found nothing, but Ada exists: check the WHERE clause.")
        if len(rows) > 1 or rows[0][0] != 1:
            raise Hint(
                f"find_customer(conn, 'ada@example.com') returned {rows[:3]!r}; expected Ada's one row, "
                "starting with her id, 1: SELECT id, name FROM customers WHERE email = ..."
            )
        if _call(find_customer, engine, "nobody@example.com"):
            raise Hint("find_customer(conn, 'nobody@example.com') should return an empty list: nobody has that email.")
        for attack in ATTACKS:
            rows = _call(find_customer, engine, attack)
            if rows:
                raise Hint(
                    f"The attack {attack!r} still worked: it returned {len(rows)} row(s). Pass email as a "
                    "bound parameter (:email with sa.text, or ? with exec_driver_sql), never inside the SQL text."
                )
            if _customer_count(engine) != len(CUSTOMERS):
                raise Hint(f"The attack {attack!r} deleted customers. Use a bound parameter for email.")
        quoted = CUSTOMERS[4]
        rows = _call(find_customer, engine, quoted[2])
        if [row[0] for row in rows] != [quoted[0]]:
            raise Hint(f"find_customer(conn, {quoted[2]!r}) should find {quoted[1]} (id {quoted[0]}), got {rows!r}.")
    finally:
        engine.dispose()
    return (
        f"Right: all {len(ATTACKS)} attacks found nothing, and the email with an apostrophe still works: "
        "a bound parameter is sent apart from the SQL, so it can never change the query."
    )
