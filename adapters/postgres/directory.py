"""The identity read models, read: keys by digest, users, sessions."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import psycopg
from psycopg.rows import class_row
from psycopg_pool import ConnectionPool

from schemas.identity import ApiKeyView, UserView
from services.identity_ports import SessionStatus

__all__ = ["PostgresDirectory"]

_KEY_COLUMNS = ", ".join(ApiKeyView.__struct_fields__)
_USER_COLUMNS = ", ".join(UserView.__struct_fields__)


class PostgresDirectory:
    def __init__(self, pool: ConnectionPool[psycopg.Connection[Any]]) -> None:
        self._pool = pool

    def key_by_hash(self, key_hash: str) -> ApiKeyView | None:
        with self._pool.connection() as conn, conn.cursor(row_factory=class_row(ApiKeyView)) as cur:
            return cur.execute(
                f"SELECT {_KEY_COLUMNS} FROM synaps_api_keys WHERE key_hash = %s",
                (key_hash,),
                prepare=True,
            ).fetchone()

    def keys_of(self, tenant: str | None) -> list[ApiKeyView]:
        with self._pool.connection() as conn, conn.cursor(row_factory=class_row(ApiKeyView)) as cur:
            return cur.execute(
                f"SELECT {_KEY_COLUMNS} FROM synaps_api_keys"
                " WHERE %(tenant)s::text IS NULL OR tenant = %(tenant)s"
                " ORDER BY created_at, key_id",
                {"tenant": tenant},
            ).fetchall()

    def users_of(self, tenant: str | None) -> list[UserView]:
        with self._pool.connection() as conn, conn.cursor(row_factory=class_row(UserView)) as cur:
            return cur.execute(
                f"SELECT {_USER_COLUMNS} FROM synaps_users"
                " WHERE %(tenant)s::text IS NULL OR tenant = %(tenant)s ORDER BY email",
                {"tenant": tenant},
            ).fetchall()

    def session_status(self, session_id: UUID) -> SessionStatus | None:
        with self._pool.connection() as conn:
            row = conn.execute(
                "SELECT s.session_id, s.user_id, s.tenant,"
                "  s.revoked_at IS NOT NULL OR coalesce(u.disabled, true), s.expires_at"
                " FROM synaps_sessions s LEFT JOIN synaps_users u ON u.user_id = s.user_id"
                " WHERE s.session_id = %s",
                (session_id,),
                prepare=True,
            ).fetchone()
        return None if row is None else SessionStatus(*row)

    def open_sessions_of(self, user_id: UUID) -> list[UUID]:
        with self._pool.connection() as conn:
            rows = conn.execute(
                "SELECT session_id FROM synaps_sessions WHERE user_id = %s AND revoked_at IS NULL",
                (user_id,),
            ).fetchall()
        return [r[0] for r in rows]
