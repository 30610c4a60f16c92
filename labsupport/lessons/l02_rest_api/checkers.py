"""Checkers for the exercises of 02-rest-api: URLs for operations, status codes, a users API,
and the "predict, then run" prompt on a second DELETE.

The users API check runs a conformance suite (`labsupport.lessons.l02_rest_api.conformance`) over real HTTP against
the student's app: the expectations below are what any REST users resource should do,
independent of the bookshop.
"""

from __future__ import annotations

import inspect
import re
import traceback
from collections.abc import Callable
from typing import Any

import httpx
from fastapi import FastAPI, HTTPException, Response
from pydantic import BaseModel

from labsupport.checks import Hint, NotAttempted, checker, expect_type
from labsupport.crashes import describe_exception
from labsupport.lessons.l02_rest_api.conformance import Expectation, Rule, app_routes, run_conformance
from labsupport.servers import Server, ServerError, serve

__all__ = [
    "OPERATIONS",
    "SITUATIONS",
    "USERS_EXPECTATIONS",
    "USERS_RULES",
    "check_urls",
    "check_status_codes",
    "check_users_api",
    "CREATE_BUGS",
    "reference_users_api",
    "check_create_user_test",
    "check_second_delete_prediction",
    "delete_twice",
]

# --- Predict, then run: a second DELETE of the same resource -----------------------------------
#
# The misconception: "DELETE is idempotent, so sending it twice gives the same answer twice".
# Idempotent is about the server's state (the book is gone after one DELETE or two), not about
# the responses: the second DELETE finds nothing to delete. The checker does not compare with a
# constant: it creates a book on the student's server and deletes it twice, now.

_PROBE_BOOK = {"title": "Deleted Twice", "author": "A. Checker", "genre": "science", "price_cents": 100, "stock": 1}


def delete_twice(server: Server) -> tuple[int, int, int]:
    """Create a book on the bookshop `server`, send the same DELETE twice, then GET it:
    ``(first DELETE status, second DELETE status, GET status)``."""
    created = server.client.post("/api/books", json=_PROBE_BOOK)
    location = created.headers.get("location")
    if created.status_code != 201 or not location:
        raise Hint(
            f"The check could not create a book to delete (POST /api/books answered {created.status_code}): "
            "pass the bookshop server, shop, and run the setup cell again if it was stopped."
        )
    first = server.client.delete(location).status_code
    second = server.client.delete(location).status_code
    return first, second, server.client.get(location).status_code


# predicted status (or its class) -> why it is not what the bookshop answers, when the truth is the
# usual 204 then 404. Each says the rule the prediction missed.
_SECOND_DELETE_HINTS: dict[int | str, str] = {
    204: "Idempotent means the server ends in the same *state* after one DELETE or two (the book is gone), "
    "not that every response is the same: the second DELETE finds no book, and a missing resource is 404.",
    "2xx": "A 2xx says the second DELETE succeeded, but there was nothing left to delete: it found no book, "
    "and a missing resource is 404. Idempotent promises the same state, not the same response.",
    410: "410 Gone would need the server to remember that the book once existed; the bookshop, like most "
    "APIs, keeps nothing of a deleted book, so its URL now names nothing: 404, as for an id never used.",
    405: "405 Method Not Allowed says the URL never takes DELETE (and comes with an Allow header); this URL "
    "took the first DELETE. What changed is that no book is there any more: 404.",
    409: "409 Conflict is for a request that clashes with data the server has; after the first DELETE no "
    "book is left to clash with. The URL names nothing: 404.",
    400: "The second request is the same well-formed request as the first, so it is not 400 or 422. "
    "What changed is the server's state: the book is gone, so 404.",
    422: "The second request is the same well-formed request as the first, so it is not 400 or 422. "
    "What changed is the server's state: the book is gone, so 404.",
    "5xx": "Nothing failed on the server: it looked for the book, found none, and said so with a client "
    "error: 404, the URL names nothing.",
}

_SECOND_DELETE_RULE = (
    "The first DELETE removed the book, so the second finds nothing at that URL: 404 Not Found. "
    "Idempotent promises the same state after one DELETE or two, not the same response."
)


@checker("Predict, then run: a second DELETE", expects="a status code such as 200")
def check_second_delete_prediction(predicted: int, server: Server) -> str:
    """`predicted`: the status of a second DELETE of the same book on the bookshop `server`."""
    predicted = expect_type(predicted, int, "a status code such as 200, as a number")
    if not 100 <= predicted <= 599:
        raise Hint(f"{predicted} is not an HTTP status code (they run from 100 to 599).")
    if not isinstance(server, Server):
        raise Hint(
            f"The second argument is the bookshop server, shop (a running lab server), not {type(server).__name__}: "
            "the check sends its DELETEs there."
        )
    first, second, after = delete_twice(server)
    happened = (
        f"Sent just now: a new book, DELETE → {first}, the same DELETE again → {second} (and GET on its URL → {after})."
    )
    if predicted != second:
        if (first, second) == (204, 404):
            why = _SECOND_DELETE_HINTS.get(predicted) or _SECOND_DELETE_HINTS.get(f"{predicted // 100}xx")
            raise Hint(f"{happened} {why or _SECOND_DELETE_RULE}")
        raise Hint(f"{happened} You predicted {predicted}; this server answered {second} to the second DELETE.")
    return (
        f"{happened} Idempotent means the server ends in the same state after one DELETE or two (the book "
        "is gone); the responses may differ. So a client that retries a DELETE after a timeout must read "
        "404 as 'already gone'."
    )


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
    # PUT on a sub-resource that is only the email replaces just the email: a defensible design
    "update_email": [("PATCH", "/api/users/7"), ("PUT", "/api/users/7/email")],
    "delete_user": [("DELETE", "/api/users/7")],
    "user_orders": [("GET", "/api/users/7/orders"), ("GET", "/api/orders?user_id=7")],
}
_METHODS = {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"}
# A verb at the start of a path segment, followed by a capital, "_", "-" or the end: deleteUser,
# create, get_user; but not settings or newsletter.
_VERBS = re.compile(
    r"(?i:get|create|add|update|change|edit|modify|delete|remove|destroy|list|fetch|read|show|set|new|make|insert)"
    r"(?![a-z]|(?i:user|email|order))"
    r"|(?i:get|create|add|update|change|edit|modify|delete|remove|destroy|list|fetch|read|show|set|new|make|insert)"
    r"(?=(?i:users?|emails?|orders?)$)"
)
_PLACEHOLDER = re.compile(r"[{<]\w*[}>]|:\w+")  # /api/users/{id}, /api/users/<id>, /api/users/:id
_VERSION = re.compile(r"^/api/v\d+/")  # /api/v1/users is /api/users, versioned (section 5)


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
        if _PLACEHOLDER.search(path):
            raise Hint(
                f"{key} ({given}): write the URL of the example itself, with the id 7 in it, not a route "
                "pattern such as /api/users/{id}."
            )
        path = _VERSION.sub("/api/", path)
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
            if key == "update_email" and method == "PUT" and path.rstrip("/") == "/api/users/7":
                raise Hint(
                    "update_email: PUT replaces the whole user (every field must be sent, and a field "
                    "left out is erased); which method changes only some fields?"
                )
            if key == "update_email" and method == "PATCH":
                raise Hint(
                    "update_email: PATCH changes part of a resource; /api/users/7/email *is* the email, "
                    "so replace it whole with PUT, or PATCH the user, /api/users/7."
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
# (situation, wrong answer or its class such as "4xx") -> a hint aimed at that mistake
_STATUS_HINTS: dict[tuple[str, int | str], str] = {
    ("created", 200): "200 OK works, but creation has its own code, which tells the client that "
    "a new resource exists (and goes with a Location header).",
    ("deleted", 200): "200 promises a body. When there is nothing to send back, which 2xx code says so?",
    ("missing", 200): "That is the '200 for everything' misconception: a client that checks the "
    "status would treat the missing user as found.",
    ("missing", 204): "204 means success with nothing to send; here the request failed: the user does not exist.",
    ("missing", 400): "The request itself is fine; what it asks for does not exist.",
    ("missing", 422): "422 says fields of the request body are invalid; this GET has no body, and "
    "the user it names does not exist.",
    ("created", 204): "204 says there is nothing to send back, but a create answers with the new "
    "user (and a Location): which 2xx code says a resource was created?",
    ("created", 202): "202 Accepted means 'queued, not done yet'; here the user exists when the "
    "answer leaves. Which 2xx code says created?",
    ("deleted", 404): "The user existed and is now deleted: that is a success. 404 is for the next "
    "DELETE, when there is nothing left to delete.",
    ("duplicate_email", 500): "Nothing is broken on the server: the client sent an email already "
    "in use. Which 4xx code means a conflict?",
    ("duplicate_email", 200): "Nothing was created, so no 2xx: the request clashes with an "
    "existing user. Which 4xx code means a conflict?",
    ("invalid_body", 409): "Nothing clashes with existing data: the email field is the wrong type on "
    "its own. Which code does FastAPI give for an invalid field?",
    ("invalid_body", 500): "The server did not fail; the client sent a body with a bad field.",
    ("duplicate_email", 400): "The request on its own is valid; it clashes with data the server "
    "already has. Which 4xx code means a conflict?",
    ("duplicate_email", 422): "Each field is valid on its own (422 is for that); the clash is with "
    "another user's data. Which 4xx code means a conflict?",
    ("invalid_body", 400): "Close: many APIs use 400. FastAPI answers with the code for 'well-formed "
    "but a field is invalid', and lists each field in its detail.",
    ("server_bug", "4xx"): "4xx codes say the client did something wrong. Here the server failed.",
    ("missing", "5xx"): "Nothing failed on the server: it looked, and there is no such user.",
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
        specific = _STATUS_HINTS.get((key, given)) or _STATUS_HINTS.get((key, f"{given // 100}xx"))
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


def _created_with_location(user: dict[str, str]) -> Callable[[httpx.Response], str | None]:
    """A check that the response carries `user` with its id, and a Location naming that id."""

    def check(response: httpx.Response) -> str | None:
        location = response.headers.get("location")
        if not location:
            return "a Location header with the new user's URL, e.g. /api/users/1"
        body = response.json()
        if not isinstance(body, dict) or "id" not in body:
            return "the new user as JSON, with its id"
        if not location.rstrip("/").endswith(f"/api/users/{body['id']}"):
            return f"Location: /api/users/{body['id']} (the URL of the user just created, whose id is {body['id']})"
        if {key: body.get(key) for key in ("email", "name")} != _public(user):
            return f"the new user's email and name in the body: {user['email']!r}, {user['name']!r}"
        return None

    return check


def _public(user: dict[str, str]) -> dict[str, str]:
    return {"email": user["email"], "name": user["name"]}


def _json_or_none(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _missing_user_hint(response: httpx.Response, who: str) -> str:
    """What is wrong with the read route's answer for a user that is not in the store.

    Said from what the app answered, so that a crash is not called a 200 and a read route that
    answers 200 for nobody is not blamed on DELETE.
    """
    if response.status_code >= 500:
        return (
            f"Your read route crashed for {who} (the exception is under got:). store.get(user_id) gives "
            "None for a missing user: check for None and raise HTTPException(404, 'no such user')."
        )
    if response.status_code == 200:
        return (
            f"Your read route answered 200 for {who}: store.get(user_id) gives None for a missing user; "
            "raise HTTPException(404, 'no such user') instead of returning None."
        )
    return (
        f"A user that is not in the store is 404, not {response.status_code}: raise HTTPException(404, 'no such user')."
    )


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
        expect=_created_with_location(ADA),
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
    # A rule checked on one response proves little: a Location that always names user 1 is right
    # for the first user. So a second create, its own Location, and both users read back.
    Expectation(
        "a second user is created, with a Location of her own",
        "POST",
        "/api/users",
        json=GRACE,
        expect_status=201,
        expect=_created_with_location(GRACE),
        remember="grace",
        hint="Each new user gets her own URL: build the Location from the id of the row just created, "
        "f'/api/users/{row[\"id\"]}', not a fixed one. Only the email has to be unique.",
    ),
    Expectation(
        "read the second user at her Location",
        "GET",
        "{grace}",
        expect=_public(GRACE),
        hint="GET /api/users/{user_id} must return the user with that id: store.get(user_id).",
    ),
    Expectation(
        "the first user is still at hers",
        "GET",
        "{ada}",
        expect=_public(ADA),
        hint="GET /api/users/{user_id} must return the user with that id, whoever was created last.",
    ),
    Expectation(
        "a missing user is 404",
        "GET",
        "/api/users/999999",
        expect_status=404,
        hint=lambda response: _missing_user_hint(response, "a user that does not exist"),
    ),
    Expectation(
        "the same email again is 409",
        "POST",
        "/api/users",
        json={**ADA, "name": "Ada Again"},
        expect_status=409,
        hint="store.add raises EmailTaken for an email in use: catch it and raise "
        "HTTPException(409, 'email taken'). It is a conflict with existing data, not a server error.",
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
        hint=lambda response: (
            "After DELETE the user is still there: does your delete remove it from the store?"
            if response.status_code == 200 and _json_or_none(response) is not None
            else _missing_user_hint(response, "the user you deleted")
        ),
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
        hint="store.delete(user_id) returns False when there was no such user: "
        "raise HTTPException(404, 'no such user') then.",
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
            "Add your routes inside add_user_routes(app, store) (a decorator above each function, and its body), "
            "then run this cell again."
        )
    try:
        report = run_conformance(app, USERS_EXPECTATIONS, rules=USERS_RULES)
    except (ServerError, TypeError) as exc:
        raise Hint(f"The app could not be started: {exc}") from None
    if not report.passed:
        raise Hint(str(report))
    return (
        f"{report} Created with 201 and a Location naming each new user, missing is 404, a clash is 409, "
        "deleted is 204 with no body, and no response carries the password hash."
    )


# --- Exercise 4: a test that catches the bugs ------------------------------------------------
#
# The student writes test_create_user(client). It runs against a correct users API, against
# one API per bug below, and against the correct API once more (a test that passes only on its
# first run, by counting its calls, fails there). Every API starts with one user already stored,
# so that even a single create shows a Location stuck on the first user.

SEEDED = {"email": "root@example.com", "name": "Root", "password": "seeded-password"}
# bug -> what the buggy API does, as the hint says it
CREATE_BUGS = {
    "200 for create": "answers 200 OK instead of 201 Created",
    "location of the first user": "sends a Location that always names the first user, /api/users/1",
    "not stored": "answers 201 with a Location, but stores nothing: GET on that Location is 404",
    "hash in the body": "returns the stored row, password hash included, in the created user's body",
}


class NewUser(BaseModel):
    """What a client sends to create a user."""

    email: str
    name: str
    password: str


class PublicUser(BaseModel):
    """What the API shows of a user: never the password hash."""

    id: int
    email: str
    name: str


def reference_users_api(bug: str | None = None) -> FastAPI:
    """A small users API (create, read, list) on a fresh store holding one user; `bug` names the
    one mistake it makes on purpose, one of `CREATE_BUGS` (None: it makes none)."""
    if bug is not None and bug not in CREATE_BUGS:
        raise ValueError(f"unknown bug {bug!r}: one of {sorted(CREATE_BUGS)}")

    rows: dict[int, dict[str, Any]] = {}

    def add(user: dict[str, str]) -> dict[str, Any]:
        row: dict[str, Any] = {"id": len(rows) + 1, "email": user["email"], "name": user["name"]}
        row["password_hash"] = "pbkdf2_sha256$1000$" + user["password"][::-1].encode().hex()
        if bug != "not stored" or not rows:
            rows[row["id"]] = row
        return row

    add(SEEDED)
    app = FastAPI(title="Users API" + (f" (bug: {bug})" if bug else ""))

    @app.post("/api/users", status_code=200 if bug == "200 for create" else 201)
    def create_user(user: NewUser, response: Response) -> dict[str, Any]:
        if any(row["email"] == user.email for row in rows.values()):
            raise HTTPException(409, f"email {user.email} is already taken")
        row = add(user.model_dump())
        response.headers["Location"] = f"/api/users/{1 if bug == 'location of the first user' else row['id']}"
        return row if bug == "hash in the body" else PublicUser(**row).model_dump()

    @app.get("/api/users/{user_id}", response_model=PublicUser)
    def read_user(user_id: int) -> dict[str, Any]:
        if user_id not in rows:
            raise HTTPException(404, f"user {user_id} not found")
        return rows[user_id]

    @app.get("/api/users", response_model=list[PublicUser])
    def list_users() -> list[dict[str, Any]]:
        return list(rows.values())

    return app


def _run_test(test: Callable[[httpx.Client], Any], bug: str | None) -> BaseException | None:
    """Run `test` against a fresh API with `bug`; the exception it raised, or None if it passed."""
    server = serve(reference_users_api(bug), name="write-a-test-" + (bug or "correct").replace(" ", "-"))
    try:
        test(server.client)
    except Exception as exc:  # a failing test raises; any exception counts as a failure
        return exc
    finally:
        server.stop()
    return None


def _failure(test: Callable[..., Any], exc: BaseException) -> str:
    """What a failed test said: its assertion line (and message) or the exception it raised."""
    line = ""
    code = getattr(test, "__code__", None)
    for frame in traceback.extract_tb(exc.__traceback__):
        if code is not None and frame.filename == code.co_filename and frame.line:
            line = frame.line.strip()  # the last line of the test itself on the way down
    detail = describe_exception(exc, limit=160)
    if isinstance(exc, AssertionError) and line:
        message = detail.removeprefix("AssertionError").removeprefix(": ")
        return f"`{line}` failed" + (f" ({message})" if message else "")
    return f"it raised {detail}" + (f" at `{line}`" if line else "")


@checker("Exercise 4: a test that catches bugs", expects="a function test_create_user(client) that asserts")
def check_create_user_test(test: Callable[[httpx.Client], Any]) -> str:
    if not callable(test):
        raise Hint("Pass the test function itself: check_create_user_test(test_create_user), without parentheses.")
    try:
        inspect.signature(test).bind(None)
    except TypeError:
        raise Hint("The test takes one argument, the client: def test_create_user(client): ...") from None
    except ValueError:
        pass
    failed = _run_test(test, None)
    if failed is not None:
        raise Hint(
            f"Your test fails on a correct users API: {_failure(test, failed)}. A test must pass when the "
            "code is right; check what the API promises: 201, the new user (id, email, name) and a Location."
        )
    for bug, what in CREATE_BUGS.items():
        if _run_test(test, bug) is None:
            raise Hint(
                f"Your test passes on an API that {what}. A test that cannot fail on that bug does not "
                "protect you from it: add an assertion that catches it."
            )
    failed = _run_test(test, None)
    if failed is not None:
        raise Hint(
            f"Your test passed on a correct API once, then failed on another correct one: {_failure(test, failed)}. "
            "A test must give the same answer every time it runs on the same code."
        )
    return (
        f"Your test passed on the correct API (twice) and failed on each of the {len(CREATE_BUGS)} buggy "
        "ones: a wrong status, a Location that leads to someone else or nowhere, a leaked hash. A test "
        "is only as good as the bugs it can catch, and one that cannot fail proves nothing."
    )
