"""The control registry: prompts, skills, tools, routing rules and arbiter policies.

Every change is a new version with its author and reason; activation and
rollback are events too, so the ledger says which version was in effect when.
"""

from __future__ import annotations

import hashlib
import string
import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

import msgspec
from msgspec import Meta, Struct

from domain.aggregate import Aggregate
from domain.envelope import AggregateCreated, AggregateEvent, EventContext
from domain.errors import DomainError, InvalidTransition, NotFound

__all__ = [
    "KINDS",
    "ArbiterPolicySpec",
    "ControlItem",
    "ControlItemActivated",
    "ControlItemRegistered",
    "ControlItemRolledBack",
    "ControlItemVersioned",
    "InvalidSpec",
    "PromptSpec",
    "RoutingRuleSpec",
    "SkillSpec",
    "ToolSpec",
    "control_item_id",
    "normalise_kind",
    "snapshot_hash",
    "validate_spec",
]

Name = Annotated[str, Meta(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$")]
Text = Annotated[str, Meta(max_length=20_000)]


class InvalidSpec(DomainError):
    code = "invalid_spec"


# -- specs, one per kind ------------------------------------------------------------


class PromptSpec(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A template; ``{name}`` placeholders are filled from the task's input."""

    template: Annotated[str, Meta(min_length=1, max_length=100_000)]
    variables: list[Name] = []
    description: Text = ""


class SkillSpec(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    description: Text
    prompts: list[Name] = []
    tools: list[Name] = []


class ToolSpec(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    description: Text
    json_schema: dict[str, Any]
    requires_approval: bool = False
    destructive: bool = False


class RouteTarget(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    provider: Name
    model: Annotated[str, Meta(min_length=1, max_length=200)]


class RouteMatch(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    task_kind: Name | None = None
    intent: Name | None = None
    tenant: Name | None = None


class RoutingRuleSpec(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    match: RouteMatch = RouteMatch()
    provider: Name
    model: Annotated[str, Meta(min_length=1, max_length=200)]
    fallbacks: list[RouteTarget] = []
    timeout_seconds: Annotated[float, Meta(gt=0, le=600)] = 60.0
    priority: int = 0  # among matching rules, the highest wins


class ArbiterPolicySpec(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    rule_confidence_threshold: Annotated[float, Meta(ge=0, le=1)] = 0.70
    max_tokens_per_run: Annotated[int, Meta(gt=0)] | None = None
    max_cost_usd_per_run: Annotated[float, Meta(gt=0)] | None = None
    tools_requiring_approval: list[Name] = []
    allow_destructive: bool = False


KINDS: dict[str, type[Struct]] = {
    "prompt": PromptSpec,
    "skill": SkillSpec,
    "tool": ToolSpec,
    "routing_rule": RoutingRuleSpec,
    "arbiter_policy": ArbiterPolicySpec,
}
_ALIASES = {
    "prompts": "prompt",
    "skills": "skill",
    "tools": "tool",
    "routing-rules": "routing_rule",
    "routing-rule": "routing_rule",
    "routing_rules": "routing_rule",
    "arbiter-policies": "arbiter_policy",
    "arbiter-policy": "arbiter_policy",
    "arbiter_policies": "arbiter_policy",
    "policies": "arbiter_policy",
}


def normalise_kind(kind: str) -> str:
    canonical = _ALIASES.get(kind, kind)
    if canonical not in KINDS:
        raise NotFound("control kind", kind)
    return canonical


def validate_spec(kind: str, spec: Any) -> dict[str, Any]:
    """The spec as stored (all fields, defaults filled), or InvalidSpec."""
    try:
        typed = msgspec.convert(spec, KINDS[kind])
    except msgspec.ValidationError as exc:
        raise InvalidSpec(f"invalid {kind}: {exc}") from None
    if isinstance(typed, PromptSpec):
        _check_placeholders(typed)
    if isinstance(typed, ToolSpec) and typed.json_schema.get("type") != "object":
        raise InvalidSpec('invalid tool: json_schema must describe an object ({"type": "object"})')
    stored: dict[str, Any] = msgspec.to_builtins(typed)
    return stored


def _check_placeholders(spec: PromptSpec) -> None:
    try:
        fields = {f for _, f, _, _ in string.Formatter().parse(spec.template) if f}
    except ValueError as exc:
        raise InvalidSpec(f"invalid prompt template: {exc}") from None
    bad = [f for f in fields if not f.isidentifier()]
    if bad:
        raise InvalidSpec(f"invalid prompt template: placeholders must be names, got {bad}")
    if spec.variables and not fields <= set(spec.variables):
        raise InvalidSpec(
            f"invalid prompt: template uses {sorted(fields - set(spec.variables))} "
            "which are not declared in variables"
        )


_NAMESPACE = uuid.UUID("0e2f3d5c-7a6b-4c1d-9e8f-a1b2c3d4e5f6")


def control_item_id(tenant: str, kind: str, name: str) -> UUID:
    return uuid.uuid5(_NAMESPACE, f"{tenant}\x00{kind}\x00{name}")


def snapshot_hash(items: Iterable[tuple[str, str, int, dict[str, Any]]]) -> str:
    """A digest of the effective registry: (kind, name, version, spec) of active items."""
    canonical = msgspec.json.encode(sorted(items, key=lambda i: (i[0], i[1])), order="sorted")
    return "sha256:" + hashlib.sha256(canonical).hexdigest()


# -- events ---------------------------------------------------------------------------


class ControlItemRegistered(AggregateCreated, frozen=True, kw_only=True):
    kind: str
    name: str

    def summary(self) -> str:
        return f"{self.kind} {self.name} registered"


class ControlItemVersioned(AggregateEvent, frozen=True, kw_only=True):
    kind: str = ""  # denormalised, for announcing changes by kind
    name: str = ""
    version: int
    spec: dict[str, Any]
    reason: str = ""

    def summary(self) -> str:
        return f"version {self.version} added" + (f": {self.reason}" if self.reason else "")


class ControlItemActivated(AggregateEvent, frozen=True, kw_only=True):
    kind: str = ""  # denormalised, for announcing changes by kind
    name: str = ""
    version: int
    reason: str = ""

    def summary(self) -> str:
        return f"version {self.version} activated"


class ControlItemRolledBack(AggregateEvent, frozen=True, kw_only=True):
    kind: str = ""  # denormalised, for announcing changes by kind
    name: str = ""
    from_version: int
    to_version: int
    reason: str = ""

    def summary(self) -> str:
        return f"rolled back from version {self.from_version} to {self.to_version}"


CONTROL_EVENTS = (
    ControlItemRegistered,
    ControlItemVersioned,
    ControlItemActivated,
    ControlItemRolledBack,
)
for _event in CONTROL_EVENTS:
    _event.aggregate_type = "ControlItem"


# -- the aggregate ----------------------------------------------------------------------


class ControlItem(Aggregate):
    def __init__(self, kind: str, name: str, tenant: str) -> None:
        self.kind = kind
        self.name = name
        self.tenant = tenant
        self.versions: dict[int, dict[str, Any]] = {}
        self.active_version: int | None = None
        # activations in order, for rollback (a rollback pops the current one)
        self.activations: list[int] = []

    @classmethod
    def register(
        cls, *, tenant: str, kind: str, name: str, ctx: EventContext, now: datetime
    ) -> ControlItem:
        return cls.start(
            ControlItemRegistered,
            id=control_item_id(tenant, kind, name),
            ctx=ctx,
            now=now,
            kind=kind,
            name=name,
        )

    @property
    def active_spec(self) -> dict[str, Any] | None:
        return None if self.active_version is None else self.versions[self.active_version]

    def add_version(self, spec: Any, *, reason: str, ctx: EventContext, now: datetime) -> int:
        stored = validate_spec(self.kind, spec)
        version = len(self.versions) + 1
        self.record(
            ControlItemVersioned, ctx=ctx, now=now, version=version, spec=stored, reason=reason
        )
        return version

    def activate(self, version: int, *, reason: str, ctx: EventContext, now: datetime) -> bool:
        """Make ``version`` the effective one; False if it already is."""
        if version not in self.versions:
            raise NotFound(f"{self.kind} {self.name} version", version)
        if version == self.active_version:
            return False
        self.record(
            ControlItemActivated,
            ctx=ctx,
            now=now,
            kind=self.kind,
            name=self.name,
            version=version,
            reason=reason,
        )
        return True

    def rollback(self, *, reason: str, ctx: EventContext, now: datetime) -> int:
        """Go back to the version that was active before the current one."""
        if len(self.activations) < 2 or self.active_version is None:
            raise InvalidTransition(f"{self.kind} {self.name} has no earlier version to go back to")
        previous = self.activations[-2]
        self.record(
            ControlItemRolledBack,
            ctx=ctx,
            now=now,
            from_version=self.active_version,
            to_version=previous,
            reason=reason,
        )
        return previous

    def when(self, event: AggregateEvent) -> None:
        match event:
            case ControlItemVersioned():
                self.versions[event.version] = event.spec
            case ControlItemActivated():
                self.active_version = event.version
                self.activations.append(event.version)
            case ControlItemRolledBack():
                self.activations.pop()
                self.active_version = event.to_version
