"""Lesson 07-indexing: query plans and B-tree shapes, and the checkers.

The notebook imports everything it needs from here: ``from labsupport.lessons.l07_indexing import ...``.
The modules beside this file hold the machinery; `checkers` holds the exercises' checkers.
"""

from __future__ import annotations

from labsupport.lessons.l07_indexing.checkers import (
    COVERING_QUERY,
    MONTH_INDEXES,
    MONTH_QUERY,
    PRACTICE_INDEXES,
    PREDICT_QUERIES,
    RANGE_QUERY,
    WORKLOAD_QUERIES,
    check_busiest_query,
    check_covering_index,
    check_index_predictions,
    check_month_query,
    check_search_index,
)
from labsupport.lessons.l07_indexing.plans import Plan, btree_shape, explain

__all__ = [
    "COVERING_QUERY",
    "MONTH_INDEXES",
    "MONTH_QUERY",
    "PRACTICE_INDEXES",
    "PREDICT_QUERIES",
    "Plan",
    "RANGE_QUERY",
    "WORKLOAD_QUERIES",
    "btree_shape",
    "check_busiest_query",
    "check_covering_index",
    "check_index_predictions",
    "check_month_query",
    "check_search_index",
    "explain",
]
