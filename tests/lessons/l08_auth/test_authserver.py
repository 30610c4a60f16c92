"""Tests for labsupport.lessons.l08_auth.authserver: the authorization code flow with PKCE, served for real on
127.0.0.1, and each way a code or a request can be misused."""

from urllib.parse import parse_qs, urlsplit

import bcrypt
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from labsupport.lessons.l08_auth.authserver import code_challenge, create_authorization_server, pkce_pair
from labsupport.servers import serve

CALLBACK = "https://printco.example/callback"
USERS = {"alice": bcrypt.hashpw(b"alice-pw", bcrypt.gensalt(rounds=4))}
KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def auth(clock):
    app = create_authorization_server(
        clients={"printco": [CALLBACK]}, users=USERS, audience="orders-api", signing_key=KEY, clock=clock
    )
    with serve(app, name="test-authserver") as server:
        yield server


def request_params(challenge, **changes):
    params = {
        "response_type": "code",
        "client_id": "printco",
        "redirect_uri": CALLBACK,
        "state": "state-123",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    return {**params, **changes}


def log_in(auth, challenge, password="alice-pw", **changes):
    return auth.client.post(
        "/authorize", data={**request_params(challenge, **changes), "username": "alice", "password": password}
    )


def get_code(auth):
    verifier, challenge = pkce_pair()
    response = log_in(auth, challenge)
    assert response.status_code == 303
    query = parse_qs(urlsplit(response.headers["location"]).query)
    return query["code"][0], verifier


def exchange(auth, code, verifier, **changes):
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": CALLBACK,
        "client_id": "printco",
        "code_verifier": verifier,
    }
    return auth.client.post("/token", data={**form, **changes})


def assert_invalid_grant(response):
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"
    assert response.headers["cache-control"] == "no-store"


def test_pkce_pair_is_s256_of_a_43_character_verifier():
    verifier, challenge = pkce_pair()
    assert len(verifier) == 43 and len(challenge) == 43
    assert challenge == code_challenge(verifier)
    # RFC 7636, Appendix B
    rfc_verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
    assert code_challenge(rfc_verifier) == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    assert pkce_pair() != pkce_pair()


def test_full_flow_gives_a_verifiable_rs256_token(auth):
    verifier, challenge = pkce_pair()
    form = auth.client.get("/authorize", params=request_params(challenge))
    assert form.status_code == 200
    assert '<form method=post action=/authorize>' in form.text
    assert f'value="{challenge}"' in form.text
    redirect = log_in(auth, challenge)
    assert redirect.status_code == 303
    location = urlsplit(redirect.headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == CALLBACK
    query = parse_qs(location.query)
    assert query["state"] == ["state-123"]
    response = exchange(auth, query["code"][0], verifier)
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 300
    jwks = auth.client.get("/.well-known/jwks.json").json()
    public_key = jwt.PyJWK(jwks["keys"][0]).key
    claims = jwt.decode(
        body["access_token"],
        public_key,
        algorithms=["RS256"],
        audience="orders-api",
        issuer=auth.url,
        options={"require": ["exp", "iat", "sub", "aud", "iss"]},
    )
    assert claims["sub"] == "alice" and claims["client_id"] == "printco"
    assert claims["exp"] - claims["iat"] == 300
    assert jwt.get_unverified_header(body["access_token"])["kid"] == jwks["keys"][0]["kid"]
    pem = serialization.PublicFormat.SubjectPublicKeyInfo
    assert public_key.public_bytes(serialization.Encoding.PEM, pem) == KEY.public_key().public_bytes(
        serialization.Encoding.PEM, pem
    )


def test_stolen_code_without_or_with_a_wrong_verifier_is_refused(auth):
    code, _ = get_code(auth)
    assert_invalid_grant(exchange(auth, code, ""))
    code, _ = get_code(auth)
    other_verifier, _ = pkce_pair()
    assert_invalid_grant(exchange(auth, code, other_verifier))


def test_a_code_is_single_use_even_after_a_failed_attempt(auth):
    code, verifier = get_code(auth)
    assert exchange(auth, code, verifier).status_code == 200
    assert_invalid_grant(exchange(auth, code, verifier))
    code, verifier = get_code(auth)
    assert_invalid_grant(exchange(auth, code, "x" * 43))
    assert_invalid_grant(exchange(auth, code, verifier))  # the thief's try burnt it


def test_codes_expire(auth, clock):
    code, verifier = get_code(auth)
    clock.now += 61
    response = exchange(auth, code, verifier)
    assert_invalid_grant(response)
    assert "expired" in response.json()["error_description"]


@pytest.mark.parametrize(
    "changes",
    [
        {"redirect_uri": CALLBACK + "/"},
        {"redirect_uri": "https://evil.example/callback"},
        {"client_id": "other"},
    ],
)
def test_token_request_must_repeat_redirect_uri_and_client_exactly(auth, changes):
    code, verifier = get_code(auth)
    assert_invalid_grant(exchange(auth, code, verifier, **changes))


@pytest.mark.parametrize(
    "changes",
    [
        {"redirect_uri": "https://evil.example/callback"},
        {"redirect_uri": CALLBACK + "?next=https://evil.example"},
        {"redirect_uri": "https://printco.example/callback.evil.example"},
        {"client_id": "unknown"},
    ],
)
def test_unregistered_redirect_uri_or_client_gets_400_and_no_redirect(auth, changes):
    _, challenge = pkce_pair()
    for response in (auth.client.get("/authorize", params=request_params(challenge, **changes)),
                     log_in(auth, challenge, **changes)):
        assert response.status_code == 400
        assert "location" not in response.headers
        assert "code=" not in response.text


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"code_challenge_method": "plain"}, "invalid_request"),
        ({"code_challenge_method": ""}, "invalid_request"),
        ({"code_challenge": ""}, "invalid_request"),
        ({"code_challenge": "too-short"}, "invalid_request"),
        ({"response_type": "token"}, "unsupported_response_type"),
    ],
)
def test_bad_requests_for_a_registered_client_are_reported_by_redirect(auth, changes, error):
    _, challenge = pkce_pair()
    for response in (auth.client.get("/authorize", params=request_params(challenge, **changes)),
                     log_in(auth, challenge, **changes)):
        assert response.status_code == 303
        location = urlsplit(response.headers["location"])
        assert location.netloc == "printco.example"
        query = parse_qs(location.query)
        assert query["error"] == [error] and query["state"] == ["state-123"]
        assert "code" not in query


def test_wrong_password_or_unknown_user_gets_the_form_again_without_a_code(auth):
    _, challenge = pkce_pair()
    wrong = log_in(auth, challenge, password="guess")
    assert wrong.status_code == 401
    assert "location" not in wrong.headers
    assert "Wrong username or password" in wrong.text
    unknown = auth.client.post(
        "/authorize", data={**request_params(challenge), "username": "mallory", "password": "alice-pw"}
    )
    assert unknown.status_code == 401


def test_the_login_page_escapes_reflected_parameters(auth):
    _, challenge = pkce_pair()
    page = auth.client.get("/authorize", params=request_params(challenge, state='"><script>alert(1)</script>'))
    assert page.status_code == 200
    assert "<script>" not in page.text
    assert "&quot;&gt;&lt;script&gt;" in page.text


@pytest.mark.parametrize("grant_type", ["password", "client_credentials", "implicit", ""])
def test_other_grant_types_are_unsupported(auth, grant_type):
    response = auth.client.post(
        "/token", data={"grant_type": grant_type, "username": "alice", "password": "alice-pw", "client_id": "printco"}
    )
    assert response.status_code == 400
    assert response.json()["error"] == "unsupported_grant_type"


def test_unknown_code_is_invalid_grant(auth):
    verifier, _ = pkce_pair()
    assert_invalid_grant(exchange(auth, "made-up-code", verifier))


def test_signing_key_as_pem_text_and_fresh_key():
    pem = KEY.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    app = create_authorization_server(clients={"c": [CALLBACK]}, users=USERS, audience="api", signing_key=pem)
    assert app.state.public_key.public_numbers() == KEY.public_key().public_numbers()
    fresh = create_authorization_server(clients={"c": [CALLBACK]}, users=USERS, audience="api")
    assert fresh.state.public_key.public_numbers() != KEY.public_key().public_numbers()


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"clients": {}}, TypeError, "clients must be a dict"),
        ({"clients": {"c": CALLBACK}}, TypeError, "not one string"),
        ({"clients": {"c": []}}, ValueError, "redirect URIs must be"),
        ({"clients": {"c": ["http://printco.example/cb"]}}, ValueError, "redirect URIs must be"),
        ({"users": {"alice": "plain-text"}}, TypeError, "bcrypt hash"),
        ({"audience": ""}, TypeError, "audience"),
        ({"code_seconds": 0}, ValueError, "code_seconds"),
        ({"signing_key": "secret"}, ValueError, "Could not deserialize|PEM|key"),
        ({"signing_key": 42}, TypeError, "RSA private key"),
    ],
)
def test_bad_configuration_is_refused(kwargs, error, match):
    config = {"clients": {"c": [CALLBACK]}, "users": USERS, "audience": "api", "signing_key": KEY, **kwargs}
    with pytest.raises(error, match=match):
        create_authorization_server(**config)
