"""One module per family of root causes; each rule reads a ``RuleContext`` and returns
findings. ``RULES`` is the order they run in (the order does not rank them:
``domain.incidents.ranking`` does)."""

from __future__ import annotations

from collections.abc import Callable

from domain.incidents.context import RuleContext
from domain.incidents.findings import Finding
from domain.incidents.rules.eviction import evictions
from domain.incidents.rules.init_containers import init_container_failures
from domain.incidents.rules.nodes import unready_nodes
from domain.incidents.rules.quota import quota_rejections
from domain.incidents.rules.readiness import readiness_failures
from domain.incidents.rules.scheduling import scheduling_failures
from domain.incidents.rules.services import selector_mismatches
from domain.incidents.rules.storage import mount_failures, pending_claims
from domain.incidents.rules.terminations import container_terminations
from domain.incidents.rules.waiting import creation_failures, image_pull_failures

__all__ = ["RULES", "Rule"]

Rule = Callable[[RuleContext], list[Finding]]

RULES: tuple[Rule, ...] = (
    unready_nodes,
    quota_rejections,
    pending_claims,
    scheduling_failures,
    evictions,
    mount_failures,
    image_pull_failures,
    creation_failures,
    init_container_failures,
    container_terminations,
    readiness_failures,
    selector_mismatches,
)
