"""What every rule needs to look at: the package, the pods in scope, and "now"."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from domain.incidents.cluster import KubeEvent, NodeEvidence
from domain.incidents.package import EvidencePackage
from domain.incidents.pods import ContainerEvidence, PodEvidence
from domain.incidents.scope import Scope
from domain.incidents.timeline import RECENT, is_recent, reference_time

__all__ = ["RuleContext"]

_FIELD_CONTAINER = re.compile(r"\{([^}]+)\}")
_EVENT_SLACK = timedelta(minutes=2)


class RuleContext:
    def __init__(self, package: EvidencePackage, scope: Scope) -> None:
        self.package = package
        self.scope = scope
        self.now = reference_time(package)
        names = set(scope.pods)
        self.pods = [p for p in package.pods if p.name in names]

    def recent(self, moment: datetime | None, window: timedelta = RECENT) -> bool:
        return is_recent(moment, self.now, window)

    def pod_events(
        self, pod: PodEvidence, *reasons: str, container: ContainerEvidence | None = None
    ) -> list[KubeEvent]:
        """Events about a pod (optionally one container), newest last, still current."""
        found = []
        for event in self.package.events_about("Pod", pod.name):
            if reasons and event.reason not in reasons:
                continue
            if container is not None and event.field_path:
                named = _FIELD_CONTAINER.search(event.field_path)
                if named and named.group(1) != container.name:
                    continue
            if self.recent(event.last_seen):
                found.append(event)
        return found

    def node_of(self, pod: PodEvidence) -> NodeEvidence | None:
        return self.package.node(pod.node_name) if pod.node_name else None

    def restarted_within_the_hour(self, container: ContainerEvidence) -> bool:
        """Its last restart is recent by the timestamps alone."""
        if container.restart_count == 0:
            return False
        return self.recent(container.last_state.finished_at or container.state.started_at)

    def restarted_recently(self, pod: PodEvidence, container: ContainerEvidence) -> bool:
        """A restart within the last hour, corroborated.

        In a dump the newest timestamp may be the restart itself, which would make
        any old restart look fresh. So ask for something later than the restart: a
        live collector's clock, a newer time stamp in the package (a log line), or
        the events a recent restart leaves (Pulled/Started/BackOff live an hour).
        """
        if not self.restarted_within_the_hour(container):
            return False
        moment = container.last_state.finished_at or container.state.started_at
        if self.package.collected_at is not None or moment is None:
            return True
        if self.now is not None and self.now - moment >= _EVENT_SLACK:
            return True
        return any(
            e.last_seen is None or e.last_seen >= moment - _EVENT_SLACK
            for e in self.package.events_about("Pod", pod.name)
        )
