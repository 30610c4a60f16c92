"""Forged JSON Web Tokens: what an attacker sends to a server that trusts a token too easily.

Introduced in 08-auth, where the notebook and its checkers attack JWT verification with them: a
server that verifies tokens with ``jwt.decode(token, key, algorithms=["HS256"])`` rejects both.
"""

import base64
import json
from typing import Any

__all__ = ["forge_tampered", "forge_alg_none"]


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64url_json(part: str) -> dict[str, Any]:
    try:
        value = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    except ValueError:  # binascii.Error, UnicodeDecodeError and JSONDecodeError are ValueErrors
        value = None
    if not isinstance(value, dict):
        raise ValueError("the token's payload is not a base64url-encoded JSON object")
    return value


def forge_tampered(token: str, **claims: Any) -> str:
    """Return `token` with `claims` changed in its payload and the original signature kept.

    What an attacker does with a token they hold: ``forge_tampered(user_token, role="admin")``.
    A server that verifies the signature rejects it. Introduced in 08-auth.
    """
    if not isinstance(token, str) or token.count(".") != 2:
        raise ValueError("forge_tampered() needs a JWT: three base64url parts separated by dots")
    header, payload, signature = token.split(".")
    changed = {**_b64url_json(payload), **claims}
    return f"{header}.{_b64url(json.dumps(changed).encode())}.{signature}"


def forge_alg_none(claims: dict[str, Any]) -> str:
    """Return an unsigned JWT (``"alg": "none"``, empty signature) carrying `claims`.

    A server that trusts the token's own header instead of a fixed list of algorithms would
    accept it. Introduced in 08-auth.
    """
    if not isinstance(claims, dict):
        raise ValueError("forge_alg_none() needs the claims as a dict, e.g. {'sub': 'eve', 'role': 'admin'}")
    header = _b64url(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    return f"{header}.{_b64url(json.dumps(claims).encode())}."
