"""What the agent pack reads from a control snapshot: the tools it may call and the
arbiter policy in effect."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from services.agents.tool_catalog import BUILTIN_TOOLS

__all__ = ["active_policy", "available_tools"]


def available_tools(snapshot: Any) -> dict[str, Mapping[str, Any]]:
    """The built-in tools, with the control registry's active versions over them."""
    tools: dict[str, Mapping[str, Any]] = dict(BUILTIN_TOOLS)
    items = snapshot.items.get("tool", {}) if snapshot is not None else {}
    for name, item in items.items():
        tools[name] = item["spec"]
    return tools


def active_policy(snapshot: Any) -> dict[str, Any]:
    """The spec of the arbiter policy in effect: ``default``, else the first by name;
    empty without one."""
    items = snapshot.items.get("arbiter_policy", {}) if snapshot is not None else {}
    if not items:
        return {}
    chosen = items.get("default") or items[min(items)]
    return dict(chosen["spec"])
