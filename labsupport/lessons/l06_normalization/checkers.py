"""Checkers for the exercises of 06-normalization, on the staff shifts table in ``data/``, and for
the prediction of what one UPDATE does to a fact the wide orders table stores on many rows.

Exercise 1 lists the table's functional dependencies: each one claimed must hold on the rows
(else the hint shows two rows that break it), follow from the business rules in `SHIFT_RULES`
(17 rows satisfy many dependencies by accident), and together they must imply the rules.
Exercise 2 decomposes the table, judged from the rules rather than from the 17 rows: lossless for
any rows that obey them (the chase), every rule still checkable inside one table, and no table
holding a dependency whose left side is not its key. Exercise 3 fixes a schema's keys: the
database itself must refuse each row that breaks a rule, and accept every honest one.
`check_update_prediction` runs the notebook's UPDATE on a fresh copy of the wide orders table and
counts the rows it changed and the cities the customer has afterwards.
The SQL checks run on the notebook's engine (`sql_engine`: SQLite, or PostgreSQL with its switch),
each in a new database of its own: keys and UPDATEs behave as the student's database makes them.
"""

from __future__ import annotations

import numbers
import sqlite3
from collections.abc import Sequence

import pandas as pd
import sqlalchemy as sa

from labsupport.checks import Hint, checker, expect_type
from labsupport.databases import sql_engine
from labsupport.lessons.l06_normalization.normalize import (
    FD,
    bcnf_violation,
    closure,
    counterexample,
    decompose,
    join_back,
    lossless_by_chase,
    lost_dependencies,
    spurious_rows,
)
from labsupport.paths import data_file

__all__ = [
    "SHIFT_RULES",
    "SHIFT_SCHEMA",
    "load_shifts",
    "check_dependencies",
    "check_decomposition",
    "check_shift_schema",
    "wide_table",
    "update_outcome",
    "check_update_prediction",
]


# The rules of the business (data/README.md); the key is (shift_date, store_id, employee_id).
SHIFT_RULES = (
    FD("store_id", ["store_city", "store_manager"]),
    FD("employee_id", ["employee_name", "role"]),
    FD("role", "hourly_rate"),
)


def load_shifts() -> pd.DataFrame:
    """The staff shifts table, ``data/staff_shifts.csv`` (17 rows), as a DataFrame."""
    return pd.read_csv(data_file("staff_shifts.csv"))


def _parse_fd(item: object, columns: list[str]) -> FD:
    if not isinstance(item, (tuple, list)) or len(item) != 2:
        raise Hint(
            f"Each dependency should be a pair (left, right), such as ('store_id', ['store_city']); got {item!r}."
        )
    try:
        fd = FD(*item)
    except ValueError as exc:
        raise Hint(f"In {item!r}: {exc}.") from None
    for column in fd.lhs + fd.rhs:
        if column not in columns:
            raise Hint(f"There is no column {column!r} in the shifts table; its columns are {columns}.")
    return fd


def _rows(df: pd.DataFrame) -> str:
    return df.to_string(index=False)


@checker(
    "Exercise 1: the functional dependencies of staff_shifts",
    expects="a list of pairs (left columns, right columns)",
)
def check_dependencies(answer: list[tuple]) -> str:
    expect_type(answer, (list, tuple, set), "a list of pairs such as [('store_id', ['store_city']), ...]")
    shifts = load_shifts()
    columns = list(shifts.columns)
    fds = [_parse_fd(item, columns) for item in answer]
    if not fds:
        raise Hint("The list is empty: which column, once you know it, fixes the store's city?")
    for fd in fds:
        if set(fd.rhs) <= set(fd.lhs):
            raise Hint(f"{fd} is trivial (every table satisfies it); list dependencies that say something.")
        rows = counterexample(shifts, fd.lhs, fd.rhs)
        if rows is not None:
            raise Hint(
                f"{fd} does not hold: these two rows agree on {', '.join(fd.lhs)} but not on "
                f"{', '.join(fd.rhs)}:\n{_rows(rows[list(dict.fromkeys(fd.lhs + fd.rhs))])}"
            )
    for fd in fds:
        accidental = [c for c in fd.rhs if c not in closure(fd.lhs, SHIFT_RULES)]
        if accidental:
            raise Hint(
                f"{FD(fd.lhs, accidental)} holds on these 17 rows, but by accident: no rule of the business says "
                "so (reread them above the exercise), and the next row could break it. A list of dependencies "
                "is a promise about every future row: keep only the rules and what follows from them."
            )
    for rule in SHIFT_RULES:
        for column in rule.rhs:
            if column in closure(rule.lhs, fds):
                continue
            listed = [fd for fd in fds if column in fd.rhs]
            if not listed:
                raise Hint(
                    f"Nothing you listed says what determines {column!r}. Which column, once you know "
                    f"it, fixes {column!r} in every row?"
                )
            raise Hint(
                f"You listed {'; '.join(map(repr, listed))}, which is true, but it follows from a rule you left "
                f"out rather than stating it: {column!r} depends on something smaller, and with your list two rows "
                f"that agree on {', '.join(rule.lhs)} could still disagree on {column!r}. Which column really fixes it?"
            )
    return (
        "Right: " + "; ".join(map(repr, SHIFT_RULES)) + " (or dependencies that imply them, and nothing else). "
        "Every other dependency of this table follows from these three, e.g. the key determines every column."
    )


def _split(fds: Sequence[FD]) -> list[FD]:
    """One dependency per right-hand column: ``a -> b, c`` becomes ``a -> b`` and ``a -> c``."""
    return [FD(fd.lhs, column) for fd in fds for column in fd.rhs]


def _linked_groups(answer: dict[str, list[str]]) -> list[list[str]]:
    """The tables in groups that share columns (directly or through other tables), biggest group first."""
    groups: list[list[str]] = []
    for name in answer:
        joined = [group for group in groups if any(set(answer[name]) & set(answer[other]) for other in group)]
        merged = [table for group in joined for table in group] + [name]
        groups = [group for group in groups if group not in joined] + [merged]
    return sorted(groups, key=len, reverse=True)


def _unlinked_hint(answer: dict[str, list[str]]) -> str | None:
    """Name the tables that share no column with the others, if some do: the join can only cross them."""
    groups = _linked_groups(answer)
    if len(groups) == 1:
        return None
    apart = [table for group in groups[1:] for table in group]
    named = " and ".join(map(repr, apart))
    subject = f"Table {named} shares" if len(apart) == 1 else f"Tables {named} share"
    return (
        f"{subject} no column with the other tables, so nothing says which of its rows go with which rows "
        "of the others: the join pairs each of them with every row of the rest."
    )


def _join_columns_hint(answer: dict[str, list[str]]) -> str:
    """Say why the join can invent rows: tables linked by no column, or joined on columns that are a key of
    neither (by the rules), or no table holding the whole key."""
    unlinked = _unlinked_hint(answer)
    if unlinked is not None:
        return unlinked
    names = list(answer)
    for i, first in enumerate(names):
        for second in names[i + 1 :]:
            shared = [c for c in answer[first] if c in answer[second]]
            if not shared:
                continue
            reach = closure(shared, SHIFT_RULES)
            if not (set(answer[first]) <= reach or set(answer[second]) <= reach):
                return (
                    f"{first!r} and {second!r} are joined on {', '.join(shared)}, which is a key of neither: "
                    f"by the rules, two rows can share {', '.join(shared)} and differ in everything else, and then "
                    "the join pairs them up wrongly."
                )
    key = ("shift_date", "store_id", "employee_id")
    if not any(set(key) <= set(table) for table in answer.values()):
        return (
            f"No table holds the whole key ({', '.join(key)}), so no table says which store and which "
            "employee belong to one shift, and the join can pair facts that never belonged together."
        )
    return (
        "Every join is on a key, but the chain of keys does not lead from the table with the whole key to "
        "every other table, so the join can pair facts that never belonged together."
    )


@checker(
    "Exercise 2: decompose staff_shifts",
    expects="a dict {table name: [column names]}",
)
def check_decomposition(answer: dict[str, list[str]]) -> str:
    expect_type(answer, dict, "a dict {table name: [column names]}, e.g. {'stores': ['store_id', 'store_city']}")
    if not answer:
        raise Hint("The dict is empty: give each table a name and a list of columns.")
    shifts = load_shifts()
    columns = list(shifts.columns)
    for name, table in answer.items():
        if not isinstance(name, str):
            raise Hint(f"Table names should be strings, not {name!r}.")
        if not isinstance(table, (list, tuple)) or not table or not all(isinstance(c, str) for c in table):
            raise Hint(f"The columns of {name!r} should be a non-empty list of column names, not {table!r}.")
        for column in table:
            if column not in columns:
                raise Hint(f"Table {name!r}: there is no column {column!r}; the columns are {columns}.")
    kept = {column for table in answer.values() for column in table}
    missing = [c for c in columns if c not in kept]
    if missing:
        raise Hint(f"Column(s) {missing} are in no table: that information would be lost.")
    joined = join_back(decompose(shifts, answer))
    invented = spurious_rows(shifts, joined)
    if len(invented):
        raise Hint(
            f"Not lossless: joining your tables back gives {len(joined)} rows instead of {len(shifts)}; "
            f"{len(invented)} never happened, e.g.\n{_rows(invented.head(1))}\n"
            f"{_join_columns_hint(answer)} Tables must be joined on a column that is the key of one of them "
            "(a store id, an employee id, a role)."
        )
    if not lossless_by_chase(columns, answer, SHIFT_RULES):
        raise Hint(
            f"Not lossless in general: these 17 rows happen to join back, but other rows that obey every rule "
            f"would not. {_join_columns_hint(answer)} Join on a column that is the key of one side."
        )
    for name, table in answer.items():
        fd = bcnf_violation(table, SHIFT_RULES)
        if fd is not None:
            raise Hint(
                f"Table {name!r} still repeats facts: {fd}, but {', '.join(fd.lhs)} is not a key of "
                f"{name!r}. Move {', '.join(fd.rhs)} to a table of its own keyed by {', '.join(fd.lhs)}."
            )
    lost = lost_dependencies(answer, _split(SHIFT_RULES))
    if lost:
        fd = lost[0]
        raise Hint(
            f"The rule {fd} is in no table any more: its columns are in different tables, so no key can "
            f"enforce it, and rows that each table accepts could break it. Keep {', '.join(fd.lhs)} and "
            f"{', '.join(fd.rhs)} together in one table, keyed by {', '.join(fd.lhs)}."
        )
    for name in answer:
        rest = {other: table for other, table in answer.items() if other != name}
        if (
            rest
            and {c for t in rest.values() for c in t} == set(columns)
            and lossless_by_chase(columns, rest, SHIFT_RULES)
        ):
            raise Hint(
                f"Table {name!r} states nothing the other tables do not: without it they still hold every column "
                "and join back exactly. A second copy of a fact is a second place to update (and to forget): drop it."
            )
    return (
        f"Lossless for any rows that obey the rules, every rule enforced by a key inside one table, and no "
        f"fact stored twice: {len(answer)} tables. Each table joins to another through a key, which is why the "
        "join can never pair facts that did not belong together."
    )


# Exercise 3: a colleague's schema for the decomposed shift log, with two wrong keys: one lets a
# role have two rates, the other refuses a day on which someone works in two stores.
SHIFT_SCHEMA = """\
CREATE TABLE stores (
    store_id      TEXT PRIMARY KEY,
    store_city    TEXT NOT NULL,
    store_manager TEXT NOT NULL
);
CREATE TABLE roles (
    role        TEXT NOT NULL,
    hourly_rate REAL NOT NULL,
    PRIMARY KEY (role, hourly_rate)
);
CREATE TABLE employees (
    employee_id   TEXT PRIMARY KEY,
    employee_name TEXT NOT NULL,
    role          TEXT NOT NULL
);
CREATE TABLE shifts (
    shift_date  TEXT NOT NULL,
    store_id    TEXT NOT NULL REFERENCES stores (store_id),
    employee_id TEXT NOT NULL REFERENCES employees (employee_id),
    PRIMARY KEY (shift_date, employee_id)
);
"""
_SCHEMA_TABLES = {
    "stores": ["store_id", "store_city", "store_manager"],
    "roles": ["role", "hourly_rate"],
    "employees": ["employee_id", "employee_name", "role"],
    "shifts": ["shift_date", "store_id", "employee_id"],
}
# Rows every correct schema accepts on top of the 17 shifts: (table, row, why it is honest).
_HONEST = (
    ("stores", ("S4", "Lisbon", "Marta Lopez"), "a third store in Lisbon, run by a manager who already runs one"),
    ("roles", ("trainee", 12.50), "a new role paid the same rate as clerks"),
    ("employees", ("E6", "Kai Tanaka", "clerk"), "a second employee called Kai Tanaka (names are not unique)"),
    ("shifts", ("2024-06-07", "S1", "E1"), "Ines Varga's shift on a new day"),
)
# Rows that break a rule, each of which the database itself must refuse: (table, row, the broken rule).
_BREAKING = (
    ("stores", ("S1", "Porto", "Marta Lopez"), "store S1 in a second city: a store has one city"),
    ("stores", ("S5", None, "Ana Lima"), "a store without a city"),
    ("roles", ("clerk", 14.00), "a second hourly rate for clerks: the rate is set per role"),
    ("employees", ("E1", "Ines Varga", "barista"), "a second role for Ines Varga (E1): an employee has one role"),
    ("employees", ("E7", "Ana Lima", "juggler"), "an employee whose role has no rate (no such role in roles)"),
    ("shifts", ("2024-06-03", "S1", "E1"), "the same shift twice"),
    ("shifts", ("2024-06-07", "S9", "E1"), "a shift in a store that does not exist"),
    ("shifts", ("2024-06-07", "S1", "E9"), "a shift of an employee who does not exist"),
)


_ENGINE_NAMES = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}


def _engine_name(conn: sa.Connection) -> str:
    return _ENGINE_NAMES.get(conn.dialect.name, conn.dialect.name)


def _message(error: sa.exc.DBAPIError) -> str:
    """The database's own sentence, without SQLAlchemy's SQL and link (PostgreSQL's with its DETAIL line)."""
    diagnostic = getattr(error.orig, "diag", None)  # psycopg's: the message in parts, without LINE 1: ... ^
    if diagnostic is not None and diagnostic.message_primary:
        text = ": ".join(filter(None, [diagnostic.message_primary, diagnostic.message_detail]))
    else:
        text = str(error.orig)
    return " ".join(text.split()).rstrip(".")


def _statements(ddl: str) -> list[str]:
    """`ddl` cut into statements at the semicolons that end one (not those inside a trigger's body)."""
    statements, pending = [], ""
    for piece in ddl.split(";"):
        pending += piece + ";"
        if sqlite3.complete_statement(pending):  # a lexer check, the same for any SQL text
            statements.append(pending.strip().removesuffix(";"))
            pending = ""
    if pending.strip(" \n\t;"):
        statements.append(pending.strip().removesuffix(";"))
    return [statement for statement in statements if statement.strip()]


def _insert(conn: sa.Connection, table: str, row: Sequence[object]) -> None:
    columns = _SCHEMA_TABLES[table]
    values = ", ".join(f":{column}" for column in columns)
    conn.execute(sa.text(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({values})"), dict(zip(columns, row)))


def _accepts(conn: sa.Connection, table: str, row: Sequence[object]) -> str | None:
    """Insert `row` inside a savepoint that is then rolled back: None if accepted, else the refusal."""
    savepoint = conn.begin_nested()
    try:
        _insert(conn, table, row)
    except sa.exc.DBAPIError as error:
        return _message(error)
    finally:
        savepoint.rollback()  # also what PostgreSQL needs after an error, to go on in the transaction
    return None


_KEY_NEEDED = "A FOREIGN KEY must point at the key (PRIMARY KEY or UNIQUE) of the table it names"


def _load_schema(conn: sa.Connection, ddl: str) -> None:
    """Run the student's CREATE TABLE statements; a Hint if the database refuses them or the tables differ."""
    for statement in _statements(ddl):
        try:
            conn.exec_driver_sql(statement)
        except sa.exc.DBAPIError as error:
            message = _message(error)
            why = ""
            if "no unique constraint matching" in message:  # PostgreSQL checks a reference at CREATE TABLE
                why = f" {_KEY_NEEDED}, and PostgreSQL checks that when the table is created."
            elif "does not exist" in message and "REFERENCES" in statement.upper():
                why = " PostgreSQL checks a REFERENCES when the table is created: create the table it names first."
            raise Hint(f"{_engine_name(conn)} could not run your schema: {message}.{why}") from None
    inspector = sa.inspect(conn)
    for table, wanted in _SCHEMA_TABLES.items():
        if not inspector.has_table(table):
            raise Hint(f"Your schema has no table {table!r}: keep the four tables and their columns, fix the keys.")
        have = [column["name"] for column in inspector.get_columns(table)]
        if sorted(have) != sorted(wanted):
            raise Hint(
                f"Table {table!r} has the columns {have}, but the design's are {wanted}: keep the columns, "
                "fix the keys and constraints."
            )


def _judge_schema(conn: sa.Connection) -> None:
    """Load the 17 shifts, then probe honest and rule-breaking rows: a Hint for the first wrong outcome."""
    tables = decompose(load_shifts(), _SCHEMA_TABLES)
    for table in _SCHEMA_TABLES:  # parents before children, as the foreign keys require
        for shift in tables[table].to_dict("records"):  # plain Python values, which every driver takes
            row = tuple(shift.values())
            try:
                _insert(conn, table, row)
            except sa.exc.DBAPIError as error:
                message = _message(error)
                if "mismatch" in message:  # SQLite checks a reference when a row is written
                    why = f"{_KEY_NEEDED}, and SQLite checks that when a row is written."
                elif table == "shifts":
                    why = "A key states what must be unique, and Ines Varga worked in two stores on 2024-06-06."
                else:
                    why = "A key or constraint states something that these honest rows do not obey."
                raise Hint(
                    f"Your schema refuses the real data: {table} row {row} was refused ({message}). {why}"
                ) from None
    for table, row, honest in _HONEST:
        refusal = _accepts(conn, table, row)
        if refusal is not None:
            raise Hint(
                f"Your schema refuses an honest row, {honest}: {table} {row} ({refusal}). A key or UNIQUE "
                "on a column that no rule makes unique refuses real data."
            )
    for table, bad_row, broken in _BREAKING:
        if _accepts(conn, table, bad_row) is None:
            raise Hint(
                f"The database accepted {broken}: {table} {bad_row}. A rule the schema does not enforce is "
                "broken by the first program with a bug. Make the left side of each rule the key of its "
                "table, and each reference a FOREIGN KEY to a key."
            )


@checker("Exercise 3: keys that enforce the rules", expects="the fixed schema: CREATE TABLE statements in a string")
def check_shift_schema(ddl: str) -> str:
    expect_type(ddl, str, "CREATE TABLE statements in a string, like SHIFT_SCHEMA")
    if not ddl.strip():
        raise Hint("The string is empty: start from SHIFT_SCHEMA and fix its keys.")
    engine = sql_engine()  # the notebook's database engine: its keys are the ones the student relies on
    try:
        with engine.begin() as conn:
            _load_schema(conn, ddl)
            _judge_schema(conn)
    finally:
        engine.dispose()
    return (
        "Right: each rule's left side is now a key (store_id, role, employee_id) and each link a foreign key to "
        "a key, so the database refuses every row that breaks a rule, whatever program writes it; and a shift "
        "is keyed by all of (shift_date, store_id, employee_id), so one person can work two stores in a day."
    )


# --- predict, then run: what one UPDATE does to a fact stored on many rows -------------------------


def wide_table() -> pd.DataFrame:
    """The wide orders table of the notebook, ``data/orders_wide.csv`` (31 rows), as a DataFrame."""
    return pd.read_csv(data_file("orders_wide.csv"))


def update_outcome(update_sql: str, email: str) -> tuple[int, int, int]:
    """Run `update_sql` on a fresh copy of the wide table: what it did to the customer `email`.

    Returns ``(rows the UPDATE changed, distinct cities of the customer afterwards, the customer's
    rows)``. On the notebook's database engine (`sql_engine`: SQLite, or PostgreSQL when the
    notebook runs on it), in a new database of its own that goes with the engine, so a check never
    writes to a database the student uses.
    """
    engine = sql_engine()
    customer = {"e": email}
    try:
        with engine.begin() as conn:
            wide_table().to_sql("orders_wide", conn, index=False)
            changed = conn.execute(sa.text(update_sql)).rowcount
            cities = conn.execute(
                sa.text("SELECT COUNT(DISTINCT customer_city) FROM orders_wide WHERE customer_email = :e"), customer
            ).scalar_one()
            rows = conn.execute(sa.text("SELECT COUNT(*) FROM orders_wide WHERE customer_email = :e"), customer)
            customer_rows = rows.scalar_one()
    finally:
        engine.dispose()
    return changed, cities, customer_rows


def _pair(predicted: object) -> tuple[int, int]:
    shape = "a pair (rows changed, cities), such as (3, 1)"
    pair = expect_type(predicted, (tuple, list), shape)
    if len(pair) != 2:
        raise Hint(f"Expected {shape}: two numbers, not {len(pair)}.")
    rows, cities = (expect_type(number, (numbers.Integral,), f"whole numbers in {shape}") for number in pair)
    return int(rows), int(cities)


@checker("Predict, then run: one UPDATE in the wide table", expects="a pair (rows changed, cities), such as (3, 1)")
def check_update_prediction(predicted: tuple[int, int], update_sql: str, email: str) -> str:
    rows, cities = _pair(predicted)
    changed, cities_after, customer_rows = update_outcome(update_sql, email)
    if changed == 0:
        raise RuntimeError("the UPDATE changed no row: nothing to predict")
    if (rows, cities) == (changed, cities_after):
        return (
            f"Right: {changed} rows changed, and the customer now has {cities_after} cities. Her city is stored "
            f"on each of her {customer_rows} rows; the WHERE picked {changed} of them, and the other "
            f"{customer_rows - changed} keep the old city. The database does not know they describe one person."
        )
    problems = [f"Run just now on a fresh copy of the table: the UPDATE changed {changed} rows, and the customer "
                f"then had {cities_after} different cities."]
    if rows != changed:
        if rows == customer_rows:
            problems.append(
                f"The WHERE does not name the customer: it picked {changed} of her {customer_rows} rows and left "
                f"the other {customer_rows - changed} alone."
            )
        elif rows == 1:
            problems.append(
                "A WHERE picks rows, not orders or customers: the wide table has one row per book of an order, "
                f"and the UPDATE changed each of the {changed} rows its WHERE matched."
            )
        else:
            problems.append(f"An UPDATE changes every row its WHERE matches: here, {changed}.")
    if cities != cities_after:
        if cities == 1:
            problems.append(
                f"The customer's city is stored on each of her {customer_rows} rows, not once: the rows the "
                "WHERE did not pick still say the old city. One customer, two answers: the update anomaly."
            )
        else:
            problems.append(
                "Count what SELECT DISTINCT would list: the new city on the changed rows, and the old one "
                "on the customer's rows the WHERE did not pick."
            )
    raise Hint(" ".join(problems))
