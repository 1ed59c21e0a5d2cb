"""Every event of identity and access: API keys, users, sessions, refused access.

Security decisions are ledger events like any other: the envelope says who
(actor), for whom (tenant), for which request (correlation and causation);
the payload adds where the request came from (``ip``, ``user_agent``).
Secrets never enter the ledger: keys and refresh tokens as SHA-256 digests,
passwords as argon2 hashes (and those are redacted from event views).
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar
from uuid import UUID

from domain.envelope import AggregateCreated, AggregateEvent

__all__ = [
    "ACCESS_REFUSAL_EVENTS",
    "API_KEY_EVENTS",
    "SESSION_EVENTS",
    "USER_EVENTS",
    "ApiKeyIssued",
    "ApiKeyRevoked",
    "AuthenticationFailed",
    "PermissionDenied",
    "RefreshTokenReused",
    "RefreshTokenRotated",
    "SessionRevoked",
    "SessionStarted",
    "UserDisabled",
    "UserPasswordChanged",
    "UserRegistered",
]


def _from(ip: str) -> str:
    return f" from {ip}" if ip else ""


# -- ApiKey -------------------------------------------------------------------


class ApiKeyIssued(AggregateCreated, frozen=True, kw_only=True):
    key_type: str
    key_hash: str  # SHA-256 of the whole key, hex
    hint: str  # the type prefix and the last characters, to recognise a key by
    name: str = ""
    permissions: list[str]
    expires_at: datetime | None = None
    ip: str = ""
    user_agent: str = ""

    def summary(self) -> str:
        label = f" ({self.name})" if self.name else ""
        return f"{self.key_type} key {self.hint}{label} issued for tenant {self.tenant}"


class ApiKeyRevoked(AggregateEvent, frozen=True, kw_only=True):
    reason: str = ""
    ip: str = ""
    user_agent: str = ""

    def summary(self) -> str:
        return f"key revoked{': ' + self.reason if self.reason else ''}{_from(self.ip)}"


# -- User ---------------------------------------------------------------------


class UserRegistered(AggregateCreated, frozen=True, kw_only=True):
    REDACTED_FIELDS: ClassVar[frozenset[str]] = frozenset({"password_hash"})

    email: str
    name: str = ""
    roles: list[str]
    permissions: list[str]  # granted beyond the roles'
    password_hash: str | None = None  # None: signs in through the external issuer only
    ip: str = ""
    user_agent: str = ""

    def summary(self) -> str:
        roles = ", ".join(self.roles) or "no roles"
        return f"user {self.email} registered in tenant {self.tenant} ({roles})"


class UserPasswordChanged(AggregateEvent, frozen=True, kw_only=True):
    REDACTED_FIELDS: ClassVar[frozenset[str]] = frozenset({"password_hash"})

    password_hash: str
    ip: str = ""
    user_agent: str = ""

    def summary(self) -> str:
        return f"password changed{_from(self.ip)}; open sessions revoked"


class UserDisabled(AggregateEvent, frozen=True, kw_only=True):
    reason: str = ""
    ip: str = ""
    user_agent: str = ""

    def summary(self) -> str:
        return f"user disabled{': ' + self.reason if self.reason else ''}"


# -- Session (a refresh token family) -------------------------------------------


class SessionStarted(AggregateCreated, frozen=True, kw_only=True):
    """A login: the first refresh token of a new family."""

    user_id: UUID
    email: str
    token_hash: str
    expires_at: datetime
    ip: str = ""
    user_agent: str = ""

    def summary(self) -> str:
        return f"user {self.email} logged in{_from(self.ip)}"


class RefreshTokenRotated(AggregateEvent, frozen=True, kw_only=True):
    """The presented refresh token died; a new one of the same family replaced it."""

    token_hash: str
    expires_at: datetime
    ip: str = ""
    user_agent: str = ""

    def summary(self) -> str:
        return f"refresh token rotated{_from(self.ip)}"


class RefreshTokenReused(AggregateEvent, frozen=True, kw_only=True):
    """A refresh token that had already been rotated was presented again."""

    token_hash: str
    ip: str = ""
    user_agent: str = ""

    def summary(self) -> str:
        return f"a used refresh token was presented again{_from(self.ip)}: session revoked"


class SessionRevoked(AggregateEvent, frozen=True, kw_only=True):
    reason: str  # logout, refresh_token_reused, password_changed, user_disabled
    ip: str = ""
    user_agent: str = ""

    def summary(self) -> str:
        return f"session revoked ({self.reason.replace('_', ' ')}){_from(self.ip)}"


# -- AccessRefusal: one aggregate per refused request ------------------------------


class AuthenticationFailed(AggregateCreated, frozen=True, kw_only=True):
    reason: str  # the problem code: missing_credentials, invalid_api_key, ...
    credential: str = ""  # what was presented, never the secret: a key hint, an email
    action: str = ""  # what was asked, e.g. "GET /v1/runs/..."
    ip: str = ""
    user_agent: str = ""

    def summary(self) -> str:
        what = f" for {self.credential}" if self.credential else ""
        where = f" on {self.action}" if self.action else ""
        return f"authentication failed ({self.reason}){what}{where}{_from(self.ip)}"


class PermissionDenied(AggregateCreated, frozen=True, kw_only=True):
    permission: str
    action: str = ""
    ip: str = ""
    user_agent: str = ""

    def summary(self) -> str:
        return f"{self.actor} denied {self.action}: lacks {self.permission}{_from(self.ip)}"


API_KEY_EVENTS = (ApiKeyIssued, ApiKeyRevoked)
USER_EVENTS = (UserRegistered, UserPasswordChanged, UserDisabled)
SESSION_EVENTS = (SessionStarted, RefreshTokenRotated, RefreshTokenReused, SessionRevoked)
ACCESS_REFUSAL_EVENTS = (AuthenticationFailed, PermissionDenied)

for _family, _events in (
    ("ApiKey", API_KEY_EVENTS),
    ("User", USER_EVENTS),
    ("Session", SESSION_EVENTS),
    ("AccessRefusal", ACCESS_REFUSAL_EVENTS),
):
    for _event in _events:
        _event.aggregate_type = _family
