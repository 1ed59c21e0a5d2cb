"""The projections synaps runs, by name."""

from __future__ import annotations

from projections.approvals import ApprovalsProjection
from projections.artifacts import ArtifactsProjection
from projections.audit import AuditLogProjection, AuditSealProjection
from projections.control import ControlProjection
from projections.incidents import IncidentsProjection
from projections.processor import Processor
from projections.runs import RunsProjection

__all__ = ["INLINE", "processors"]

# Written in the same statement as the events (no processor, never behind).
INLINE = ("queue",)


def processors() -> list[Processor]:
    return [
        RunsProjection(),
        AuditLogProjection(),
        AuditSealProjection(),
        ControlProjection(),
        ArtifactsProjection(),
        ApprovalsProjection(),
        IncidentsProjection(),
    ]
