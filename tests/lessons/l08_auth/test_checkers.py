"""Tests for labsupport.lessons.l08_auth.checkers: each checker against its corpus of wrong answers (what
students write, and still-vulnerable code: each must fail with the hint for that mistake) and of right
answers (each must pass), plus malformed input (a plain message, never a traceback). The checkers run
the real attacks against these functions.

No ``from __future__ import annotations``: FastAPI reads the dependencies' annotations.
"""

import base64
import hashlib
import hmac
import json
import re
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Annotated, Any

import jwt
import pytest
from fastapi import Depends, FastAPI, HTTPException
from fastapi.security import OAuth2PasswordBearer

from labsupport.lessons.l08_auth.attacks import forge_alg_none, forge_tampered
from labsupport.lessons.l08_auth.checkers import (
    GUEST,
    check_auth_status_prediction,
    check_forged_token,
    check_idor_fix,
    check_role_guard,
    create_vulnerable_admin_app,
)
from labsupport.servers import running_servers, serve
from lessons.corpus import assert_hint, ids

pytestmark = [pytest.mark.usefixtures("stop_servers"), pytest.mark.timeout(60)]

SECRET = "test-secret-0123456789abcdef0123456789"
oauth2_scheme = OAuth2PasswordBearer(tokenUrl="token")
UNAUTHORIZED = {"WWW-Authenticate": "Bearer"}


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def claims_of(token: str) -> dict:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def unsigned(header: dict, claims: dict, signature: str = "") -> str:
    return f"{b64url(json.dumps(header).encode())}.{b64url(json.dumps(claims).encode())}.{signature}"


# --- predict, then run: 401 or 403 -----------------------------------------------------------


def admin_report_app(*, check_signature: bool = True) -> FastAPI:
    """GET /admin/report behind a role guard, as the notebook's orders app guards it; with
    check_signature=False its token check only decodes (a broken server, to show that the checker
    asks the server instead of comparing with fixed statuses)."""
    app = FastAPI()

    def current_user(token: Annotated[str, Depends(oauth2_scheme)]) -> dict:
        try:
            if check_signature:
                return jwt.decode(token, SECRET, algorithms=["HS256"], options={"require": ["exp"]})
            return jwt.decode(token, options={"verify_signature": False})
        except jwt.InvalidTokenError:
            raise HTTPException(401, "Invalid or expired token", headers=UNAUTHORIZED) from None

    def admin_only(user: Annotated[dict, Depends(current_user)]) -> dict:
        if user["role"] != "admin":
            raise HTTPException(403, "Requires role 'admin'")
        return user

    @app.get("/admin/report", dependencies=[Depends(admin_only)])
    def report() -> dict:
        return {"revenue": 128.5}

    return app


def header_for(username: str, role: str) -> dict:
    claims = {"sub": username, "role": role, "exp": int(time.time()) + 600, "jti": username + "-1"}
    return {"Authorization": f"Bearer {jwt.encode(claims, SECRET, algorithm='HS256')}"}


ALICE, ROOT = header_for("alice", "user"), header_for("root", "admin")
RIGHT_STATUSES = {"no token": 401, "alice": 403, "alice, role edited to admin": 401, "root": 200}


@pytest.fixture
def report_server():
    with serve(admin_report_app(), name="report-test") as server:
        yield server


def test_status_prediction_right_answer_passes(report_server):
    """Mutation that failed this: the checker sent alice's genuine token for the edited caller (it then
    answered 403, and the right prediction got "1 of 4 wrong")."""
    result = check_auth_status_prediction(dict(RIGHT_STATUSES), report_server, ALICE, ROOT)
    assert result.passed, result
    assert "alice, role edited to admin → 401" in result.message and "403 means it knows" in result.message


# a typical wrong prediction -> the hint for the rule it misses
WRONG_STATUSES = [
    ("no token is forbidden", {"no token": 403}, r"no token: you said 403, the server answered 401.*cannot tell who"),
    ("no token gets in", {"no token": 200}, r"a request without a token is nobody"),
    ("a user is unauthorized", {"alice": 401}, r"alice: you said 401.*knows who she is.*403"),
    ("any login reads the report", {"alice": 200}, r"role claim, and alice's is 'user'"),
    ("the edited role is believed", {"alice, role edited to admin": 200}, r"InvalidSignatureError"),
    ("the edited token is forbidden", {"alice, role edited to admin": 403}, r"proves nothing.*before the role"),
    ("root is refused", {"root": 403}, r"root: you said 403.*both checks pass"),
    ("401 and 403 swapped", {"no token": 403, "alice": 401}, r"^2 of 4 wrong\.\nno token: .*\nalice: "),
    ("a status that is not one of the three", {"root": 404}, r"root: you said 404, the server answered 200.*let the"),
]


@pytest.mark.parametrize(("name", "changes", "hint"), WRONG_STATUSES, ids=ids(WRONG_STATUSES))
def test_status_prediction_wrong_answers_fail_with_their_hint(report_server, name, changes, hint):
    """Mutations that failed this: `guesses[case] == real[case]` flipped to `!=` (every right guess listed
    as wrong, the wrong ones passed over); the edited caller's two entries of _MISSED_RULE keyed by 403
    (the server's answer for alice) instead of 401."""
    assert_hint(check_auth_status_prediction({**RIGHT_STATUSES, **changes}, report_server, ALICE, ROOT), hint)


def test_status_prediction_asks_the_server_not_a_fixed_answer():
    """Against a server that reads the role without checking the signature, the edited token gets in:
    then 200 is right, and the notebook's 401 is wrong with the server's real answer.

    Mutation that failed this: `real` replaced by the notebook's statuses (a hard-coded truth)."""
    with serve(admin_report_app(check_signature=False), name="report-broken") as broken:
        edited_gets_in = {**RIGHT_STATUSES, "alice, role edited to admin": 200}
        assert check_auth_status_prediction(edited_gets_in, broken, ALICE, ROOT).passed
        assert_hint(
            check_auth_status_prediction(dict(RIGHT_STATUSES), broken, ALICE, ROOT),
            r"you said 401, the server answered 200 just now: the server let the caller in",
        )


MALFORMED_STATUSES = [
    ("a string status", {**RIGHT_STATUSES, "alice": "403"}, r"write the status as a number, 403, not the text"),
    ("a bool", {**RIGHT_STATUSES, "root": True}, r"For 'root' write a status code such as 200, 401 or 403"),
    ("a float", {**RIGHT_STATUSES, "root": 200.0}, r"not 200\.0"),
    ("a caller left out", {"no token": 401, "alice": 403, "root": 200}, r"status for 'alice, role edited"),
    ("an unknown caller", {**RIGHT_STATUSES, "bob": 403}, r"there is no 'bob'"),
    ("a list", [401, 403, 401, 200], r"Expected a dict"),
]


@pytest.mark.parametrize(("name", "predicted", "hint"), MALFORMED_STATUSES, ids=ids(MALFORMED_STATUSES))
def test_status_prediction_malformed_answers_get_a_plain_message(report_server, name, predicted, hint):
    assert_hint(check_auth_status_prediction(predicted, report_server, ALICE, ROOT), hint)


def test_status_prediction_wrong_arguments_get_a_plain_message(report_server):
    """Mutation that failed this: the role check of the headers removed (root's header passed as alice's
    got "2 of 4 wrong" instead of the hint that names the arguments)."""
    right = dict(RIGHT_STATUSES)
    assert_hint(check_auth_status_prediction(right, report_server, ROOT, ALICE), r"alice's \(role 'user'\)")
    assert_hint(check_auth_status_prediction(right, report_server, {}, ROOT), r"Pass the Authorization")
    assert_hint(check_auth_status_prediction(right, "shop", ALICE, ROOT), r"the running orders app")
    with serve(FastAPI(), name="no-report") as empty:
        assert_hint(check_auth_status_prediction(right, empty, ALICE, ROOT), r"no GET /admin/report")


def test_status_prediction_placeholders_are_not_attempted(report_server):
    assert check_auth_status_prediction(..., report_server, ALICE, ROOT).status == "not attempted"
    unfinished = {**RIGHT_STATUSES, "alice, role edited to admin": ...}
    assert check_auth_status_prediction(unfinished, report_server, ALICE, ROOT).status == "not attempted"


# --- exercise 1: forge a token against the vulnerable app ----------------------------------------


def forge_with_the_helper(user_token: str) -> str:
    return forge_alg_none({**claims_of(user_token), "role": "admin"})


def forge_by_hand(user_token: str) -> str:
    return unsigned({"alg": "none", "typ": "JWT"}, {**claims_of(user_token), "role": "admin"})


def forge_keeping_the_old_signature(user_token: str) -> str:
    """alg None (the app lower-cases it), and the genuine signature left on: nothing reads it."""
    signature = user_token.split(".")[2]
    return unsigned({"alg": "None"}, {**claims_of(user_token), "role": "admin"}, signature)


def forge_a_fresh_identity(user_token: str) -> str:
    return forge_alg_none({"sub": "eve", "role": "admin", "exp": int(time.time()) + 600})


RIGHT_FORGERIES = [
    ("forge_alg_none on the decoded claims", forge_with_the_helper),
    ("alg none built by hand", forge_by_hand),
    ("alg 'None', old signature kept", forge_keeping_the_old_signature),
    ("new claims from scratch", forge_a_fresh_identity),
]


@pytest.mark.parametrize(("name", "forge"), RIGHT_FORGERIES, ids=ids(RIGHT_FORGERIES))
def test_forged_token_right_answers_pass(name, forge):
    """Mutation that failed this: the vulnerable app compared `header.get("alg") == "none"` (no lower())
    — 'alg None' then got 401."""
    result = check_forged_token(forge)
    assert result.passed, result
    assert "Why it worked" in result.message and "InvalidAlgorithmError" in result.message
    assert running_servers() == []


def forge_with_a_guessed_secret(user_token: str) -> str:
    return jwt.encode({**claims_of(user_token), "role": "admin"}, "secret" * 6, algorithm="HS256")


WRONG_FORGERIES = [
    ("the token unchanged", lambda token: token, r"guest's own token, unchanged"),
    ("payload tampered, HS256 kept", lambda token: forge_tampered(token, role="admin"),
     r"says alg 'HS256'.*which header makes it skip"),
    ("signed with a guessed secret", forge_with_a_guessed_secret, r"says alg 'HS256'"),
    ("alg none, role still user", lambda token: forge_alg_none(claims_of(token)), r"its role is 'user'"),
    ("alg none, role Admin", lambda token: forge_alg_none({**claims_of(token), "role": "Admin"}),
     r"its role is 'Admin'"),
    ("alg none without exp", lambda token: forge_alg_none({"sub": "eve", "role": "admin"}),
     r"No usable `exp`"),
    ("alg none with exp as a string", lambda token: forge_alg_none({"sub": "eve", "role": "admin", "exp": "never"}),
     r"No usable `exp`"),
    ("alg none, expired", lambda token: forge_alg_none({"sub": "eve", "role": "admin", "exp": 1}),
     r"`exp` \(1\) is in the past"),
    ("not a JWT", lambda token: "admin", r"not a readable JWT"),
    ("the claims, not a token", lambda token: {**claims_of(token), "role": "admin"},
     r"return the token as a str, not dict"),
    ("raises", lambda token: token.split(".")[5], r"raised IndexError"),
]


@pytest.mark.parametrize(("name", "forge", "hint"), WRONG_FORGERIES, ids=ids(WRONG_FORGERIES))
def test_forged_token_wrong_answers_fail_with_their_hint(name, forge, hint):
    """Mutations that failed this: the vulnerable app signing with a fixed `"secret" * 6` instead of its
    random key (the guessed-secret forgery passed); `if forged == user_token` removed (the unchanged
    token got the 403 hint, not its own)."""
    assert_hint(check_forged_token(forge), hint)
    assert running_servers() == []


def test_forged_token_placeholders_and_malformed_input():
    def stub(user_token):
        return ...

    def returns_dots(user_token):
        if user_token:
            return ...
        return user_token

    assert check_forged_token(...).status == "not attempted"
    assert check_forged_token(stub).status == "not attempted"
    assert check_forged_token(returns_dots).status == "not attempted"
    assert_hint(check_forged_token("eyJ..."), r"should be a function")


def test_vulnerable_app_is_vulnerable_to_alg_none_only():
    """The target of the exercise: its own tokens work as a user, alg none gets in, tampering does not.

    Mutation that failed this: vulnerable_token_check's HS256 branch with verify_signature False."""
    with serve(create_vulnerable_admin_app("s3cret-for-this-test-0123456789abcdef"), name="vulnerable-test") as server:
        name, password = GUEST
        assert server.url.startswith("http://127.0.0.1:")
        token = server.client.post("/token", data={"username": name, "password": password}).json()["access_token"]
        get = lambda bearer: server.client.get("/admin/report", headers={"Authorization": f"Bearer {bearer}"})  # noqa: E731
        assert get(token).status_code == 403
        assert get(forge_tampered(token, role="admin")).status_code == 401
        assert get(forge_with_the_helper(token)).status_code == 200
        wrong = server.client.post("/token", data={"username": name, "password": "guess"})
        assert wrong.status_code == 401


# --- exercise 2: role guard ------------------------------------------------------------------


def require_admin(token: Annotated[str, Depends(oauth2_scheme)]) -> dict:
    try:
        claims = jwt.decode(token, SECRET, algorithms=["HS256"], options={"require": ["exp"]})
    except jwt.InvalidTokenError:
        raise HTTPException(401, "Invalid token", headers=UNAUTHORIZED) from None
    if claims.get("role") != "admin":
        raise HTTPException(403, "Admins only")
    return claims


def current_user_requiring_role(token: Annotated[str, Depends(oauth2_scheme)]) -> dict:
    try:
        return jwt.decode(token, SECRET, algorithms=["HS256"], options={"require": ["exp", "role"]})
    except jwt.InvalidTokenError:
        raise HTTPException(401, "Invalid token", headers=UNAUTHORIZED) from None


def admin_on_top_of_current_user(user: Annotated[dict, Depends(current_user_requiring_role)]) -> dict:
    if user["role"] != "admin":
        raise HTTPException(403, "Admins only")
    return user


def admin_by_allow_list(token: Annotated[str, Depends(oauth2_scheme)]) -> dict:
    try:
        claims = jwt.decode(token, SECRET, algorithms=["HS256"], options={"require": ["exp", "sub"]}, leeway=5)
    except jwt.PyJWTError:
        challenge = {"WWW-Authenticate": 'Bearer error="invalid_token"'}
        raise HTTPException(401, "Invalid token", headers=challenge) from None
    if claims.get("role") not in {"admin"}:
        raise HTTPException(403, "Admins only")
    return claims


RIGHT_ROLE_GUARDS = [
    ("the notebook's answer", require_admin),
    ("on top of current_user, role required", admin_on_top_of_current_user),
    ("allow-list set, small leeway, PyJWTError", admin_by_allow_list),
]


@pytest.mark.parametrize(("name", "guard"), RIGHT_ROLE_GUARDS, ids=ids(RIGHT_ROLE_GUARDS))
def test_role_guard_right_answers_pass(name, guard):
    """Mutation that failed this: the token with no role claim allowed only 403 (not 401)."""
    result = check_role_guard(guard, SECRET)
    assert result.passed, result
    assert "Why it worked" in result.message
    assert running_servers() == []


def _guard(
    role_ok: Callable[[Any], bool] = lambda role: role == "admin",
    decode: Callable[[str], dict] = lambda token: jwt.decode(
        token, SECRET, algorithms=["HS256"], options={"require": ["exp"]}
    ),
):
    """A role guard whose mistake is `role_ok` (which roles get in) or `decode` (how the token is read)."""

    def guard(token: Annotated[str, Depends(oauth2_scheme)]) -> dict:
        try:
            claims = decode(token)
        except jwt.InvalidTokenError:
            raise HTTPException(401, "Invalid token", headers=UNAUTHORIZED) from None
        if not role_ok(claims.get("role")):
            raise HTTPException(403, "Admins only")
        return claims

    return guard


def ellipsis_detail(token: Annotated[str, Depends(oauth2_scheme)]) -> dict:
    try:
        claims = jwt.decode(token, SECRET, algorithms=["HS256"], options={"require": ["exp"]})
    except jwt.InvalidTokenError:
        raise HTTPException(401, "Invalid token", headers=UNAUTHORIZED) from None
    if claims.get("role") != "admin":
        raise HTTPException(403, ...)
    return claims


def crashes_on_roles(token: Annotated[str, Depends(oauth2_scheme)]) -> dict:
    try:
        claims = jwt.decode(token, SECRET, algorithms=["HS256"], options={"require": ["exp"]})
    except jwt.InvalidTokenError:
        raise HTTPException(401, "Invalid token", headers=UNAUTHORIZED) from None
    if "admin" not in claims.get("role") + 1:  # a TypeError for every role
        raise HTTPException(403, "Admins only")
    return claims


def _decoded_by_hand(token: str) -> dict:
    """A verifier written by hand: checks the HMAC only when the token has a signature."""
    header, payload, signature = token.split(".")
    expected = b64url(hmac.new(SECRET.encode(), f"{header}.{payload}".encode(), hashlib.sha256).digest())
    if signature and not hmac.compare_digest(signature, expected):
        raise jwt.InvalidSignatureError("bad signature")
    claims = claims_of(token)
    if claims.get("exp", 0) < time.time():
        raise jwt.ExpiredSignatureError("expired")
    return claims


def _decoded_trusting_the_header(token: str) -> dict:
    if jwt.get_unverified_header(token).get("alg") == "none":
        return jwt.decode(token, options={"verify_signature": False})
    return jwt.decode(token, SECRET, algorithms=["HS256"], options={"require": ["exp"]})


def _decoded_with_the_tokens_algorithm(token: str) -> dict:
    alg = jwt.get_unverified_header(token)["alg"]
    return jwt.decode(token, SECRET, algorithms=[alg], options={"require": ["exp"]})


def _only_admin_1(token: str) -> dict:
    """Verifies properly, then lets in one subject instead of one role."""
    claims = jwt.decode(token, SECRET, algorithms=["HS256"], options={"require": ["exp"]})
    if claims["sub"] != "admin-1":
        raise HTTPException(403, "Admins only")
    return claims


def any_valid_token(token: Annotated[str, Depends(oauth2_scheme)]) -> dict:
    try:
        return jwt.decode(token, SECRET, algorithms=["HS256"], options={"require": ["exp"]})
    except jwt.InvalidTokenError:
        raise HTTPException(401, "Invalid token", headers=UNAUTHORIZED) from None


def everything_401(token: Annotated[str, Depends(oauth2_scheme)]) -> dict:
    claims = jwt.decode(token, SECRET, algorithms=["HS256"])
    if claims["role"] != "admin":
        raise HTTPException(401, "Admins only", headers=UNAUTHORIZED)
    return claims


def uncaught_jwt_error(token: Annotated[str, Depends(oauth2_scheme)]) -> dict:
    claims = jwt.decode(token, SECRET, algorithms=["HS256"], options={"require": ["exp"]})
    if claims.get("role") != "admin":
        raise HTTPException(403, "Admins only")
    return claims


def role_by_key(token: Annotated[str, Depends(oauth2_scheme)]) -> dict:
    try:
        claims = jwt.decode(token, SECRET, algorithms=["HS256"], options={"require": ["exp"]})
    except jwt.InvalidTokenError:
        raise HTTPException(401, "Invalid token", headers=UNAUTHORIZED) from None
    if claims["role"] != "admin":
        raise HTTPException(403, "Admins only")
    return claims


def bare_401(token: Annotated[str, Depends(oauth2_scheme)]) -> dict:
    try:
        claims = jwt.decode(token, SECRET, algorithms=["HS256"], options={"require": ["exp"]})
    except jwt.InvalidTokenError:
        raise HTTPException(401, "Invalid token") from None
    if claims.get("role") != "admin":
        raise HTTPException(403, "Admins only")
    return claims


def let_everyone_in() -> dict:
    return {"role": "admin"}


def forged_tokens_get_403(token: Annotated[str, Depends(oauth2_scheme)]) -> dict:
    try:
        claims = jwt.decode(token, SECRET, algorithms=["HS256"], options={"require": ["exp"]})
    except jwt.InvalidTokenError:
        raise HTTPException(403, "Forbidden") from None
    if claims.get("role") != "admin":
        raise HTTPException(403, "Admins only")
    return claims


WRONG_ROLE_GUARDS = [
    ("no role check", any_valid_token, r"role 'user' got the admin report"),
    ("401 for the wrong role", everything_401, r"answer 403"),
    ("open door", let_everyone_in, r"without a token got 200"),
    ("deny-list: role != 'user'", _guard(lambda role: role != "user"),
     r"Attack still works: a guest's valid token.*deny-list"),
    ("deny-list: role not in (user, guest)", _guard(lambda role: role not in ("user", "guest")),
     r"Attack still works: a valid token with no role claim.*deny-list"),
    ("default role admin", _guard(lambda role: (role or "admin") == "admin"),
     r"a valid token with no role claim got the admin report"),
    ("substring: 'admin' in role", _guard(lambda role: "admin" in (role or "")),
     r"role 'notadmin' got the admin report.*whole role"),
    ("startswith('admin')", _guard(lambda role: (role or "").startswith("admin")),
     r"role 'admin-applicant' got the admin report.*whole role"),
    ("endswith('admin')", _guard(lambda role: (role or "").endswith("admin")), r"role 'notadmin'"),
    ("lower() == 'admin'", _guard(lambda role: (role or "").lower() == "admin"),
     r"role 'Admin' got the admin report.*without case"),
    ("casefold and strip", _guard(lambda role: (role or "").strip().casefold() == "admin"), r"role 'Admin'"),
    ("title-case variant accepted", _guard(lambda role: role in ("admin", "ADMIN")), r"role 'ADMIN'"),
    ("exp not required", _guard(decode=lambda t: jwt.decode(t, SECRET, algorithms=["HS256"])),
     r"^Attack still works: an admin token with no `exp` claim.*options=\{'require': \['exp'\]\}"),
    ("expiry not checked",
     _guard(decode=lambda t: jwt.decode(t, SECRET, algorithms=["HS256"],
                                        options={"require": ["exp"], "verify_exp": False})),
     r"^Attack still works: an expired admin token got the admin report.*verify_exp"),
    ("an hour of leeway",
     _guard(decode=lambda t: jwt.decode(t, SECRET, algorithms=["HS256"], options={"require": ["exp"]},
                                        leeway=timedelta(hours=1))),
     r"^Attack still works: an expired admin token.*leeway"),
    ("signature not verified", _guard(decode=lambda t: jwt.decode(t, options={"verify_signature": False})),
     r"^Attack still works: a user's token with role changed to admin"),
    ("header picks the check", _guard(decode=_decoded_trusting_the_header),
     r"^Attack still works: an unsigned token with alg 'none'.*algorithms=\['HS256'\]"),
    ("the token's own alg", _guard(decode=_decoded_with_the_tokens_algorithm),
     r"raised InvalidKeyError.*header chose the algorithm"),
    ("hand-made HMAC check, skipped when empty", _guard(decode=_decoded_by_hand),
     r"^Attack still works: an admin token with its signature removed"),
    ("verified with another secret",
     _guard(decode=lambda t: jwt.decode(t, "another-secret-0123456789abcdef012345", algorithms=["HS256"])),
     r"both got 401.*SECRET given to the check"),
    ("uncaught InvalidTokenError", uncaught_jwt_error, r"raised InvalidSignatureError.*jwt\.InvalidTokenError"),
    ("claims['role'] crashes on a token without role", role_by_key, r"raised KeyError: 'role'.*claims\.get\('role'\)"),
    ("401 without WWW-Authenticate", bare_401, r"WWW-Authenticate: Bearer"),
    ("one admin by name, not by role", _guard(lambda role: True, decode=lambda t: _only_admin_1(t)),
     r"Another admin \(sub 'root', role 'admin'\) got 403"),
    ("403 for forged tokens", forged_tokens_get_403, r"got 403: a forged or expired token is no identity"),
    # `...` kept from the student placeholder as the detail is not a message (#16); the instructions no
    # longer show `...`, so the hint explains what the detail is instead of pointing at them.
    ("HTTPException(403, ...) typed as shown", ellipsis_detail,
     r"HTTPException whose detail is `\.\.\.`.*the message the client reads.*HTTPException\(403, \"admins only\"\)"),
    ("a crash that is no JWT error", crashes_on_roles, r"raised TypeError.*never crash"),
]


@pytest.mark.parametrize(("name", "guard", "hint"), WRONG_ROLE_GUARDS, ids=ids(WRONG_ROLE_GUARDS))
def test_role_guard_wrong_answers_fail_with_their_hint(name, guard, hint):
    """Mutations that failed this: removing the expired-token attack (the 'expiry not checked' and
    'leeway' guards passed), removing 'guest', None, 'notadmin', 'admin-applicant' or 'Admin' from
    _NOT_ADMIN, or the signature-stripped attack (sending a tampered token in its place) — each let its
    entry pass or fail with another hint; the another-admin check disabled (the one-subject guard passed);
    the `...`-detail hint sent back to the old wording that pointed at `...` in the instructions."""
    assert_hint(check_role_guard(guard, SECRET), hint)
    assert running_servers() == []


@pytest.mark.parametrize(
    ("guard", "secret", "expected"),
    [
        ("require_admin", SECRET, "should be a function"),
        (require_admin, 123, "Expected the signing secret as a string"),
    ],
)
def test_role_guard_malformed_input_gets_a_plain_message(guard, secret, expected):
    assert_hint(check_role_guard(guard, secret), re.escape(expected))


def test_role_guard_placeholder_is_not_attempted():
    assert check_role_guard(..., SECRET).status == "not attempted"

    def stub(token): ...

    assert check_role_guard(stub, SECRET).status == "not attempted"


# --- exercise 3: IDOR ------------------------------------------------------------------------


def get_order(order_id: int, user: dict, orders: dict) -> dict:
    order = orders.get(order_id)
    if order is None or order["owner"] != user["username"]:
        raise HTTPException(404, "No such order")
    return order


def get_order_with_the_id_in_the_message(order_id: int, user: dict, orders: dict) -> dict:
    order = orders.get(order_id)
    if order is None or order["owner"] != user["username"]:
        raise HTTPException(404, f"No order {order_id}")
    return order


def get_order_in_two_steps(order_id: int, user: dict, orders: dict) -> dict:
    if order_id not in orders:
        raise HTTPException(404, "No such order")
    if not hmac.compare_digest(orders[order_id]["owner"], user["username"]):
        raise HTTPException(404, "No such order")
    return orders[order_id]


RIGHT_IDOR = [
    ("one condition, one 404", get_order),
    ("the id in the message, the same for both", get_order_with_the_id_in_the_message),
    ("two checks, the same 404", get_order_in_two_steps),
]


@pytest.mark.parametrize(("name", "fix"), RIGHT_IDOR, ids=ids(RIGHT_IDOR))
def test_idor_right_answers_pass(name, fix):
    """Mutation that failed this: _answer compared the raw bodies (the id in the message then differed)."""
    result = check_idor_fix(fix)
    assert result.passed, result
    assert "Why it worked" in result.message
    assert running_servers() == []


def _fix(owns: Callable[[dict, dict], bool]):
    """get_order whose ownership test is `owns(order, user)` — the comparison is the mistake."""

    def fix(order_id: int, user: dict, orders: dict) -> dict:
        order = orders.get(order_id)
        if order is None or not owns(order, user):
            raise HTTPException(404, "No such order")
        return order

    return fix


def vulnerable(order_id: int, user: dict, orders: dict) -> dict:
    """Deliberately vulnerable: any logged-in user reads any order (IDOR)."""
    if order_id not in orders:
        raise HTTPException(404, "No such order")
    return orders[order_id]


def refuses_with_403(order_id: int, user: dict, orders: dict) -> dict:
    if order_id not in orders:
        raise HTTPException(404, "No such order")
    if orders[order_id]["owner"] != user["username"]:
        raise HTTPException(403, "Not your order")
    return orders[order_id]


def says_not_yours(order_id: int, user: dict, orders: dict) -> dict:
    if order_id not in orders:
        raise HTTPException(404, "No such order")
    if orders[order_id]["owner"] != user["username"]:
        raise HTTPException(404, "This order belongs to another customer")
    return orders[order_id]


def bare_404_for_others(order_id: int, user: dict, orders: dict) -> dict:
    if order_id not in orders:
        raise HTTPException(404, "No such order")
    if orders[order_id]["owner"] != user["username"]:
        raise HTTPException(404)
    return orders[order_id]


def a_header_says_why(order_id: int, user: dict, orders: dict) -> dict:
    order = orders.get(order_id)
    if order is None:
        raise HTTPException(404, "No such order")
    if order["owner"] != user["username"]:
        raise HTTPException(404, "No such order", headers={"X-Denied-Reason": "owner"})
    return order


def returns_none_for_others(order_id: int, user: dict, orders: dict) -> dict | None:
    order = orders.get(order_id)
    if order is None:
        raise HTTPException(404, "No such order")
    return order if order["owner"] == user["username"] else None


def teapot(order_id: int, user: dict, orders: dict) -> dict:
    order = orders.get(order_id)
    if order is None:
        raise HTTPException(404, "No such order")
    if order["owner"] != user["username"]:
        raise HTTPException(418, "No")
    return order


def nobody(order_id: int, user: dict, orders: dict) -> dict:
    raise HTTPException(404, "No such order")


def key_error_for_missing(order_id: int, user: dict, orders: dict) -> dict:
    order = orders[order_id]
    if order["owner"] != user["username"]:
        raise HTTPException(404, "No such order")
    return order


def by_sub(order_id: int, user: dict, orders: dict) -> dict:
    order = orders.get(order_id)
    if order is None or order["owner"] != user["sub"]:
        raise HTTPException(404, "No such order")
    return order


def total_only(order_id: int, user: dict, orders: dict) -> dict:
    order = orders.get(order_id)
    if order is None or order["owner"] != user["username"]:
        raise HTTPException(404, "No such order")
    return {"total": order["total"]}


def missing_gets_400(order_id: int, user: dict, orders: dict) -> dict:
    if order_id <= 0:
        raise HTTPException(400, "Bad order id")
    order = orders.get(order_id)
    if order is None or order["owner"] != user["username"]:
        raise HTTPException(404, "No such order")
    return order


WRONG_IDOR = [
    ("the vulnerable original", vulnerable, r"Attack still works: logged in as 'alice'.*#2 \(bob's\), #4"),
    ("403 for another user's order", refuses_with_403, r"got 403 while a missing order gets 404"),
    ("a 404 that says 'not yours'", says_not_yours, r"answered '404 .*belongs to another.*missing order #999"),
    ("a bare 404 for others, a detailed one for missing", bare_404_for_others, r"Not Found.*No such order"),
    ("the same 404, a header saying why", a_header_says_why, r"different headers.*x-denied-reason"),
    ("200 with null for others", returns_none_for_others, r"answered '200 null'"),
    ("418 for others", teapot, r"answered '418"),
    ("case-insensitive owner", _fix(lambda order, user: order["owner"].lower() == user["username"].lower()),
     r"logged in as 'Alice'.*only looks like the owner's name"),
    ("username in owner", _fix(lambda order, user: user["username"] in order["owner"]),
     r"logged in as 'ali'.*#1 \(alice's\), #3"),
    ("owner.startswith(username)", _fix(lambda order, user: order["owner"].startswith(user["username"])),
     r"logged in as 'ali'"),
    ("username.startswith(owner)", _fix(lambda order, user: user["username"].startswith(order["owner"])),
     r"logged in as 'bobby'.*#2 \(bob's\)"),
    ("owner in username", _fix(lambda order, user: order["owner"] in user["username"]), r"logged in as 'bobby'"),
    ("compares the first letters", _fix(lambda order, user: order["owner"][:3] == user["username"][:3]),
     r"logged in as 'ali'"),
    ("too strict", nobody, r"too strict"),
    ("KeyError for a missing order", key_error_for_missing, r"GET /orders/999.*orders\.get\(order_id\)"),
    ("the wrong key of user", by_sub, r"KeyError: 'sub'.*'username'"),
    ("a part of the order", total_only, r"instead of the order itself"),
    ("400 for id 0", missing_gets_400, r"GET /orders/0 \(no such order\) got 400"),
]


@pytest.mark.parametrize(("name", "fix", "hint"), WRONG_IDOR, ids=ids(WRONG_IDOR))
def test_idor_wrong_answers_fail_with_their_hint(name, fix, hint):
    """Mutations that failed this: the 403 branch made to `continue` (403 accepted again), the body
    comparison replaced by `status != 404` (the 'not yours' 404 passed), the headers left out of
    _answer (the X-Denied-Reason header passed), dropping 'Alice', 'ali' or
    'bobby' from _PASSWORDS (the loose comparisons passed)."""
    assert_hint(check_idor_fix(fix), hint)
    assert running_servers() == []


def test_idor_placeholder_and_malformed_input():
    assert check_idor_fix(...).status == "not attempted"

    def stub(order_id, user, orders):
        return ...

    assert check_idor_fix(stub).status == "not attempted"
    assert_hint(check_idor_fix({"id": 1}), r"should be a function")

    async def asynchronous(order_id, user, orders):
        return orders[order_id]

    assert_hint(check_idor_fix(asynchronous), r"plain `def`")
