"""Checkers for the exercises of 08-auth: predict who gets 401 and who 403, forge a token against a
deliberately vulnerable app, protect an endpoint by role, and fix an IDOR.

Each checker plugs the student's code into a small FastAPI app of its own, serves it on 127.0.0.1
and runs the real attacks against it (forged JWTs, near-miss roles, user A reading user B's
orders, lookalike accounts), then stops it. A crash inside the student's code is caught in the
app and becomes a one-line hint instead of a traceback logged by uvicorn.

`create_vulnerable_admin_app` is the target of the attack-first exercise: deliberately
vulnerable, served on 127.0.0.1 only (by `labsupport.serve`), with a random secret of its own.

No ``from __future__ import annotations`` here: FastAPI must evaluate the annotations of the
dependencies defined inside the app factories, which string annotations would hide from it.
"""

import hmac
import inspect
import json
import re
import secrets
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any

import httpx
import jwt
from fastapi import Depends, FastAPI, HTTPException
from fastapi.security import OAuth2PasswordBearer, OAuth2PasswordRequestForm

from labsupport.checks import Hint, NotAttempted, checker, expect_type
from labsupport.crashes import RecordCrashes, describe_exception
from labsupport.lessons.l08_auth.attacks import forge_alg_none, forge_signature_stripped, forge_tampered
from labsupport.servers import Server, serve

__all__ = [
    "check_auth_status_prediction",
    "check_forged_token",
    "check_idor_fix",
    "check_role_guard",
    "create_vulnerable_admin_app",
    "vulnerable_token_check",
]


_UNAUTHORIZED = {"WWW-Authenticate": "Bearer"}


def _now() -> int:
    """Wall-clock seconds, for the tokens' `exp` claims."""
    return int(datetime.now(UTC).timestamp())


# --- predict, then run: 401 or 403? -------------------------------------------------------------

_CALLERS = ("no token", "alice", "alice, role edited to admin", "root")
"""The callers of GET /admin/report whose status the student predicts, in the notebook's order."""

# (caller, wrong prediction, status the server really gave) -> the rule that prediction misses.
_MISSED_RULE = {
    ("no token", 403, 401): (
        "with no token the server cannot tell who is calling, and that is what 401 means (\"who are you?\", "
        "sent with WWW-Authenticate: Bearer, which says how to log in). 403 is for a caller the server knows."
    ),
    ("no token", 200, 401): "the report needs a logged-in admin, and a request without a token is nobody.",
    ("alice", 401, 403): (
        "alice's token is genuine and unexpired, so the server knows who she is: 401 (\"who are you?\") does not "
        "fit. She is simply not an admin, and \"I know you, and no\" is 403."
    ),
    ("alice", 200, 403): (
        "being logged in is not enough: require_role('admin') also compares the role claim, and alice's is 'user'."
    ),
    ("alice, role edited to admin", 200, 401): (
        "the server does not believe a payload it cannot verify. Editing the payload breaks the HMAC signature "
        "(section 3), so verify raises InvalidSignatureError and current_user answers 401 before any role is read."
    ),
    ("alice, role edited to admin", 403, 401): (
        "a token whose signature fails proves nothing, not even that it is alice's: current_user answers 401 "
        "(who are you?) before the role is ever looked at."
    ),
    ("root", 403, 200): "root's token is genuine and its role claim is 'admin': both checks pass.",
    ("root", 401, 200): "root's token is genuine and its role claim is 'admin': both checks pass.",
}
_STATUS_MEANS = {
    200: "the server let the caller in",
    401: "the server could not tell who is calling",
    403: "the server knows who is calling, and refuses",
}


def _claims_of_header(headers: object) -> dict:
    """The claims of the Bearer token in an Authorization header dict, read unverified; {} if there is none."""
    if not isinstance(headers, dict):
        return {}
    token = str(headers.get("Authorization", "")).removeprefix("Bearer ").strip()
    return _unverified(token)[1]


def _predicted_status(case: str, value: object) -> int:
    """The predicted status for `case` as an int, or a Hint saying what to write instead."""
    if isinstance(value, str) and value.strip().isdigit():
        raise Hint(f"For {case!r} write the status as a number, {value.strip()}, not the text {value!r}.")
    if isinstance(value, bool) or not isinstance(value, int):
        raise Hint(f"For {case!r} write a status code such as 200, 401 or 403, not {value!r}.")
    return value


@checker(
    "Predict, then run: 401 or 403?",
    expects="a dict {caller: status code}, the orders app and the headers alice and root",
)
def check_auth_status_prediction(predicted: dict[str, int], server: Server, alice: dict, root: dict) -> str:
    """Send GET /admin/report again, as each of four callers (no token; alice's genuine token;
    alice's token with its payload edited to role admin, signature kept; root's genuine token), and
    compare each status with the prediction. A wrong one gets the status the server really gave and
    the rule the prediction missed."""
    expect_type(predicted, dict, "a dict such as {'no token': 200, 'alice': 200, ...}")
    unknown = sorted(str(key) for key in predicted if key not in _CALLERS)
    if unknown:
        raise Hint(f"The callers are {', '.join(map(repr, _CALLERS))}; there is no {unknown[0]!r}.")
    missing = [case for case in _CALLERS if case not in predicted]
    if missing:
        raise Hint(f"Give a status for {missing[0]!r} too.")
    guesses = {case: _predicted_status(case, predicted[case]) for case in _CALLERS}
    expect_type(server, Server, "the running orders app, shop")
    if _claims_of_header(alice).get("role") != "user" or _claims_of_header(root).get("role") != "admin":
        raise Hint(
            "Pass the Authorization headers made above, alice's (role 'user') and then root's (role 'admin'): "
            "check_auth_status_prediction(predicted, shop, alice, root)."
        )
    alice_token = alice["Authorization"].removeprefix("Bearer ").strip()
    edited = {"Authorization": f"Bearer {forge_tampered(alice_token, role='admin')}"}
    callers = dict(zip(_CALLERS, ({}, alice, edited, root), strict=True))
    real = {case: server.client.get("/admin/report", headers=headers).status_code for case, headers in callers.items()}
    if set(real.values()) == {404}:
        raise Hint("That server has no GET /admin/report: pass the orders app, shop.")
    wrong = []
    for case in _CALLERS:
        if guesses[case] == real[case]:
            continue
        why = _MISSED_RULE.get((case, guesses[case], real[case])) or _STATUS_MEANS.get(
            real[case], "that is what it answers"
        )
        wrong.append(f"{case}: you said {guesses[case]}, the server answered {real[case]} just now: {why}")
    if wrong:
        raise Hint(f"{len(wrong)} of {len(_CALLERS)} wrong.\n" + "\n".join(wrong))
    sent = "; ".join(f"{case} → {status}" for case, status in real.items())
    return (
        f"Right, sent again just now: {sent}. 401 means the server cannot tell who is calling (no token, or one "
        "whose signature fails, whatever its payload says); 403 means it knows who is calling, and says no."
    )


# --- exercise 1: break in first (a deliberately vulnerable app) ----------------------------------

GUEST = ("guest", "guest-pw")  # the attacker's own account on the vulnerable app


def vulnerable_token_check(token: str, secret: str) -> dict:
    """Deliberately vulnerable, for the attack exercise of 08-auth: the token's own header says
    how it is to be checked."""
    header = jwt.get_unverified_header(token)
    if header.get("alg", "").lower() == "none":  # "unsigned tokens only come from our health checks"
        claims = jwt.decode(token, options={"verify_signature": False})
    else:
        claims = jwt.decode(token, secret, algorithms=["HS256"])
    if claims.get("exp", 0) < time.time():
        raise jwt.ExpiredSignatureError("Signature has expired")
    return claims


def create_vulnerable_admin_app(secret: str | None = None) -> FastAPI:
    """A DELIBERATELY VULNERABLE lab app, to attack on 127.0.0.1 only (serve it with `serve`).

    ``POST /token`` logs in the guest account (``guest`` / ``guest-pw``) and answers a genuine
    HS256 token with ``role: user``; ``GET /admin/report`` wants ``role: admin``. Tokens are
    checked by `vulnerable_token_check`, which lets the token's header choose the algorithm.
    The signing secret is random unless given, and never leaves the app.
    """
    key = secret if secret is not None else secrets.token_hex(32)
    app = FastAPI(title="deliberately vulnerable admin app (08-auth lab)")
    oauth2_scheme = OAuth2PasswordBearer(tokenUrl="token")

    @app.post("/token")
    def login(form: Annotated[OAuth2PasswordRequestForm, Depends()]) -> dict:
        name, password = GUEST
        if form.username != name or not hmac.compare_digest(form.password.encode(), password.encode()):
            raise HTTPException(401, "Wrong username or password", headers=_UNAUTHORIZED)
        claims = {"sub": name, "role": "user", "exp": _now() + 900}
        return {"access_token": jwt.encode(claims, key, algorithm="HS256"), "token_type": "bearer"}

    def current_claims(token: Annotated[str, Depends(oauth2_scheme)]) -> dict:
        try:
            return vulnerable_token_check(token, key)
        except (jwt.InvalidTokenError, TypeError, ValueError):  # a malformed exp is no token either
            raise HTTPException(401, "Invalid or expired token", headers=_UNAUTHORIZED) from None

    @app.get("/admin/report")
    def report(claims: Annotated[dict, Depends(current_claims)]) -> dict:
        if claims.get("role") != "admin":
            raise HTTPException(403, "Admins only")
        return {"report": "quarterly revenue", "revenue": 98765, "read_by": claims.get("sub")}

    return app


def _unverified(token: str) -> tuple[dict, dict]:
    """(header, claims) of `token`, read without any check, as the attacker reads them; {} if unreadable."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        header = {}
    try:
        payload = token.split(".")[1]
        claims = json.loads(jwt.utils.base64url_decode(payload))
    except (IndexError, ValueError, TypeError):
        claims = None
    return header, claims if isinstance(claims, dict) else {}


def _why_refused(forged: str) -> str:
    """The hint for a forged token the vulnerable app answered 401."""
    header, claims = _unverified(forged)
    alg = str(header.get("alg", ""))
    if not header or not claims:
        return (
            "Your token is not a readable JWT: three base64url parts joined by dots, the first two "
            "JSON objects (the header and the claims), the third the signature (may be empty)."
        )
    if alg.lower() != "none":
        return (
            f"Your token says alg {alg!r}, so vulnerable_token_check checks its signature with the app's "
            "secret, which you do not have: any change to the claims breaks it. Read the function again: "
            "which header makes it skip the signature?"
        )
    exp = claims.get("exp")
    if not isinstance(exp, (int, float)) or isinstance(exp, bool):
        return "No usable `exp` in your claims: the app refuses a token without one. Keep the user token's exp."
    return f"Your token's `exp` ({exp}) is in the past: keep the user token's exp, or one in the future."


@checker(
    "Exercise 1: break in with a forged token",
    expects="a function forge_admin_token(user_token) that returns a forged token (a str)",
)
def check_forged_token(forge_admin_token: Callable[[str], Any]) -> str:
    """Serve a fresh vulnerable app (a random secret nobody has), log in as the guest, hand the
    guest's genuine token to `forge_admin_token`, and send what it returns to GET /admin/report.
    Passes when the forged token reads the admin report; its signature can't be genuine."""
    if not callable(forge_admin_token):
        raise Hint("forge_admin_token should be a function: `def forge_admin_token(user_token): ...`.")
    secret = secrets.token_hex(32)
    with serve(create_vulnerable_admin_app(secret), name="check-forged-token") as server:
        client = server.client
        name, password = GUEST
        user_token = client.post("/token", data={"username": name, "password": password}).json()["access_token"]
        try:
            forged = forge_admin_token(user_token)
        except Exception as exc:
            raise Hint(f"Your forge_admin_token raised {describe_exception(exc)}.") from None
        if forged is ...:
            raise NotAttempted("forge_admin_token still returns ...: build the token, then run this cell again.")
        if isinstance(forged, bytes):
            forged = forged.decode("ascii", "replace")
        if not isinstance(forged, str):
            raise Hint(f"forge_admin_token should return the token as a str, not {type(forged).__name__}.")
        if forged == user_token:
            raise Hint("That is the guest's own token, unchanged: its role is 'user', so the report answers 403.")
        response = client.get("/admin/report", headers={"Authorization": f"Bearer {forged.strip()}"})
        if response.status_code == 403:
            role = _unverified(forged)[1].get("role")
            raise Hint(
                f"The app accepted your token as genuine, but its role is {role!r}: the report is for role "
                "'admin'. Change the `role` claim."
            )
        if response.status_code == 401:
            raise Hint(_why_refused(forged))
        if response.status_code != 200 or response.json().get("revenue") is None:
            raise Hint(f"GET /admin/report answered {response.status_code}: {response.text[:120]}")
    try:
        jwt.decode(forged.strip(), secret, algorithms=["HS256"])
        pinned = "accepted"  # cannot happen without the secret
    except jwt.InvalidTokenError as exc:
        pinned = type(exc).__name__
    return (
        "Right: your forged token read the admin report. Why it worked: the app let the token's own header "
        "pick the check, and alg 'none' means no check at all, so anyone can write any claims. A server that "
        f"pins algorithms=['HS256'] refuses it ({pinned}): that is Exercise 2."
    )


# --- exercise 2: protect an endpoint by role ---------------------------------------------------


def _role_app(guard: Callable[..., Any], crashes: list[BaseException]) -> FastAPI:
    app = FastAPI()

    @app.get("/admin/report", dependencies=[Depends(guard)])
    def report() -> dict:
        return {"revenue": 1234}

    app.add_middleware(RecordCrashes, errors=crashes)
    return app


def _status_hint(status: int, crashes: list[BaseException], what: str) -> None:
    if crashes:
        crash = crashes[0]
        if isinstance(crash, KeyError):
            raise Hint(
                f"Your dependency raised {describe_exception(crash)} for {what}: a token need not carry every "
                "claim. Read it with claims.get('role') (or require it: options={'require': ['exp', 'role']})."
            )
        if isinstance(crash, jwt.PyJWTError) and not isinstance(crash, jwt.InvalidTokenError):
            raise Hint(
                f"Your dependency raised {describe_exception(crash)} for {what}: the token's header chose the "
                "algorithm. Fix it on the server: algorithms=['HS256']."
            )
        if "ellipsis" in str(crash):  # HTTPException(403, ...): the placeholder's `...` kept as the detail
            raise Hint(
                f"For {what} your dependency raised an HTTPException whose detail is `...`, which cannot be sent "
                "as JSON. The detail is the message the client reads: write one of your own, e.g. "
                'HTTPException(403, "admins only").'
            )
        if isinstance(crash, jwt.InvalidTokenError):
            raise Hint(
                f"Your dependency raised {describe_exception(crash)} for {what}, uncaught. Catch jwt.InvalidTokenError "
                '(the parent of every PyJWT error) and raise HTTPException(401, "invalid token", '
                'headers={"WWW-Authenticate": "Bearer"}) instead.'
            )
        raise Hint(
            f"Your dependency raised {describe_exception(crash)} for {what}: it must answer with an "
            "HTTPException (401 for a token that is missing or invalid, 403 for a valid token without the "
            "admin role), never crash."
        )
    if status == 422:
        raise Hint(
            f"FastAPI answered 422 for {what} before your code ran: take the token with "
            "`token: Annotated[str, Depends(oauth2_scheme)]` (or depend on current_user)."
        )


_DENY_LIST = (
    "your guard lets in every role but the ones it names. Allow exactly one: claims.get('role') == 'admin' "
    "(a deny-list also lets in the role someone adds next year)."
)
_SUBSTRING = (
    "your guard finds 'admin' inside a longer role (`in`, startswith, endswith). Compare the whole role: "
    "claims.get('role') == 'admin'."
)
_CASE = (
    "your guard compares roles without case; 'Admin' is another role string than 'admin'. Compare exactly: "
    "claims.get('role') == 'admin'."
)
# role claim (None: no role claim at all) -> (what it is, why it must not get in)
_NOT_ADMIN = {
    "guest": ("a guest's valid token", _DENY_LIST),
    None: ("a valid token with no role claim", _DENY_LIST),
    "notadmin": ("a valid token with role 'notadmin'", _SUBSTRING),
    "admin-applicant": ("a valid token with role 'admin-applicant'", _SUBSTRING),
    "Admin": ("a valid token with role 'Admin'", _CASE),
    "ADMIN": ("a valid token with role 'ADMIN'", _CASE),
}


def _expect_401(response: httpx.Response, what: str) -> None:
    if "bearer" not in response.headers.get("www-authenticate", "").lower():
        raise Hint(
            f"{what[:1].upper() + what[1:]} got 401 — good — but without `WWW-Authenticate: Bearer`. "
            "Add headers={'WWW-Authenticate': 'Bearer'} to the HTTPException."
        )


@checker(
    "Exercise 2: an admin-only endpoint",
    expects="a dependency function and the signing secret, as in check_role_guard(require_admin, SECRET)",
)
def check_role_guard(require_admin: Callable[..., Any], secret: str) -> str:
    """Guard ``GET /admin/report`` with ``Depends(require_admin)`` and send it: no token, a user's
    token, an admin's token, valid tokens with near-miss roles (guest, none, 'notadmin',
    'admin-applicant', 'Admin'), and forged tokens (tampered payload, ``alg: none``, signature
    removed, expired, without ``exp``, signed with another secret). Tokens are HS256 with the
    claims ``sub``, ``role`` and ``exp``; a token without ``exp`` must be refused
    (``options={"require": ["exp"]}``).
    """
    if not callable(require_admin):
        raise Hint("require_admin should be a function, used as `Depends(require_admin)`.")
    expect_type(secret, str, "the signing secret as a string, e.g. SECRET")
    if inspect.signature(require_admin).parameters.keys() >= {"request", "call_next"}:
        raise Hint("This exercise wants a dependency, not a middleware: `def require_admin(token: ...)`.")
    now = _now()

    def token(role: str | None, *, exp: int = now + 300, key: str = secret) -> str:
        claims: dict[str, Any] = {"sub": f"{role or 'nobody'}-1", "exp": exp}
        if role is not None:
            claims["role"] = role
        return jwt.encode(claims, key, algorithm="HS256")

    crashes: list[BaseException] = []
    with serve(_role_app(require_admin, crashes), name="check-role-guard") as server:

        def get(bearer: str | None, what: str) -> httpx.Response:
            crashes.clear()
            headers = {} if bearer is None else {"Authorization": f"Bearer {bearer}"}
            response = server.client.get("/admin/report", headers=headers)
            _status_hint(response.status_code, crashes, what)
            return response

        anonymous = get(None, "a request without a token")
        if anonymous.status_code != 401:
            raise Hint(
                f"A request without a token got {anonymous.status_code}; it must get 401 "
                "(no identity at all). Take the token with Depends(oauth2_scheme), which answers 401 for you."
            )
        user = get(token("user"), "a user's valid token")
        admin = get(token("admin"), "an admin's valid token")
        if user.status_code == admin.status_code == 401:
            raise Hint(
                "Genuine tokens, a user's and an admin's, both got 401: your guard refuses tokens signed with "
                "the secret. Verify with the SECRET given to the check: jwt.decode(token, SECRET, "
                "algorithms=['HS256'], options={'require': ['exp']})."
            )
        if user.status_code == 200:
            raise Hint("A user with role 'user' got the admin report: check `claims.get('role') == 'admin'`.")
        if user.status_code == 401:
            raise Hint(
                "A user's valid token got 401. The user *is* authenticated, just not allowed: "
                "answer 403 (Forbidden) when the role is wrong."
            )
        if user.status_code != 403:
            raise Hint(f"A user's valid token got {user.status_code}; expected 403.")
        if admin.status_code != 200:
            raise Hint(
                f"An admin's valid token got {admin.status_code}; expected 200. Verify it with jwt.decode(token, "
                "SECRET, algorithms=['HS256'], options={'require': ['exp']}) and let role 'admin' through."
            )
        root = {"sub": "root", "role": "admin", "exp": now + 300}
        another_admin = get(jwt.encode(root, secret, algorithm="HS256"), "another admin's valid token")
        if another_admin.status_code != 200:
            raise Hint(
                f"Another admin (sub 'root', role 'admin') got {another_admin.status_code}: let every token whose "
                "role is 'admin' through, whoever its subject."
            )
        for role, (what, why) in _NOT_ADMIN.items():
            response = get(token(role), what)
            if response.status_code == 200:
                raise Hint(f"Attack still works: {what} got the admin report: {why}")
            allowed = (401, 403) if role is None else (403,)  # no role at all: refusing the token is fine too
            if response.status_code not in allowed:
                raise Hint(f"{what[:1].upper() + what[1:]} got {response.status_code}; expected 403 (not an admin).")
            if response.status_code == 401:
                _expect_401(response, what)
        # what the attacker sends -> (the token, the hint when it gets the admin report)
        attacks = {
            "a user's token with role changed to admin (signature kept)": (
                forge_tampered(token("user"), role="admin"),
                "Verify the signature: jwt.decode(token, SECRET, algorithms=['HS256'], options={'require': ['exp']}) "
                "— never options={'verify_signature': False}.",
            ),
            "an admin token with its signature removed": (
                forge_signature_stripped(forge_tampered(token("user"), role="admin")),
                "An empty signature is no signature: let jwt.decode(token, SECRET, algorithms=['HS256'], ...) "
                "check it, rather than checking it by hand.",
            ),
            "an unsigned token with alg 'none' and role admin": (
                forge_alg_none({"sub": "eve", "role": "admin", "exp": now + 300}),
                "Fix the algorithm on the server: algorithms=['HS256'], never the algorithm named in the token.",
            ),
            "an expired admin token": (
                token("admin", exp=now - 60),
                "Let PyJWT check the expiry: no options={'verify_exp': False}, no large leeway.",
            ),
            "an admin token with no `exp` claim (it would never expire)": (
                jwt.encode({"sub": "admin-1", "role": "admin"}, secret, algorithm="HS256"),
                "PyJWT checks `exp` only when the token has one. Require it: "
                "jwt.decode(token, SECRET, algorithms=['HS256'], options={'require': ['exp']}).",
            ),
            "an admin token signed with another secret": (
                token("admin", key="not-" + secret),
                "Verify with your SECRET: "
                "jwt.decode(token, SECRET, algorithms=['HS256'], options={'require': ['exp']}).",
            ),
        }
        for what, (forged, hint) in attacks.items():
            response = get(forged, what)
            if response.status_code == 200:
                raise Hint(f"Attack still works: {what} got the admin report. {hint}")
            if response.status_code != 401:
                raise Hint(
                    f"{what[:1].upper() + what[1:]} got {response.status_code}: a forged or expired token is "
                    "no identity at all, so answer 401."
                )
            _expect_401(response, what)
    return (
        "Right: no token and every forged, expired or never-expiring token get 401, near-miss roles and a user get "
        "403, an admin gets 200. Why it worked: the server, not the token, fixes the algorithm and requires exp, "
        "and the role is compared whole and exactly with the one role allowed."
    )


# --- exercise 3: fix an IDOR ---------------------------------------------------------------------

# Accounts; "Alice", "ali" and "bobby" own nothing: each is a lookalike of an owner's name, which
# a loose ownership check (lower(), `in`, startswith) confuses with it.
_PASSWORDS = {
    "alice": "alice-pw-7431",
    "bob": "bob-pw-2209",
    "Alice": "Alice-pw-5518",
    "ali": "ali-pw-0646",
    "bobby": "bobby-pw-3390",
}
# id -> order; alice owns 1 and 3, bob owns 2 and 4.
_ORDERS = {
    1: {"id": 1, "owner": "alice", "item": "The Pragmatic Programmer", "total": 42.0},
    2: {"id": 2, "owner": "bob", "item": "Designing Data-Intensive Applications", "total": 55.5},
    3: {"id": 3, "owner": "alice", "item": "Clean Code", "total": 31.0},
    4: {"id": 4, "owner": "bob", "item": "Refactoring", "total": 47.25},
}
_MISSING_IDS = (999, 5, 0)


def _orders_app(get_order: Callable[..., Any], crashes: list[BaseException]) -> FastAPI:
    """The checker's orders API: POST /token logs in, GET /orders/{id} calls the student's code."""
    app = FastAPI()
    oauth2_scheme = OAuth2PasswordBearer(tokenUrl="token")
    sessions: dict[str, str] = {}  # opaque token -> username

    @app.post("/token")
    def login(form: Annotated[OAuth2PasswordRequestForm, Depends()]) -> dict:
        expected = _PASSWORDS.get(form.username, "")
        if not expected or not hmac.compare_digest(form.password.encode(), expected.encode()):
            raise HTTPException(401, "Wrong username or password", headers=_UNAUTHORIZED)
        token = secrets.token_urlsafe(16)
        sessions[token] = form.username
        return {"access_token": token, "token_type": "bearer"}

    def current_user(token: Annotated[str, Depends(oauth2_scheme)]) -> dict:
        if token not in sessions:
            raise HTTPException(401, "Not logged in", headers=_UNAUTHORIZED)
        return {"username": sessions[token], "role": "user"}

    @app.get("/orders/{order_id}")
    def read_order(order_id: int, user: Annotated[dict, Depends(current_user)]) -> Any:
        # Fresh copies, so a student's code that edits an order cannot change the next check.
        orders = {key: dict(value) for key, value in _ORDERS.items()}
        return get_order(order_id, user, orders)

    app.add_middleware(RecordCrashes, errors=crashes)
    return app


def _log_in(client: httpx.Client, username: str) -> dict[str, str]:
    response = client.post("/token", data={"username": username, "password": _PASSWORDS[username]})
    response.raise_for_status()
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


_VARYING_HEADERS = {"date", "content-length"}  # the time, and a body's length when the id is echoed


def _answer(response: httpx.Response, order_id: int) -> tuple[int, str, list[tuple[str, str]]]:
    """(status, body with the order id replaced by <id>, headers): an id echoed in a message reveals
    nothing, anything else that differs does."""
    body = re.sub(rf"(?<!\d){order_id}(?!\d)", "<id>", response.text)
    headers = sorted((name, value) for name, value in response.headers.items() if name not in _VARYING_HEADERS)
    return response.status_code, body, headers


def _shown(response: httpx.Response) -> str:
    return f"{response.status_code} {response.text[:80]}"


@checker(
    "Exercise 3: fix the IDOR",
    expects="a function get_order(order_id, user, orders) that returns the order or raises HTTPException",
)
def check_idor_fix(get_order: Callable[..., Any]) -> str:
    """Serve ``GET /orders/{id}`` with the student's `get_order`; log in as alice, bob and three
    lookalike accounts (Alice, ali, bobby) and try every order id and three that do not exist. Another
    user's order must be answered exactly as a missing one: 404, the same body."""
    if not callable(get_order):
        raise Hint("get_order should be a function: `def get_order(order_id, user, orders): ...`.")
    if inspect.iscoroutinefunction(get_order):
        raise Hint("Make get_order a plain `def`: it does no waiting, and the route calls it directly.")
    crashes: list[BaseException] = []
    with serve(_orders_app(get_order, crashes), name="check-idor") as server:
        client = server.client

        def get(order_id: int, headers: dict[str, str], username: str, advice: str) -> httpx.Response:
            crashes.clear()
            response = client.get(f"/orders/{order_id}", headers=headers)
            if crashes:
                raise Hint(
                    f"Logged in as {username}, GET /orders/{order_id} made your get_order raise "
                    f"{describe_exception(crashes[0])}. {advice}"
                )
            return response

        for username in _PASSWORDS:
            headers = _log_in(client, username)
            missing = {}
            for order_id in _MISSING_IDS:
                response = get(
                    order_id,
                    headers,
                    username,
                    "No such order: use orders.get(order_id) and raise HTTPException(404) when it is None.",
                )
                if response.status_code != 404:
                    raise Hint(f"GET /orders/{order_id} (no such order) got {response.status_code}; expected 404.")
                missing[order_id] = response
            leaked = []
            for order_id, order in _ORDERS.items():
                response = get(
                    order_id,
                    headers,
                    username,
                    "The user is a dict with the keys 'username' and 'role'; each order has an 'owner'.",
                )
                own = order["owner"] == username
                if own and response.status_code != 200:
                    raise Hint(
                        f"Logged in as {username}, reading their own order #{order_id} got "
                        f"{response.status_code}: the fix is too strict. Owners must still read their orders."
                    )
                if own and response.json() != order:
                    raise Hint(
                        f"Logged in as {username}, GET /orders/{order_id} returned {response.json()!r} "
                        "instead of the order itself: return orders[order_id]."
                    )
                if own:
                    continue
                if response.status_code == 200 and response.json() == order:
                    leaked.append(f"#{order_id} ({order['owner']}'s)")
                    continue
                if response.status_code == 403:
                    raise Hint(
                        f"Logged in as {username}, {order['owner']}'s order #{order_id} got 403 while a missing "
                        "order gets 404: the difference tells an attacker which ids exist. Answer exactly as for "
                        "a missing order: HTTPException(404, 'No such order')."
                    )
                reference_id = _MISSING_IDS[0]
                theirs, absent = _answer(response, order_id), _answer(missing[reference_id], reference_id)
                if theirs[:2] == absent[:2] and theirs[2] != absent[2]:
                    extra = sorted(set(theirs[2]) ^ set(absent[2]))
                    raise Hint(
                        f"Logged in as {username}, {order['owner']}'s order #{order_id} and a missing order "
                        f"#{reference_id} got the same 404 and body, but different headers ({extra}): the "
                        "difference tells an attacker which ids exist. Raise the same HTTPException for both."
                    )
                if theirs != absent:
                    raise Hint(
                        f"Logged in as {username}, {order['owner']}'s order #{order_id} answered "
                        f"{_shown(response)!r}, but a missing order #{reference_id} answered "
                        f"{_shown(missing[reference_id])!r}: the difference tells an attacker which ids exist. "
                        "Raise the same HTTPException(404, 'No such order') for both."
                    )
            if leaked:
                lookalike = username not in {order["owner"] for order in _ORDERS.values()}
                raise Hint(
                    f"Attack still works: logged in as {username!r}, the checker read order(s) "
                    f"{', '.join(leaked)} just by changing the id in the URL. "
                    + (
                        f"{username!r} only looks like the owner's name: compare the whole name, exactly: "
                        "orders[order_id]['owner'] == user['username'] (no lower(), no `in`, no startswith)."
                        if lookalike
                        else "Compare orders[order_id]['owner'] with user['username'] and raise "
                        "HTTPException(404, 'No such order') when they differ."
                    )
                )
    return (
        "Right: each user reads their own orders, and another user's order — also for lookalike names — is "
        "answered exactly like a missing one. Why it worked: ownership is compared whole and exactly, and one "
        "404 for 'not yours' and 'not there' tells an attacker nothing about which ids exist."
    )
