"""The artifacts read model: every version of every artifact, by run."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

import msgspec
import psycopg

from domain.artifact import ArtifactVersionAdded
from projections.processor import Changes, Entry, Tables

__all__ = ["ArtifactRow", "ArtifactsProjection"]

_encode = msgspec.json.Encoder().encode


class ArtifactRow(msgspec.Struct, kw_only=True):
    artifact_id: UUID
    version: int
    tenant: str
    run_id: UUID
    task_id: UUID | None
    name: str
    digest: str
    size: int
    content_type: str
    created_at: datetime
    position: int


class ArtifactsProjection:
    name = "artifacts"
    tables: tuple[str, ...] = ("synaps_artifacts",)
    topics: tuple[str, ...] | None = ArtifactVersionAdded.stored_topics()
    decodes = True

    def apply(self, cur: psycopg.Cursor[Any], entries: Sequence[Entry], tables: Tables) -> Changes:
        table = tables["synaps_artifacts"]
        rows = []
        changes = Changes()
        for entry in entries:
            e = entry.event
            assert isinstance(e, ArtifactVersionAdded)
            assert e.run_id is not None
            rows.append(
                ArtifactRow(
                    artifact_id=e.originator_id,
                    version=e.version,
                    tenant=e.tenant,
                    run_id=e.run_id,
                    task_id=e.task_id,
                    name=e.name,
                    digest=e.digest,
                    size=e.size,
                    content_type=e.content_type,
                    created_at=e.timestamp,
                    position=entry.position,
                )
            )
            changes.add("artifacts", e.originator_id)
            changes.add("runs", e.run_id)
        cur.execute(
            f"INSERT INTO {table} SELECT * FROM json_populate_recordset(NULL::{table}, %s::json)"
            " ON CONFLICT DO NOTHING",
            (_encode(rows).decode(),),
        )
        return changes
