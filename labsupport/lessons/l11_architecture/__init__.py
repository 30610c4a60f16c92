"""Lesson 11-architecture: MVC, layers and microservices; the checkers.

The notebook imports everything it needs from here: ``from labsupport.lessons.l11_architecture import ...``.
`faults` makes a service slow, failing or flaky and measures its callers, `layers` reads what a
layer's code uses, `timeline` joins the log lines of several services by trace id; `checkers`
holds the exercises' checkers.
"""

from __future__ import annotations

from labsupport.lessons.l11_architecture.checkers import (
    check_fallback,
    check_idempotent_orders,
    check_quote_layers,
    check_quote_service,
    check_reservations_prediction,
)
from labsupport.lessons.l11_architecture.faults import Faults, call_stats
from labsupport.lessons.l11_architecture.layers import LAYER_RULES, layer_report, tangled_quote_app
from labsupport.lessons.l11_architecture.timeline import LogBook

__all__ = [
    "LAYER_RULES",
    "Faults",
    "LogBook",
    "call_stats",
    "check_fallback",
    "check_idempotent_orders",
    "check_quote_layers",
    "check_quote_service",
    "check_reservations_prediction",
    "layer_report",
    "tangled_quote_app",
]
