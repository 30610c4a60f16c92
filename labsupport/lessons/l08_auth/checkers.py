"""Checkers for the exercises of 08-auth: protect an endpoint by role, and fix an IDOR.

Each checker plugs the student's code into a small FastAPI app of its own, serves it on 127.0.0.1
and runs the real attacks against it (forged JWTs; user A reading user B's orders), then stops
it. A crash inside the student's code is caught in the app and becomes a one-line hint instead
of a traceback logged by uvicorn.

No ``from __future__ import annotations`` here: FastAPI must evaluate the annotations of the
dependencies defined inside the app factories, which string annotations would hide from it.
"""

import hmac
import inspect
import secrets
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any

import httpx
import jwt
from fastapi import Depends, FastAPI, HTTPException
from fastapi.security import OAuth2PasswordBearer, OAuth2PasswordRequestForm

from labsupport.checks import Hint, checker, expect_type
from labsupport.crashes import RecordCrashes, describe_exception
from labsupport.lessons.l08_auth.attacks import forge_alg_none, forge_tampered
from labsupport.servers import serve

__all__ = ["check_role_guard", "check_idor_fix"]


# --- exercise 1: protect an endpoint by role ---------------------------------------------------


def _role_app(guard: Callable[..., Any], crashes: list[BaseException]) -> FastAPI:
    app = FastAPI()

    @app.get("/admin/report", dependencies=[Depends(guard)])
    def report() -> dict:
        return {"revenue": 1234}

    app.add_middleware(RecordCrashes, errors=crashes)
    return app


def _status_hint(status: int, crashes: list[BaseException], what: str) -> None:
    if crashes:
        raise Hint(
            f"Your dependency raised {describe_exception(crashes[0])} for {what}. Catch jwt.InvalidTokenError "
            "(the parent of every PyJWT error) and raise HTTPException(401, ...) instead."
        )
    if status == 422:
        raise Hint(
            f"FastAPI answered 422 for {what} before your code ran: take the token with "
            "`token: Annotated[str, Depends(oauth2_scheme)]` (or depend on current_user)."
        )


@checker(
    "Exercise 1: an admin-only endpoint",
    expects="a dependency function and the signing secret, as in check_role_guard(require_admin, SECRET)",
)
def check_role_guard(require_admin: Callable[..., Any], secret: str) -> str:
    """Guard ``GET /admin/report`` with ``Depends(require_admin)`` and send it: no token, a user's
    token, an admin's token, and five forged tokens (tampered payload, ``alg: none``, expired,
    without ``exp``, signed with another secret). Tokens are HS256 with the claims ``sub``,
    ``role`` and ``exp``; a token without ``exp`` must be refused (``options={"require": ["exp"]}``).
    """
    if not callable(require_admin):
        raise Hint("require_admin should be a function, used as `Depends(require_admin)`.")
    expect_type(secret, str, "the signing secret as a string, e.g. SECRET")
    if inspect.signature(require_admin).parameters.keys() >= {"request", "call_next"}:
        raise Hint("This exercise wants a dependency, not a middleware: `def require_admin(token: ...)`.")
    now = int(datetime.now(UTC).timestamp())  # wall-clock seconds for the tokens' `exp` claims

    def token(role: str, *, exp: int = now + 300, key: str = secret) -> str:
        return jwt.encode({"sub": f"{role}-1", "role": role, "exp": exp}, key, algorithm="HS256")

    crashes: list[BaseException] = []
    with serve(_role_app(require_admin, crashes), name="check-role-guard") as server:

        def get(bearer: str | None) -> httpx.Response:
            crashes.clear()
            headers = {} if bearer is None else {"Authorization": f"Bearer {bearer}"}
            return server.client.get("/admin/report", headers=headers)

        anonymous = get(None)
        _status_hint(anonymous.status_code, crashes, "a request without a token")
        if anonymous.status_code != 401:
            raise Hint(
                f"A request without a token got {anonymous.status_code}; it must get 401 "
                "(no identity at all). Take the token with Depends(oauth2_scheme), which answers 401 for you."
            )
        user = get(token("user"))
        _status_hint(user.status_code, crashes, "a user's valid token")
        if user.status_code == 200:
            raise Hint("A user with role 'user' got the admin report: check `claims['role'] == 'admin'`.")
        if user.status_code == 401:
            raise Hint(
                "A user's valid token got 401. The user *is* authenticated, just not allowed: "
                "answer 403 (Forbidden) when the role is wrong."
            )
        if user.status_code != 403:
            raise Hint(f"A user's valid token got {user.status_code}; expected 403.")
        admin = get(token("admin"))
        _status_hint(admin.status_code, crashes, "an admin's valid token")
        if admin.status_code != 200:
            raise Hint(
                f"An admin's valid token got {admin.status_code}; expected 200. Verify it with jwt.decode(token, "
                "SECRET, algorithms=['HS256'], options={'require': ['exp']}) and let role 'admin' through."
            )
        # what the attacker sends -> (the token, the hint when it gets the admin report)
        attacks = {
            "a user's token with role changed to admin (signature kept)": (
                forge_tampered(token("user"), role="admin"),
                "Verify the signature: jwt.decode(token, SECRET, algorithms=['HS256'], options={'require': ['exp']}) "
                "— never options={'verify_signature': False}.",
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
            response = get(forged)
            _status_hint(response.status_code, crashes, what)
            if response.status_code == 200:
                raise Hint(f"Attack still works: {what} got the admin report. {hint}")
            if response.status_code != 401:
                raise Hint(
                    f"{what.capitalize()} got {response.status_code}: a forged or expired token is "
                    "no identity at all, so answer 401."
                )
            if "bearer" not in response.headers.get("www-authenticate", "").lower():
                raise Hint(
                    f"{what.capitalize()} got 401 — good — but without `WWW-Authenticate: Bearer`. "
                    "Add headers={'WWW-Authenticate': 'Bearer'} to the HTTPException."
                )
    return (
        "Right: no token and every forged, expired or never-expiring token get 401, a user gets 403, an admin gets 200."
    )


# --- exercise 2: fix an IDOR ---------------------------------------------------------------------

_PASSWORDS = {"alice": "alice-pw-7431", "bob": "bob-pw-2209"}
# id -> order; alice owns 1 and 3, bob owns 2 and 4.
_ORDERS = {
    1: {"id": 1, "owner": "alice", "item": "The Pragmatic Programmer", "total": 42.0},
    2: {"id": 2, "owner": "bob", "item": "Designing Data-Intensive Applications", "total": 55.5},
    3: {"id": 3, "owner": "alice", "item": "Clean Code", "total": 31.0},
    4: {"id": 4, "owner": "bob", "item": "Refactoring", "total": 47.25},
}


def _orders_app(get_order: Callable[..., Any], crashes: list[BaseException]) -> FastAPI:
    """The checker's orders API: POST /token logs in, GET /orders/{id} calls the student's code."""
    app = FastAPI()
    oauth2_scheme = OAuth2PasswordBearer(tokenUrl="token")
    sessions: dict[str, str] = {}  # opaque token -> username

    @app.post("/token")
    def login(form: Annotated[OAuth2PasswordRequestForm, Depends()]) -> dict:
        expected = _PASSWORDS.get(form.username, "")
        if not expected or not hmac.compare_digest(form.password.encode(), expected.encode()):
            raise HTTPException(401, "Wrong username or password", headers={"WWW-Authenticate": "Bearer"})
        token = secrets.token_urlsafe(16)
        sessions[token] = form.username
        return {"access_token": token, "token_type": "bearer"}

    def current_user(token: Annotated[str, Depends(oauth2_scheme)]) -> dict:
        if token not in sessions:
            raise HTTPException(401, "Not logged in", headers={"WWW-Authenticate": "Bearer"})
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


@checker(
    "Exercise 2: fix the IDOR",
    expects="a function get_order(order_id, user, orders) that returns the order or raises HTTPException",
)
def check_idor_fix(get_order: Callable[..., Any]) -> str:
    """Serve ``GET /orders/{id}`` with the student's `get_order`; log in as alice and as bob and try
    every order id, plus one that does not exist."""
    if not callable(get_order):
        raise Hint("get_order should be a function: `def get_order(order_id, user, orders): ...`.")
    if inspect.iscoroutinefunction(get_order):
        raise Hint("Make get_order a plain `def`: it does no waiting, and the route calls it directly.")
    crashes: list[BaseException] = []
    with serve(_orders_app(get_order, crashes), name="check-idor") as server:
        client = server.client
        for username in ("alice", "bob"):
            headers = _log_in(client, username)
            leaked = []
            for order_id, order in _ORDERS.items():
                crashes.clear()
                response = client.get(f"/orders/{order_id}", headers=headers)
                if crashes:
                    raise Hint(
                        f"Logged in as {username}, GET /orders/{order_id} made your get_order raise "
                        f"{describe_exception(crashes[0])}. The user is a dict with the keys 'username' and "
                        "'role'; each order has an 'owner'."
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
                if not own and response.status_code == 200:
                    leaked.append(f"#{order_id}")
                elif not own and response.status_code not in (403, 404):
                    raise Hint(
                        f"Logged in as {username}, someone else's order #{order_id} got "
                        f"{response.status_code}; answer 404 (or 403)."
                    )
            if leaked:
                raise Hint(
                    f"Attack still works: logged in as {username}, the checker read order(s) "
                    f"{', '.join(leaked)} of another user just by changing the id in the URL. "
                    "Compare orders[order_id]['owner'] with user['username'] and raise "
                    "HTTPException(404) when they differ."
                )
        crashes.clear()
        missing = client.get("/orders/999", headers=headers)
        if crashes:
            raise Hint(
                f"GET /orders/999 (no such order) made your get_order raise {describe_exception(crashes[0])}: "
                "use orders.get(order_id) and raise HTTPException(404) when it is None."
            )
        if missing.status_code != 404:
            raise Hint(f"GET /orders/999 (no such order) got {missing.status_code}; expected 404.")
    return (
        "Right: each user reads their own orders, and another user's order looks exactly like a "
        "missing one (or is refused with 403), whatever id the attacker tries."
    )
