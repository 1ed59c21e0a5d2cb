"""The inputs of the agent pack's command kinds, checked when the command is submitted
(a bad one is a 422 and writes nothing) and again by the step that reads it."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec

from schemas.artifacts import ArtifactRef

__all__ = ["COMMAND_INPUTS", "AskInput", "DiagnoseInput", "check_input"]

_Text = Annotated[str, msgspec.Meta(min_length=1, max_length=4000)]
_Name = Annotated[
    str, msgspec.Meta(min_length=1, max_length=253, pattern=r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")
]


class AskInput(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """``agent.ask``: a free question (``prompt`` is what the Syntra CLI sends)."""

    question: _Text | None = None
    prompt: _Text | None = None
    context: Any = None
    namespace: _Name | None = None
    workload: _Name | None = None
    evidence: ArtifactRef | None = None  # an uploaded evidence package (synaps ask --dump)

    @property
    def text(self) -> str:
        return (self.question or self.prompt or "").strip()


class DiagnoseInput(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """``incident.diagnose``: an explicit namespace and workload."""

    namespace: _Name
    workload: _Name
    question: _Text | None = None
    evidence: ArtifactRef | None = None


COMMAND_INPUTS: dict[str, type[msgspec.Struct]] = {
    "agent.ask": AskInput,
    "incident.diagnose": DiagnoseInput,
}


def check_input(kind: str, value: Any) -> str | None:
    """Why ``value`` is not a valid input of ``kind`` (None: it is, or kind is free-form)."""
    shape = COMMAND_INPUTS.get(kind)
    if shape is None:
        return None
    try:
        parsed = msgspec.convert(value, shape)
    except msgspec.ValidationError as exc:
        return f"invalid {kind} input: {exc}"
    if isinstance(parsed, AskInput) and not parsed.text:
        return f'{kind} needs a "question" (or "prompt")'
    return None
