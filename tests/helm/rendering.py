"""Render the synaps chart offline with real Helm, validate it, audit its security.

Helm is Helm v4 as a shared library (the ``helm-python-sdk`` wheel, import ``helm_python``):
the same template engine, values coalescing and ``values.schema.json`` check as
``helm template``, without a binary or a cluster. Every rendered object is validated
against the Kubernetes OpenAPI schemas shipped by ``kubernetes-validate`` (strict: unknown
fields are errors), for the oldest Kubernetes the chart supports and the one Helm renders for.

``python -m tests.helm.rendering`` (``make helm-check``) renders the default and the
production values into build/helm/ and reports every problem it finds.
"""

from __future__ import annotations

import base64
import copy
import re
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import helm_python as helm
import kubernetes_validate
import yaml

ROOT = Path(__file__).resolve().parents[2]
CHART_DIR = ROOT / "helm" / "synaps"
PRODUCTION_VALUES = CHART_DIR / "values-production.yaml"
# The chart's kubeVersion floor, and the version Helm 4 reports offline.
KUBE_VERSIONS = ("1.29.0", "1.36.0")

RELEASE = "synaps"
NAMESPACE = "synaps"

READ_VERBS = frozenset({"get", "list", "watch"})
WORKER_READ_RESOURCES = {
    "": {"pods", "pods/log", "events"},
    "apps": {"replicasets", "deployments"},
}
# Variables that carry credentials: never a literal value, always a secretKeyRef.
SECRET_ENV_NAMES = frozenset(
    {
        "SYNAPS_DATABASE_URL",
        "SYNAPS_BOOTSTRAP_ADMIN_KEY",
        "ANTHROPIC_API_KEY",
        "OPENAI_API_KEY",
        "MOONSHOT_API_KEY",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_ENDPOINT_URL",
        "PGPASSWORD",
        "POSTGRES_PASSWORD",
    }
)
SECRET_LIKE_NAME = re.compile(r"KEY|SECRET|PASSWORD|PASSWD|TOKEN|CREDENTIAL|DATABASE_URL")
SECRET_LIKE_VALUE = re.compile(r"sk_(live|test|admin)_|sk-|://[^/@\s]+:[^/@\s]+@")
POD_KINDS = {"Deployment", "StatefulSet", "Job", "DaemonSet"}


@dataclass(frozen=True)
class Rendering:
    """One offline render: the objects (with the template each came from) and NOTES.txt."""

    objects: list[dict[str, Any]]
    sources: list[str]
    notes: str
    values: dict[str, Any] = field(default_factory=dict)

    def of_kind(self, kind: str) -> list[dict[str, Any]]:
        return [o for o in self.objects if o["kind"] == kind]

    def get(self, kind: str, name: str) -> dict[str, Any]:
        for o in self.objects:
            if o["kind"] == kind and o["metadata"]["name"] == name:
                return o
        raise KeyError(f"no {kind}/{name} in the rendering")

    def has(self, kind: str, name: str) -> bool:
        return any(o["kind"] == kind and o["metadata"]["name"] == name for o in self.objects)

    def mutated(self) -> Rendering:
        """A deep copy to break on purpose (tests prove the audits catch breakage)."""
        return Rendering(copy.deepcopy(self.objects), list(self.sources), self.notes, self.values)

    def to_yaml(self) -> str:
        parts = [
            f"# Source: {source}\n" + yaml.safe_dump(obj, sort_keys=False)
            for obj, source in zip(self.objects, self.sources, strict=True)
        ]
        return "---\n".join(parts)


def load_values(path: Path) -> dict[str, Any]:
    """Parse a values file the way ``helm -f`` does."""
    return helm.values_from_yaml(path.read_text(encoding="utf-8"))


def render(
    values: dict[str, Any] | None = None,
    *,
    release: str = RELEASE,
    namespace: str = NAMESPACE,
    upgrade: bool = False,
) -> Rendering:
    """Render the chart like ``helm template``; raises helm_python.HelmError on bad values."""
    with helm.Chart.load(CHART_DIR) as chart:
        files = chart.render(
            values or {},
            name=release,
            namespace=namespace,
            is_install=not upgrade,
            is_upgrade=upgrade,
        )
        merged = chart.merge_values(values or {})
    objects: list[dict[str, Any]] = []
    sources: list[str] = []
    notes = ""
    for path in sorted(files):
        if path.endswith("NOTES.txt"):
            notes = files[path]
            continue
        for doc in yaml.safe_load_all(files[path]):
            if doc:
                objects.append(doc)
                sources.append(path)
    return Rendering(objects, sources, notes, merged)


def lint(values: dict[str, Any] | None = None) -> list[str]:
    """``helm lint --strict``: warnings and errors (not the info-level advice)."""
    report = helm.lint(CHART_DIR, values or {}, strict=True, namespace=NAMESPACE)
    return [
        f"lint {m['path']}: {m['error'].strip()}" for m in report["messages"] if m["severity"] >= 2
    ]


# -- Kubernetes schemas ----------------------------------------------------------------


def validate_kubernetes(rendering: Rendering, versions: Iterable[str] = KUBE_VERSIONS) -> list[str]:
    """Every object against the Kubernetes OpenAPI schema of each version (strict)."""
    problems = []
    for obj in rendering.objects:
        label = f"{obj.get('kind')}/{obj.get('metadata', {}).get('name')}"
        for version in versions:
            try:
                kubernetes_validate.validate(obj, version, strict=True)
            except kubernetes_validate.ValidationError as exc:
                where = ".".join(str(p) for p in exc.path)
                problems.append(f"{label} (Kubernetes {version}): {where}: {exc.message}")
            except kubernetes_validate.SchemaNotFoundError as exc:
                problems.append(f"{label} (Kubernetes {version}): {exc.message}")
    return problems


# -- security audit ---------------------------------------------------------------------


def pod_specs(rendering: Rendering) -> Iterator[tuple[str, dict[str, Any]]]:
    for obj in rendering.objects:
        if obj["kind"] in POD_KINDS:
            yield f"{obj['kind']}/{obj['metadata']['name']}", obj["spec"]["template"]["spec"]


def _containers(spec: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield from spec.get("initContainers", [])
    yield from spec.get("containers", [])


def audit_pods(rendering: Rendering) -> list[str]:
    """The restricted Pod Security Standard (non-root, no privilege escalation, no
    capabilities, a seccomp profile), plus a read-only root filesystem, requests and
    limits, and a writable /tmp for the synaps processes."""
    problems = []
    for label, spec in pod_specs(rendering):
        pod_sc = spec.get("securityContext", {})
        if pod_sc.get("runAsNonRoot") is not True:
            problems.append(f"{label}: pod securityContext.runAsNonRoot is not true")
        if pod_sc.get("runAsUser") == 0:
            problems.append(f"{label}: pod runs as uid 0")
        pod_seccomp = pod_sc.get("seccompProfile", {}).get("type")
        mounted_volumes = {v["name"]: v for v in spec.get("volumes", [])}
        for c in _containers(spec):
            where = f"{label} container {c['name']}"
            sc = c.get("securityContext", {})
            if sc.get("readOnlyRootFilesystem") is not True:
                problems.append(f"{where}: readOnlyRootFilesystem is not true")
            if sc.get("allowPrivilegeEscalation") is not False:
                problems.append(f"{where}: allowPrivilegeEscalation is not false")
            if sc.get("privileged"):
                problems.append(f"{where}: privileged")
            if sc.get("runAsUser") == 0 or sc.get("runAsNonRoot") is False:
                problems.append(f"{where}: may run as root")
            seccomp = sc.get("seccompProfile", {}).get("type", pod_seccomp)
            if seccomp not in {"RuntimeDefault", "Localhost"}:
                problems.append(f"{where}: no RuntimeDefault seccomp profile")
            caps = sc.get("capabilities", {})
            if "ALL" not in caps.get("drop", []):
                problems.append(f"{where}: capabilities do not drop ALL")
            if caps.get("add"):
                problems.append(f"{where}: adds capabilities {caps['add']}")
            resources = c.get("resources", {})
            for bound in ("requests", "limits"):
                for resource in ("cpu", "memory"):
                    if resource not in resources.get(bound, {}):
                        problems.append(f"{where}: no {bound}.{resource}")
            if c["name"] in {"api", "worker", "projector", "migrate"}:
                tmp = [m for m in c.get("volumeMounts", []) if m["mountPath"] == "/tmp"]
                if not tmp or "emptyDir" not in mounted_volumes.get(tmp[0]["name"], {}):
                    problems.append(f"{where}: no emptyDir at /tmp")
    return problems


def audit_probes(rendering: Rendering) -> list[str]:
    """The API is probed on /healthz (liveness) and /readyz (readiness); datastores too."""
    problems = []
    expected = {"api": ("/healthz", "/readyz")}
    for label, spec in pod_specs(rendering):
        for c in spec.get("containers", []):
            where = f"{label} container {c['name']}"
            if c["name"] in expected:
                live, ready = expected[c["name"]]
                if c.get("livenessProbe", {}).get("httpGet", {}).get("path") != live:
                    problems.append(f"{where}: livenessProbe is not an httpGet on {live}")
                if c.get("readinessProbe", {}).get("httpGet", {}).get("path") != ready:
                    problems.append(f"{where}: readinessProbe is not an httpGet on {ready}")
            elif c["name"] in {"postgresql", "nats"}:
                for probe in ("livenessProbe", "readinessProbe"):
                    if not c.get(probe):
                        problems.append(f"{where}: no {probe}")
    return problems


def audit_secrets(rendering: Rendering) -> list[str]:
    """Credentials only in Secrets: none in ConfigMaps, none as literal env values."""
    problems = []
    for cm in rendering.of_kind("ConfigMap"):
        for key, value in (cm.get("data") or {}).items():
            if key in SECRET_ENV_NAMES or SECRET_LIKE_NAME.search(key.upper()):
                problems.append(f"ConfigMap/{cm['metadata']['name']}: secret-like key {key}")
            if SECRET_LIKE_VALUE.search(str(value)):
                problems.append(f"ConfigMap/{cm['metadata']['name']}: {key} looks like a secret")
    for label, spec in pod_specs(rendering):
        for c in _containers(spec):
            for env in c.get("env", []):
                name = env["name"]
                secret_like = name in SECRET_ENV_NAMES or SECRET_LIKE_NAME.search(name.upper())
                if "value" in env and (secret_like or SECRET_LIKE_VALUE.search(str(env["value"]))):
                    problems.append(f"{label} container {c['name']}: {name} is a literal value")
                if name in SECRET_ENV_NAMES and "secretKeyRef" not in env.get("valueFrom", {}):
                    problems.append(f"{label} container {c['name']}: {name} not from a Secret")
    return problems


def secret_leaks(rendering: Rendering, secret_values: Iterable[str]) -> list[str]:
    """Where any of ``secret_values`` shows up outside a Secret (plain or base64)."""
    needles = {v: (v, base64.b64encode(v.encode()).decode()) for v in secret_values if len(v) >= 8}
    problems = []
    for obj in rendering.objects:
        if obj["kind"] == "Secret":
            continue
        text = yaml.safe_dump(obj)
        for value, forms in needles.items():
            if any(form in text for form in forms):
                problems.append(f"{obj['kind']}/{obj['metadata']['name']} contains {value!r}")
    for value, forms in needles.items():
        if any(form in rendering.notes for form in forms):
            problems.append(f"NOTES.txt contains {value!r}")
    return problems


def _worker_account(rendering: Rendering) -> str:
    deployment = next(
        o for o in rendering.of_kind("Deployment") if o["metadata"]["name"].endswith("-worker")
    )
    account: str = deployment["spec"]["template"]["spec"]["serviceAccountName"]
    return account


def audit_rbac(rendering: Rendering) -> list[str]:
    """No cluster-wide grants; the worker's read Role is get/list/watch on the evidence
    resources only; a write Role exists only when rbac.remediation.enabled is set."""
    problems = []
    for kind in ("ClusterRole", "ClusterRoleBinding"):
        problems += [
            f"{kind}/{o['metadata']['name']}: cluster-wide" for o in rendering.of_kind(kind)
        ]
    remediation = bool(rendering.values.get("rbac", {}).get("remediation", {}).get("enabled"))
    account = _worker_account(rendering)
    roles = {
        (r["metadata"]["namespace"], r["metadata"]["name"]): r for r in rendering.of_kind("Role")
    }
    bound = set()
    for binding in rendering.of_kind("RoleBinding"):
        key = (binding["metadata"]["namespace"], binding["roleRef"]["name"])
        subjects = {(s["kind"], s["name"]) for s in binding.get("subjects", [])}
        if subjects != {("ServiceAccount", account)}:
            problems.append(f"RoleBinding/{binding['metadata']['name']}: binds {sorted(subjects)}")
        if key not in roles:
            problems.append(f"RoleBinding/{binding['metadata']['name']}: no Role {key}")
        bound.add(key)
    for key, role in roles.items():
        name = role["metadata"]["name"]
        writes = False
        for rule in role.get("rules", []):
            verbs = set(rule.get("verbs", []))
            if "*" in verbs or "*" in rule.get("resources", []) or "*" in rule.get("apiGroups", []):
                problems.append(f"Role/{name}: wildcard in {rule}")
            writes |= bool(verbs - READ_VERBS)
        if name.endswith("-worker-read"):
            if writes:
                problems.append(f"Role/{name}: the read Role has write verbs")
            granted = {
                (group, res)
                for rule in role["rules"]
                for group in rule["apiGroups"]
                for res in rule["resources"]
            }
            wanted = {(g, r) for g, rs in WORKER_READ_RESOURCES.items() for r in rs}
            if not wanted <= granted:
                problems.append(f"Role/{name}: lacks {sorted(wanted - granted)}")
        elif writes and not remediation:
            problems.append(f"Role/{name}: write verbs while rbac.remediation.enabled=false")
        if key not in bound:
            problems.append(f"Role/{name}: not bound")
    if not any(name.endswith("-worker-read") for _, name in roles):
        problems.append("no read Role for the worker")
    return problems


def audit(rendering: Rendering) -> list[str]:
    return (
        audit_pods(rendering)
        + audit_probes(rendering)
        + audit_secrets(rendering)
        + audit_rbac(rendering)
    )


# -- make helm-check ------------------------------------------------------------------------


def check(name: str, values: dict[str, Any], out_dir: Path) -> list[str]:
    rendering = render(values)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{name}.yaml"
    path.write_text(rendering.to_yaml(), encoding="utf-8")
    problems = lint(values) + validate_kubernetes(rendering) + audit(rendering)
    kinds: dict[str, int] = {}
    for obj in rendering.objects:
        kinds[obj["kind"]] = kinds.get(obj["kind"], 0) + 1
    summary = ", ".join(f"{n} {k}" for k, n in sorted(kinds.items()))
    status = "ok" if not problems else f"{len(problems)} problem(s)"
    print(f"{name}: {len(rendering.objects)} objects ({summary}) -> {path.relative_to(ROOT)}")
    print(
        f"  helm lint --strict, Kubernetes {' and '.join(KUBE_VERSIONS)} schemas, audit: {status}"
    )
    for problem in problems:
        print(f"  - {problem}")
    return problems


def main() -> int:
    out_dir = ROOT / "build" / "helm"
    print(f"helm {helm.helm_sdk_version()} (helm-python-sdk {helm.__version__}), chart {CHART_DIR}")
    problems = check("default", {}, out_dir)
    problems += check("production", load_values(PRODUCTION_VALUES), out_dir)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
