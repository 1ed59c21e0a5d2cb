"""A user: signs in with a password (argon2 hash) and acts through roles and permissions."""

from __future__ import annotations

import uuid
from datetime import datetime
from uuid import UUID

from domain.access import Permission, permissions_of_roles
from domain.aggregate import Aggregate
from domain.envelope import AggregateEvent, EventContext
from domain.errors import InvalidArgument, InvalidTransition
from domain.identity_events import UserDisabled, UserPasswordChanged, UserRegistered

__all__ = [
    "MIN_PASSWORD_LENGTH",
    "User",
    "check_password_rules",
    "normalise_email",
    "user_id_for",
]

_USER_NAMESPACE = uuid.UUID("a3c5d0f2-2f8e-4c1b-9d47-6e0b8f5a1c93")
MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 1024


def normalise_email(email: str) -> str:
    return email.strip().lower()


def user_id_for(email: str) -> UUID:
    """An email names one user across the installation: its id follows from it."""
    return uuid.uuid5(_USER_NAMESPACE, normalise_email(email))


def check_password_rules(password: str) -> None:
    if not MIN_PASSWORD_LENGTH <= len(password) <= MAX_PASSWORD_LENGTH:
        raise InvalidArgument(
            f"a password has {MIN_PASSWORD_LENGTH} to {MAX_PASSWORD_LENGTH} characters"
        )


class User(Aggregate):
    def __init__(
        self,
        email: str,
        name: str,
        roles: list[str],
        permissions: list[str],
        password_hash: str | None,
        tenant: str,
    ) -> None:
        self.email = email
        self.name = name
        self.roles = tuple(roles)
        self.granted = frozenset(permissions)
        self.password_hash = password_hash
        self.tenant = tenant
        self.disabled = False
        self.credentials_changed_at: datetime | None = None

    @property
    def permissions(self) -> frozenset[str]:
        """The roles' permissions and those granted beyond them."""
        return frozenset(permissions_of_roles(self.roles)) | self.granted

    @classmethod
    def register(
        cls,
        *,
        email: str,
        name: str,
        roles: list[str],
        permissions: frozenset[Permission],
        password_hash: str | None,
        ip: str,
        user_agent: str,
        ctx: EventContext,
        now: datetime,
    ) -> User:
        address = normalise_email(email)
        if "@" not in address.strip("@"):
            raise InvalidArgument(f"{email!r} is not an email address")
        permissions_of_roles(roles)  # unknown roles are refused here
        return cls.start(
            UserRegistered,
            id=user_id_for(address),
            ctx=ctx,
            now=now,
            email=address,
            name=name,
            roles=sorted(set(roles)),
            permissions=sorted(permissions),
            password_hash=password_hash,
            ip=ip,
            user_agent=user_agent,
        )

    def change_password(
        self, *, password_hash: str, ip: str, user_agent: str, ctx: EventContext, now: datetime
    ) -> None:
        if self.disabled:
            raise InvalidTransition(f"user {self.email} is disabled")
        self.record(
            UserPasswordChanged,
            ctx=ctx,
            now=now,
            password_hash=password_hash,
            ip=ip,
            user_agent=user_agent,
        )

    def disable(
        self, *, reason: str, ip: str, user_agent: str, ctx: EventContext, now: datetime
    ) -> bool:
        """Disable the user; False if it already was."""
        if self.disabled:
            return False
        self.record(UserDisabled, ctx=ctx, now=now, reason=reason, ip=ip, user_agent=user_agent)
        return True

    def when(self, event: AggregateEvent) -> None:
        match event:
            case UserPasswordChanged():
                self.password_hash = event.password_hash
                self.credentials_changed_at = event.timestamp
            case UserDisabled():
                self.disabled = True
                self.credentials_changed_at = event.timestamp
