"""Lesson 06-normalization: functional dependencies and decompositions checked on real rows, and the checkers.

The notebook imports everything it needs from here: ``from labsupport.lessons.l06_normalization import ...``.
The modules beside this file hold the machinery; `checkers` holds the exercises' checkers.
"""

from __future__ import annotations

from labsupport.lessons.l06_normalization.checkers import (
    SHIFT_SCHEMA,
    check_decomposition,
    check_dependencies,
    check_shift_schema,
    check_update_prediction,
    load_shifts,
)
from labsupport.lessons.l06_normalization.normalize import (
    FD,
    bcnf_violation,
    counterexample,
    decompose,
    find_dependencies,
    holds,
    join_back,
    redundant_cells,
    spurious_rows,
    table_bytes,
)

__all__ = [
    "FD",
    "SHIFT_SCHEMA",
    "bcnf_violation",
    "check_decomposition",
    "check_dependencies",
    "check_shift_schema",
    "check_update_prediction",
    "counterexample",
    "decompose",
    "find_dependencies",
    "holds",
    "join_back",
    "load_shifts",
    "redundant_cells",
    "spurious_rows",
    "table_bytes",
]
