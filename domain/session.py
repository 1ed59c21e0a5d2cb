"""A session: one login and its family of rotating refresh tokens.

Each refresh presents the family's current token, which dies and is replaced.
A token that already died is proof that someone else holds a copy: the whole
family is revoked, the thief's copy and the user's alike.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from enum import StrEnum
from uuid import UUID

from domain.aggregate import Aggregate
from domain.envelope import AggregateEvent, EventContext
from domain.errors import AuthenticationRequired
from domain.identity_events import (
    RefreshTokenReused,
    RefreshTokenRotated,
    SessionRevoked,
    SessionStarted,
)

__all__ = ["REFRESH_TOKEN_LIFETIME", "Refreshed", "Session", "refresh_token_hash"]

REFRESH_TOKEN_LIFETIME = timedelta(days=7)


def refresh_token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Refreshed(StrEnum):
    ROTATED = "rotated"
    REUSED = "reused"  # the family is revoked now: commit, then refuse


class Session(Aggregate):
    def __init__(
        self, user_id: UUID, email: str, token_hash: str, expires_at: datetime, tenant: str
    ) -> None:
        self.user_id = user_id
        self.email = email
        self.tenant = tenant
        self.current_hash = token_hash
        self.expires_at = expires_at
        self.used_hashes: set[str] = set()
        self.revoked_reason: str | None = None
        self.revoked_at: datetime | None = None

    @property
    def is_revoked(self) -> bool:
        return self.revoked_reason is not None

    @classmethod
    def begin(
        cls,
        *,
        id: UUID,
        user_id: UUID,
        email: str,
        token_hash: str,
        ip: str,
        user_agent: str,
        ctx: EventContext,
        now: datetime,
    ) -> Session:
        return cls.start(
            SessionStarted,
            id=id,
            ctx=ctx,
            now=now,
            user_id=user_id,
            email=email,
            token_hash=token_hash,
            expires_at=now + REFRESH_TOKEN_LIFETIME,
            ip=ip,
            user_agent=user_agent,
        )

    def refresh(
        self,
        *,
        presented_hash: str,
        new_hash: str,
        ip: str,
        user_agent: str,
        ctx: EventContext,
        now: datetime,
    ) -> Refreshed:
        if presented_hash in self.used_hashes:
            if not self.is_revoked:
                self.record(
                    RefreshTokenReused,
                    ctx=ctx,
                    now=now,
                    token_hash=presented_hash,
                    ip=ip,
                    user_agent=user_agent,
                )
                self.revoke(
                    reason="refresh_token_reused", ip=ip, user_agent=user_agent, ctx=ctx, now=now
                )
            return Refreshed.REUSED
        if self.is_revoked:
            raise AuthenticationRequired("the session has ended", "session_revoked")
        if presented_hash != self.current_hash:
            raise AuthenticationRequired("unknown refresh token", "invalid_refresh_token")
        if self.expires_at <= now:
            raise AuthenticationRequired("the refresh token has expired", "refresh_token_expired")
        self.record(
            RefreshTokenRotated,
            ctx=ctx,
            now=now,
            token_hash=new_hash,
            expires_at=now + REFRESH_TOKEN_LIFETIME,
            ip=ip,
            user_agent=user_agent,
        )
        return Refreshed.ROTATED

    def revoke(
        self, *, reason: str, ip: str, user_agent: str, ctx: EventContext, now: datetime
    ) -> bool:
        """End the session; False if it had ended already."""
        if self.is_revoked:
            return False
        self.record(SessionRevoked, ctx=ctx, now=now, reason=reason, ip=ip, user_agent=user_agent)
        return True

    def when(self, event: AggregateEvent) -> None:
        match event:
            case RefreshTokenRotated():
                self.used_hashes.add(self.current_hash)
                self.current_hash = event.token_hash
                self.expires_at = event.expires_at
            case SessionRevoked():
                self.revoked_reason = event.reason
                self.revoked_at = event.timestamp
