"""An API key: issued once (only its digest is kept), used until revoked or expired."""

from __future__ import annotations

import hashlib
import uuid
from datetime import datetime
from uuid import UUID

from domain.access import KeyType, Permission
from domain.aggregate import Aggregate
from domain.envelope import AggregateEvent, EventContext
from domain.errors import InvalidArgument
from domain.identity_events import ApiKeyIssued, ApiKeyRevoked

__all__ = ["MIN_SECRET_LENGTH", "ApiKey", "key_hash", "key_hint", "key_id_for"]

_KEY_NAMESPACE = uuid.UUID("0c9b1e4e-6d0b-4a57-8f1a-3b2f54f1c7a2")

# Characters after the type prefix: 32 random bytes are 43 in base64url.
MIN_SECRET_LENGTH = 32


def key_hash(key: str) -> str:
    """The digest the ledger keeps instead of the key (keys are long and random,
    so a fast hash is as safe as a slow one, and lookups stay cheap)."""
    return hashlib.sha256(key.encode()).hexdigest()


def key_id_for(key: str) -> UUID:
    """A key's id follows from the key: issuing the same key twice is one key."""
    return uuid.uuid5(_KEY_NAMESPACE, key_hash(key))


def key_hint(key: str) -> str:
    key_type = KeyType.of_key(key)
    prefix = key_type.prefix if key_type else key[:3]
    return f"{prefix}…{key[-4:]}"


class ApiKey(Aggregate):
    def __init__(
        self,
        key_type: str,
        key_hash: str,
        hint: str,
        name: str,
        permissions: list[str],
        expires_at: datetime | None,
        tenant: str,
    ) -> None:
        self.key_type = KeyType(key_type)
        self.key_hash = key_hash
        self.hint = hint
        self.name = name
        self.permissions = frozenset(permissions)
        self.expires_at = expires_at
        self.tenant = tenant
        self.revoked_at: datetime | None = None
        self.created_by = ""

    @classmethod
    def issue(
        cls,
        *,
        key: str,
        name: str,
        permissions: frozenset[Permission],
        expires_at: datetime | None,
        ip: str,
        user_agent: str,
        ctx: EventContext,
        now: datetime,
    ) -> ApiKey:
        key_type = KeyType.of_key(key)
        if key_type is None:
            raise InvalidArgument("an API key starts with sk_live_, sk_test_ or sk_admin_")
        if len(key) - len(key_type.prefix) < MIN_SECRET_LENGTH:
            raise InvalidArgument(
                f"an API key needs at least {MIN_SECRET_LENGTH} characters after its prefix"
            )
        beyond = permissions - key_type.allowed_permissions
        if beyond:
            raise InvalidArgument(f"a {key_type} key cannot be given {', '.join(sorted(beyond))}")
        if expires_at is not None and expires_at <= now:
            raise InvalidArgument("expires_at is in the past")
        return cls.start(
            ApiKeyIssued,
            id=key_id_for(key),
            ctx=ctx,
            now=now,
            key_type=key_type.value,
            key_hash=key_hash(key),
            hint=key_hint(key),
            name=name,
            permissions=sorted(permissions),
            expires_at=expires_at,
            ip=ip,
            user_agent=user_agent,
        )

    def revoke(
        self, *, reason: str, ip: str, user_agent: str, ctx: EventContext, now: datetime
    ) -> bool:
        """Revoke the key; False if it already was."""
        if self.revoked_at is not None:
            return False
        self.record(ApiKeyRevoked, ctx=ctx, now=now, reason=reason, ip=ip, user_agent=user_agent)
        return True

    def when(self, event: AggregateEvent) -> None:
        match event:
            case ApiKeyIssued():
                self.created_by = event.actor
            case ApiKeyRevoked():
                self.revoked_at = event.timestamp
