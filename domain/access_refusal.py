"""A refused request, recorded for the audit: one small aggregate per refusal.

Each refusal gets a fresh id, so concurrent refusals never contend for one
aggregate (a per-day or per-tenant log would serialise every writer).
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from domain.aggregate import Aggregate
from domain.envelope import EventContext
from domain.identity_events import AuthenticationFailed, PermissionDenied

__all__ = ["AccessRefusal"]


class AccessRefusal(Aggregate):
    def __init__(self, tenant: str) -> None:
        self.tenant = tenant

    @classmethod
    def authentication_failed(
        cls,
        *,
        id: UUID,
        reason: str,
        credential: str,
        action: str,
        ip: str,
        user_agent: str,
        ctx: EventContext,
        now: datetime,
    ) -> AccessRefusal:
        return cls.start(
            AuthenticationFailed,
            id=id,
            ctx=ctx,
            now=now,
            reason=reason,
            credential=credential,
            action=action,
            ip=ip,
            user_agent=user_agent,
        )

    @classmethod
    def permission_denied(
        cls,
        *,
        id: UUID,
        permission: str,
        action: str,
        ip: str,
        user_agent: str,
        ctx: EventContext,
        now: datetime,
    ) -> AccessRefusal:
        return cls.start(
            PermissionDenied,
            id=id,
            ctx=ctx,
            now=now,
            permission=permission,
            action=action,
            ip=ip,
            user_agent=user_agent,
        )
