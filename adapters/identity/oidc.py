"""An external OpenID Connect issuer: its tokens are accepted, verified with its JWKS.

The key set is fetched from the issuer's JWKS URL and kept for ``cache_seconds``;
a token naming a key we have not seen makes us fetch again (at most every
``refetch_seconds``), so the issuer can rotate its keys.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

import httpx
import structlog
from joserfc.jwk import KeySet

from adapters.identity.access_tokens import check_registered_claims, verified_claims
from domain.access import ROLE_PERMISSIONS, Permission
from domain.errors import AuthenticationRequired
from schemas.identity import AccessClaims

__all__ = ["OidcIssuer"]

log = structlog.get_logger(__name__)

_ALGORITHMS = ["RS256", "PS256", "ES256", "ES384"]


class OidcIssuer:
    def __init__(
        self,
        issuer: str,
        jwks_url: str,
        *,
        audience: str = "",
        tenant_claim: str = "tenant",
        roles_claim: str = "roles",
        cache_seconds: float = 300.0,
        refetch_seconds: float = 30.0,
        http_timeout: float = 5.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.issuer = issuer
        self._jwks_url = jwks_url
        self._audience = audience
        self._tenant_claim = tenant_claim
        self._roles_claim = roles_claim
        self._cache_seconds = cache_seconds
        self._refetch_seconds = refetch_seconds
        self._timeout = http_timeout
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._keys: KeySet | None = None
        self._fetched_at = float("-inf")

    def verify(self, token: str, header: dict[str, Any], now: datetime) -> AccessClaims:
        keys = self._key_set(header.get("kid"))
        claims = verified_claims(token, keys, _ALGORITHMS, header)
        check_registered_claims(
            claims, issuer=self.issuer, audience=self._audience, now=now, leeway=30
        )
        tenant = claims.get(self._tenant_claim)
        if not isinstance(tenant, str) or not tenant:
            raise AuthenticationRequired(
                f"the token has no {self._tenant_claim!r} claim", "invalid_token"
            )
        roles = claims.get(self._roles_claim) or []
        roles = [r for r in roles if isinstance(r, str)] if isinstance(roles, list) else []
        return AccessClaims(
            sub=claims["sub"],
            email=str(claims.get("email", "")),
            tenant=tenant,
            roles=roles,
            permissions=sorted(_permissions(claims, roles)),
            sid=None,
            jti=str(claims.get("jti", "")),
            exp=int(claims["exp"]),
            issuer=self.issuer,
        )

    def _key_set(self, kid: object) -> KeySet:
        now = self._monotonic()
        with self._lock:
            keys, age = self._keys, now - self._fetched_at
        known = keys is not None and any(k.kid == kid for k in keys.keys)
        if keys is None or age > self._cache_seconds or (not known and age > self._refetch_seconds):
            keys = self._fetch(now) or keys
        if keys is None:
            raise AuthenticationRequired(
                "the external issuer's keys cannot be fetched", "invalid_token"
            )
        return keys

    def _fetch(self, now: float) -> KeySet | None:
        try:
            response = httpx.get(self._jwks_url, timeout=self._timeout)
            response.raise_for_status()
            keys = KeySet.import_key_set(response.json())
        except (httpx.HTTPError, ValueError, KeyError) as exc:
            log.warning("could not fetch the external issuer's JWKS", error=str(exc))
            with self._lock:
                self._fetched_at = now  # do not hammer a failing issuer
            return None
        with self._lock:
            self._keys, self._fetched_at = keys, now
        return keys


def _permissions(claims: dict[str, Any], roles: list[str]) -> set[str]:
    """Permissions the token grants: listed ones (``permissions`` or the OAuth
    ``scope``) that synaps knows, and those of the roles synaps knows; never the
    operator's ``tenants:manage``, which only an API key can hold."""
    stated = claims.get("permissions")
    names = [p for p in stated if isinstance(p, str)] if isinstance(stated, list) else []
    scope = claims.get("scope")
    if isinstance(scope, str):
        names += scope.split()
    known = {p.value for p in Permission}
    granted = {n for n in names if n in known}
    for role in roles:
        granted |= {p.value for p in ROLE_PERMISSIONS.get(role, frozenset())}
    return granted - {Permission.TENANTS_MANAGE.value}
