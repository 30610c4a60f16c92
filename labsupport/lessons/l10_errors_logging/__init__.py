"""Lesson 10-errors-and-logging: a temp folder for log files, the failing run of exercise 2, the checkers.

The notebook imports everything it needs from here: ``from labsupport.lessons.l10_errors_logging import ...``.
The key code (problem details handlers, the request-id middleware, the JSON logging setup) is in the
notebook itself; the modules beside this file hold only the machinery and the checkers.
"""

from __future__ import annotations

from labsupport.lessons.l10_errors_logging.checkers import (
    check_conflict_handler,
    check_debug_prediction,
    check_log_diagnosis,
    check_redaction_filter,
)
from labsupport.lessons.l10_errors_logging.failing_run import CAUSES, failing_run
from labsupport.lessons.l10_errors_logging.logfiles import close_handlers, log_folder

__all__ = [
    "CAUSES",
    "check_conflict_handler",
    "check_debug_prediction",
    "check_log_diagnosis",
    "check_redaction_filter",
    "close_handlers",
    "failing_run",
    "log_folder",
]
