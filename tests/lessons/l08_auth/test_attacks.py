"""Tests for labsupport.lessons.l08_auth.attacks: forged tokens read as the attacker wants, and a verifying decode
rejects them."""

import base64
import hashlib
import hmac

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from labsupport.lessons.l08_auth.attacks import (
    forge_alg_confusion,
    forge_alg_none,
    forge_signature_stripped,
    forge_tampered,
)

SECRET = "test-secret-0123456789abcdef0123456789"


def test_forge_tampered_changes_claims_and_keeps_the_signature():
    token = jwt.encode({"sub": "bob", "role": "user"}, SECRET, algorithm="HS256")
    tampered = forge_tampered(token, role="admin")
    assert tampered.split(".")[0] == token.split(".")[0]
    assert tampered.split(".")[2] == token.split(".")[2]
    assert jwt.decode(tampered, options={"verify_signature": False}) == {"sub": "bob", "role": "admin"}
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(tampered, SECRET, algorithms=["HS256"])


def test_forge_alg_none_is_unsigned_and_rejected():
    unsigned = forge_alg_none({"sub": "eve", "role": "admin"})
    assert unsigned.endswith(".")
    assert jwt.get_unverified_header(unsigned)["alg"] == "none"
    assert jwt.decode(unsigned, options={"verify_signature": False})["role"] == "admin"
    with pytest.raises(jwt.InvalidAlgorithmError):
        jwt.decode(unsigned, SECRET, algorithms=["HS256"])


@pytest.mark.parametrize(
    ("bad", "message"),
    [("not a jwt", "needs a JWT"), (42, "needs a JWT"), ("a.!!!.c", "not a base64url-encoded JSON object")],
)
def test_forge_tampered_rejects_non_tokens(bad, message):
    with pytest.raises(ValueError, match=message):
        forge_tampered(bad, role="admin")


def test_forge_signature_stripped_keeps_header_and_payload_and_is_rejected():
    """Mutation that failed this: returning f"{header}.{payload}.{signature}" (the token unchanged)."""
    token = jwt.encode({"sub": "bob", "role": "admin"}, SECRET, algorithm="HS256")
    stripped = forge_signature_stripped(token)
    assert stripped.endswith(".") and stripped.split(".")[:2] == token.split(".")[:2]
    assert jwt.get_unverified_header(stripped)["alg"] == "HS256"
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(stripped, SECRET, algorithms=["HS256"])
    with pytest.raises(ValueError, match="needs a JWT"):
        forge_signature_stripped("not a jwt")


def test_forge_alg_none_needs_a_dict():
    with pytest.raises(ValueError, match="as a dict"):
        forge_alg_none("role=admin")


@pytest.fixture(scope="module")
def rsa_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _pem(key) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def test_forge_alg_confusion_is_an_hmac_with_the_public_key(rsa_key):
    pem = _pem(rsa_key)
    forged = forge_alg_confusion({"sub": "eve", "role": "admin"}, pem)
    assert jwt.get_unverified_header(forged)["alg"] == "HS256"
    assert jwt.decode(forged, options={"verify_signature": False}) == {"sub": "eve", "role": "admin"}
    signing_input, signature = forged.rsplit(".", 1)
    expected = hmac.new(pem, signing_input.encode(), hashlib.sha256).digest()
    assert base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4)) == expected


def test_forge_alg_confusion_is_rejected_by_a_pinned_verifier_and_by_pyjwt(rsa_key):
    pem = _pem(rsa_key)
    forged = forge_alg_confusion({"sub": "eve"}, pem)
    with pytest.raises(jwt.InvalidAlgorithmError):
        jwt.decode(forged, rsa_key.public_key(), algorithms=["RS256"])
    # PyJWT refuses a PEM public key as an HMAC secret even when HS256 is allowed.
    with pytest.raises(jwt.InvalidKeyError):
        jwt.decode(forged, pem, algorithms=["RS256", "HS256"])


@pytest.mark.parametrize(
    ("claims", "key", "message"),
    [("sub=eve", b"-----BEGIN PUBLIC KEY-----", "as a dict"), ({"sub": "eve"}, "not bytes", "PEM bytes"),
     ({"sub": "eve"}, b"a secret", "PEM bytes")],
)
def test_forge_alg_confusion_needs_claims_and_a_pem(claims, key, message):
    with pytest.raises(ValueError, match=message):
        forge_alg_confusion(claims, key)
