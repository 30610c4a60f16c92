"""Lesson 03-routing-middleware-controllers: the order middleware runs in, made visible; the checkers.

The notebook imports everything it needs from here: ``from labsupport.lessons.l03_routing import ...``.
The modules beside this file hold the machinery; `checkers` holds the exercises' checkers.
"""

from __future__ import annotations

from labsupport.lessons.l03_routing.checkers import (
    check_api_key_guard,
    check_onion_prediction,
    check_request_id,
    check_route_order,
)
from labsupport.lessons.l03_routing.middleware import call_asgi, onion, record_step, traced

__all__ = [
    "call_asgi",
    "check_api_key_guard",
    "check_onion_prediction",
    "check_request_id",
    "check_route_order",
    "onion",
    "record_step",
    "traced",
]
