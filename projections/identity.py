"""The identity read models: API keys by digest, users, sessions.

An inline projection, like the queue: rows are written by the same statement
as the events that change them, so a key revoked or a session ended is seen
by the very next request. Each row reflects its aggregate's state at
``version``; a row never goes back to an older version.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

import msgspec

from domain.api_key import ApiKey
from domain.session import Session
from domain.user import User
from projections.queue import InlineWrite

__all__ = ["ApiKeyRow", "IdentityProjection", "SessionRow", "UserRow", "identity_row"]

_encode = msgspec.json.Encoder().encode


class ApiKeyRow(msgspec.Struct, frozen=True, kw_only=True):
    key_id: UUID
    key_hash: str
    tenant: str
    key_type: str
    hint: str
    name: str
    permissions: list[str]
    created_at: datetime
    created_by: str
    expires_at: datetime | None
    revoked_at: datetime | None
    version: int


class UserRow(msgspec.Struct, frozen=True, kw_only=True):
    user_id: UUID
    tenant: str
    email: str
    name: str
    roles: list[str]
    permissions: list[str]
    disabled: bool
    credentials_changed_at: datetime | None
    created_at: datetime
    version: int


class SessionRow(msgspec.Struct, frozen=True, kw_only=True):
    session_id: UUID
    user_id: UUID
    tenant: str
    started_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    revoked_reason: str | None
    version: int


def identity_row(aggregate: Any) -> ApiKeyRow | UserRow | SessionRow | None:
    """The read-model row of an identity aggregate (None for other aggregates)."""
    match aggregate:
        case ApiKey():
            return ApiKeyRow(
                key_id=aggregate.id,
                key_hash=aggregate.key_hash,
                tenant=aggregate.tenant,
                key_type=aggregate.key_type.value,
                hint=aggregate.hint,
                name=aggregate.name,
                permissions=sorted(aggregate.permissions),
                created_at=aggregate.created_on,
                created_by=aggregate.created_by,
                expires_at=aggregate.expires_at,
                revoked_at=aggregate.revoked_at,
                version=aggregate.version,
            )
        case User():
            return UserRow(
                user_id=aggregate.id,
                tenant=aggregate.tenant,
                email=aggregate.email,
                name=aggregate.name,
                roles=list(aggregate.roles),
                permissions=sorted(aggregate.permissions),
                disabled=aggregate.disabled,
                credentials_changed_at=aggregate.credentials_changed_at,
                created_at=aggregate.created_on,
                version=aggregate.version,
            )
        case Session():
            return SessionRow(
                session_id=aggregate.id,
                user_id=aggregate.user_id,
                tenant=aggregate.tenant,
                started_at=aggregate.created_on,
                expires_at=aggregate.expires_at,
                revoked_at=aggregate.revoked_at,
                revoked_reason=aggregate.revoked_reason,
                version=aggregate.version,
            )
    return None


def _upsert(table: str, key: str, param: str, columns: Sequence[str]) -> str:
    updates = ", ".join(f"{c} = excluded.{c}" for c in columns if c != key)
    return f"""
    INSERT INTO {table} AS t
    SELECT * FROM json_populate_recordset(NULL::{table}, %({param})s::json)
    ON CONFLICT ({key}) DO UPDATE SET {updates} WHERE t.version < excluded.version
    RETURNING 1"""


class IdentityProjection:
    """Keeps ``synaps_api_keys``, ``synaps_users`` and ``synaps_sessions`` current."""

    CTES = f"""
id_keys AS ({_upsert("synaps_api_keys", "key_id", "id_keys", ApiKeyRow.__struct_fields__)}
),
id_users AS ({_upsert("synaps_users", "user_id", "id_users", UserRow.__struct_fields__)}
),
id_sessions AS ({
        _upsert("synaps_sessions", "session_id", "id_sessions", SessionRow.__struct_fields__)
    }
)"""
    # The ledger's own uniqueness of (aggregate, version) orders identity writers.
    CHECK = "true"

    def concerns(self, changed: Sequence[Any]) -> bool:
        return any(isinstance(item.aggregate, ApiKey | User | Session) for item in changed)

    def write(self, changed: Sequence[Any]) -> InlineWrite:
        keys: list[ApiKeyRow] = []
        users: list[UserRow] = []
        sessions: list[SessionRow] = []
        for item in changed:
            row = identity_row(item.aggregate)
            if isinstance(row, ApiKeyRow):
                keys.append(row)
            elif isinstance(row, UserRow):
                users.append(row)
            elif isinstance(row, SessionRow):
                sessions.append(row)
        return InlineWrite(
            {
                "id_keys": _encode(keys).decode(),
                "id_users": _encode(users).decode(),
                "id_sessions": _encode(sessions).decode(),
            }
        )
