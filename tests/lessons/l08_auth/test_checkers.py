"""Tests for labsupport.lessons.l08_auth.checkers: each checker with right answers, wrong answers (each with its
own hint, including still-vulnerable code) and malformed input.

The vulnerable demo code of 08-auth lives in the notebook; the equivalent vulnerable functions
below are what the checkers must catch (the checkers run the real attacks against them).
"""

from typing import Annotated

import jwt
import pytest
from fastapi import Depends, HTTPException
from fastapi.security import OAuth2PasswordBearer

from labsupport.lessons.l08_auth.checkers import check_idor_fix, check_role_guard

SECRET = "test-secret-0123456789abcdef0123456789"
oauth2_scheme = OAuth2PasswordBearer(tokenUrl="token")
UNAUTHORIZED = {"WWW-Authenticate": "Bearer"}


def require_admin(token: Annotated[str, Depends(oauth2_scheme)]) -> dict:
    try:
        claims = jwt.decode(token, SECRET, algorithms=["HS256"], options={"require": ["exp"]})
    except jwt.InvalidTokenError:
        raise HTTPException(401, "Invalid token", headers=UNAUTHORIZED) from None
    if claims.get("role") != "admin":
        raise HTTPException(403, "Admins only")
    return claims


def get_order(order_id: int, user: dict, orders: dict) -> dict:
    order = orders.get(order_id)
    if order is None or order["owner"] != user["username"]:
        raise HTTPException(404, "No such order")
    return order


# --- exercise 1: role guard ------------------------------------------------------------------


def test_role_guard_right_answer_passes():
    result = check_role_guard(require_admin, SECRET)
    assert result.status == "passed", result.message
    assert "user gets 403" in result.message


def test_role_guard_on_top_of_current_user_passes():
    def current_user(token: Annotated[str, Depends(oauth2_scheme)]) -> dict:
        try:
            return jwt.decode(token, SECRET, algorithms=["HS256"], options={"require": ["exp", "role"]})
        except jwt.InvalidTokenError:
            raise HTTPException(401, "Invalid token", headers=UNAUTHORIZED) from None

    def admin_only(user: Annotated[dict, Depends(current_user)]) -> dict:
        if user["role"] != "admin":
            raise HTTPException(403, "Admins only")
        return user

    assert check_role_guard(admin_only, SECRET).passed


def test_role_guard_placeholder_is_not_attempted():
    assert check_role_guard(..., SECRET).status == "not attempted"

    def stub(token): ...

    assert check_role_guard(stub, SECRET).status == "not attempted"


def test_role_guard_without_role_check_is_caught():
    def any_valid_token(token: Annotated[str, Depends(oauth2_scheme)]) -> dict:
        try:
            return jwt.decode(token, SECRET, algorithms=["HS256"])
        except jwt.InvalidTokenError:
            raise HTTPException(401, "Invalid token", headers=UNAUTHORIZED) from None

    result = check_role_guard(any_valid_token, SECRET)
    assert result.status == "failed"
    assert "role 'user' got the admin report" in result.message


def test_role_guard_without_required_exp_is_caught():
    """The usual answer: signature and algorithm checked, but a token without `exp` never expires."""

    def no_require(token: Annotated[str, Depends(oauth2_scheme)]) -> dict:
        try:
            claims = jwt.decode(token, SECRET, algorithms=["HS256"])
        except jwt.InvalidTokenError:
            raise HTTPException(401, "Invalid token", headers=UNAUTHORIZED) from None
        if claims.get("role") != "admin":
            raise HTTPException(403, "Admins only")
        return claims

    result = check_role_guard(no_require, SECRET)
    assert result.status == "failed"
    assert result.message.startswith("Attack still works: an admin token with no `exp` claim")
    assert "options={'require': ['exp']}" in result.message


def test_role_guard_that_skips_the_expiry_check_is_caught():
    """Requiring `exp` but not checking it (a debugging leftover): the expired token gets in."""

    def no_expiry_check(token: Annotated[str, Depends(oauth2_scheme)]) -> dict:
        try:
            claims = jwt.decode(
                token, SECRET, algorithms=["HS256"], options={"require": ["exp"], "verify_exp": False}
            )
        except jwt.InvalidTokenError:
            raise HTTPException(401, "Invalid token", headers=UNAUTHORIZED) from None
        if claims.get("role") != "admin":
            raise HTTPException(403, "Admins only")
        return claims

    result = check_role_guard(no_expiry_check, SECRET)
    assert result.status == "failed"
    assert result.message.startswith("Attack still works: an expired admin token got the admin report")
    assert "verify_exp" in result.message


def test_role_guard_401_for_wrong_role_is_caught():
    def everything_401(token: Annotated[str, Depends(oauth2_scheme)]) -> dict:
        claims = jwt.decode(token, SECRET, algorithms=["HS256"])
        if claims["role"] != "admin":
            raise HTTPException(401, "Admins only", headers=UNAUTHORIZED)
        return claims

    result = check_role_guard(everything_401, SECRET)
    assert result.status == "failed"
    assert "answer 403" in result.message


def test_role_guard_decoding_without_verifying_is_still_vulnerable():
    def decode_only(token: Annotated[str, Depends(oauth2_scheme)]) -> dict:
        claims = jwt.decode(token, options={"verify_signature": False})
        if claims.get("role") != "admin":
            raise HTTPException(403, "Admins only")
        return claims

    result = check_role_guard(decode_only, SECRET)
    assert result.status == "failed"
    assert result.message.startswith("Attack still works: a user's token with role changed to admin")


def test_role_guard_uncaught_jwt_error_gets_a_hint():
    def no_except(token: Annotated[str, Depends(oauth2_scheme)]) -> dict:
        claims = jwt.decode(token, SECRET, algorithms=["HS256"])
        if claims["role"] != "admin":
            raise HTTPException(403, "Admins only")
        return claims

    result = check_role_guard(no_except, SECRET)
    assert result.status == "failed"
    assert "InvalidSignatureError" in result.message
    assert "jwt.InvalidTokenError" in result.message


def test_role_guard_401_without_www_authenticate_gets_a_hint():
    def bare_401(token: Annotated[str, Depends(oauth2_scheme)]) -> dict:
        try:
            claims = jwt.decode(token, SECRET, algorithms=["HS256"])
        except jwt.InvalidTokenError:
            raise HTTPException(401, "Invalid token") from None
        if claims["role"] != "admin":
            raise HTTPException(403, "Admins only")
        return claims

    result = check_role_guard(bare_401, SECRET)
    assert result.status == "failed"
    assert "WWW-Authenticate: Bearer" in result.message


def test_role_guard_open_door_gets_a_hint():
    def let_everyone_in() -> dict:
        return {"role": "admin"}

    result = check_role_guard(let_everyone_in, SECRET)
    assert result.status == "failed"
    assert "without a token got 200" in result.message


@pytest.mark.parametrize(
    ("guard", "secret", "expected"),
    [
        ("require_admin", SECRET, "should be a function"),
        (require_admin, 123, "Expected the signing secret as a string"),
    ],
)
def test_role_guard_malformed_input_gets_a_plain_message(guard, secret, expected):
    result = check_role_guard(guard, secret)
    assert result.status == "failed"
    assert expected in result.message
    assert "Traceback" not in result.message


# --- exercise 2: IDOR ------------------------------------------------------------------------


def test_idor_fix_right_answer_passes():
    result = check_idor_fix(get_order)
    assert result.status == "passed", result.message


def test_idor_fix_with_403_passes():
    def refuse(order_id: int, user: dict, orders: dict) -> dict:
        if order_id not in orders:
            raise HTTPException(404, "No such order")
        if orders[order_id]["owner"] != user["username"]:
            raise HTTPException(403, "Not your order")
        return orders[order_id]

    assert check_idor_fix(refuse).passed


def test_idor_vulnerable_code_is_exploited():
    def get_order_vulnerable(order_id: int, user: dict, orders: dict) -> dict:
        """Deliberately vulnerable: any logged-in user reads any order (IDOR)."""
        if order_id not in orders:
            raise HTTPException(404, "No such order")
        return orders[order_id]

    result = check_idor_fix(get_order_vulnerable)
    assert result.status == "failed"
    assert "Attack still works: logged in as alice" in result.message
    assert "#2, #4" in result.message


def test_idor_too_strict_gets_a_hint():
    def nobody(order_id: int, user: dict, orders: dict) -> dict:
        raise HTTPException(404, "No such order")

    result = check_idor_fix(nobody)
    assert result.status == "failed"
    assert "too strict" in result.message


def test_idor_missing_order_crash_gets_a_hint():
    def key_error(order_id: int, user: dict, orders: dict) -> dict:
        order = orders[order_id]
        if order["owner"] != user["username"]:
            raise HTTPException(404, "No such order")
        return order

    result = check_idor_fix(key_error)
    assert result.status == "failed"
    assert "GET /orders/999" in result.message
    assert "orders.get(order_id)" in result.message


def test_idor_wrong_user_key_gets_a_hint():
    def by_sub(order_id: int, user: dict, orders: dict) -> dict:
        order = orders.get(order_id)
        if order is None or order["owner"] != user["sub"]:
            raise HTTPException(404, "No such order")
        return order

    result = check_idor_fix(by_sub)
    assert result.status == "failed"
    assert "KeyError: 'sub'" in result.message
    assert "'username'" in result.message


def test_idor_wrong_status_for_others_gets_a_hint():
    def teapot(order_id: int, user: dict, orders: dict) -> dict:
        order = orders.get(order_id)
        if order is None:
            raise HTTPException(404, "No such order")
        if order["owner"] != user["username"]:
            raise HTTPException(418, "No")
        return order

    result = check_idor_fix(teapot)
    assert result.status == "failed"
    assert "got 418" in result.message


def test_idor_wrong_body_gets_a_hint():
    def total_only(order_id: int, user: dict, orders: dict) -> dict:
        order = orders.get(order_id)
        if order is None or order["owner"] != user["username"]:
            raise HTTPException(404, "No such order")
        return {"total": order["total"]}

    result = check_idor_fix(total_only)
    assert result.status == "failed"
    assert "instead of the order itself" in result.message


def test_idor_placeholder_and_malformed_input():
    assert check_idor_fix(...).status == "not attempted"

    def stub(order_id, user, orders):
        return ...

    assert check_idor_fix(stub).status == "not attempted"
    not_callable = check_idor_fix({"id": 1})
    assert not_callable.status == "failed"
    assert "should be a function" in not_callable.message

    async def asynchronous(order_id, user, orders):
        return orders[order_id]

    assert "plain `def`" in check_idor_fix(asynchronous).message
