"""Lesson 12-performance-and-caching: orders generated into the notebook's models, and the checkers.

The notebook imports everything it needs from here: ``from labsupport.lessons.l12_performance import ...``.
The key code (the ORM models and their loading options, cache-aside, the stampede lock, ETags, the
load generator) is in the notebook itself; the modules beside this file hold only the data
generator and the checkers.
"""

from __future__ import annotations

from labsupport.lessons.l12_performance.checkers import (
    check_book_cache,
    check_concurrent_endpoint,
    check_order_report,
    check_query_count_prediction,
)
from labsupport.lessons.l12_performance.orders import fill_orders

__all__ = [
    "check_book_cache",
    "check_concurrent_endpoint",
    "check_order_report",
    "check_query_count_prediction",
    "fill_orders",
]
