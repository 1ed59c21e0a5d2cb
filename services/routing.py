"""Which provider and model serve a task: the routing rules of the control registry."""

from __future__ import annotations

from typing import Any

import msgspec

__all__ = ["DEFAULT_ROUTE", "RouteChoice", "choose_route"]


class RouteChoice(msgspec.Struct, frozen=True, kw_only=True):
    steps: list[tuple[str, str]]  # (provider, model): the first, then fallbacks
    timeout_seconds: float
    rule: str | None  # the routing rule that matched; None: the default route


# With no matching rule, the offline provider answers (it needs no key).
DEFAULT_ROUTE = RouteChoice(steps=[("local", "local")], timeout_seconds=60.0, rule=None)


def choose_route(
    snapshot: Any, *, task_kind: str, tenant: str, intent: str | None = None
) -> RouteChoice:
    """The highest-priority active rule whose match fits (unset fields match anything)."""
    rules = (snapshot.items.get("routing_rule", {}) if snapshot is not None else {}).items()
    facts = {"task_kind": task_kind, "intent": intent, "tenant": tenant}
    matching = [
        (name, item["spec"])
        for name, item in rules
        if all(v is None or facts.get(k) == v for k, v in item["spec"]["match"].items())
    ]
    if not matching:
        return DEFAULT_ROUTE
    name, spec = min(matching, key=lambda rule: (-rule[1]["priority"], rule[0]))
    return RouteChoice(
        steps=[(spec["provider"], spec["model"])]
        + [(f["provider"], f["model"]) for f in spec["fallbacks"]],
        timeout_seconds=spec["timeout_seconds"],
        rule=name,
    )
