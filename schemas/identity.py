"""Wire types of identity: keys, users, logins, tokens, and who is calling."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

import msgspec
from msgspec import Meta, Struct

from schemas.commands import Name

__all__ = [
    "AccessClaims",
    "ApiKeyView",
    "ChangePassword",
    "CreateApiKey",
    "CreateUser",
    "DisableUser",
    "IssuedApiKey",
    "KeyList",
    "Login",
    "Refresh",
    "RevokeApiKey",
    "TokenPair",
    "UserList",
    "UserView",
    "WhoAmI",
]

Tenant = Annotated[
    str,
    Meta(
        min_length=1,
        max_length=64,
        pattern=r"^[a-z0-9][a-z0-9_-]*$",
        description="lower-case letters, digits, _ and - (starting with a letter or digit)",
    ),
]
Scope = Annotated[
    str, Meta(min_length=1, max_length=64, pattern=r"^[a-z]+(:[a-z]+)?$", examples=["worker"])
]
Email = Annotated[
    str,
    Meta(min_length=3, max_length=320, pattern=r"^[^@\s\x00-\x1f\x7f]+@[^@\s\x00-\x1f\x7f]+$"),
]
# Free text that lands in read models and audit rows: no control characters
# (PostgreSQL's text and jsonb refuse NUL).
Label = Annotated[str, Meta(max_length=200, pattern=r"^[^\x00-\x1f\x7f]*$")]
Password = Annotated[str, Meta(min_length=1, max_length=1024)]
Reason = Annotated[str, Meta(max_length=2000, pattern=r"^[^\x00\x7f]*$")]


class CreateApiKey(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Issue a key. Without scopes it gets its type's default permissions."""

    type: Annotated[str, Meta(pattern=r"^(live|test|admin)$", examples=["live"])]
    tenant: Tenant | None = None  # default: the caller's
    scopes: Annotated[list[Scope], Meta(max_length=32)] | None = None
    name: Label = ""
    expires_at: Annotated[datetime, Meta(tz=True)] | None = None


class ApiKeyView(Struct, frozen=True, kw_only=True):
    key_id: UUID
    tenant: str
    key_type: str
    hint: str
    name: str
    permissions: list[str]
    created_at: datetime
    created_by: str
    expires_at: datetime | None
    revoked_at: datetime | None


class IssuedApiKey(Struct, frozen=True, kw_only=True):
    """The key itself is shown here, once: only its digest is stored."""

    key: str
    key_id: UUID
    tenant: str
    key_type: str
    hint: str
    permissions: list[str]
    expires_at: datetime | None = None


class KeyList(Struct, frozen=True, kw_only=True):
    keys: list[ApiKeyView]


class RevokeApiKey(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    reason: Reason = ""


class CreateUser(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Register a user; without a password it can only sign in via the external issuer."""

    email: Email
    password: Password | None = None
    name: Label = ""
    roles: Annotated[list[Name], Meta(max_length=16)] = msgspec.field(
        default_factory=lambda: ["viewer"]
    )
    permissions: Annotated[list[Scope], Meta(max_length=64)] = msgspec.field(default_factory=list)
    tenant: Tenant | None = None  # default: the caller's


class UserView(Struct, frozen=True, kw_only=True):
    user_id: UUID
    tenant: str
    email: str
    name: str
    roles: list[str]
    permissions: list[str]
    disabled: bool
    created_at: datetime


class UserList(Struct, frozen=True, kw_only=True):
    users: list[UserView]


class DisableUser(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    reason: Reason = ""


class Login(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    email: Email
    password: Password


class Refresh(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The refresh token; browsers send it in the cookie instead."""

    refresh_token: Annotated[str, Meta(min_length=1, max_length=512)] | None = None


class ChangePassword(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    current_password: Password
    new_password: Password


class TokenPair(Struct, frozen=True, kw_only=True):
    access_token: str
    token_type: str = "Bearer"  # noqa: S105 - the scheme's name, not a secret
    expires_in: int  # seconds
    refresh_token: str
    refresh_expires_at: datetime


class AccessClaims(Struct, frozen=True, kw_only=True):
    """What a verified access token says about its bearer."""

    sub: str
    email: str = ""
    tenant: str
    roles: list[str] = msgspec.field(default_factory=list)
    permissions: list[str] = msgspec.field(default_factory=list)
    sid: str | None = None  # the session: None for an external issuer's tokens
    jti: str = ""
    exp: int = 0
    issuer: str = ""


class WhoAmI(Struct, frozen=True, kw_only=True):
    actor: str
    principal_id: str
    kind: str  # api_key, user, external
    tenant: str
    roles: list[str]
    permissions: list[str]
