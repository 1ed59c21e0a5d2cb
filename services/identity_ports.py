"""What the identity services need from the outside world, as protocols."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from uuid import UUID

from domain.rate_limits import Limit, WindowCount
from schemas.identity import AccessClaims, ApiKeyView, UserView

__all__ = [
    "AccessTokens",
    "Directory",
    "PasswordHasher",
    "RateCounter",
    "SessionStatus",
]


@dataclass(frozen=True, slots=True)
class SessionStatus:
    """Whether a session's access tokens are still good, from the read model."""

    session_id: UUID
    user_id: UUID
    tenant: str
    ended: bool  # revoked, or its user disabled
    expires_at: datetime


class Directory(Protocol):
    """The identity read models (written inline with their events)."""

    def key_by_hash(self, key_hash: str) -> ApiKeyView | None: ...

    def keys_of(self, tenant: str | None) -> list[ApiKeyView]:
        """Keys of one tenant, or of every tenant (None)."""
        ...

    def users_of(self, tenant: str | None) -> list[UserView]: ...

    def session_status(self, session_id: UUID) -> SessionStatus | None: ...

    def open_sessions_of(self, user_id: UUID) -> list[UUID]: ...


class PasswordHasher(Protocol):
    def hash(self, password: str) -> str: ...

    def verify(self, password_hash: str, password: str) -> bool: ...


class AccessTokens(Protocol):
    """Signs our access tokens and verifies ours and an external issuer's."""

    lifetime_seconds: int

    def issue(self, claims: AccessClaims, now: datetime) -> str: ...

    def verify(self, token: str, now: datetime) -> AccessClaims:
        """The claims of a valid token; AuthenticationRequired otherwise."""
        ...


class RateCounter(Protocol):
    def hit(self, subject: str, limits: Sequence[Limit]) -> list[WindowCount]:
        """Count one request of ``subject`` in each limit's current window."""
        ...
