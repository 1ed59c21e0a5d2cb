"""Sign in with a password; refresh (rotating the refresh token); sign out.

A login starts a Session: the family of its refresh tokens. Access tokens are
short-lived JWTs naming the session, so ending the session ends them too.
"""

from __future__ import annotations

import functools
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import NoReturn
from uuid import UUID, uuid4

from domain.envelope import EventContext
from domain.errors import AuthenticationRequired, ConcurrencyConflict, NotFound
from domain.session import Refreshed, Session, refresh_token_hash
from domain.user import User, normalise_email, user_id_for
from schemas.identity import AccessClaims, Login, TokenPair
from services.identity_ports import AccessTokens, PasswordHasher
from services.ports import Caller, Clock, LedgerPort
from services.refusals import Origin, RefusalLog

__all__ = ["Sessions", "new_refresh_token"]

_TOKEN = re.compile(r"^rt_([0-9a-f]{32})_[A-Za-z0-9_-]{43,}$")
_MAX_RACES = 3


def new_refresh_token(session_id: UUID) -> str:
    """``rt_<session id>_<32 random bytes>``: the session it belongs to, and a secret."""
    return f"rt_{session_id.hex}_{secrets.token_urlsafe(32)}"


@dataclass(frozen=True, slots=True)
class _Presented:
    session_id: UUID
    token_hash: str


class Sessions:
    def __init__(
        self,
        ledger: LedgerPort,
        passwords: PasswordHasher,
        tokens: AccessTokens,
        refusals: RefusalLog,
        clock: Clock,
        new_id: Callable[[], UUID] = uuid4,
    ) -> None:
        self._ledger = ledger
        self._passwords = passwords
        self._tokens = tokens
        self._refusals = refusals
        self._clock = clock
        self._new_id = new_id

    @functools.cached_property
    def _decoy(self) -> str:
        """Verifying against this when there is no user takes as long as a real check."""
        return self._passwords.hash(secrets.token_urlsafe(16))

    def login(self, request: Login, origin: Origin) -> TokenPair:
        email = normalise_email(request.email)
        user = self._user_or_none(user_id_for(email))
        if user is None or user.password_hash is None or user.disabled:
            self._passwords.verify(self._decoy, request.password)
            self._refuse("invalid_credentials", origin, email, "wrong email or password")
        if not self._passwords.verify(user.password_hash, request.password):
            self._refuse("invalid_credentials", origin, email, "wrong email or password", user)
        session_id = self._new_id()
        refresh_token = new_refresh_token(session_id)
        session = Session.begin(
            id=session_id,
            user_id=user.id,
            email=user.email,
            token_hash=refresh_token_hash(refresh_token),
            ip=origin.ip,
            user_agent=origin.user_agent,
            ctx=self._ctx(user, session_id, origin),
            now=self._clock(),
        )
        self._ledger.commit(session)
        return self._pair(user, session, refresh_token)

    def refresh(self, refresh_token: str | None, origin: Origin) -> TokenPair:
        presented = self._parse(refresh_token, origin)
        for _ in range(_MAX_RACES):
            session = self._session_or_refuse(presented, origin)
            user = self._user_or_none(session.user_id)
            if user is None or user.disabled:
                self._refuse("user_disabled", origin, session.email, "the user is disabled", user)
            new_token = new_refresh_token(session.id)
            try:
                outcome = session.refresh(
                    presented_hash=presented.token_hash,
                    new_hash=refresh_token_hash(new_token),
                    ip=origin.ip,
                    user_agent=origin.user_agent,
                    ctx=self._ctx(user, session.id, origin),
                    now=self._clock(),
                )
            except AuthenticationRequired as exc:
                self._refuse(exc.code, origin, session.email, str(exc), user)
            if session.pending_events:
                try:
                    self._ledger.commit(session)
                except ConcurrencyConflict:
                    continue  # a concurrent refresh won: look again (it is a reuse now)
            if outcome is Refreshed.REUSED:
                raise AuthenticationRequired(
                    "this refresh token was used before; the session is revoked",
                    "refresh_token_reused",
                )
            return self._pair(user, session, new_token)
        raise ConcurrencyConflict("the session kept changing; try again")

    def logout(self, refresh_token: str | None, caller: Caller | None, origin: Origin) -> bool:
        """End the session of the refresh token, or else of the caller's access token.
        False if there was no session to end."""
        if refresh_token:
            presented = self._parse(refresh_token, origin)
            session = self._session_or_refuse(presented, origin)
            if session.current_hash != presented.token_hash:
                self._refuse("invalid_refresh_token", origin, session.email, "not a live token")
        elif caller is not None and caller.session_id:
            try:
                session = self._ledger.get(UUID(caller.session_id), Session)
            except (NotFound, ValueError):
                return False
        else:
            return False
        for _ in range(_MAX_RACES):
            ctx = EventContext(
                actor=f"user:{session.email}",
                tenant=session.tenant,
                correlation_id=str(session.id),
                causation_id=origin.request_id,
            )
            if not session.revoke(
                reason="logout",
                ip=origin.ip,
                user_agent=origin.user_agent,
                ctx=ctx,
                now=self._clock(),
            ):
                return False
            try:
                self._ledger.commit(session)
                return True
            except ConcurrencyConflict:
                session = self._ledger.get(session.id, Session)
        raise ConcurrencyConflict("the session kept changing; try again")

    # -- inner workings -----------------------------------------------------------

    def _pair(self, user: User, session: Session, refresh_token: str) -> TokenPair:
        claims = AccessClaims(
            sub=str(user.id),
            email=user.email,
            tenant=user.tenant,
            roles=list(user.roles),
            permissions=sorted(user.permissions),
            sid=str(session.id),
            jti=self._new_id().hex,
        )
        return TokenPair(
            access_token=self._tokens.issue(claims, self._clock()),
            expires_in=self._tokens.lifetime_seconds,
            refresh_token=refresh_token,
            refresh_expires_at=session.expires_at,
        )

    def _parse(self, token: str | None, origin: Origin) -> _Presented:
        text = token or ""
        match = _TOKEN.match(text)
        if match is None:
            reason = "missing_refresh_token" if not text else "invalid_refresh_token"
            self._refuse(reason, origin, "", "send a refresh token (body or cookie)")
        return _Presented(UUID(hex=match.group(1)), refresh_token_hash(text))

    def _session_or_refuse(self, presented: _Presented, origin: Origin) -> Session:
        try:
            session: Session = self._ledger.get(presented.session_id, Session)
        except NotFound:
            self._refuse("invalid_refresh_token", origin, "", "unknown refresh token")
        if presented.token_hash != session.current_hash and (
            presented.token_hash not in session.used_hashes
        ):
            self._refuse("invalid_refresh_token", origin, session.email, "unknown refresh token")
        return session

    def _user_or_none(self, user_id: UUID) -> User | None:
        try:
            user: User = self._ledger.get(user_id, User)
        except NotFound:
            return None
        return user

    def _refuse(
        self, code: str, origin: Origin, credential: str, detail: str, user: User | None = None
    ) -> NoReturn:
        tenant = user.tenant if user is not None else ""
        self._refusals.authentication_failed(code, origin, credential=credential, tenant=tenant)
        raise AuthenticationRequired(detail, code)

    @staticmethod
    def _ctx(user: User, session_id: UUID, origin: Origin) -> EventContext:
        return EventContext(
            actor=f"user:{user.email}",
            tenant=user.tenant,
            correlation_id=str(session_id),
            causation_id=origin.request_id,
        )
