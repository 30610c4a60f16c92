"""Lesson 09-security: the lab apps the notebook attacks, and the checkers that attack the student's fixes.

The notebook imports everything it needs from here: ``from labsupport.lessons.l09_security import ...``.
`labapps` holds the deliberately vulnerable targets and the CSRF exercise's site, `webparse` reads
pages and Content-Security-Policies as a browser does, `victim` is the victim's browser (real
Chromium when installed, else simulated) and the CSP report endpoint, `checkers` holds the
exercises' checkers.
"""

from __future__ import annotations

from labsupport.lessons.l09_security.checkers import (
    check_account_update,
    check_csrf_defence,
    check_greeting_app,
    check_mass_assignment_prediction,
    check_search_app,
    check_stolen_hash,
)
from labsupport.lessons.l09_security.labapps import make_vulnerable_search_app, shop_engine
from labsupport.lessons.l09_security.victim import collect_csp_reports, lab_browser, same_site

__all__ = [
    "check_account_update",
    "check_csrf_defence",
    "check_greeting_app",
    "check_mass_assignment_prediction",
    "check_search_app",
    "check_stolen_hash",
    "collect_csp_reports",
    "lab_browser",
    "same_site",
    "shop_engine",
    "make_vulnerable_search_app",
]
