"""The built-in cluster tools as control-registry ``tool`` specs, and the checks every
call passes before it runs: its arguments against the tool's JSON schema, whether it
needs an approval, and whether it is refused outright.

The registry may describe a tool differently (an operator can add a version), but
it can only make a tool stricter: a write stays a write and a destructive call stays
destructive whatever a spec says, because the code that executes it knows better.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

import jsonschema
import msgspec
from jsonschema.protocols import Validator

from domain.control import ArbiterPolicySpec
from domain.tool_calls import (
    KIND_NAME,
    LABEL_NAME,
    LABEL_SELECTOR,
    OBJECT_NAME,
    ClusterTool,
    ToolCall,
    destroys,
)
from services.agents.ports import ClusterWriter

__all__ = [
    "BUILTIN_TOOLS",
    "MAX_LISTED_PODS",
    "MAX_TAIL_LINES",
    "WRITE_TOOLS",
    "is_destructive",
    "needs_approval",
    "refusal",
    "validate_call",
    "writer_refusal",
]

MAX_TAIL_LINES = 2000
MAX_LISTED_PODS = 200
# Kubernetes object names (RFC 1123 subdomain) and namespaces/containers (RFC 1123 label).
_NAME = {"type": "string", "maxLength": 253, "pattern": OBJECT_NAME}
_LABEL = {"type": "string", "maxLength": 63, "pattern": LABEL_NAME}
_KIND = {"type": "string", "maxLength": 63, "pattern": KIND_NAME}
_SELECTOR = {"type": "string", "maxLength": 1024, "pattern": LABEL_SELECTOR}
_CPU = {"type": "string", "pattern": r"^([0-9]+m|[0-9]+(\.[0-9]{1,3})?)$"}
_MEMORY = {"type": "string", "pattern": r"^[0-9]+(\.[0-9]+)?(Ki|Mi|Gi|Ti|k|M|G|T)?$"}
_RESOURCES = {
    "type": "object",
    "properties": {"cpu": _CPU, "memory": _MEMORY},
    "additionalProperties": False,
    "minProperties": 1,
}


def _args(required: dict[str, Any], optional: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {"namespace": _LABEL, **required, **(optional or {})},
        "required": ["namespace", *required],
        "additionalProperties": False,
    }


def _tool(description: str, schema: dict[str, Any], *, write: bool = False) -> dict[str, Any]:
    return {
        "description": description,
        "json_schema": schema,
        "requires_approval": write,
        "destructive": False,
    }


BUILTIN_TOOLS: dict[str, dict[str, Any]] = {
    ClusterTool.GET_POD.value: _tool(
        "A pod's phase, conditions, node and every container's state, restarts, image, "
        "resources and probes. Secrets by name only.",
        _args({"pod": _NAME}),
    ),
    ClusterTool.GET_POD_LOGS.value: _tool(
        "The last lines of a container's log (bounded); previous=true for the instance "
        "that crashed.",
        _args(
            {"pod": _NAME},
            {
                "container": _LABEL,
                "previous": {"type": "boolean"},
                "tail_lines": {"type": "integer", "minimum": 1, "maximum": MAX_TAIL_LINES},
            },
        ),
    ),
    ClusterTool.GET_EVENTS.value: _tool(
        "The events about one object (a Pod unless kind says otherwise), newest last.",
        _args({"name": _NAME}, {"kind": _KIND}),
    ),
    ClusterTool.ROLLOUT_STATUS.value: _tool(
        "Whether a Deployment's rollout is complete, as `kubectl rollout status` judges it.",
        _args({"deployment": _NAME}),
    ),
    ClusterTool.GET_ENDPOINTS.value: _tool(
        "A Service's selector and the pods behind it, ready and not ready.",
        _args({"service": _NAME}),
    ),
    ClusterTool.LIST_PODS.value: _tool(
        "Pods matching a label selector (all pods of the namespace without one), in short.",
        _args(
            {},
            {
                "label_selector": _SELECTOR,
                "limit": {"type": "integer", "minimum": 1, "maximum": MAX_LISTED_PODS},
            },
        ),
    ),
    ClusterTool.ROLLOUT_RESTART.value: _tool(
        "Restart a Deployment's pods with a rolling update, as `kubectl rollout restart`.",
        _args({"deployment": _NAME}),
        write=True,
    ),
    ClusterTool.SCALE_DEPLOYMENT.value: _tool(
        "Set a Deployment's replica count through its scale subresource. Scaling to 0 is "
        "destructive.",
        _args({"deployment": _NAME, "replicas": {"type": "integer", "minimum": 0}}),
        write=True,
    ),
    ClusterTool.PATCH_RESOURCES.value: _tool(
        "Set the CPU/memory requests and limits of one container of a Deployment (a new rollout).",
        _args(
            {"deployment": _NAME, "container": _LABEL},
            {"limits": _RESOURCES, "requests": _RESOURCES},
        )
        | {"anyOf": [{"required": ["limits"]}, {"required": ["requests"]}]},
        write=True,
    ),
    ClusterTool.DELETE_POD.value: _tool(
        "Delete a pod (its controller, if any, creates a new one).",
        _args({"pod": _NAME}),
        write=True,
    )
    | {"destructive": True},
}
WRITE_TOOLS = frozenset(name for name, spec in BUILTIN_TOOLS.items() if spec["requires_approval"])


def _policy(policy: ArbiterPolicySpec | Mapping[str, Any] | None) -> ArbiterPolicySpec:
    """The policy as its spec; one that does not decode counts as the default, which
    allows nothing destructive: a broken policy must never loosen a check."""
    if policy is None:
        return ArbiterPolicySpec()
    if isinstance(policy, ArbiterPolicySpec):
        return policy
    try:
        return msgspec.convert(dict(policy), ArbiterPolicySpec)
    except msgspec.ValidationError:
        return ArbiterPolicySpec()


@functools.lru_cache(maxsize=256)
def _validator(schema: bytes) -> Validator | str:
    """A checked validator per schema (checking a schema costs more than using it), or
    what is wrong with the schema."""
    document = msgspec.json.decode(schema)
    validator_class = jsonschema.validators.validator_for(document)
    try:
        validator_class.check_schema(document)
    except jsonschema.SchemaError as exc:
        return exc.message
    return validator_class(document)


def validate_call(call: ToolCall, spec: Mapping[str, Any]) -> str | None:
    """None if ``call.args`` fit the tool's JSON schema, else what is wrong, naming the
    argument (the message goes back to a model or an operator)."""
    schema = spec.get("json_schema")
    if not isinstance(schema, dict):
        return f"{call.tool}: the tool spec has no json_schema"
    validator = _validator(msgspec.json.encode(schema, order="sorted"))
    if isinstance(validator, str):
        return f"{call.tool}: the tool spec's json_schema is invalid: {validator}"
    errors = sorted(
        validator.iter_errors(call.args),
        key=lambda e: (list(e.absolute_path), e.message),
    )
    if not errors:
        return None
    problems = []
    for error in errors[:5]:
        where = ".".join(str(p) for p in error.absolute_path)
        message = error.message
        if error.validator in ("anyOf", "oneOf") and error.context:
            # "{...the whole arguments...} is not valid under any of the given schemas"
            # says nothing; the alternatives do ("'limits' is a required property").
            message = "needs one of: " + " | ".join(sorted({e.message for e in error.context}))
        problems.append(f"{where}: {message}" if where else message)
    return f"invalid arguments for {call.tool}: " + "; ".join(problems)


def is_destructive(call: ToolCall, spec: Mapping[str, Any] | None = None) -> bool:
    """The registry may mark more tools destructive; it cannot unmark ours."""
    builtin = BUILTIN_TOOLS.get(call.tool, {})
    return (
        destroys(call) or bool(builtin.get("destructive")) or bool((spec or {}).get("destructive"))
    )


def needs_approval(
    call: ToolCall,
    spec: Mapping[str, Any] | None,
    policy: ArbiterPolicySpec | Mapping[str, Any] | None,
    writes: frozenset[str],
) -> bool:
    """Whether a human must approve ``call`` first. ``writes`` is what the write client
    implements: a write needs approval even where a registry spec says it does not."""
    return (
        call.tool in writes
        or call.tool in WRITE_TOOLS
        or bool((spec or {}).get("requires_approval"))
        or call.tool in _policy(policy).tools_requiring_approval
        or is_destructive(call, spec)
    )


def refusal(
    call: ToolCall,
    spec: Mapping[str, Any] | None,
    policy: ArbiterPolicySpec | Mapping[str, Any] | None,
) -> str | None:
    """Why ``call`` must not run at all, whoever approves it, or None.

    Only a destructive call the arbiter policy does not allow is refused. Whether a
    write client exists is not decided here: a write is proposed, approved and only
    then executed, and the execution reports writes that are not enabled
    (``writer_refusal`` covers a write client that lacks the tool)."""
    if is_destructive(call, spec) and not _policy(policy).allow_destructive:
        return (
            f"refused: {call.tool} {_subject(call)} is destructive and the arbiter policy "
            "does not allow destructive tools (allow_destructive: false)"
        )
    return None


def writer_refusal(call: ToolCall, writer: ClusterWriter) -> str | None:
    """Why this write client cannot execute ``call``, or None; checked at execution."""
    if call.tool not in writer.write_tools():
        return f"refused: the write client does not implement {call.tool}"
    return None


def _subject(call: ToolCall) -> str:
    """What the call acts on, for messages: ``shop/checkout (replicas=0)``."""
    args = call.args
    name = args.get("deployment") or args.get("pod") or args.get("name") or ""
    where = f"{args.get('namespace', '')}/{name}".strip("/")
    if call.tool == ClusterTool.SCALE_DEPLOYMENT:
        where += f" (replicas={args.get('replicas')})"
    return where
