"""What every step of the chain does alike: keep JSON in the artifact store (recorded
with the completion), read it back, and add up model usage."""

from __future__ import annotations

from typing import Any, TypeVar

import msgspec

from domain.errors import NotFound
from schemas.artifacts import ArtifactRef
from schemas.commands import ProducedArtifact
from services.artifacts import ArtifactError, ArtifactStore
from services.task_kinds import TaskContext, TaskError

__all__ = ["add_usage", "load_json", "store_json"]

T = TypeVar("T")
_JSON = "application/json"


async def store_json(store: ArtifactStore, ctx: TaskContext, name: str, value: Any) -> ArtifactRef:
    """Store ``value`` as JSON and record it as one of this task's artifacts."""
    try:
        ref = await store.put(msgspec.json.encode(value), _JSON)
    except ArtifactError as exc:
        raise TaskError(f"cannot store {name}: {exc}") from None  # retried
    ctx.artifacts.append(
        ProducedArtifact(name=name, digest=ref.digest, size=ref.size, content_type=_JSON)
    )
    return ref


async def load_json(store: ArtifactStore, ref: ArtifactRef, kind: type[T], what: str) -> T:
    try:
        data = await store.get(ref)
    except ArtifactError as exc:
        raise TaskError(f"cannot read the {what} ({ref.digest}): {exc}") from None
    except NotFound as exc:
        raise TaskError(
            f"the {what} ({ref.digest}) is not stored: {exc}", retryable=False
        ) from None
    try:
        return msgspec.json.decode(data, type=kind)
    except msgspec.DecodeError as exc:
        raise TaskError(f"the {what} ({ref.digest}) is malformed: {exc}", retryable=False) from None


def add_usage(ctx: TaskContext, usage: dict[str, Any] | None) -> None:
    """Sum token counts into the task's usage (a step may call models more than once)."""
    if not usage:
        return
    total = dict(ctx.usage or {})
    for key, value in usage.items():
        if isinstance(value, int | float) and not isinstance(value, bool):
            total[key] = total.get(key, 0) + value
        else:
            total.setdefault(key, value)
    ctx.usage = total
