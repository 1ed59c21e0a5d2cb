"""An Artifact: a named output of a run (evidence, a report, a model answer).

Its content lives in the artifact store, addressed by SHA-256; the ledger
records each version, so what a task produced is part of the audit trail.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from uuid import UUID

from domain.aggregate import Aggregate
from domain.envelope import AggregateCreated, AggregateEvent, EventContext

__all__ = ["Artifact", "ArtifactRegistered", "ArtifactVersionAdded", "artifact_id"]

_NAMESPACE = uuid.UUID("4f8d2a61-3b7c-4e9a-8d15-2c6b9e0f7a34")


def artifact_id(run_id: UUID, name: str) -> UUID:
    """The same name in the same run is the same artifact (retries add versions)."""
    return uuid.uuid5(_NAMESPACE, f"{run_id}\x00{name}")


class ArtifactRegistered(AggregateCreated, frozen=True, kw_only=True):
    name: str
    run_id: UUID

    def summary(self) -> str:
        return f"artifact {self.name} registered"


class ArtifactVersionAdded(AggregateEvent, frozen=True, kw_only=True):
    version: int
    digest: str
    size: int
    content_type: str
    task_id: UUID | None = None
    attempt: int | None = None
    name: str = ""
    run_id: UUID | None = None

    def summary(self) -> str:
        return f"artifact {self.name} version {self.version} ({self.size} bytes)"


for _event in (ArtifactRegistered, ArtifactVersionAdded):
    _event.aggregate_type = "Artifact"


class Artifact(Aggregate):
    def __init__(self, name: str, run_id: UUID, tenant: str) -> None:
        self.name = name
        self.run_id = run_id
        self.tenant = tenant
        self.versions: list[ArtifactVersionAdded] = []

    @classmethod
    def register(cls, *, run_id: UUID, name: str, ctx: EventContext, now: datetime) -> Artifact:
        return cls.start(
            ArtifactRegistered,
            id=artifact_id(run_id, name),
            ctx=ctx,
            now=now,
            name=name,
            run_id=run_id,
        )

    def add_version(
        self,
        *,
        digest: str,
        size: int,
        content_type: str,
        task_id: UUID | None,
        attempt: int | None,
        ctx: EventContext,
        now: datetime,
    ) -> int:
        version = len(self.versions) + 1
        self.record(
            ArtifactVersionAdded,
            ctx=ctx,
            now=now,
            version=version,
            digest=digest,
            size=size,
            content_type=content_type,
            task_id=task_id,
            attempt=attempt,
            name=self.name,
            run_id=self.run_id,
        )
        return version

    def when(self, event: AggregateEvent) -> None:
        if isinstance(event, ArtifactVersionAdded):
            self.versions.append(event)
