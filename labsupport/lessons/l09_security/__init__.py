"""Lesson 09-security: the checkers that attack the student's fixed apps.

The notebook imports everything it needs from here: ``from labsupport.lessons.l09_security import ...``.
The modules beside this file hold the machinery; `checkers` holds the exercises' checkers.
"""

from __future__ import annotations

from labsupport.lessons.l09_security.checkers import check_greeting_app, check_search_app

__all__ = ["check_greeting_app", "check_search_app"]
