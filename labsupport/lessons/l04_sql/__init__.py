"""Lesson 04-sql: SQL made visible (compiled text, statements sent, the database's errors), and the checkers.

The notebook imports everything it needs from here: ``from labsupport.lessons.l04_sql import ...``.
The modules beside this file hold the machinery; `checkers` holds the exercises' checkers.
"""

from __future__ import annotations

from labsupport.lessons.l04_sql.checkers import (
    JOIN_QUERIES,
    REPORT_SQL,
    check_customer_report,
    check_find_customer,
    check_join_prediction,
    check_orders_per_customer,
    exercise_engine,
)
from labsupport.lessons.l04_sql.sqlshow import echo_sql, show_db_error, show_sql

__all__ = [
    "JOIN_QUERIES",
    "REPORT_SQL",
    "check_customer_report",
    "check_find_customer",
    "check_join_prediction",
    "check_orders_per_customer",
    "echo_sql",
    "exercise_engine",
    "show_db_error",
    "show_sql",
]
