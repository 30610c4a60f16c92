"""Checkers for the exercises of 02-rest-api: URLs for operations, status codes, a users API.

The users API check runs a conformance suite (`labsupport.lessons.l02_rest_api.conformance`) over real HTTP against
the student's app: the expectations below are what any REST users resource should do,
independent of the bookshop.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import httpx

from labsupport.checks import Hint, NotAttempted, checker, expect_type
from labsupport.lessons.l02_rest_api.conformance import Expectation, Rule, app_routes, run_conformance
from labsupport.servers import ServerError

__all__ = [
    "OPERATIONS",
    "SITUATIONS",
    "USERS_EXPECTATIONS",
    "USERS_RULES",
    "check_urls",
    "check_status_codes",
    "check_users_api",
]

# --- Exercise 1: URLs for operations ------------------------------------------------------

OPERATIONS = {
    "list_users": "list every user",
    "create_user": "create a new user",
    "read_user": "read user 7",
    "update_email": "change the email address of user 7 (and nothing else)",
    "delete_user": "delete user 7",
    "user_orders": "list the orders of user 7",
}
# operation -> the accepted (method, path) answers; the first one is the usual design
_URLS: dict[str, list[tuple[str, str]]] = {
    "list_users": [("GET", "/api/users")],
    "create_user": [("POST", "/api/users")],
    "read_user": [("GET", "/api/users/7")],
    "update_email": [("PATCH", "/api/users/7")],
    "delete_user": [("DELETE", "/api/users/7")],
    "user_orders": [("GET", "/api/users/7/orders"), ("GET", "/api/orders?user_id=7")],
}
_METHODS = {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"}
# A verb at the start of a path segment, followed by a capital, "_", "-" or the end: deleteUser,
# create, get_user; but not settings or newsletter.
_VERBS = re.compile(r"(?i:get|create|add|update|change|delete|remove|list|fetch|set|new)(?![a-z])")


@checker("Exercise 1: URLs for operations", expects="a dict {operation: (method, path)}")
def check_urls(answer: dict[str, tuple[str, str]]) -> str:
    expect_type(answer, dict, "a dict such as {'list_users': ('GET', '/api/users'), ...}")
    for key in OPERATIONS:
        if key not in answer:
            raise Hint(f"Give an answer for {key!r} ({OPERATIONS[key]}) too.")
        value = answer[key]
        if not (isinstance(value, tuple) and len(value) == 2 and all(isinstance(v, str) for v in value)):
            raise Hint(
                f"The answer for {key!r} should be a pair of strings such as ('GET', '/api/users'), not {value!r:.60}."
            )
    for key, description in OPERATIONS.items():
        method, path = answer[key]
        method = method.upper()
        given = f"{method} {path}"
        if method not in _METHODS:
            raise Hint(f"{key}: {method!r} is not an HTTP method; use one of GET, POST, PUT, PATCH, DELETE.")
        if not path.startswith("/api/"):
            raise Hint(f"{key}: start every path with /api/, like the bookshop's (you wrote {path!r}).")
        words = [word for word in re.split(r"[/?=&]", path) if word]
        if any(_VERBS.match(word) for word in words):
            raise Hint(
                f"{key} ({given}): a URL names a resource (a noun); the method is the verb. "
                "Take the verb out of the path and pick the method that means it."
            )
        if "/api/user/" in path or path.rstrip("/") == "/api/user":
            raise Hint(
                f"{key} ({given}): name collections in the plural, /api/users, so that "
                "/api/users/7 reads as 'user 7 of the users'."
            )
        if "?id=" in path or "&id=" in path:
            raise Hint(
                f"{key} ({given}): one user is a resource of its own: put its id in the path, "
                "/api/users/7, not in the query string."
            )
        accepted = _URLS[key]
        if (method, path.rstrip("/")) in accepted:
            continue
        paths = {p for _, p in accepted}
        if path.rstrip("/") in paths:
            if key == "update_email" and method == "PUT":
                raise Hint(
                    "update_email: PUT replaces the whole user (every field must be sent); "
                    "which method changes only some fields?"
                )
            raise Hint(f"{key} ({description}): the path is right, but {method} is not the method that means it.")
        raise Hint(
            f"{key} ({description}): {given} is not it. Use the collection /api/users, "
            "one user /api/users/7, and what belongs to user 7 under /api/users/7/…"
        )
    return (
        "Nouns in the path, the verb in the method: one collection URL and one URL per user "
        "cover all of create, read, update and delete."
    )


# --- Exercise 2: status codes --------------------------------------------------------------

SITUATIONS = {
    "listed": "GET /api/users worked; the body is the list of users",
    "created": "POST /api/users created a user",
    "deleted": "DELETE /api/users/7 deleted the user; there is nothing to send back",
    "missing": "GET /api/users/42, but there is no user 42",
    "duplicate_email": "POST /api/users with an email address another user already has",
    "invalid_body": "POST /api/users whose JSON is well formed, but the email field is a number",
    "server_bug": "the endpoint's code raised an exception (a bug in the server)",
}
_STATUS = {
    "listed": 200, "created": 201, "deleted": 204, "missing": 404,
    "duplicate_email": 409, "invalid_body": 422, "server_bug": 500,
}  # fmt: skip
# (situation, wrong answer) -> a hint aimed at that mistake
_STATUS_HINTS = {
    ("created", 200): "200 OK works, but creation has its own code, which tells the client that "
    "a new resource exists (and goes with a Location header).",
    ("deleted", 200): "200 promises a body. When there is nothing to send back, which 2xx code says so?",
    ("missing", 200): "That is the '200 for everything' misconception: a client that checks the "
    "status would treat the missing user as found.",
    ("missing", 204): "204 means success with nothing to send; here the request failed: the user does not exist.",
    ("missing", 400): "The request itself is fine; what it asks for does not exist.",
    ("duplicate_email", 400): "The request on its own is valid; it clashes with data the server "
    "already has. Which 4xx code means a conflict?",
    ("duplicate_email", 422): "Each field is valid on its own (422 is for that); the clash is with "
    "another user's data. Which 4xx code means a conflict?",
    ("invalid_body", 400): "Close: many APIs use 400. FastAPI answers with the code for 'well-formed "
    "but a field is invalid', and lists each field in its detail.",
    ("server_bug", 400): "4xx codes say the client did something wrong. Here the server failed.",
    ("server_bug", 503): "503 means 'temporarily unavailable, try later' (overload, maintenance); "
    "a bug is the generic server error.",
}


@checker("Exercise 2: the right status code", expects="a dict {situation: status code}")
def check_status_codes(answer: dict[str, int]) -> str:
    expect_type(answer, dict, "a dict such as {'listed': 200, ...}")
    for key in SITUATIONS:
        if key not in answer:
            raise Hint(f"Give a status code for {key!r} ({SITUATIONS[key]}) too.")
        if isinstance(answer[key], bool) or not isinstance(answer[key], int):
            raise Hint(f"The answer for {key!r} should be a status code such as 200, not {answer[key]!r:.40}.")
        if not 100 <= answer[key] <= 599:
            raise Hint(f"{answer[key]} for {key!r} is not an HTTP status code (they run from 100 to 599).")
    unknown = sorted(set(answer) - set(SITUATIONS))
    if unknown:
        raise Hint(f"Unknown situation(s) {unknown}: use the keys {list(SITUATIONS)}.")
    for key, expected in _STATUS.items():
        given = answer[key]
        if given == expected:
            continue
        specific = _STATUS_HINTS.get((key, given))
        if specific:
            raise Hint(f"{key} ({SITUATIONS[key]}): {specific}")
        family = (
            "success (2xx)" if expected < 300 else "a client error (4xx)" if expected < 500 else "a server error (5xx)"
        )
        raise Hint(f"{key} ({SITUATIONS[key]}): {given} is not it; this situation is {family}.")
    return "2xx for success, 4xx when the client must change the request, 5xx when the server failed."


# --- Exercise 3: the users API ---------------------------------------------------------------

ADA = {"email": "ada@example.com", "name": "Ada Lovelace", "password": "analytical-engine"}
GRACE = {"email": "grace@example.com", "name": "Grace Hopper", "password": "compiler-1952"}
_SECRET_KEYS = ("password", "hash", "salt")


def _secret_fields(value: Any, path: str = "body") -> list[str]:
    """Where a JSON value holds a key that looks like a password or its hash."""
    found = []
    if isinstance(value, dict):
        for key, item in value.items():
            if any(secret in str(key).lower() for secret in _SECRET_KEYS):
                found.append(f"{path}.{key}")
            found += _secret_fields(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _secret_fields(item, f"{path}[{index}]")
    return found


def _no_secrets(response: httpx.Response) -> str | None:
    try:
        body = response.json()
    except ValueError:
        return None  # not JSON: nothing structured to leak
    leaked = _secret_fields(body)
    return f"no password or password hash in the body (found {', '.join(leaked)})" if leaked else None


def _created_with_location(response: httpx.Response) -> str | None:
    location = response.headers.get("location")
    if not location:
        return "a Location header with the new user's URL, e.g. /api/users/1"
    body = response.json()
    if not isinstance(body, dict) or "id" not in body:
        return "the new user as JSON, with its id"
    if not location.rstrip("/").endswith(f"/api/users/{body['id']}"):
        return f"Location: /api/users/{body['id']} (the URL of the user just created)"
    if {key: body.get(key) for key in ("email", "name")} != {"email": ADA["email"], "name": ADA["name"]}:
        return f"the new user's email and name in the body: {ADA['email']!r}, {ADA['name']!r}"
    return None


def _public(user: dict[str, str]) -> dict[str, str]:
    return {"email": user["email"], "name": user["name"]}


def _empty_body(response: httpx.Response) -> str | None:
    return None if not response.content else "an empty body (204 No Content has none)"


def _lists_only_grace(response: httpx.Response) -> str | None:
    body = response.json()
    if not isinstance(body, list) or [_public(u) for u in body if isinstance(u, dict)] != [_public(GRACE)]:
        return f"a list with only Grace after Ada was deleted: [{_public(GRACE)}]"
    return None


USERS_RULES = (
    Rule(
        "no secrets in responses",
        _no_secrets,
        hint="Return the user through a public model: response_model=UserPublic (id, email, "
        "name) leaves the password hash out.",
    ),
)

USERS_EXPECTATIONS = (
    Expectation(
        "create a user: 201 with a Location header",
        "POST",
        "/api/users",
        json=ADA,
        expect_status=201,
        expect=_created_with_location,
        remember="ada",
        hint="Use @app.post('/api/users', status_code=201, response_model=UserPublic) and set "
        "response.headers['Location'] = f'/api/users/{user[\"id\"]}'.",
    ),
    Expectation(
        "read the new user at its Location",
        "GET",
        "{ada}",
        expect=_public(ADA),
        hint="Add @app.get('/api/users/{user_id}') that returns store.get(user_id).",
    ),
    Expectation(
        "a second user with another email is created too",
        "POST",
        "/api/users",
        json=GRACE,
        expect_status=201,
        expect=_public(GRACE),
        hint="Creating Grace after Ada must work as well: only the email has to be unique.",
    ),
    Expectation(
        "a missing user is 404",
        "GET",
        "/api/users/999999",
        expect_status=404,
        hint="store.get(user_id) gives None for a missing user: raise HTTPException(404, ...) "
        "instead of returning None with a 200.",
    ),
    Expectation(
        "the same email again is 409",
        "POST",
        "/api/users",
        json={**ADA, "name": "Ada Again"},
        expect_status=409,
        hint="store.add raises EmailTaken for an email in use: catch it and raise "
        "HTTPException(409, ...). It is a conflict with existing data, not a server error.",
    ),
    Expectation(
        "a user without an email is 422",
        "POST",
        "/api/users",
        json={"name": "No Email"},
        expect_status=422,
        hint="Declare the body as UserIn (def create_user(user: UserIn, ...)): FastAPI then "
        "refuses a body without an email with a 422 that names the field.",
    ),
    Expectation(
        "delete the user: 204, no body",
        "DELETE",
        "{ada}",
        expect_status=204,
        expect=_empty_body,
        hint="Use @app.delete('/api/users/{user_id}', status_code=204) and return nothing "
        "(return None, or Response(status_code=204)).",
    ),
    Expectation(
        "the deleted user is gone",
        "GET",
        "{ada}",
        expect_status=404,
        hint="After DELETE, reading the user must give 404: does your delete remove it from the store?",
    ),
    Expectation(
        "the list no longer has the deleted user",
        "GET",
        "/api/users",
        expect=_lists_only_grace,
        hint="Delete the user from the store (store.delete(user_id)), not just answer 204.",
    ),
    Expectation(
        "deleting a missing user is 404",
        "DELETE",
        "{ada}",
        expect_status=404,
        hint="store.delete(user_id) returns False when there was no such user: raise HTTPException(404, ...) then.",
    ),
)

# The routes the student adds; if the app has none of them, the exercise is not attempted yet.
_STUDENT_ROUTES = re.compile(r"^(POST /api/users|(GET|DELETE) /api/users/\{[^}]+\})/?$")


@checker("Exercise 3: complete the users API", expects="a function that builds and returns a FastAPI app")
def check_users_api(build_app: Callable[[], Any]) -> str:
    if hasattr(build_app, "routes") or not callable(build_app):
        raise Hint(
            "Pass the function that builds the app, e.g. check_users_api(build_users_app) "
            "(without parentheses): the check builds a fresh app, with an empty store, each time."
        )
    app = build_app()
    if app is None or app is ...:
        raise Hint(
            f"{getattr(build_app, '__name__', 'the function')}() returned {app!r}: it should end with `return app`."
        )
    if not hasattr(app, "routes"):
        raise Hint(
            f"{getattr(build_app, '__name__', 'the function')}() should return a FastAPI app, not {type(app).__name__}."
        )
    if not any(_STUDENT_ROUTES.match(f"{method} {path}") for method, path in app_routes(app)):
        raise NotAttempted(
            "Add your routes inside add_user_routes(app, store) (replace the `... ` lines), then run this cell again."
        )
    try:
        report = run_conformance(app, USERS_EXPECTATIONS, rules=USERS_RULES)
    except (ServerError, TypeError) as exc:
        raise Hint(f"The app could not be started: {exc}") from None
    if not report.passed:
        raise Hint(str(report))
    return (
        f"{report} Created with 201 and a Location, missing is 404, a clash is 409, "
        "deleted is 204 with no body, and no response carries the password hash."
    )
