"""A Command: a request to do work, remembered with its idempotency key."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any
from uuid import UUID

from domain.aggregate import Aggregate
from domain.envelope import EventContext
from domain.events import CommandSubmitted

__all__ = ["Command", "command_id_for_key"]

_IDEMPOTENCY_NAMESPACE = uuid.UUID("6f1e0a52-8f0c-4bb4-9a51-0d3f4c2a9e11")


def command_id_for_key(tenant: str, key: str) -> UUID:
    """The command id an idempotency key maps to: the same key, the same command.

    Because the id is derived, the event store's uniqueness of (aggregate,
    version) is the idempotency check: a replay cannot create a second command.
    """
    return uuid.uuid5(_IDEMPOTENCY_NAMESPACE, f"{tenant}\x00{key}")


class Command(Aggregate):
    def __init__(
        self,
        kind: str,
        input: Any,
        thread_id: UUID,
        run_id: UUID,
        task_ids: list[UUID],
        idempotency_key: str | None,
        request_hash: str,
        tenant: str,
    ) -> None:
        self.kind = kind
        self.input = input
        self.thread_id = thread_id
        self.run_id = run_id
        self.task_ids = list(task_ids)
        self.idempotency_key = idempotency_key
        self.request_hash = request_hash
        self.tenant = tenant

    @classmethod
    def submit(
        cls,
        *,
        id: UUID,
        kind: str,
        input: Any,
        queue: str,
        priority: int,
        max_attempts: int,
        not_before: datetime | None,
        thread_id: UUID,
        run_id: UUID,
        task_ids: list[UUID],
        idempotency_key: str | None,
        request_hash: str,
        ctx: EventContext,
        now: datetime,
    ) -> Command:
        return cls.start(
            CommandSubmitted,
            id=id,
            ctx=ctx,
            now=now,
            kind=kind,
            input=input,
            queue=queue,
            priority=priority,
            max_attempts=max_attempts,
            not_before=not_before,
            thread_id=thread_id,
            run_id=run_id,
            task_ids=task_ids,
            idempotency_key=idempotency_key,
            request_hash=request_hash,
        )
