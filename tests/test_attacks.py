"""Tests for labsupport.attacks: forged tokens read as the attacker wants, and a verifying decode
rejects them."""

import jwt
import pytest

from labsupport.attacks import forge_alg_none, forge_tampered

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


def test_forge_alg_none_needs_a_dict():
    with pytest.raises(ValueError, match="as a dict"):
        forge_alg_none("role=admin")
