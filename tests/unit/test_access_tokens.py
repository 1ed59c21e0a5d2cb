"""Access tokens: what verifies and what is refused (expired, unknown kid, alg none,
tampered, wrong issuer or audience), key rotation and the published key set."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import pytest
from joserfc import jwt
from joserfc.jwk import OctKey, RSAKey

from adapters.identity.access_tokens import JwtAccessTokens
from adapters.identity.signing_keys import SigningKeys
from domain.errors import AuthenticationRequired, NotConfigured
from schemas.identity import AccessClaims

NOW = datetime(2026, 1, 1, tzinfo=UTC)
SECRET = "a-test-secret-that-is-long-enough-0123456789"
CLAIMS = AccessClaims(
    sub="u1", email="ann@example.com", tenant="acme", roles=["operator"],
    permissions=["runs:read"], sid="3f1c5a9e-0000-4000-8000-000000000001", jti="j1",
)  # fmt: skip


def tokens(*secrets: str) -> JwtAccessTokens:
    return JwtAccessTokens(SigningKeys.from_secrets(list(secrets or [SECRET])))


def refused(adapter: JwtAccessTokens, token: str, now: datetime = NOW) -> str:
    with pytest.raises(AuthenticationRequired) as info:
        adapter.verify(token, now)
    return info.value.code


def b64(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def test_a_token_carries_the_claims_and_lives_15_minutes() -> None:
    adapter = tokens()
    token = adapter.issue(CLAIMS, NOW)
    header = json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))
    assert header["alg"] == "HS256" and header["kid"].startswith("hs-")
    claims = adapter.verify(token, NOW + timedelta(minutes=14))
    assert (claims.sub, claims.tenant, claims.roles, claims.sid) == (
        "u1", "acme", ["operator"], CLAIMS.sid,
    )  # fmt: skip
    assert claims.exp == int(NOW.timestamp()) + 900
    assert refused(adapter, token, NOW + timedelta(minutes=15)) == "token_expired"


def test_unknown_kid_alg_none_tampering_and_foreign_issuers_are_refused() -> None:
    adapter = tokens()
    token = adapter.issue(CLAIMS, NOW)
    header, payload, signature = token.split(".")
    stated = json.loads(base64.urlsafe_b64decode(payload + "=="))

    other = OctKey.import_key("another-secret-that-is-long-enough-012345", {"kid": "stranger"})
    unknown_kid = jwt.encode({"alg": "HS256", "kid": "stranger"}, stated, other)
    assert refused(adapter, unknown_kid) == "invalid_token"

    alg_none = b64(
        {"alg": "none", "kid": json.loads(base64.urlsafe_b64decode(header + "=="))["kid"]}
    )
    assert refused(adapter, f"{alg_none}.{payload}.") == "invalid_token"

    forged = b64({**stated, "tenant": "globex", "permissions": ["keys:manage"]})
    assert refused(adapter, f"{header}.{forged}.{signature}") == "invalid_token"
    assert refused(adapter, f"{header}.{payload}.{signature[:-4]}AAAA") == "invalid_token"
    assert refused(adapter, "not-a-token") == "invalid_token"

    elsewhere = JwtAccessTokens(SigningKeys.from_secrets([SECRET]), issuer="someone-else")
    assert refused(adapter, elsewhere.issue(CLAIMS, NOW)) == "invalid_token"
    other_audience = JwtAccessTokens(SigningKeys.from_secrets([SECRET]), audience="another-api")
    assert refused(adapter, other_audience.issue(CLAIMS, NOW)) == "invalid_token"


def test_rotation_signs_with_the_new_key_and_still_verifies_the_old() -> None:
    new_secret = "the-next-secret-that-is-long-enough-987654"
    old = tokens(SECRET).issue(CLAIMS, NOW)
    rotated = tokens(new_secret, SECRET)
    assert rotated.verify(old, NOW).sub == "u1"
    fresh = rotated.issue(CLAIMS, NOW)
    assert tokens(new_secret).verify(fresh, NOW).sub == "u1"
    assert refused(tokens(new_secret), old) == "invalid_token"  # the old key retired


def test_asymmetric_keys_are_published_and_secrets_never_are() -> None:
    rsa = RSAKey.generate_key(2048, parameters={"kid": "rsa-1", "alg": "RS256"}, private=True)
    keys = SigningKeys.from_jwks({"keys": [rsa.as_dict(private=True)]})
    adapter = JwtAccessTokens(keys)
    assert adapter.verify(adapter.issue(CLAIMS, NOW), NOW).tenant == "acme"
    (published,) = keys.public_jwks()["keys"]
    assert published["kid"] == "rsa-1" and "d" not in published
    assert tokens().signing_keys.public_jwks() == {"keys": []}  # type: ignore[union-attr]


def test_weak_or_missing_keys() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        SigningKeys.from_secrets(["short"])
    assert SigningKeys.from_settings("", "") is None
    with pytest.raises(NotConfigured):
        JwtAccessTokens(None).issue(CLAIMS, NOW)
