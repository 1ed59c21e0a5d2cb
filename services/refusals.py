"""Refused requests go to the ledger: failed authentications and denied permissions.

Each refusal is its own small aggregate (a fresh id), so refusals never
contend with each other or with the work they were refused for. Refusals of
unauthenticated requests are written only within the caller's IP rate limit.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from uuid import UUID, uuid4

import structlog

from domain.access_refusal import AccessRefusal
from domain.envelope import EventContext
from services.ports import Caller, Clock, LedgerPort

__all__ = ["Origin", "RefusalLog"]

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class Origin:
    """Where a request came from and what it asked, for the audit."""

    request_id: str
    ip: str = ""
    user_agent: str = ""
    action: str = ""  # e.g. "POST /v1/commands/submit"

    @classmethod
    def of(cls, caller: Caller, action: str = "") -> Origin:
        return cls(caller.request_id, caller.ip, caller.user_agent, action)


class RefusalLog:
    def __init__(
        self, ledger: LedgerPort, clock: Clock, new_id: Callable[[], UUID] = uuid4
    ) -> None:
        self._ledger = ledger
        self._clock = clock
        self._new_id = new_id

    def authentication_failed(
        self, reason: str, origin: Origin, *, credential: str = "", tenant: str = ""
    ) -> None:
        refusal_id = self._new_id()
        refusal = AccessRefusal.authentication_failed(
            id=refusal_id,
            reason=reason,
            credential=credential,
            action=origin.action,
            ip=origin.ip,
            user_agent=origin.user_agent,
            ctx=EventContext(
                actor="anonymous",
                tenant=tenant,
                correlation_id=origin.request_id,
                causation_id=origin.request_id,
            ),
            now=self._clock(),
        )
        self._save(refusal)

    def permission_denied(self, caller: Caller, permission: str, action: str) -> None:
        refusal = AccessRefusal.permission_denied(
            id=self._new_id(),
            permission=permission,
            action=action,
            ip=caller.ip,
            user_agent=caller.user_agent,
            ctx=EventContext(
                actor=caller.actor,
                tenant=caller.tenant,
                correlation_id=caller.request_id,
                causation_id=caller.request_id,
            ),
            now=self._clock(),
        )
        self._save(refusal)

    def _save(self, refusal: AccessRefusal) -> None:
        # The refusal is answered either way; a ledger outage must not turn a
        # 401/403 into a 500, so a failed write is logged, not raised.
        try:
            self._ledger.commit(refusal)
        except Exception as exc:  # noqa: BLE001
            log.error("could not record a refusal", error=str(exc), refusal=str(refusal.id))
