"""Tests for the 02-rest-api checkers: URLs, status codes, the users API conformance suite run
against a correct app and against apps that are each wrong in one way (each must get its hint),
and the "predict, then run" prompt on a second DELETE, against a real bookshop."""

from __future__ import annotations

import pytest
from fastapi import FastAPI, HTTPException, Request, Response
from pydantic import BaseModel, Field

from labsupport.apps.bookshop import create_app
from labsupport.databases import sql_engine
from labsupport.datagen import load_bookshop
from labsupport.lessons.l02_rest_api.checkers import (
    CREATE_BUGS,
    OPERATIONS,
    SITUATIONS,
    USERS_EXPECTATIONS,
    check_create_user_test,
    check_second_delete_prediction,
    check_status_codes,
    check_urls,
    check_users_api,
    reference_users_api,
)
from labsupport.servers import Server, serve
from lessons.corpus import assert_hint, ids

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


@pytest.mark.parametrize(
    "change",
    [
        {},
        {"user_orders": ("get", "/api/orders?user_id=7")},
        {"update_email": ("PUT", "/api/users/7/email")},  # the email as a resource of its own, replaced
        {"read_user": ("GET", "/api/users/7/")},
        {"list_users": ("GET", "/api/v1/users"), "read_user": ("GET", "/api/v2/users/7")},  # versioned (section 5)
        {"delete_user": ("delete", "/api/users/7")},
    ],
    ids=["usual", "orders-filtered", "email-subresource", "trailing-slash", "versioned", "lowercase-method"],
)
def test_urls_right(change):
    result = check_urls({**URLS, **change})
    assert result.passed, result
    assert "the verb in the method" in result.message


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
        # verbs in URLs, as students write them
        ({"delete_user": ("DELETE", "/api/users/7/delete")}, "the method is the verb"),
        ({"delete_user": ("POST", "/api/users/7/remove")}, "the method is the verb"),
        ({"delete_user": ("GET", "/api/deleteuser/7")}, "the method is the verb"),
        ({"create_user": ("POST", "/api/users/new")}, "the method is the verb"),
        ({"create_user": ("POST", "/api/addUser")}, "the method is the verb"),
        ({"update_email": ("POST", "/api/users/7/update-email")}, "the method is the verb"),
        ({"update_email": ("PATCH", "/api/users/7/edit")}, "the method is the verb"),
        ({"list_users": ("GET", "/api/listUsers")}, "the method is the verb"),
        ({"list_users": ("GET", "/api/getusers")}, "the method is the verb"),
        ({"user_orders": ("GET", "/api/users/7/getOrders")}, "the method is the verb"),
        # the right path, the wrong method
        ({"create_user": ("PUT", "/api/users")}, "the path is right, but PUT"),
        ({"create_user": ("GET", "/api/users")}, "the path is right, but GET"),
        ({"update_email": ("POST", "/api/users/7")}, "the path is right, but POST"),
        ({"update_email": ("PATCH", "/api/users/7/email")}, "replace it whole with PUT, or PATCH the user"),
        ({"user_orders": ("POST", "/api/users/7/orders")}, "the path is right, but POST"),
        # shapes of the path
        ({"read_user": ("GET", "/api/users/{id}")}, "not a route pattern"),
        ({"read_user": ("GET", "/api/users/:id")}, "not a route pattern"),
        ({"delete_user": ("DELETE", "/api/users?id=7")}, "put its id in the path"),
        ({"list_users": ("GET", "/api/user")}, "in the plural"),
        ({"user_orders": ("GET", "/api/orders")}, "is not it"),
        ({"user_orders": ("GET", "/api/users/orders/7")}, "is not it"),
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
        ({"server_bug": 404}, "4xx codes say the client did something wrong"),
        ({"server_bug": 302}, "this situation is a server error (5xx)"),
        ({"server_bug": 502}, "a server error (5xx)"),
        ({"listed": 201}, "this situation is success (2xx)"),
        ({"listed": 700}, "not an HTTP status code"),
        ({"listed": "200"}, "should be a status code"),
        ({"listed": True}, "should be a status code"),
        ({"extra": 200}, "Unknown situation(s) ['extra']"),
        ({"created": 204}, "which 2xx code says a resource was created"),
        ({"created": 202}, "202 Accepted means 'queued, not done yet'"),
        ({"deleted": 404}, "404 is for the next DELETE"),
        ({"missing": 400}, "what it asks for does not exist"),
        ({"missing": 422}, "this GET has no body"),
        ({"missing": 204}, "the request failed: the user does not exist"),
        ({"missing": 500}, "there is no such user"),
        ({"duplicate_email": 500}, "Which 4xx code means a conflict"),
        ({"duplicate_email": 200}, "Nothing was created, so no 2xx"),
        ({"invalid_body": 409}, "Nothing clashes with existing data"),
        ({"invalid_body": 500}, "a body with a bad field"),
        ({"server_bug": 503}, "a bug is the generic server error"),
        ({"server_bug": 422}, "the server failed"),
        ({"listed": 99}, "not an HTTP status code"),
        ({"listed": 200.0}, "should be a status code"),
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
        def create_user(user: UserIn, response: Response, request: Request):
            if wrong == "500 on duplicate":
                row = store.add(user.email, user.name, user.password)
            else:
                try:
                    row = store.add(user.email, user.name, user.password)
                except EmailTaken:
                    raise HTTPException(400 if wrong == "400 on duplicate" else 409, "taken") from None
            if wrong == "location of the first user":
                response.headers["Location"] = "/api/users/1"
            elif wrong == "absolute location":  # right: a Location may be a whole URL
                response.headers["Location"] = f"{request.base_url}api/users/{row['id']}"
            elif wrong != "no location":
                response.headers["Location"] = f"/api/users/{row['id']}"
            return row

        @app.get("/api/users/{user_id}", response_model=model | None)
        def read_user(user_id: int):
            if wrong == "read the last user" and store.get(user_id) is not None:
                return store.all()[-1]
            if wrong == "read the first user" and store.get(user_id) is not None:
                return store.all()[0]
            row = store.get(user_id)
            if wrong == "crash for missing":
                return {**row}  # TypeError on None: a 500
            if row is None and wrong != "200 for missing":
                raise HTTPException(400 if wrong == "400 for missing" else 404, "missing")
            return row

        @app.delete("/api/users/{user_id}", status_code=200 if wrong == "delete 200" else 204)
        def delete_user(user_id: int):
            if wrong == "delete keeps":
                if store.get(user_id) is None:
                    raise HTTPException(404, "missing")
                return None
            if not store.delete(user_id) and wrong != "204 for a missing delete":
                raise HTTPException(404, "missing")
            return {"deleted": True} if wrong == "delete 200" else None

        return app

    return build


@pytest.mark.parametrize("wrong", ["", "absolute location"], ids=["path-location", "absolute-location"])
def test_users_api_right(wrong):
    result = check_users_api(users_app_builder(wrong=wrong))
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
        # A Location checked on one create passes: the first user *is* /api/users/1.
        (
            "location of the first user",
            "a second user is created, with a Location of her own",
            "build the Location from the id of the row just created",
        ),
        ("read the last user", "the first user is still at hers", "whoever was created last"),
        ("read the first user", "read the second user at her Location", "return the user with that id"),
        ("400 on duplicate", "the same email again is 409", "catch it and raise HTTPException(409"),
        ("400 for missing", "a missing user is 404", "raise HTTPException(404"),
        ("204 for a missing delete", "deleting a missing user is 404", "store.delete(user_id) returns False"),
    ],
)
def test_users_api_wrong_gets_the_right_hint(wrong, failing, hint):
    """Mutation that failed this: the old suite (a Location checked on the first create only, the
    second user's body only) passed `location of the first user`, `read the last user` and `read the first user`."""
    result = check_users_api(users_app_builder(wrong=wrong))
    assert result.status == "failed"
    first = result.message.split("\n\n")[1]  # the first failure listed
    assert first.startswith(f"✘ {failing}\n"), result.message
    assert hint in first
    assert "  sent:     " in first and "  expected: " in first and "  got:      " in first


def _failure(result, name):
    """The block of the report for the expectation called `name`."""
    return next(block for block in result.message.split("\n\n") if block.startswith(f"✘ {name}\n"))


@pytest.mark.parametrize(
    ("wrong", "hint", "not_said"),
    [
        ("200 for missing", "Your read route answered 200 for a user that does not exist", "crashed"),
        ("crash for missing", "Your read route crashed for a user that does not exist", "with a 200"),
        ("400 for missing", "is 404, not 400", "answered 200"),
    ],
)
def test_users_api_missing_user_hint_says_what_the_app_answered(wrong, hint, not_said):
    """A crash is not called a 200 (#16). (Mutation that failed this: a fixed hint text again.)"""
    block = _failure(check_users_api(users_app_builder(wrong=wrong)), "a missing user is 404")
    assert hint in block and not_said not in block, block


@pytest.mark.parametrize(
    ("wrong", "hint", "not_said"),
    [
        ("delete keeps", "After DELETE the user is still there: does your delete remove it", "read route"),
        ("200 for missing", "Your read route answered 200 for the user you deleted", "does your delete remove"),
        ("crash for missing", "Your read route crashed for the user you deleted", "does your delete remove"),
    ],
)
def test_users_api_deleted_user_hint_blames_the_route_that_is_wrong(wrong, hint, not_said):
    """A read route that answers 200 for nobody is not a broken delete (#16).
    (Mutation that failed this: the old fixed hint "does your delete remove it from the store?")"""
    block = _failure(check_users_api(users_app_builder(wrong=wrong)), "the deleted user is gone")
    assert hint in block and not_said not in block, block


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


# --- Exercise 4: a test that catches bugs ----------------------------------------------------

ADA = {"email": "ada@example.com", "name": "Ada Lovelace", "password": "analytical-engine"}
GRACE = {"email": "grace@example.com", "name": "Grace Hopper", "password": "compiler-1952"}


def thorough(client):
    """The notebook's solution: status, the body's fields, and the user found at the Location."""
    response = client.post("/api/users", json=ADA)
    assert response.status_code == 201
    user = response.json()
    assert set(user) == {"id", "email", "name"}
    assert (user["email"], user["name"]) == (ADA["email"], ADA["name"])
    fetched = client.get(response.headers["location"])
    assert fetched.status_code == 200 and fetched.json() == user


def two_users(client):
    """Another right test: two creates, each Location compared with the id, each user read back."""
    for person in (ADA, GRACE):
        response = client.post("/api/users", json=person)
        assert response.status_code == 201, response.text
        body = response.json()
        assert "password_hash" not in body and "password" not in body
        assert response.headers["Location"] == f"/api/users/{body['id']}"
        assert client.get(f"/api/users/{body['id']}").json()["email"] == person["email"]


def via_the_list(client):
    """Right too: the Location is followed, and the list shows the new user."""
    response = client.post("/api/users", json=ADA)
    assert response.status_code == 201
    assert not any("hash" in key or "password" in key for key in response.json())
    assert client.get(response.headers["location"]).json()["email"] == ADA["email"]
    assert ADA["email"] in [user["email"] for user in client.get("/api/users").json()]


@pytest.mark.parametrize("test", [thorough, two_users, via_the_list])
def test_write_a_test_right(test):
    result = check_create_user_test(test)
    assert result.passed, result
    assert f"failed on each of the {len(CREATE_BUGS)} buggy ones" in result.message


def asserts_nothing(client):
    client.post("/api/users", json=ADA)


def status_only(client):
    assert client.post("/api/users", json=ADA).status_code == 201


def status_and_location_present(client):
    response = client.post("/api/users", json=ADA)
    assert response.status_code == 201
    assert "location" in response.headers


def location_string_only(client):  # the Location names the id, but nobody looks there
    response = client.post("/api/users", json=ADA)
    assert response.status_code == 201
    assert response.headers["location"] == f"/api/users/{response.json()['id']}"
    assert "password_hash" not in response.json()


def follows_without_hash_check(client):
    response = client.post("/api/users", json=ADA)
    assert response.status_code == 201
    assert client.get(response.headers["location"]).json()["email"] == ADA["email"]


def status_200(client):  # believes the bug
    assert client.post("/api/users", json=ADA).status_code == 200


def expects_id_1(client):  # every store starts with a user: the new one is not number 1
    response = client.post("/api/users", json=ADA)
    assert response.status_code == 201 and response.json()["id"] == 1


def first_run_only(client, runs=[]):  # noqa: B006 - the shared default is the point: a stateful "test"
    runs.append(client)
    assert len(runs) == 1


def two_arguments(client, server):
    assert client.post("/api/users", json=ADA).status_code == 201


@pytest.mark.parametrize(
    ("test", "hint"),
    [
        (asserts_nothing, "passes on an API that answers 200 OK instead of 201 Created"),
        (lambda client: client.get("/api/users"), "passes on an API that answers 200 OK instead of 201 Created"),
        (status_only, "passes on an API that sends a Location that always names the first user"),
        (status_and_location_present, "always names the first user"),
        (location_string_only, "stores nothing: GET on that Location is 404"),
        (follows_without_hash_check, "password hash included, in the created user's body"),
        (status_200, "fails on a correct users API: `assert client.post"),
        (expects_id_1, "fails on a correct users API: `assert response.status_code == 201 and response.json()"),
        (first_run_only, "passed on a correct API once, then failed on another correct one: `assert len(runs) == 1`"),
        (two_arguments, "The test takes one argument, the client"),
        ("thorough", "Pass the test function itself"),
    ],
    ids=[
        "asserts-nothing",
        "lambda",
        "status-only",
        "location-present",
        "location-string",
        "no-hash-check",
        "believes-200",
        "expects-id-1",
        "stateful",
        "two-arguments",
        "a-string",
    ],
)
def test_write_a_test_wrong(test, hint):
    """Mutation that failed this: dropping "not stored" from CREATE_BUGS let `location-string` pass."""
    result = check_create_user_test(test)
    assert result.status == "failed", result
    assert hint in result.message, result.message
    assert "Traceback" not in result.message


def test_write_a_test_a_test_that_counts_its_runs_is_caught_on_the_second_correct_run():
    calls = []

    def passes_first_then_fails(client):
        calls.append(1)
        response = client.post("/api/users", json=ADA)
        assert response.status_code == 201 and len(calls) in (1, 2)  # buggy APIs fail it anyway
        assert client.get(response.headers["location"]).json()["email"] == ADA["email"]
        assert "password_hash" not in response.json()

    message = check_create_user_test(passes_first_then_fails).message
    assert "passed on a correct API once, then failed on another correct one" in message


def test_write_a_test_not_attempted():
    def test_create_user(client): ...

    assert check_create_user_test(...).status == "not attempted"
    assert check_create_user_test(test_create_user).status == "not attempted"


@pytest.mark.parametrize("bug", [None, *CREATE_BUGS])
def test_reference_users_api_has_exactly_its_bug(bug):
    server = serve(reference_users_api(bug), name="reference-users")
    response = server.client.post("/api/users", json=ADA)
    body = response.json()
    assert (response.status_code == 201) == (bug != "200 for create")
    assert ("password_hash" in body) == (bug == "hash in the body")
    location = response.headers["location"]
    assert (location == f"/api/users/{body['id']}") == (bug != "location of the first user")
    found = server.client.get(location)
    assert (found.status_code == 200 and found.json()["email"] == ADA["email"]) == (
        bug is None or bug in ("200 for create", "hash in the body")
    )
    with pytest.raises(ValueError, match="unknown bug"):
        reference_users_api("typo")


# --- Predict, then run: a second DELETE ------------------------------------------------------


@pytest.fixture(scope="module")
def bookshop_engine():
    engine = sql_engine()
    load_bookshop(engine, orders=20)
    return engine


@pytest.fixture
def shop(bookshop_engine) -> Server:
    """The bookshop on a small database (a fresh server per test: `stop_servers` stops it after)."""
    return serve(create_app(bookshop_engine), name="predict-second-delete")


def test_second_delete_right(shop):
    """Mutation that failed this: `predicted != second` flipped to `==`."""
    result = check_second_delete_prediction(404, shop)
    assert result.passed, result
    assert "DELETE → 204, the same DELETE again → 404" in result.message
    assert "same state" in result.message


# name, prediction, the hint aimed at that mistake. Each hint also says what happened just now.
WRONG_SECOND_DELETE = [
    ("same-response-204", 204, r"same \*state\*.*not that every response is the same"),
    ("ok-200", 200, r"A 2xx says the second DELETE succeeded.*nothing left to delete"),
    ("accepted-202", 202, r"A 2xx says the second DELETE succeeded"),
    ("gone-410", 410, r"remember that the book once existed"),
    ("not-allowed-405", 405, r"never takes DELETE.*took the first DELETE"),
    ("conflict-409", 409, r"no book is left to clash with"),
    ("bad-request-400", 400, r"same well-formed request as the first"),
    ("invalid-422", 422, r"same well-formed request as the first"),
    ("server-error-500", 500, r"Nothing failed on the server"),
    ("unavailable-503", 503, r"Nothing failed on the server"),
    ("redirect-302", 302, r"the second finds nothing at that URL: 404 Not Found"),
]


@pytest.mark.parametrize(("name", "predicted", "hint"), WRONG_SECOND_DELETE, ids=ids(WRONG_SECOND_DELETE))
def test_second_delete_wrong_gets_its_hint(shop, name, predicted, hint):
    """Mutation that failed this: the 204 entry of _SECOND_DELETE_HINTS dropped (204 then got the
    general rule, not the 'same state, not the same response' hint)."""
    result = check_second_delete_prediction(predicted, shop)
    assert_hint(result, hint)
    assert "the same DELETE again → 404" in result.message  # what really happened, measured


WRONG_TYPE = [
    ("text", "404", r"as a number, but got '404' \(str\)"),
    ("bool", True, r"but got True \(bool\)"),
    ("float", 404.0, r"but got 404.0 \(float\)"),
    ("too-small", 42, r"42 is not an HTTP status code"),
    ("too-big", 600, r"600 is not an HTTP status code"),
]


@pytest.mark.parametrize(("name", "predicted", "hint"), WRONG_TYPE, ids=ids(WRONG_TYPE))
def test_second_delete_wrong_type_gets_a_clear_hint(shop, name, predicted, hint):
    assert_hint(check_second_delete_prediction(predicted, shop), hint)


def test_second_delete_placeholder_is_not_attempted(shop):
    assert check_second_delete_prediction(..., shop).status == "not attempted"


def quiet_delete_api() -> FastAPI:
    """A books API whose DELETE answers 204 whether or not the book is there (some APIs do)."""
    app = FastAPI()
    books: dict[int, dict] = {}

    @app.post("/api/books", status_code=201)
    def add(book: dict, response: Response) -> dict:
        book_id = len(books) + 1
        books[book_id] = book
        response.headers["Location"] = f"/api/books/{book_id}"
        return {"id": book_id, **book}

    @app.delete("/api/books/{book_id}", status_code=204)
    def delete(book_id: int) -> None:
        books.pop(book_id, None)

    @app.get("/api/books/{book_id}")
    def read(book_id: int) -> dict:
        if book_id not in books:
            raise HTTPException(404, "no such book")
        return books[book_id]

    return app


def test_second_delete_truth_is_measured_not_a_constant():
    """On a server whose second DELETE is 204, 204 is right and 404 wrong: the checker sends the
    requests, it does not compare with 404. Mutation that failed this: `predicted != second`
    replaced by `predicted != 404`; and, separately, the `(first, second) == (204, 404)` guard
    dropped (404 then got the bookshop's hint on a server that answered 204)."""
    quiet = serve(quiet_delete_api(), name="quiet-delete")
    assert check_second_delete_prediction(204, quiet).passed
    result = check_second_delete_prediction(404, quiet)
    assert_hint(result, r"You predicted 404; this server answered 204 to the second DELETE")
    assert "GET on its URL → 404" in result.message


def test_second_delete_on_a_server_without_books_says_so():
    app = FastAPI()
    nobooks = serve(app, name="no-books")
    assert_hint(
        check_second_delete_prediction(404, nobooks),
        r"could not create a book to delete \(POST /api/books answered 404\)",
    )


@pytest.mark.parametrize("server", ["shop", None, FastAPI()], ids=["text", "none", "an-app-not-a-server"])
def test_second_delete_without_a_server_says_which_argument(server):
    """Mutation that failed this: the isinstance(server, Server) guard dropped (an AttributeError then)."""
    assert_hint(check_second_delete_prediction(404, server), r"The second argument is the bookshop server, shop")
