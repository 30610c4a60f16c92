"""Lesson 01-http: HTTP on the wire: raw requests, recorded exchanges, and the checkers.

The notebook imports everything it needs from here: ``from labsupport.lessons.l01_http import ...``.
The modules beside this file hold the machinery; `checkers` holds the exercises' checkers.
"""

from __future__ import annotations

from labsupport.lessons.l01_http.checkers import (
    check_raw_request,
    check_request_status_prediction,
    check_should_retry,
    check_status_class,
)
from labsupport.lessons.l01_http.wire import WireTimeout, build_request, raw_request, record

__all__ = [
    "WireTimeout",
    "build_request",
    "check_raw_request",
    "check_request_status_prediction",
    "check_should_retry",
    "check_status_class",
    "raw_request",
    "record",
]
