"""A call of a tool, and the names of the built-in cluster tools.

The call lives in the domain because the remediation rules (pure) propose
calls and the approval records them; the tools that run them are adapters.
Which calls destroy something is a domain rule too, so the proposer, the
policy check and the write client all read the same answer.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Any

from msgspec import Struct, field

__all__ = [
    "KIND_NAME",
    "LABEL_NAME",
    "LABEL_SELECTOR",
    "OBJECT_NAME",
    "WRITES",
    "ClusterTool",
    "ToolCall",
    "destroys",
    "is_kind_name",
    "is_label_name",
    "is_label_selector",
    "is_object_name",
]

# What the API server accepts, so a call is judged before it is sent (the tools' JSON
# schemas use the same patterns): most objects are named as RFC 1123 subdomains,
# namespaces and containers as RFC 1123 labels; kinds are CamelCase; label selectors
# are equality- or set-based expressions.
OBJECT_NAME = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
LABEL_NAME = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
KIND_NAME = r"^[A-Z][A-Za-z0-9]*$"
LABEL_SELECTOR = r"^[A-Za-z0-9_./,=!() -]*$"
_OBJECT_NAME = re.compile(OBJECT_NAME)
_LABEL_NAME = re.compile(LABEL_NAME)
_KIND_NAME = re.compile(KIND_NAME)
_LABEL_SELECTOR = re.compile(LABEL_SELECTOR)


class ClusterTool(StrEnum):
    """The built-in Kubernetes tools (their specs: ``services.agents.tool_catalog``)."""

    # read-only
    GET_POD = "get_pod"
    GET_POD_LOGS = "get_pod_logs"
    GET_EVENTS = "get_events"
    ROLLOUT_STATUS = "rollout_status"
    GET_ENDPOINTS = "get_endpoints"
    LIST_PODS = "list_pods"
    # writes: only after an approval, through the separately enabled write client
    ROLLOUT_RESTART = "rollout_restart"
    SCALE_DEPLOYMENT = "scale_deployment"
    PATCH_RESOURCES = "patch_resources"
    DELETE_POD = "delete_pod"


WRITES = frozenset(
    {
        ClusterTool.ROLLOUT_RESTART,
        ClusterTool.SCALE_DEPLOYMENT,
        ClusterTool.PATCH_RESOURCES,
        ClusterTool.DELETE_POD,
    }
)


class ToolCall(Struct, frozen=True, kw_only=True):
    """One call of a tool of the control registry, e.g.
    ``{"tool": "rollout_restart", "args": {"namespace": "shop", "deployment": "checkout"}}``."""

    tool: str
    args: dict[str, Any] = field(default_factory=dict)
    reason: str = ""  # why the DevOps step proposes it


def destroys(call: ToolCall) -> bool:
    """Deleting a pod, or scaling a Deployment to zero, takes something away that a
    restart or a scale-up would not: both are refused unless a policy allows them."""
    if call.tool == ClusterTool.DELETE_POD:
        return True
    if call.tool == ClusterTool.SCALE_DEPLOYMENT:
        replicas = call.args.get("replicas")
        # Anything that is not a positive count is treated as zero: never guess upwards.
        return not (isinstance(replicas, int) and not isinstance(replicas, bool) and replicas > 0)
    return False


def is_object_name(text: object) -> bool:
    return isinstance(text, str) and len(text) <= 253 and _OBJECT_NAME.fullmatch(text) is not None


def is_label_name(text: object) -> bool:
    return isinstance(text, str) and len(text) <= 63 and _LABEL_NAME.fullmatch(text) is not None


def is_kind_name(text: object) -> bool:
    return isinstance(text, str) and len(text) <= 63 and _KIND_NAME.fullmatch(text) is not None


def is_label_selector(text: object) -> bool:
    return (
        isinstance(text, str) and len(text) <= 1024 and _LABEL_SELECTOR.fullmatch(text) is not None
    )
