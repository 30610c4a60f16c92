"""A small OAuth 2 authorization server for 08-auth: the authorization code flow with PKCE.

Introduced in 08-auth, where it runs as a second lab server next to the notebook's API. It does
the part of OAuth a lesson can show in a few requests, the way RFC 9700 (OAuth 2.0 Security Best
Current Practice) and OAuth 2.1 ask for it, and nothing else:

- ``GET /authorize`` (``response_type=code``, ``client_id``, ``redirect_uri``, ``state``,
  ``code_challenge``, ``code_challenge_method=S256``) shows a login form. An unknown client or a
  redirect URI that is not registered for it *exactly* (string equality, no prefix or pattern)
  gets a 400 page and no redirect, so a code can never be sent to an attacker's address; any
  other bad parameter is reported to the client by redirect (``error=invalid_request``).
- ``POST /authorize`` (the form: the same parameters plus ``username`` and ``password``) checks
  the password with bcrypt; logging in is taken as the user's approval (a real server would also
  show a consent page). It answers ``303 See Other`` to ``redirect_uri?code=...&state=...``.
- ``POST /token`` (``grant_type=authorization_code``, ``code``, ``redirect_uri``, ``client_id``,
  ``code_verifier``) swaps the code for an access token: a JWT signed RS256 with the server's
  private key, with ``iss`` (the URL the server was reached at), ``sub``, ``aud``, ``client_id``, ``scope``,
  ``iat``, ``exp`` and ``jti``. Codes are random, live ``code_seconds`` (60 s by default) and are
  single-use: the first presentation removes the code, whether or not it succeeds. A missing or
  wrong ``code_verifier`` (PKCE, RFC 7636: ``BASE64URL(SHA256(verifier)) == challenge``), a
  different ``redirect_uri`` or ``client_id``, or a used or expired code all get
  ``400 {"error": "invalid_grant"}``; any other grant type (the deprecated ``password`` grant
  included) gets ``400 {"error": "unsupported_grant_type"}``.
- ``GET /.well-known/jwks.json`` publishes the public key, for resource servers to verify tokens.

Only public clients (no client secret: a browser or mobile app cannot keep one; PKCE is what
protects their codes) and only the ``S256`` method (``plain`` is refused). Secrets are compared in
constant time; codes are stored by their SHA-256, not in clear. Not done, because a lesson does not
need it: refresh tokens, consent screens, scopes beyond echoing one, revoking the tokens of a
code that is presented twice (RFC 6749 §4.1.2 says SHOULD), OpenID Connect. Never use it outside
the lab: it listens on 127.0.0.1 like every lab server, and its users live in a dict.
"""

import base64
import functools
import hashlib
import hmac
import html
import re
import secrets
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlencode

import bcrypt
import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import FastAPI, Form, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from pydantic import BaseModel

__all__ = ["create_authorization_server", "pkce_pair", "code_challenge"]

# RFC 7636 §4.1: 43 to 128 characters from the unreserved set.
_VERIFIER = re.compile(r"[A-Za-z0-9\-._~]{43,128}")


@functools.cache
def _dummy_hash() -> bytes:
    """A bcrypt hash to check unknown usernames against, so that they take as long as known ones."""
    return bcrypt.hashpw(b"no such user", bcrypt.gensalt(rounds=4))


def code_challenge(verifier: str) -> str:
    """The S256 code challenge of a PKCE `verifier`: ``BASE64URL(SHA256(verifier))`` unpadded."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def pkce_pair() -> tuple[str, str]:
    """A fresh ``(code_verifier, code_challenge)``: 32 random bytes as 43 base64url characters."""
    verifier = secrets.token_urlsafe(32)
    return verifier, code_challenge(verifier)


@dataclass(frozen=True)
class _Grant:
    client_id: str
    redirect_uri: str
    challenge: str
    username: str
    scope: str
    expires: float  # on the server's monotonic clock


def _private_key(signing_key: Any) -> rsa.RSAPrivateKey:
    if signing_key is None:
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    if isinstance(signing_key, str | bytes):
        signing_key = serialization.load_pem_private_key(
            signing_key.encode() if isinstance(signing_key, str) else signing_key, password=None
        )
    if not isinstance(signing_key, rsa.RSAPrivateKey):
        raise TypeError("signing_key must be an RSA private key (a cryptography key object or its PEM text)")
    return signing_key


def _clients(clients: Mapping[str, Iterable[str]]) -> dict[str, frozenset[str]]:
    if not isinstance(clients, Mapping) or not clients:
        raise TypeError("clients must be a dict {client_id: [registered redirect URIs]}")
    registered = {}
    for client_id, uris in clients.items():
        if isinstance(uris, str):
            raise TypeError(f"client {client_id!r}: give a list of redirect URIs, not one string")
        registered[client_id] = frozenset(uris)
        if not registered[client_id] or not all(
            isinstance(u, str) and u.startswith(("https://", "http://127.0.0.1")) for u in uris
        ):
            raise ValueError(f"client {client_id!r}: redirect URIs must be https:// (or http://127.0.0.1) URLs")
    return registered


class AuthorizationRequest(BaseModel):
    """The parameters of an authorization request (RFC 6749 §4.1.1, RFC 7636 §4.3): in the query
    of ``GET /authorize``, and again, as hidden fields, in the login form's ``POST``."""

    response_type: str = ""
    client_id: str
    redirect_uri: str
    state: str = ""
    code_challenge: str = ""
    code_challenge_method: str = ""


class Login(AuthorizationRequest):
    """The login form: the authorization request plus the user's credentials."""

    username: str
    password: str


def _login_page(params: Mapping[str, str], message: str = "") -> str:
    # Every reflected value is escaped: a login page that echoes `state` raw is an XSS hole.
    hidden = "".join(
        f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">' for k, v in params.items()
    )
    note = f"<p>{html.escape(message)}</p>" if message else ""
    return (
        f"<!doctype html><title>Sign in</title><h1>Sign in to let {html.escape(params['client_id'])} "
        f"read your orders</h1>{note}<form method=post action=/authorize>{hidden}"
        "<input name=username autocomplete=username> <input name=password type=password> "
        "<button>Sign in and allow</button></form>"
    )


def _token_error(error: str, description: str) -> JSONResponse:
    # RFC 6749 §5.2; responses carrying tokens or errors must not be cached.
    return JSONResponse(
        {"error": error, "error_description": description}, status_code=400, headers={"Cache-Control": "no-store"}
    )


def create_authorization_server(
    *,
    clients: Mapping[str, Iterable[str]],
    users: Mapping[str, bytes],
    audience: str,
    signing_key: Any = None,
    scope: str = "orders:read",
    code_seconds: float = 60.0,
    token_seconds: int = 300,
    clock: Callable[[], float] = time.monotonic,
) -> FastAPI:
    """An authorization server app to `serve()`: see the module docstring for its endpoints.

    `clients` maps each client id to its registered redirect URIs (matched exactly); `users`
    maps usernames to bcrypt hashes; `audience` is the ``aud`` of every token (the resource
    server's name, which it checks). `signing_key` is an RSA private key or its PEM text: a real
    server loads it from a secret store or the environment; ``None`` makes a fresh one at run time
    (tokens then die with the server). `clock` (monotonic seconds) times the codes: tests pass a
    fake one. The app's ``state.public_key`` is the key that verifies its tokens.
    """
    registered = _clients(clients)
    if not isinstance(users, Mapping) or not all(isinstance(h, bytes) for h in users.values()):
        raise TypeError("users must be a dict {username: bcrypt hash (bytes)}")
    if not isinstance(audience, str) or not audience:
        raise TypeError("audience must be the resource server's name, e.g. 'orders-api'")
    if not code_seconds > 0 or not token_seconds > 0:
        raise ValueError("code_seconds and token_seconds must be > 0")
    private_key = _private_key(signing_key)
    key_id = hashlib.sha256(
        private_key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.PKCS1)
    ).hexdigest()[:16]
    codes: dict[str, _Grant] = {}  # SHA-256 of the code -> what it was issued for

    app = FastAPI(title="lab authorization server", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.public_key = private_key.public_key()

    def check_request(params: Mapping[str, str]) -> HTMLResponse | RedirectResponse | None:
        """Validate an authorization request: None when it is fine, else the response to send."""
        uris = registered.get(params["client_id"])
        if uris is None or params["redirect_uri"] not in uris:
            # Never redirect to an address that is not registered (RFC 6749 §4.1.2.1).
            return HTMLResponse("<p>Unknown client or redirect URI not registered for it.</p>", status_code=400)
        problem = None
        if params["response_type"] != "code":
            problem = ("unsupported_response_type", "only response_type=code")
        elif params["code_challenge_method"] != "S256":
            problem = ("invalid_request", "PKCE is required, with code_challenge_method=S256")
        elif not re.fullmatch(r"[A-Za-z0-9_-]{43}", params["code_challenge"]):
            problem = ("invalid_request", "code_challenge must be BASE64URL(SHA256(code_verifier))")
        if problem is None:
            return None
        query = urlencode({"error": problem[0], "error_description": problem[1], "state": params["state"]})
        return RedirectResponse(f"{params['redirect_uri']}?{query}", status_code=303)

    @app.get("/authorize", response_class=HTMLResponse)
    def authorize_form(request: Annotated[AuthorizationRequest, Query()]) -> Any:
        params = request.model_dump()
        return check_request(params) or HTMLResponse(_login_page(params))

    @app.post("/authorize", response_class=HTMLResponse)
    def authorize(login: Annotated[Login, Form()]) -> Any:
        params = login.model_dump(exclude={"username", "password"})
        if (refused := check_request(params)) is not None:
            return refused
        stored = users.get(login.username)
        if not bcrypt.checkpw(login.password.encode(), stored or _dummy_hash()) or stored is None:
            return HTMLResponse(_login_page(params, "Wrong username or password."), status_code=401)
        code = secrets.token_urlsafe(32)
        codes[hashlib.sha256(code.encode()).hexdigest()] = _Grant(
            login.client_id, login.redirect_uri, login.code_challenge, login.username, scope, clock() + code_seconds
        )
        query = urlencode({"code": code, "state": login.state})
        return RedirectResponse(f"{login.redirect_uri}?{query}", status_code=303)

    @app.post("/token")
    def token(
        request: Request,
        grant_type: Annotated[str, Form()] = "",
        code: Annotated[str, Form()] = "",
        redirect_uri: Annotated[str, Form()] = "",
        client_id: Annotated[str, Form()] = "",
        code_verifier: Annotated[str, Form()] = "",
    ) -> Any:
        if grant_type != "authorization_code":
            return _token_error("unsupported_grant_type", "only grant_type=authorization_code (with PKCE)")
        # Single use: the first presentation removes the code, whatever happens next.
        grant = codes.pop(hashlib.sha256(code.encode()).hexdigest(), None)
        if grant is None:
            return _token_error("invalid_grant", "unknown or already used code")
        if clock() > grant.expires:
            return _token_error("invalid_grant", "the code has expired")
        if client_id != grant.client_id or redirect_uri != grant.redirect_uri:
            return _token_error("invalid_grant", "client_id or redirect_uri differ from the authorization request")
        if not _VERIFIER.fullmatch(code_verifier) or not hmac.compare_digest(
            code_challenge(code_verifier), grant.challenge
        ):
            return _token_error("invalid_grant", "code_verifier does not match the code_challenge (PKCE)")
        now = int(time.time())  # wall-clock seconds: `iat` and `exp` are read by other machines
        claims = {
            "iss": str(request.base_url).rstrip("/"),  # the server's own URL
            "sub": grant.username,
            "aud": audience,
            "client_id": grant.client_id,
            "scope": grant.scope,
            "iat": now,
            "exp": now + token_seconds,
            "jti": uuid.uuid4().hex,
        }
        access_token = jwt.encode(claims, private_key, algorithm="RS256", headers={"kid": key_id})
        return JSONResponse(
            {"access_token": access_token, "token_type": "Bearer", "expires_in": token_seconds, "scope": grant.scope},
            headers={"Cache-Control": "no-store"},
        )

    @app.get("/.well-known/jwks.json")
    def jwks() -> dict:
        public = jwt.algorithms.RSAAlgorithm.to_jwk(private_key.public_key(), as_dict=True)
        return {"keys": [{**public, "kid": key_id, "use": "sig", "alg": "RS256"}]}

    return app
