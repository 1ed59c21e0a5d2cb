"""What an incident report is about, in names a tool call can use: the affected pod
and container, the Deployment behind them, the Services a connection error names,
the claims a pod waits for. Read from the report's evidence and, where it was
kept, from the evidence package (which knows what the report does not quote)."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from domain.incidents.cluster import ServiceEvidence, WorkloadEvidence
from domain.incidents.facts import labels_text
from domain.incidents.log_signals import TAIL_LINES, connection_error, dependency_host
from domain.incidents.package import EvidencePackage
from domain.incidents.pods import ContainerEvidence
from domain.tool_calls import is_object_name

__all__ = ["IncidentSubject"]

# "pod web-1 container web", "pod web-1 init container migrate", "kubectl logs web-1 -c web"
_CONTAINER_LINE = re.compile(r"\bpod (\S+) (?:init )?container ([a-z0-9][-a-z0-9]*)")
_LOGS_LINE = re.compile(r"\bkubectl logs (\S+) -c ([a-z0-9][-a-z0-9]*)")
_SERVICE_LINE = re.compile(r"\b(?:Service|Endpoints) (?!named\b)([a-z0-9][-a-z0-9.]*[a-z0-9])\b")
# In-cluster DNS names (``db.other-ns.svc``) and hosts a resolver could not find.
_SERVICE_DNS = re.compile(r"\b([a-z0-9][-a-z0-9]*)\.([a-z0-9][-a-z0-9]*)\.svc\b")
_UNKNOWN_HOST = re.compile(r"ENOTFOUND ([\w.-]+)|UnknownHostException: ([\w.-]+)")
_CLAIM_LINE = re.compile(r"\bPersistentVolumeClaim ([a-z0-9][-a-z0-9.]*[a-z0-9])\b")
_APP_LABELS = ("app", "app.kubernetes.io/name", "app.kubernetes.io/instance", "k8s-app", "name")


class IncidentSubject:
    """The report's names, with the package's where it was kept."""

    def __init__(self, report: Mapping[str, Any], package: EvidencePackage | None) -> None:
        root = report.get("root_cause") or {}
        self.namespace = str(report.get("namespace") or (package.namespace if package else ""))
        self.target = str(report.get("target") or "")
        self.evidence = tuple(str(line) for line in root.get("evidence") or ())
        self.pods = tuple(str(p) for p in report.get("affected_pods") or () if is_object_name(p))
        self.package = package
        self.pod = package.pod(self.pods[0]) if package and self.pods else None
        self.pod_name = self.pods[0] if self.pods else None

    def container(self, fits: Callable[[ContainerEvidence], bool] = bool) -> str | None:
        """The container the evidence names for the first pod, else the package's first
        that ``fits``, else its only app container."""
        for line in self.evidence:
            for pattern in (_CONTAINER_LINE, _LOGS_LINE):
                match = pattern.search(line)
                if match is not None and match.group(1) == self.pod_name:
                    return match.group(2)
        if self.pod is None:
            return None
        chosen = next((c for c in self.pod.containers if fits(c)), None)
        if chosen is None and len(self.pod.app_containers) == 1:
            chosen = self.pod.app_containers[0]
        return chosen.name if chosen is not None else None

    def container_evidence(self, name: str | None) -> ContainerEvidence | None:
        if self.pod is None or name is None:
            return None
        return next((c for c in self.pod.containers if c.name == name), None)

    def deployment(self) -> str | None:
        """The Deployment behind the affected pods, or the target when it is one."""
        if self.pod is not None and self.pod.workload is not None:
            workload = self.pod.workload
            return workload.name if workload.kind == "Deployment" else None
        if self.package is not None and self.package.workload("Deployment", self.target):
            return self.target
        return None

    def services(self) -> list[tuple[str, str]]:
        """(namespace, Service) named by the evidence (a quoted Service or Endpoints) or
        by a connection error in it or in the failing containers' log tails."""
        found: list[tuple[str, str]] = []
        for line in self.evidence:
            if (match := _SERVICE_LINE.search(line)) is not None:
                found.append((self.namespace, match.group(1)))
        for line in [*self.evidence, *self._log_tails()]:
            if not connection_error(line):
                continue
            found += [(ns, name) for name, ns in _SERVICE_DNS.findall(line)]
            hosts = [dependency_host(line)[0]]
            if (unknown := _UNKNOWN_HOST.search(line)) is not None:
                hosts.append(unknown.group(1) or unknown.group(2))
            for host in hosts:
                found.extend(self._service_of_host(host))
        return list(dict.fromkeys(found))

    def _log_tails(self) -> list[str]:
        """The last lines of each log of the first pod, newest first."""
        lines: list[str] = []
        for container in self.pod.containers if self.pod is not None else ():
            for log in container.logs():
                lines += reversed(log.lines()[-TAIL_LINES:])
        return lines

    def _service_of_host(self, host: str) -> list[tuple[str, str]]:
        """``db`` and ``db.<this namespace>`` are Services here, ``db.other.svc[...]`` one
        in ``other``, a ClusterIP the Service that has it; other hosts are not ours."""
        if not host:
            return []
        if self.package is not None:
            by_ip = next((s for s in self.package.services if s.cluster_ip == host), None)
            if by_ip is not None:
                return [(self.namespace, by_ip.name)]
        labels = host.split(".")
        if len(labels) == 1 or (len(labels) == 2 and labels[1] == self.namespace):
            return [] if labels[0].isdigit() else [(self.namespace, labels[0])]
        if len(labels) >= 3 and labels[2] == "svc":
            return [(labels[1], labels[0])]
        return []

    def service(self, name: str) -> ServiceEvidence | None:
        return self.package.service(name) if self.package is not None else None

    def backing_deployments(self, service: ServiceEvidence) -> list[WorkloadEvidence]:
        """Deployments whose pods the Service selects."""
        if self.package is None or not service.selector:
            return []
        selector = service.selector.items()
        return [
            w
            for w in self.package.workloads
            if w.kind == "Deployment"
            and (labels := w.template_labels or w.selector)
            and selector <= labels.items()
        ]

    def selector(self) -> str | None:
        """A label selector for the affected pods and their siblings: their controller's
        selector, else their app labels (never a hash that names one pod or revision)."""
        pod = self.pod
        if pod is None:
            return None
        workload = pod.workload
        if self.package is not None and workload is not None:
            found = self.package.workload(workload.kind, workload.name)
            if found is not None and found.selector:
                return labels_text(found.selector)
        labels = {k: pod.labels[k] for k in _APP_LABELS if pod.labels.get(k)}
        return labels_text(labels) or None

    def crash_looping(self) -> bool:
        return self.pod is not None and any(
            c.restart_count > 0 or c.state.reason == "CrashLoopBackOff"
            for c in self.pod.app_containers
        )

    def siblings_serve(self) -> bool:
        """Other pods of the same ReplicaSet (the same template) run and are Ready: what
        kills the affected ones is not in the image or the configuration."""
        if self.package is None or self.pod is None or self.pod.owner is None:
            return False
        return any(
            p.owner == self.pod.owner and p.name not in self.pods and p.is_ready
            for p in self.package.pods
        )

    def claims(self) -> list[str]:
        """The PersistentVolumeClaims the evidence quotes or the first pod mounts."""
        claims = [m.group(1) for line in self.evidence if (m := _CLAIM_LINE.search(line))]
        if self.pod is not None:
            claims += [v.source for v in self.pod.volumes if v.kind == "persistentVolumeClaim"]
        return list(dict.fromkeys(claims))

    def node(self) -> str | None:
        return (self.pod.node_name or None) if self.pod is not None else None
