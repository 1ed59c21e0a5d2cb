"""Request bodies: the commands callers send."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

import msgspec
from msgspec import Meta, Struct

__all__ = [
    "CancelRun",
    "ClaimTasks",
    "CompleteTask",
    "FailTask",
    "Name",
    "NeedsApproval",
    "NextStep",
    "NextTask",
    "ProducedArtifact",
    "RenewLease",
    "SubmitCommand",
]

Name = Annotated[
    str,
    Meta(
        min_length=1,
        max_length=128,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$",
        description="letters, digits and _ . : - (starting with a letter or digit)",
    ),
]
Attempt = Annotated[int, Meta(ge=1, description="the attempt the caller holds (fencing token)")]
LeaseSeconds = Annotated[float, Meta(gt=0, le=86400)]


class SubmitCommand(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Ask synaps to run a command of ``kind`` with ``input``."""

    kind: Name
    input: Any = None
    queue: Name = "default"
    priority: Annotated[int, Meta(ge=-1000, le=1000, description="higher runs first")] = 0
    thread_id: UUID | None = None
    max_attempts: Annotated[int, Meta(ge=1, le=100)] = 3
    not_before: Annotated[datetime, Meta(tz=True)] | None = None

    def request_hash(self) -> str:
        """A digest of the request, for telling an idempotent replay from a new request."""
        return hashlib.sha256(msgspec.json.encode(self, order="sorted")).hexdigest()


class ClaimTasks(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    worker_id: Name
    queues: Annotated[list[Name], Meta(min_length=1, max_length=50)] = msgspec.field(
        default_factory=lambda: ["default"]
    )
    max_tasks: Annotated[int, Meta(ge=1, le=1000)] = 1
    lease_seconds: LeaseSeconds = 30.0


class RenewLease(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    task_id: UUID
    attempt: Attempt
    lease_seconds: LeaseSeconds = 30.0


class ProducedArtifact(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """An output stored in the artifact store, to record with the completion."""

    name: Name
    digest: Annotated[str, Meta(pattern=r"^sha256:[0-9a-f]{64}$")]
    size: Annotated[int, Meta(ge=0)]
    content_type: Annotated[str, Meta(min_length=1, max_length=255)] = "application/octet-stream"


class NextStep(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A task to queue in the same run."""

    kind: Name
    input: Any = None
    queue: Name | None = None  # default: the queue of the task that queues it
    priority: Annotated[int, Meta(ge=-1000, le=1000)] = 0
    max_attempts: Annotated[int, Meta(ge=1, le=100)] = 3


class NeedsApproval(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The next step is held until a person approves these tool calls."""

    tool_calls: Annotated[list[dict[str, Any]], Meta(min_length=1, max_length=50)]
    summary: Annotated[str, Meta(max_length=20_000)] = ""
    evidence: Annotated[list[str], Meta(max_length=200)] = []
    on_denied: NextStep | None = None  # queued instead when denied


class NextTask(NextStep, frozen=True, kw_only=True, forbid_unknown_fields=True):
    approval: NeedsApproval | None = None


class CompleteTask(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    task_id: UUID
    attempt: Attempt
    output: Any = None
    control_hash: Annotated[str, Meta(max_length=100)] | None = None
    usage: dict[str, Any] | None = None
    artifacts: Annotated[list[ProducedArtifact], Meta(max_length=100)] = []
    next: Annotated[list[NextTask], Meta(max_length=20)] = []  # the run's next steps


class FailTask(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    task_id: UUID
    attempt: Attempt
    error: Annotated[str, Meta(min_length=1, max_length=20000)]
    retryable: bool = True
    control_hash: Annotated[str, Meta(max_length=100)] | None = None


class CancelRun(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    reason: Annotated[str, Meta(max_length=2000)] = ""
