"""Tests for the 02-rest-api checkers: URLs, status codes, and the users API conformance suite run
against a correct app and against apps that are each wrong in one way (each must get its hint)."""

from __future__ import annotations

import pytest
from fastapi import FastAPI, HTTPException, Response
from pydantic import BaseModel, Field

from labsupport.lessons.l02_rest_api.checkers import (
    OPERATIONS,
    SITUATIONS,
    USERS_EXPECTATIONS,
    check_status_codes,
    check_urls,
    check_users_api,
)

pytestmark = pytest.mark.usefixtures("stop_servers")

# --- Exercise 1: URLs ------------------------------------------------------------------------

URLS = {
    "list_users": ("GET", "/api/users"),
    "create_user": ("POST", "/api/users"),
    "read_user": ("GET", "/api/users/7"),
    "update_email": ("PATCH", "/api/users/7"),
    "delete_user": ("DELETE", "/api/users/7"),
    "user_orders": ("GET", "/api/users/7/orders"),
}


def test_urls_right():
    assert check_urls(URLS).passed
    assert check_urls({**URLS, "user_orders": ("get", "/api/orders?user_id=7")}).passed


@pytest.mark.parametrize(
    ("change", "hint"),
    [
        ({"delete_user": ("GET", "/api/deleteUser?id=7")}, "the method is the verb"),
        ({"create_user": ("POST", "/api/users/create")}, "the method is the verb"),
        ({"read_user": ("GET", "/api/get_user/7")}, "the method is the verb"),
        ({"list_users": ("GET", "/api/settings")}, "is not it"),
        ({"read_user": ("GET", "/api/user/7")}, "in the plural"),
        ({"read_user": ("GET", "/api/users?id=7")}, "put its id in the path"),
        ({"update_email": ("PUT", "/api/users/7")}, "PUT replaces the whole user"),
        ({"delete_user": ("POST", "/api/users/7")}, "the path is right, but POST"),
        ({"user_orders": ("GET", "/api/orders/7")}, "is not it"),
        ({"list_users": ("FETCH", "/api/users")}, "not an HTTP method"),
        ({"list_users": ("GET", "/users")}, "start every path with /api/"),
        ({"list_users": "GET /api/users"}, "a pair of strings"),
    ],
)
def test_urls_wrong_get_a_specific_hint(change, hint):
    result = check_urls({**URLS, **change})
    assert result.status == "failed"
    assert hint in result.message


def test_urls_missing_key_and_placeholder():
    partial = {k: v for k, v in URLS.items() if k != "user_orders"}
    assert "'user_orders'" in check_urls(partial).message
    assert check_urls(...).status == "not attempted"
    assert check_urls({**URLS, "read_user": ...}).status == "not attempted"
    assert check_urls(["GET", "/api/users"]).message.startswith("Expected a dict")
    assert set(OPERATIONS) == set(URLS)


# --- Exercise 2: status codes --------------------------------------------------------------

CODES = {"listed": 200, "created": 201, "deleted": 204, "missing": 404,
         "duplicate_email": 409, "invalid_body": 422, "server_bug": 500}  # fmt: skip


def test_status_codes_right():
    result = check_status_codes(CODES)
    assert result.passed
    assert set(SITUATIONS) == set(CODES)


@pytest.mark.parametrize(
    ("change", "hint"),
    [
        ({"created": 200}, "creation has its own code"),
        ({"deleted": 200}, "nothing to send back"),
        ({"missing": 200}, "'200 for everything' misconception"),
        ({"duplicate_email": 422}, "Which 4xx code means a conflict"),
        ({"duplicate_email": 400}, "Which 4xx code means a conflict"),
        ({"invalid_body": 400}, "many APIs use 400"),
        ({"server_bug": 400}, "the server failed"),
        ({"server_bug": 502}, "a server error (5xx)"),
        ({"listed": 201}, "this situation is success (2xx)"),
        ({"listed": 700}, "not an HTTP status code"),
        ({"listed": "200"}, "should be a status code"),
        ({"listed": True}, "should be a status code"),
        ({"extra": 200}, "Unknown situation(s) ['extra']"),
    ],
)
def test_status_codes_wrong_get_a_specific_hint(change, hint):
    result = check_status_codes({**CODES, **change})
    assert result.status == "failed"
    assert hint in result.message


def test_status_codes_missing_and_placeholder():
    assert "'server_bug'" in check_status_codes({k: v for k, v in CODES.items() if k != "server_bug"}).message
    assert check_status_codes(...).status == "not attempted"
    assert check_status_codes({**CODES, "deleted": ...}).status == "not attempted"


# --- Exercise 3: the users API -------------------------------------------------------------


class EmailTaken(Exception):
    pass


class UserStore:
    def __init__(self):
        self.rows: dict[int, dict] = {}
        self.next_id = 1

    def add(self, email, name, password):
        if any(row["email"] == email for row in self.rows.values()):
            raise EmailTaken(email)
        row = {"id": self.next_id, "email": email, "name": name, "password_hash": "hash$" + password[::-1]}
        self.rows[row["id"]] = row
        self.next_id += 1
        return row

    def get(self, user_id):
        return self.rows.get(user_id)

    def delete(self, user_id):
        return self.rows.pop(user_id, None) is not None

    def all(self):
        return list(self.rows.values())


class UserIn(BaseModel):
    email: str = Field(pattern=r"^[^@\s]+@[^@\s]+$")
    name: str
    password: str = Field(min_length=8)


class UserPublic(BaseModel):
    id: int
    email: str
    name: str


def users_app_builder(*, wrong: str = "", add_routes: bool = True):
    """A factory for the users API; `wrong` names the one mistake it makes (deliberately)."""

    def build():
        app = FastAPI()
        store = UserStore()
        model = dict if wrong == "leak" else UserPublic

        @app.get("/api/users", response_model=list[UserPublic])
        def list_users():
            return store.all()

        if not add_routes:
            return app

        @app.post("/api/users", status_code=200 if wrong == "200" else 201, response_model=model)
        def create_user(user: UserIn, response: Response):
            if wrong == "500 on duplicate":
                row = store.add(user.email, user.name, user.password)
            else:
                try:
                    row = store.add(user.email, user.name, user.password)
                except EmailTaken:
                    raise HTTPException(409, "taken") from None
            if wrong != "no location":
                response.headers["Location"] = f"/api/users/{row['id']}"
            return row

        @app.get("/api/users/{user_id}", response_model=model | None)
        def read_user(user_id: int):
            row = store.get(user_id)
            if row is None and wrong != "200 for missing":
                raise HTTPException(404, "missing")
            return row

        @app.delete("/api/users/{user_id}", status_code=200 if wrong == "delete 200" else 204)
        def delete_user(user_id: int):
            if wrong == "delete keeps":
                if store.get(user_id) is None:
                    raise HTTPException(404, "missing")
                return None
            if not store.delete(user_id):
                raise HTTPException(404, "missing")
            return {"deleted": True} if wrong == "delete 200" else None

        return app

    return build


def test_users_api_right():
    result = check_users_api(users_app_builder())
    assert result.passed, result.message
    assert result.message.startswith(f"All {len(USERS_EXPECTATIONS)} expectations met.")


@pytest.mark.parametrize(
    ("wrong", "failing", "hint"),
    [
        ("200", "create a user: 201 with a Location header", "status_code=201"),
        ("no location", "create a user: 201 with a Location header", "response.headers['Location']"),
        ("leak", "create a user: 201 with a Location header", "response_model=UserPublic"),
        ("200 for missing", "a missing user is 404", "raise HTTPException(404"),
        ("500 on duplicate", "the same email again is 409", "catch it and raise HTTPException(409"),
        ("delete 200", "delete the user: 204, no body", "status_code=204"),
        ("delete keeps", "the deleted user is gone", "does your delete remove it"),
    ],
)
def test_users_api_wrong_gets_the_right_hint(wrong, failing, hint):
    result = check_users_api(users_app_builder(wrong=wrong))
    assert result.status == "failed"
    first = result.message.split("\n\n")[1]  # the first failure listed
    assert first.startswith(f"✘ {failing}\n"), result.message
    assert hint in first
    assert "  sent:     " in first and "  expected: " in first and "  got:      " in first


def test_users_api_leak_names_the_field():
    message = check_users_api(users_app_builder(wrong="leak")).message
    assert "found body.password_hash" in message
    assert "(rule: no secrets in responses)" in message


def test_users_api_crash_is_named_not_a_traceback(cell_output):
    message = check_users_api(users_app_builder(wrong="500 on duplicate")).message
    assert "got:      500 (your code raised EmailTaken: ada@example.com)" in message
    assert "Traceback" not in cell_output() and "EmailTaken" not in cell_output()


def test_users_api_without_routes_is_not_attempted():
    result = check_users_api(users_app_builder(add_routes=False))
    assert result.status == "not attempted"
    assert "add_user_routes" in result.message


def test_users_api_given_the_app_instead_of_the_factory():
    result = check_users_api(users_app_builder()())
    assert result.status == "failed"
    assert "without parentheses" in result.message


@pytest.mark.parametrize(("returned", "hint"), [(None, "`return app`"), (42, "not int")])
def test_users_api_factory_returning_something_else(returned, hint):
    def build_users_app():
        return returned

    result = check_users_api(build_users_app)
    assert result.status == "failed"
    assert hint in result.message


def test_users_api_factory_that_raises_is_a_plain_message():
    def build_users_app():
        raise NameError("name 'UserStore' is not defined")

    result = check_users_api(build_users_app)
    assert result.status == "failed"
    assert result.message.startswith("Could not check your answer: it raised NameError")


def test_users_api_placeholder_is_not_attempted():
    assert check_users_api(...).status == "not attempted"
