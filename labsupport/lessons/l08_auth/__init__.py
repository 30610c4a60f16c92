"""Lesson 08-auth: forged tokens, a small OAuth 2 authorization server, a deliberately vulnerable
admin app to attack, and the checkers.

The notebook imports everything it needs from here: ``from labsupport.lessons.l08_auth import ...``.
The modules beside this file hold the machinery; `checkers` holds the exercises' checkers.
"""

from __future__ import annotations

from labsupport.lessons.l08_auth.attacks import forge_alg_confusion, forge_alg_none, forge_tampered
from labsupport.lessons.l08_auth.authserver import create_authorization_server
from labsupport.lessons.l08_auth.checkers import (
    check_auth_status_prediction,
    check_forged_token,
    check_idor_fix,
    check_role_guard,
    create_vulnerable_admin_app,
    vulnerable_token_check,
)

__all__ = [
    "check_auth_status_prediction",
    "check_forged_token",
    "check_idor_fix",
    "check_role_guard",
    "create_authorization_server",
    "create_vulnerable_admin_app",
    "forge_alg_confusion",
    "forge_alg_none",
    "forge_tampered",
    "vulnerable_token_check",
]
