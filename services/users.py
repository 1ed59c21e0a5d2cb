"""Register, list and disable users; change a password (which ends every session)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from domain.access import expand_scopes, permissions_of_roles
from domain.envelope import EventContext
from domain.errors import (
    AccessDenied,
    AlreadyExists,
    AuthenticationRequired,
    ConcurrencyConflict,
    NotFound,
)
from domain.session import Session
from domain.user import User, check_password_rules, user_id_for
from schemas.identity import ChangePassword, CreateUser, UserView
from services.grants import reaches, refuse_beyond, tenant_in_reach
from services.identity_ports import Directory, PasswordHasher
from services.ports import Caller, Clock, LedgerPort
from services.refusals import RefusalLog

__all__ = ["Users", "user_view"]

_MAX_RACES = 3


def user_view(user: User) -> UserView:
    return UserView(
        user_id=user.id,
        tenant=user.tenant,
        email=user.email,
        name=user.name,
        roles=list(user.roles),
        permissions=sorted(user.permissions),
        disabled=user.disabled,
        created_at=user.created_on,
    )


class Users:
    def __init__(
        self,
        ledger: LedgerPort,
        directory: Directory,
        passwords: PasswordHasher,
        refusals: RefusalLog,
        clock: Clock,
    ) -> None:
        self._ledger = ledger
        self._directory = directory
        self._passwords = passwords
        self._refusals = refusals
        self._clock = clock

    def create(self, request: CreateUser, caller: Caller) -> UserView:
        action = f"register user {request.email}"
        tenant = tenant_in_reach(caller, request.tenant, self._refusals, action)
        granted = expand_scopes(request.permissions)
        refuse_beyond(caller, permissions_of_roles(request.roles) | granted, self._refusals, action)
        if request.password is not None:
            check_password_rules(request.password)
        user = User.register(
            email=request.email,
            name=request.name,
            roles=request.roles,
            permissions=granted,
            password_hash=None
            if request.password is None
            else self._passwords.hash(request.password),
            ip=caller.ip,
            user_agent=caller.user_agent,
            ctx=EventContext(
                actor=caller.actor,
                tenant=tenant,
                correlation_id=str(user_id_for(request.email)),
                causation_id=caller.request_id,
            ),
            now=self._clock(),
        )
        try:
            self._ledger.commit(user)
        except ConcurrencyConflict:
            raise AlreadyExists(f"a user with email {user.email} exists") from None
        return user_view(user)

    def list_users(self, caller: Caller, tenant: str | None = None) -> list[UserView]:
        target = tenant_in_reach(caller, tenant, self._refusals, "list users")
        return self._directory.users_of(target)

    def disable(self, user_id: UUID, reason: str, caller: Caller) -> UserView:
        def decide(user: User, ctx: EventContext) -> list[Any]:
            if not user.disable(
                reason=reason,
                ip=caller.ip,
                user_agent=caller.user_agent,
                ctx=ctx,
                now=self._clock(),
            ):
                return []
            return [user, *self._end_sessions(user, "user_disabled", caller, ctx)]

        return self._change(user_id, caller, decide)

    def change_password(self, request: ChangePassword, caller: Caller) -> None:
        """The caller's own password; every open session of the user ends."""
        if not caller.session_id:  # an API key, or a user of the external issuer
            raise AccessDenied("only a user signed in with a password can change it")
        user_id = UUID(caller.principal_id)

        def decide(user: User, ctx: EventContext) -> list[Any]:
            if user.password_hash is None or not self._passwords.verify(
                user.password_hash, request.current_password
            ):
                raise AuthenticationRequired(
                    "the current password is not right", "invalid_credentials"
                )
            check_password_rules(request.new_password)
            user.change_password(
                password_hash=self._passwords.hash(request.new_password),
                ip=caller.ip,
                user_agent=caller.user_agent,
                ctx=ctx,
                now=self._clock(),
            )
            return [user, *self._end_sessions(user, "password_changed", caller, ctx)]

        self._change(user_id, caller, decide)

    def _end_sessions(
        self, user: User, reason: str, caller: Caller, ctx: EventContext
    ) -> list[Session]:
        sessions = self._ledger.get_many(self._directory.open_sessions_of(user.id))
        ended = []
        for session in sessions.values():
            if session.revoke(
                reason=reason,
                ip=caller.ip,
                user_agent=caller.user_agent,
                ctx=ctx,
                now=self._clock(),
            ):
                ended.append(session)
        return ended

    def _change(self, user_id: UUID, caller: Caller, decide: Any) -> UserView:
        for _ in range(_MAX_RACES):
            user: User = self._ledger.get(user_id, User)
            if not reaches(caller, user.tenant):
                raise NotFound("user", user_id)
            ctx = EventContext(
                actor=caller.actor,
                tenant=user.tenant,
                correlation_id=str(user.id),
                causation_id=caller.request_id,
            )
            changed = decide(user, ctx)
            if not changed:
                return user_view(user)
            try:
                self._ledger.commit(*changed)
            except ConcurrencyConflict:
                continue
            return user_view(user)
        raise ConcurrencyConflict(f"user {user_id} kept changing; try again")
