"""Lesson 00-start-here: where a request's time goes: the checkers of its three exercises.

The notebook imports everything it needs from here: ``from labsupport.lessons.l00_start_here import ...``.
The modules beside this file hold the machinery; `checkers` holds the exercises' checkers.
"""

from __future__ import annotations

from labsupport.lessons.l00_start_here.checkers import check_database_share, check_prediction, check_slowest_layer

__all__ = ["check_database_share", "check_prediction", "check_slowest_layer"]
