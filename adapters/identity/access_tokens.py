"""Access tokens: JWTs we sign (and verify), and an external issuer's we verify.

Verification never trusts the token about how to verify it beyond picking a
key: the algorithm must be one our keys use (``alg: none`` never is), the
``kid`` must name a key we hold, and issuer, audience and expiry must match.
"""

from __future__ import annotations

import base64
import json
from datetime import datetime
from typing import Any, Protocol

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from adapters.identity.signing_keys import SigningKeys
from domain.errors import AuthenticationRequired, NotConfigured
from schemas.identity import AccessClaims

__all__ = ["ExternalIssuer", "JwtAccessTokens", "check_registered_claims", "unverified_parts"]

ACCESS_TOKEN_SECONDS = 15 * 60


class ExternalIssuer(Protocol):
    issuer: str

    def verify(self, token: str, header: dict[str, Any], now: datetime) -> AccessClaims: ...


def _invalid(detail: str) -> AuthenticationRequired:
    return AuthenticationRequired(detail, "invalid_token")


def unverified_parts(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Header and claims as the token states them (before any check)."""
    parts = token.split(".")
    if len(parts) != 3:
        raise _invalid("not a JWT")
    try:
        header, claims = (
            json.loads(base64.urlsafe_b64decode(p + "=" * (-len(p) % 4))) for p in parts[:2]
        )
    except ValueError:
        raise _invalid("not a JWT") from None
    if not isinstance(header, dict) or not isinstance(claims, dict):
        raise _invalid("not a JWT")
    return header, claims


def verified_claims(
    token: str, keys: KeySet, algorithms: list[str], header: dict[str, Any]
) -> dict[str, Any]:
    """The claims, once the signature checks out with the key the header names."""
    if header.get("alg") not in algorithms:
        raise _invalid(f"algorithm {header.get('alg')!r} is not accepted")
    kid = header.get("kid")
    if not isinstance(kid, str) or all(k.kid != kid for k in keys.keys):
        raise _invalid("the token was signed with an unknown key")
    try:
        claims: dict[str, Any] = jwt.decode(token, keys, algorithms=algorithms).claims
    except JoseError as exc:
        raise _invalid(f"the token does not verify ({exc.error})") from None
    return claims


def check_registered_claims(
    claims: dict[str, Any], *, issuer: str, audience: str, now: datetime, leeway: int = 0
) -> None:
    if claims.get("iss") != issuer:
        raise _invalid("wrong issuer")
    aud = claims.get("aud")
    if audience and audience not in (aud if isinstance(aud, list) else [aud]):
        raise _invalid("wrong audience")
    exp = claims.get("exp")
    if not isinstance(exp, int | float):
        raise _invalid("the token has no expiry")
    moment = now.timestamp()
    if exp + leeway <= moment:
        raise AuthenticationRequired("the access token has expired", "token_expired")
    nbf = claims.get("nbf")
    if isinstance(nbf, int | float) and nbf - leeway > moment:
        raise _invalid("the token is not valid yet")
    if not isinstance(claims.get("sub"), str) or not claims["sub"]:
        raise _invalid("the token names no subject")


class JwtAccessTokens:
    def __init__(
        self,
        keys: SigningKeys | None,
        *,
        issuer: str = "synaps",
        audience: str = "synaps",
        lifetime_seconds: int = ACCESS_TOKEN_SECONDS,
        external: ExternalIssuer | None = None,
    ) -> None:
        self._keys = keys
        self.issuer = issuer
        self.audience = audience
        self.lifetime_seconds = lifetime_seconds
        self._external = external

    @property
    def signing_keys(self) -> SigningKeys | None:
        return self._keys

    def issue(self, claims: AccessClaims, now: datetime) -> str:
        if self._keys is None:
            raise NotConfigured(
                "signing in with a password needs a signing key: set SYNAPS_JWT_SECRET "
                "or SYNAPS_JWT_KEYS"
            )
        issued_at = int(now.timestamp())
        key = self._keys.active
        payload = {
            "iss": self.issuer,
            "aud": self.audience,
            "sub": claims.sub,
            "email": claims.email,
            "tenant": claims.tenant,
            "roles": claims.roles,
            "permissions": claims.permissions,
            "sid": claims.sid,
            "jti": claims.jti,
            "iat": issued_at,
            "exp": issued_at + self.lifetime_seconds,
        }
        header = {"alg": key.alg, "kid": key.kid, "typ": "JWT"}
        return jwt.encode(header, payload, key, algorithms=[str(key.alg)])

    def verify(self, token: str, now: datetime) -> AccessClaims:
        header, stated = unverified_parts(token)
        if self._external is not None and stated.get("iss") == self._external.issuer:
            return self._external.verify(token, header, now)
        if self._keys is None or stated.get("iss") != self.issuer:
            raise _invalid("the token comes from an issuer this server does not trust")
        claims = verified_claims(token, self._keys.key_set, self._keys.algorithms, header)
        check_registered_claims(claims, issuer=self.issuer, audience=self.audience, now=now)
        try:
            return AccessClaims(
                sub=claims["sub"],
                email=str(claims.get("email", "")),
                tenant=str(claims["tenant"]),
                roles=[str(r) for r in claims.get("roles", [])],
                permissions=[str(p) for p in claims.get("permissions", [])],
                sid=str(claims["sid"]),
                jti=str(claims.get("jti", "")),
                exp=int(claims["exp"]),
                issuer=self.issuer,
            )
        except (KeyError, TypeError):
            raise _invalid("the token lacks synaps claims") from None
