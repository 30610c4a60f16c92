"""Checkers for the exercises of 04-sql: write a join, fix an injectable query, fix a report; and
`check_join_prediction`, which runs a JOIN and a LEFT JOIN again to judge a predicted row count.

All run the student's answer against a fresh database holding a few hand-written rows
(`exercise_engine`, from `sql_engine()`: the engine the notebook runs on, SQLite or PostgreSQL),
so the expected answer is known exactly and nothing a student runs can damage anything else.
The rows hold the traps that a plausible wrong answer falls into: two customers share a name
(grouping by the name merges them), two have no orders (an inner join drops them), an email has an
apostrophe (a query pasted together from text breaks on it), orders have several lines (a join to
the lines multiplies the orders). Exercise 2 also attacks the student's ``find_customer(conn,
email)`` as an attacker would, and reads the statements it sends.
"""

from __future__ import annotations

import inspect
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa

from labsupport import schema
from labsupport.checks import Hint, checker, expect_type
from labsupport.databases import sql_engine
from labsupport.lessons.l04_sql.sqlshow import db_error_message

__all__ = [
    "ATTACKS",
    "BOOKS",
    "CUSTOMERS",
    "ORDERS",
    "ORDER_LINES",
    "REPORT_SQL",
    "JOIN_QUERIES",
    "exercise_engine",
    "check_customer_report",
    "check_find_customer",
    "check_join_prediction",
    "check_orders_per_customer",
]

# (id, name, email, city): two customers have no orders; two are both called Ben Weber (names
# are not unique: only the id is); one email has an apostrophe, which is legal in an email address
# and breaks any query built by pasting it between quotes.
CUSTOMERS = (
    (1, "Ada Costa", "ada@example.com", "Lisbon"),
    (2, "Ben Weber", "ben@example.com", "Berlin"),
    (3, "Chloe Dubois", "chloe@example.com", "Lyon"),
    (4, "Daniel Evans", "daniel@example.com", "Leeds"),
    (5, "Farah O'Brien", "farah.o'brien@example.com", "Dublin"),
    (6, "Ben Weber", "ben.weber@example.org", "Munich"),
)
# (id, customer_id, ordered_on, status); the second Ben Weber placed two orders on one day.
ORDERS = (
    (1, 1, "2024-01-05", "delivered"),
    (2, 2, "2024-01-09", "paid"),
    (3, 1, "2024-02-11", "shipped"),
    (4, 4, "2024-02-20", "delivered"),
    (5, 1, "2024-03-02", "pending"),
    (6, 4, "2024-03-15", "cancelled"),
    (7, 6, "2024-03-20", "paid"),
    (8, 6, "2024-03-20", "delivered"),
    (9, 2, "2024-04-02", "shipped"),
)
# (id, title, author, genre, price_cents, stock)
BOOKS = (
    (1, "Dune", "Frank Herbert", "science fiction", 1_299, 10),
    (2, "Kindred", "Octavia E. Butler", "science fiction", 1_150, 10),
    (3, "Pedro Páramo", "Juan Rulfo", "fiction", 990, 10),
    (4, "The Dispossessed", "Ursula K. Le Guin", "science fiction", 1_250, 10),
)
# (id, order_id, book_id, quantity, unit_price_cents): most orders have several lines, and some
# lines of one customer have the same quantity (SUM(DISTINCT quantity) would drop them).
ORDER_LINES = (
    (1, 1, 1, 1, 1_299),
    (2, 1, 2, 2, 1_150),
    (3, 2, 3, 2, 990),
    (4, 3, 1, 1, 1_299),
    (5, 4, 2, 1, 1_150),
    (6, 5, 1, 1, 1_299),
    (7, 5, 3, 1, 990),
    (8, 6, 1, 1, 1_299),
    (9, 6, 3, 1, 990),
    (10, 6, 4, 2, 1_250),
    (11, 7, 4, 1, 1_250),
    (12, 8, 2, 3, 1_150),
    (13, 9, 1, 1, 1_299),
)

_NAME = {cid: name for cid, name, _, _ in CUSTOMERS}
ORDERS_PER_CUSTOMER = {cid: sum(o[1] == cid for o in ORDERS) for cid in _NAME}  # by customer id
_ORDER_OF = {oid: cid for oid, cid, _, _ in ORDERS}
_LINES = {cid: sum(_ORDER_OF[line[1]] == cid for line in ORDER_LINES) for cid in _NAME}
_COPIES = {cid: sum(line[3] for line in ORDER_LINES if _ORDER_OF[line[1]] == cid) for cid in _NAME}

# Each one, pasted between quotes, bends the query: every customer, a row of another table, a
# yes/no answer about a secret (boolean-blind), a database error (error-based), a second statement.
ATTACKS = (
    "' OR '1'='1",
    "'OR'1'='1",
    "nobody@example.com' oR 1=1 --",
    "nobody@example.com'/**/OR/**/1=1/*",
    "' UNION SELECT id, email FROM customers --",
    "' UNION SELECT 1, sql FROM sqlite_master --",
    "x' OR email LIKE '%",
    "ada@example.com' AND substr(name, 1, 1) = 'A",
    "ada@example.com' AND '1'='1",
    "' || (SELECT email FROM customers LIMIT 1) || '",
    "' OR (SELECT CASE WHEN substr(name, 1, 1) = 'A' THEN abs(-9223372036854775808) END FROM customers) --",
    "'; DELETE FROM customers; --",
)
# An equality must not treat these as patterns, nor ignore the case of an address.
PATTERNS = ("%", "%@example.com", "ada@example.co_", "ADA@EXAMPLE.COM")

# Exercise 3: a colleague's report, with the bug the student must find.
REPORT_SQL = """SELECT c.name, COUNT(o.id) AS orders, SUM(l.quantity) AS copies
FROM customers AS c
JOIN orders AS o ON o.customer_id = c.id
JOIN order_lines AS l ON l.order_id = o.id
GROUP BY c.id"""


def exercise_engine() -> sa.Engine:
    """A fresh database with the bookshop tables and the exercise's customers, orders, books and lines."""
    engine = sql_engine()
    schema.create_tables(engine)
    with engine.begin() as conn:
        for table, rows in (
            (schema.customers, CUSTOMERS),
            (schema.books, BOOKS),
            (schema.orders, ORDERS),
            (schema.order_lines, ORDER_LINES),
        ):
            conn.execute(table.insert(), [dict(zip(table.columns.keys(), row)) for row in rows])
    return engine


def _run_query(sql: object, columns_wanted: str) -> tuple[list[str], list[tuple]]:
    """Run the student's SELECT on a fresh exercise database: (column names, rows)."""
    sql = expect_type(sql, str, 'SQL text in a string, e.g. "SELECT ... FROM customers ..."')
    if not sql.strip():
        raise Hint("The string is empty: write a SELECT query in it.")
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
    if len(columns) != columns_wanted.count(",") + 1:
        raise Hint(
            f"Your query returns {len(columns)} column(s) ({', '.join(columns)}); the result needs exactly "
            f"{columns_wanted.count(',') + 1}: {columns_wanted}."
        )
    return columns, rows


def _names(names: set[str], singular: str, plural: str) -> str:
    """'Chloe Dubois is' or 'Chloe Dubois, Farah O'Brien are': the names and the right verb."""
    return f"{', '.join(sorted(names))} {singular if len(names) == 1 else plural}"


def _check_repeated(rows: list[tuple], wanted: list[int]) -> None:
    """A hint if a name appears more often than there are customers of that name in `wanted` (ids)."""
    got = Counter(row[0] for row in rows)
    expected = Counter(_NAME[cid] for cid in wanted)
    repeated = {str(name) for name in got if got[name] > expected[name] and expected[name] > 0}
    if repeated:
        raise Hint(
            f"{_names(repeated, 'appears', 'appear')} more often than there are customers of that name: one "
            "row per customer needs GROUP BY the customer (c.id) and an aggregate such as COUNT(o.id)."
        )


def _check_names(rows: list[tuple], wanted: list[int], why_missing: str) -> None:
    """The first column must name each customer of `wanted` (ids) once: a hint for each way it does not."""
    if rows and all(isinstance(row[0], (int, float)) and not isinstance(row[0], bool) for row in rows):
        if any(isinstance(value, str) for row in rows for value in row[1:]):
            raise Hint("The columns are the wrong way round: the customer's name first, then the numbers.")
    got = Counter(row[0] for row in rows)
    expected = Counter(_NAME[cid] for cid in wanted)
    all_names = set(_NAME.values())
    unknown = {str(name) for name in got if name not in all_names}
    if unknown:
        raise Hint(
            f"The first column holds {', '.join(sorted(unknown)[:3])}, which are not customer names; "
            "select customers.name first."
        )
    _check_repeated(rows, wanted)
    missing = {name for name in expected if got[name] < expected[name]}
    merged = {name for name in missing if got[name] == 1}
    if merged and merged == missing:  # nothing else is missing: the namesakes were grouped together
        raise Hint(
            f"{_names(merged, 'has', 'have')} one row, but {expected[sorted(merged)[0]]} different "
            "customers have that name (look at their ids): grouping by the name merges them into one. "
            "GROUP BY what identifies a customer, c.id."
        )
    extra = {name for name in got if expected[name] == 0}
    if extra:
        raise Hint(f"{_names(extra, 'has', 'have')} no orders and should not be in this result.")
    if missing:
        raise Hint(f"{_names(missing, 'is', 'are')} missing: {why_missing}")


@checker("Exercise 1: orders per customer", expects="SQL text in a string")
def check_orders_per_customer(sql: str) -> str:
    _, rows = _run_query(sql, "the customer's name, then their number of orders")
    if len(rows) == 1 and len(_NAME) > 1:
        raise Hint(
            "Only one row: an aggregate such as COUNT(...) without GROUP BY folds all rows into one. "
            "GROUP BY the customer to get one row per customer."
        )
    without_orders = {_NAME[cid] for cid, n in ORDERS_PER_CUSTOMER.items() if n == 0}
    names_got = {row[0] for row in rows}
    _check_repeated(rows, list(_NAME))
    missing = Counter(_NAME.values()) - Counter(row[0] for row in rows)
    if missing and set(missing) <= without_orders:
        raise Hint(
            f"{_names(without_orders, 'is', 'are')} missing: they have no orders, and an inner JOIN drops rows "
            "without a match (so does a WHERE on a column of orders). A LEFT JOIN keeps every customer."
        )
    _check_names(rows, list(_NAME), "every customer should get a row.")
    for name, count in rows:
        if isinstance(count, bool) or not isinstance(count, int):
            raise Hint(f"The second column should be a whole number of orders, but {name} has {count!r}.")
    expected = {name: sorted(n for cid, n in ORDERS_PER_CUSTOMER.items() if _NAME[cid] == name) for name in names_got}
    got = {name: sorted(count for n, count in rows if n == name) for name in names_got}
    wrong = sorted(name for name in names_got if got[name] != expected[name])
    if wrong and all(expected[name] == [0] and got[name] == [1] for name in wrong):
        raise Hint(
            f"{_names(set(wrong), 'has', 'have')} no orders but your count says 1: COUNT(*) (or a count of a "
            "customers column) counts the row of NULLs that the LEFT JOIN made up. Count a column of orders "
            "instead, COUNT(o.id), which skips NULLs."
        )
    if wrong:
        name = wrong[0]
        raise Hint(
            f"The count for {name} is {', '.join(map(str, got[name]))}, but they placed "
            f"{', '.join(map(str, expected[name]))} order(s): count the rows of orders that belong to each "
            "customer (ON o.customer_id = c.id), all of them."
        )
    return (
        "Right: the LEFT JOIN keeps customers without orders, GROUP BY the id keeps the two Ben Webers apart, "
        "and COUNT(o.id) gives 0 where there is no order."
    )


@checker("Exercise 3: fix the report", expects="SQL text in a string")
def check_customer_report(sql: str) -> str:
    _, rows = _run_query(sql, "the customer's name, the number of orders, the number of copies bought")
    ordered = [cid for cid in _NAME if ORDERS_PER_CUSTOMER[cid]]
    if len(rows) == 1 and len(ordered) > 1:
        raise Hint("Only one row: without GROUP BY, COUNT and SUM fold every row into one.")
    _check_names(rows, ordered, "every customer who placed an order should get a row.")
    for row in rows:
        if any(isinstance(v, bool) or not isinstance(v, int) for v in row[1:]):
            raise Hint(f"The counts should be whole numbers, but the row of {row[0]} is {row!r}.")
    names = {row[0] for row in rows}

    def by_name(values: dict[int, int] | None, column: int) -> dict[str, list]:
        if values is None:
            return {name: sorted(row[column] for row in rows if row[0] == name) for name in names}
        return {name: sorted(values[cid] for cid in ordered if _NAME[cid] == name) for name in names}

    got_orders, got_copies = by_name(None, 1), by_name(None, 2)
    if got_orders == by_name(_LINES, 0) and got_orders != by_name(ORDERS_PER_CUSTOMER, 0):
        raise Hint(
            "The orders column still counts order lines: after the JOIN to order_lines, an order with three "
            "lines is three rows, and COUNT(o.id) counts each. Count each order once: COUNT(DISTINCT o.id) "
            "(or count the orders in a subquery)."
        )
    for label, got, expected in (
        ("orders", got_orders, by_name(ORDERS_PER_CUSTOMER, 0)),
        ("copies", got_copies, by_name(_COPIES, 0)),
    ):
        wrong = sorted(name for name in names if got[name] != expected[name])
        if wrong:
            name = wrong[0]
            advice = (
                "count each order once, by its id: COUNT(DISTINCT o.id); DISTINCT on another column merges "
                "different orders (two orders on one day, with the same book)."
                if label == "orders"
                else "add up the quantity of every line of their orders, each line once: equal quantities on "
                "two lines are two purchases (SUM(DISTINCT ...) drops one)."
            )
            raise Hint(
                f"The {label} of {name}: your report says {', '.join(map(str, got[name]))}, the right number is "
                f"{', '.join(map(str, expected[name]))}. {advice[0].upper()}{advice[1:]}"
            )
    return (
        "Right: a join to order_lines makes one row per line, so an order with three lines was counted three "
        "times; COUNT(DISTINCT o.id) counts each order once, while SUM(l.quantity) needs every line."
    )


@contextmanager
def _statements_sent(engine: sa.Engine) -> Iterator[list[tuple[str, Any]]]:
    """Record (SQL text, parameters) of every statement sent through `engine` inside the block."""
    sent: list[tuple[str, Any]] = []

    def record(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        sent.append((statement, parameters))

    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)


def _call(find_customer: Callable[..., Any], engine: sa.Engine, email: str) -> list[tuple]:
    """Call the student's function on a fresh connection; the result as a list of tuples."""
    with engine.connect() as conn:
        try:
            result = find_customer(conn, email)
        except sa.exc.DBAPIError as exc:
            raise Hint(
                f"find_customer({email!r}) crashed: the database said {db_error_message(exc)!r}. The quote in "
                "the input changed the SQL itself, and an error message is a leak an attacker reads "
                "(error-based injection): pass email as a bound parameter instead."
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


def _expect_one(find_customer: Callable[..., Any], engine: sa.Engine, email: str, cid: int) -> None:
    rows = _call(find_customer, engine, email)
    if [row[0] for row in rows] != [cid] and email.count("'"):
        raise Hint(
            f"find_customer(conn, {email!r}) should find {_NAME[cid]} (id {cid}), got {rows!r}: an honest "
            "email may contain a quote. Doubling, stripping or refusing quotes breaks it; a bound parameter does not."
        )
    if not rows:
        raise Hint(f"find_customer(conn, {email!r}) found nothing, but {_NAME[cid]} exists: check the WHERE clause.")
    if len(rows) > 1 or rows[0][0] != cid:
        raise Hint(
            f"find_customer(conn, {email!r}) returned {rows[:3]!r}; expected {_NAME[cid]}'s one row, "
            f"starting with the id, {cid}: SELECT id, name FROM customers WHERE email = ..."
        )


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
        _expect_one(find_customer, engine, "ada@example.com", 1)
        if _call(find_customer, engine, "nobody@example.com"):
            raise Hint("find_customer(conn, 'nobody@example.com') should return an empty list: nobody has that email.")
        for attack in ATTACKS:
            rows = _call(find_customer, engine, attack)
            if rows:
                raise Hint(
                    f"The attack {attack!r} still worked: it returned {len(rows)} row(s). Filtering or escaping "
                    "the input loses to the next variant; pass email as a bound parameter (:email with "
                    "sa.text, or the driver's own placeholder with exec_driver_sql: ? on SQLite, %s on PostgreSQL), "
                    "never inside the SQL text."
                )
            if _customer_count(engine) != len(CUSTOMERS):
                raise Hint(f"The attack {attack!r} deleted customers. Use a bound parameter for email.")
        for pattern in PATTERNS:
            rows = _call(find_customer, engine, pattern)
            if rows and pattern.isupper():
                raise Hint(
                    f"find_customer(conn, {pattern!r}) returned {len(rows)} row(s), but no customer has that "
                    "exact email: the original query compares it exactly, case included. Compare with =, "
                    "without lower() (SQLite's LIKE ignores case too)."
                )
            if rows:
                raise Hint(
                    f"find_customer(conn, {pattern!r}) returned {len(rows)} row(s), but no customer has that "
                    "exact email. LIKE treats % and _ as wildcards, so '%' lists everyone: compare with =."
                )
        _expect_one(find_customer, engine, "farah.o'brien@example.com", 5)
        _expect_one(find_customer, engine, "ben.weber@example.org", 6)
        probe = "ben.weber@example.org"
        with _statements_sent(engine) as sent:
            _call(find_customer, engine, probe)
        pasted = [statement for statement, _ in sent if "ben.weber" in statement.lower()]
        if pasted:
            raise Hint(
                f"Your function put the email into the SQL text itself: {pasted[0].strip()!r}. It resisted these "
                "attacks, but a hand-made escape or filter is one variant away from a hole; send the value "
                "as a bound parameter (:email with sa.text), apart from the SQL."
            )
    finally:
        engine.dispose()
    return (
        f"Right: all {len(ATTACKS)} attacks and {len(PATTERNS)} patterns found nothing, and the email with an "
        "apostrophe still works: a bound parameter is sent apart from the SQL, so it can never change the query."
    )


# --- predict, then run: how many rows a JOIN and a LEFT JOIN return ------------------------------

# The two queries of the prediction, in the notebook's section 2: customers paired with their orders.
JOIN_QUERIES = {
    "JOIN": "SELECT c.name, o.id AS order_id FROM customers AS c JOIN orders AS o ON o.customer_id = c.id "
    "ORDER BY c.id, o.id",
    "LEFT JOIN": "SELECT c.name, o.id AS order_id FROM customers AS c LEFT JOIN orders AS o ON o.customer_id = c.id "
    "ORDER BY c.id, o.id",
}


def _join_facts(engine: sa.Engine) -> dict[str, Any]:
    """Run the two queries on `engine`, and count what the usual wrong predictions count instead."""
    with engine.connect() as conn:
        rows = {kind: conn.execute(sa.text(sql)).all() for kind, sql in JOIN_QUERIES.items()}
        customers = conn.execute(sa.text("SELECT COUNT(*) FROM customers")).scalar_one()
        orders = conn.execute(sa.text("SELECT COUNT(*) FROM orders")).scalar_one()
        busiest = conn.execute(
            sa.text(
                "SELECT c.name, COUNT(*) AS n FROM customers AS c JOIN orders AS o ON o.customer_id = c.id "
                "GROUP BY c.id, c.name ORDER BY n DESC, c.id LIMIT 1"
            )
        ).one()
    lonely = [row.name for row in rows["LEFT JOIN"] if row.order_id is None]  # customers without an order
    return {
        "JOIN": len(rows["JOIN"]),
        "LEFT JOIN": len(rows["LEFT JOIN"]),
        "customers": customers,
        "ordered": customers - len(lonely),
        "lonely": lonely,
        "every pair": customers * orders,
        "busiest": (busiest.name, busiest.n),
    }


def _join_hint(kind: str, said: int, facts: dict[str, Any]) -> str:
    """Why `said` rows is wrong for the query `kind`, naming the mistake behind the number."""
    got = facts[kind]
    name, n = facts["busiest"]
    lonely = " and ".join(facts["lonely"]) or "nobody"
    per_pair = (
        f"A join makes one row per matching pair (customer, order), not one per customer: {name} placed {n} "
        f"orders, so {name} is in {n} rows."
    )
    if said == facts["every pair"]:
        why = (
            f"{said} is {facts['customers']} customers × {facts['every pair'] // facts['customers']} orders, "
            "every customer with every order: that is a join without its ON condition. ON o.customer_id = c.id "
            "keeps only the pairs that belong together."
        )
    elif kind == "JOIN" and said in (facts["customers"], facts["ordered"]):
        why = f"{per_pair} The customers without an order ({lonely}) are not in it at all."
    elif kind == "JOIN":
        why = "One row per (customer, order) pair that matches ON o.customer_id = c.id: one per order here."
    elif said == facts["JOIN"]:
        why = (
            f"That is the plain JOIN's count. A LEFT JOIN also keeps each customer who matches nothing ({lonely}), "
            "once, with None for the order's columns."
        )
    elif said == facts["customers"]:
        why = f"{per_pair} The LEFT JOIN adds one row for each customer without an order ({lonely})."
    elif said == facts["JOIN"] + facts["customers"]:
        why = (
            f"Only the customers who match nothing get an extra row ({lonely}); the others are already in "
            "the JOIN's rows, once per order."
        )
    else:
        why = f"The JOIN's rows (one per order), plus one row for each customer without an order ({lonely})."
    return f"{kind}: you said {said}, the query returned {got}. {why}"


@checker(
    "Predict: how many rows does each join return?",
    expects="a dict {'JOIN': a number of rows, 'LEFT JOIN': a number of rows}",
)
def check_join_prediction(predicted_rows: dict[str, int], engine: sa.Engine) -> str:
    """Run the JOIN and the LEFT JOIN of `JOIN_QUERIES` on `engine` and compare their row counts with
    the prediction; each wrong count gets the reason behind the number."""
    predicted = expect_type(predicted_rows, dict, "a dict such as {'JOIN': 1, 'LEFT JOIN': 2}")
    if not isinstance(engine, sa.Engine):
        raise Hint(f"Pass the engine the queries run on (practice), not {type(engine).__name__}.")
    unknown = sorted(str(key) for key in predicted if key not in JOIN_QUERIES)
    if unknown:
        raise Hint(f"The keys are {' and '.join(repr(k) for k in JOIN_QUERIES)}; there is no {unknown[0]!r}.")
    for kind in JOIN_QUERIES:
        if kind not in predicted:
            raise Hint(f"Give a number of rows for {kind!r} too.")
        value = predicted[kind]
        if isinstance(value, bool) or not isinstance(value, int):
            raise Hint(f"The answer for {kind!r} should be a whole number of rows, not {value!r}.")
    facts = _join_facts(engine)
    wrong = [_join_hint(kind, predicted[kind], facts) for kind in JOIN_QUERIES if predicted[kind] != facts[kind]]
    if wrong:
        raise Hint("\n".join(wrong))
    name, n = facts["busiest"]
    return (
        f"Right: {facts['JOIN']} and {facts['LEFT JOIN']}. A join makes one row per matching pair ({name}: {n} "
        f"rows), and a LEFT JOIN adds each customer who matches nothing once, with None for the order."
    )
