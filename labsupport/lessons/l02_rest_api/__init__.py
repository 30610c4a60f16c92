"""Lesson 02-rest-api: REST: an API checked against expectations over real HTTP, and the checkers.

The notebook imports everything it needs from here: ``from labsupport.lessons.l02_rest_api import ...``.
The modules beside this file hold the machinery; `checkers` holds the exercises' checkers.
"""

from __future__ import annotations

from labsupport.lessons.l02_rest_api.checkers import (
    OPERATIONS,
    SITUATIONS,
    check_create_user_test,
    check_second_delete_prediction,
    check_status_codes,
    check_urls,
    check_users_api,
)

__all__ = [
    "OPERATIONS",
    "SITUATIONS",
    "check_create_user_test",
    "check_second_delete_prediction",
    "check_status_codes",
    "check_urls",
    "check_users_api",
]
