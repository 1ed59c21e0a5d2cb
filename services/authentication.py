"""Who is calling: an API key or a bearer token, resolved to a Caller.

A successful authentication reads (at most) one read-model row and writes
nothing. Lookups are cached for at most ``cache_seconds`` (1 s by default),
so a revoked key or an ended session stops working within that time.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar
from uuid import UUID

from domain.access import KeyType
from domain.api_key import key_hash, key_hint
from domain.errors import AuthenticationRequired
from schemas.identity import AccessClaims, ApiKeyView
from services.identity_ports import AccessTokens, Directory, SessionStatus
from services.ports import Caller, Clock
from services.refusals import Origin

__all__ = ["Authenticator", "credential_hint"]

K = TypeVar("K")
V = TypeVar("V")

_MAX_CACHED = 10_000


class _ShortCache(Generic[K, V]):
    """Remembers lookups (found or not) for a short, fixed time."""

    def __init__(self, seconds: float, monotonic: Callable[[], float]) -> None:
        self._seconds = seconds
        self._monotonic = monotonic
        self._entries: dict[K, tuple[float, V]] = {}
        self._lock = threading.Lock()

    def get(self, key: K, load: Callable[[K], V]) -> V:
        now = self._monotonic()
        with self._lock:
            entry = self._entries.get(key)
        if entry is not None and entry[0] > now:
            return entry[1]
        value = load(key)
        if self._seconds > 0:
            with self._lock:
                if len(self._entries) >= _MAX_CACHED:
                    self._entries.clear()
                self._entries[key] = (now + self._seconds, value)
        return value


def credential_hint(api_key: str | None, bearer: str | None) -> str:
    """What to write in the audit about presented credentials: never the secret."""
    if api_key or (bearer and bearer.startswith("sk_")):
        return key_hint(api_key or bearer or "")
    if bearer:
        return "bearer token"
    return ""


class Authenticator:
    def __init__(
        self,
        directory: Directory,
        tokens: AccessTokens,
        clock: Clock,
        *,
        cache_seconds: float = 1.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._directory = directory
        self._tokens = tokens
        self._clock = clock
        self._keys: _ShortCache[str, ApiKeyView | None] = _ShortCache(cache_seconds, monotonic)
        self._sessions: _ShortCache[UUID, SessionStatus | None] = _ShortCache(
            cache_seconds, monotonic
        )

    def authenticate(self, api_key: str | None, bearer: str | None, origin: Origin) -> Caller:
        """The caller these credentials prove; AuthenticationRequired if none do."""
        if api_key is None and bearer is not None and bearer.startswith("sk_"):
            api_key, bearer = bearer, None
        if api_key is not None:
            return self._key_caller(api_key, origin)
        if bearer is not None:
            return self._token_caller(bearer, origin)
        raise AuthenticationRequired(
            "send an API key (X-API-Key or Authorization: Bearer sk_...) or an access token",
            "missing_credentials",
        )

    def _key_caller(self, key: str, origin: Origin) -> Caller:
        if KeyType.of_key(key) is None:
            raise AuthenticationRequired("not an API key", "invalid_api_key")
        view = self._keys.get(key_hash(key), self._directory.key_by_hash)
        if view is None:
            raise AuthenticationRequired("unknown API key", "invalid_api_key")
        if view.revoked_at is not None:
            raise AuthenticationRequired("the API key has been revoked", "api_key_revoked")
        if view.expires_at is not None and view.expires_at <= self._clock():
            raise AuthenticationRequired("the API key has expired", "api_key_expired")
        return Caller(
            actor=f"key:{view.key_id}",
            tenant=view.tenant,
            request_id=origin.request_id,
            principal_id=str(view.key_id),
            roles=frozenset({view.key_type}),
            permissions=frozenset(view.permissions),
            ip=origin.ip,
            user_agent=origin.user_agent,
        )

    def _token_caller(self, token: str, origin: Origin) -> Caller:
        claims: AccessClaims = self._tokens.verify(token, self._clock())
        if claims.sid is not None:
            try:
                session_id = UUID(claims.sid)
            except ValueError:
                raise AuthenticationRequired("malformed session", "invalid_token") from None
            status = self._sessions.get(session_id, self._directory.session_status)
            if status is None or status.ended or str(status.user_id) != claims.sub:
                raise AuthenticationRequired("the session has ended", "session_revoked")
            actor = f"user:{claims.email or claims.sub}"
            session = claims.sid
        else:
            session = ""
            actor = f"external:{claims.email or claims.sub}"
        return Caller(
            actor=actor,
            tenant=claims.tenant,
            request_id=origin.request_id,
            principal_id=claims.sub,
            roles=frozenset(claims.roles),
            permissions=frozenset(claims.permissions),
            session_id=session,
            ip=origin.ip,
            user_agent=origin.user_agent,
        )
