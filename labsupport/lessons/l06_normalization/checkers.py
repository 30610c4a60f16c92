"""Checkers for the exercises of 06-normalization, on the staff shifts table in ``data/``.

Exercise 1 lists the table's functional dependencies: each one claimed must hold on the rows
(else the hint shows two rows that break it), and together they must imply the business rules
in `SHIFT_RULES`. Exercise 2 decomposes the table: joining the tables back must give the
original rows exactly, and no table may hold a dependency whose left side is not its key.
"""

from __future__ import annotations

import pandas as pd

from labsupport.checks import Hint, checker, expect_type
from labsupport.lessons.l06_normalization.normalize import (
    FD,
    bcnf_violation,
    closure,
    counterexample,
    decompose,
    join_back,
    spurious_rows,
)
from labsupport.paths import data_file

__all__ = ["SHIFT_RULES", "load_shifts", "check_dependencies", "check_decomposition"]


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
    for rule in SHIFT_RULES:
        for column in rule.rhs:
            if column not in closure(rule.lhs, fds):
                raise Hint(
                    f"Nothing you listed says what determines {column!r}. Which column, once you know "
                    f"it, fixes {column!r} in every row?"
                )
    accidental = [fd for fd in fds if not set(fd.rhs) <= closure(fd.lhs, SHIFT_RULES)]
    message = "Right: " + "; ".join(map(repr, SHIFT_RULES)) + " (or dependencies that imply them)."
    if accidental:
        message += (
            f" Note: {'; '.join(map(repr, accidental))} holds on these 17 rows but is no rule of the "
            "business; the next hire could break it."
        )
    return message


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
            "Tables must be joined on a column that is the key of one of them (a store id, an "
            "employee id, a role), not on a column such as a city that several stores share."
        )
    for name, table in answer.items():
        fd = bcnf_violation(table, SHIFT_RULES)
        if fd is not None:
            raise Hint(
                f"Table {name!r} still repeats facts: {fd}, but {', '.join(fd.lhs)} is not a key of "
                f"{name!r}. Move {', '.join(fd.rhs)} to a table of its own keyed by {', '.join(fd.lhs)}."
            )
    return f"Lossless, and every dependency inside a table has a key on its left: {len(answer)} tables."
