"""Security properties of the rendered release, and proof that the audits catch breakage."""

from __future__ import annotations

import base64
from typing import Any

import helm_python as helm
import pytest

from tests.helm.conftest import SENTINELS
from tests.helm.rendering import (
    Rendering,
    audit,
    audit_pods,
    audit_probes,
    audit_rbac,
    audit_secrets,
    render,
    secret_leaks,
)


def spec_of(rendering: Rendering, kind: str, name: str) -> dict[str, Any]:
    spec: dict[str, Any] = rendering.get(kind, name)["spec"]["template"]["spec"]
    return spec


@pytest.mark.parametrize("name", ["default_render", "production_render", "inline_render"])
def test_renderings_pass_the_whole_audit(name: str, request: pytest.FixtureRequest):
    assert audit(request.getfixturevalue(name)) == []


# -- RBAC --------------------------------------------------------------------------------


def test_worker_reads_the_cluster_read_only_by_default(default_render: Rendering):
    (role,) = default_render.of_kind("Role")
    assert role["metadata"]["name"] == "synaps-worker-read"
    verbs = {v for rule in role["rules"] for v in rule["verbs"]}
    assert verbs == {"get", "list", "watch"}
    resources = {
        (g, r) for rule in role["rules"] for g in rule["apiGroups"] for r in rule["resources"]
    }
    assert {
        ("", "pods"),
        ("", "pods/log"),
        ("", "events"),
        ("apps", "replicasets"),
        ("apps", "deployments"),
    } <= resources
    (binding,) = default_render.of_kind("RoleBinding")
    assert binding["roleRef"] == {
        "apiGroup": "rbac.authorization.k8s.io",
        "kind": "Role",
        "name": "synaps-worker-read",
    }
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": "synaps-worker", "namespace": "synaps"}
    ]
    assert not default_render.of_kind("ClusterRole")
    assert not default_render.of_kind("ClusterRoleBinding")
    # Only the worker gets a Kubernetes token.
    assert spec_of(default_render, "Deployment", "synaps-worker")["automountServiceAccountToken"]
    for name in ("synaps-api", "synaps-projector"):
        assert spec_of(default_render, "Deployment", name)["automountServiceAccountToken"] is False


def test_write_role_exists_only_when_enabled(inline_render: Rendering):
    role = inline_render.get("Role", "synaps-worker-remediate")
    verbs = {v for rule in role["rules"] for v in rule["verbs"]}
    assert verbs == {"get", "patch", "delete"}
    binding = inline_render.get("RoleBinding", "synaps-worker-remediate")
    assert binding["subjects"][0]["name"] == "synaps-worker"
    assert audit_rbac(inline_render) == []


def test_workers_write_only_when_the_write_role_exists(
    default_render: Rendering, inline_render: Rendering
):
    def writes(rendering: Rendering) -> str:
        spec = spec_of(rendering, "Deployment", "synaps-worker")
        env = {e["name"]: e.get("value") for e in spec["containers"][0]["env"]}
        return str(env["SYNAPS_K8S_WRITES"])

    assert writes(default_render) == "disabled"
    assert writes(inline_render) == "enabled"


def test_audit_catches_a_write_verb_in_the_read_role(default_render: Rendering):
    broken = default_render.mutated()
    broken.get("Role", "synaps-worker-read")["rules"][0]["verbs"].append("delete")
    assert audit_rbac(broken) == ["Role/synaps-worker-read: the read Role has write verbs"]


def test_audit_catches_a_write_role_that_was_not_asked_for(default_render: Rendering):
    broken = default_render.mutated()
    role = {
        "kind": "Role",
        "metadata": {"name": "synaps-extra", "namespace": "synaps"},
        "rules": [{"apiGroups": ["apps"], "resources": ["deployments"], "verbs": ["patch"]}],
    }
    binding = {
        "kind": "RoleBinding",
        "metadata": {"name": "synaps-extra", "namespace": "synaps"},
        "roleRef": {"kind": "Role", "name": "synaps-extra"},
        "subjects": [{"kind": "ServiceAccount", "name": "synaps-worker"}],
    }
    broken.objects.extend([role, binding])
    assert audit_rbac(broken) == [
        "Role/synaps-extra: write verbs while rbac.remediation.enabled=false"
    ]


def test_audit_catches_cluster_wide_grants_and_wildcards(default_render: Rendering):
    broken = default_render.mutated()
    broken.get("Role", "synaps-worker-read")["rules"][0]["resources"] = ["*"]
    broken.objects.append({"kind": "ClusterRole", "metadata": {"name": "x"}, "rules": []})
    problems = audit_rbac(broken)
    assert "ClusterRole/x: cluster-wide" in problems
    assert any("wildcard" in p for p in problems)


# -- credentials -------------------------------------------------------------------------


def test_inline_credentials_land_only_in_secrets(inline_render: Rendering):
    assert secret_leaks(inline_render, SENTINELS.values()) == []
    stored = {
        base64.b64decode(v).decode()
        for secret in inline_render.of_kind("Secret")
        for v in secret.get("data", {}).values()
    }
    # Stored, not dropped: every sentinel is in some Secret.
    assert set(SENTINELS.values()) <= stored


def test_leak_check_finds_a_credential_outside_a_secret(inline_render: Rendering):
    broken = inline_render.mutated()
    broken.get("ConfigMap", "synaps")["data"]["PROVIDER"] = SENTINELS["openai"]
    assert secret_leaks(broken, SENTINELS.values()) == [
        f"ConfigMap/synaps contains {SENTINELS['openai']!r}"
    ]
    encoded = base64.b64encode(SENTINELS["s3_secret"].encode()).decode()
    broken.get("Deployment", "synaps-api")["metadata"]["annotations"] = {"x": encoded}
    assert len(secret_leaks(broken, SENTINELS.values())) == 2


def test_generated_admin_key_and_password_stay_in_secrets(default_render: Rendering):
    generated = [
        base64.b64decode(default_render.get("Secret", "synaps")["data"]["bootstrap-admin-key"]),
        base64.b64decode(default_render.get("Secret", "synaps-postgresql")["data"]["password"]),
    ]
    assert generated[0].startswith(b"sk_admin_")
    assert len(generated[1]) == 32
    assert secret_leaks(default_render, [g.decode() for g in generated]) == []


def test_credential_variables_come_from_secret_refs(inline_render: Rendering):
    assert audit_secrets(inline_render) == []
    worker = spec_of(inline_render, "Deployment", "synaps-worker")["containers"][0]
    env = {e["name"]: e for e in worker["env"]}
    expected = {
        "OPENAI_API_KEY": "synaps",
        "AWS_SECRET_ACCESS_KEY": "synaps",
        "SYNAPS_DATABASE_URL": "synaps-database",
    }
    for name, secret in expected.items():
        assert set(env[name]) == {"name", "valueFrom"}
        assert env[name]["valueFrom"]["secretKeyRef"]["name"] == secret


def test_audit_catches_a_literal_credential_in_env(default_render: Rendering):
    broken = default_render.mutated()
    worker = spec_of(broken, "Deployment", "synaps-worker")["containers"][0]
    worker["env"].append({"name": "OPENAI_API_KEY", "value": "sk-proj-abc"})
    problems = audit_secrets(broken)
    assert (
        "Deployment/synaps-worker container worker: OPENAI_API_KEY is a literal value" in problems
    )
    assert "Deployment/synaps-worker container worker: OPENAI_API_KEY not from a Secret" in problems


def test_audit_catches_a_credential_in_a_config_map(default_render: Rendering):
    broken = default_render.mutated()
    data = broken.get("ConfigMap", "synaps")["data"]
    data["SYNAPS_DATABASE_URL"] = "postgresql://synaps:hunter22@db:5432/synaps"
    problems = audit_secrets(broken)
    assert problems == [
        "ConfigMap/synaps: secret-like key SYNAPS_DATABASE_URL",
        "ConfigMap/synaps: SYNAPS_DATABASE_URL looks like a secret",
    ]


# -- pods --------------------------------------------------------------------------------


def test_every_container_is_locked_down(default_render: Rendering):
    for kind, name in [
        ("Deployment", "synaps-api"),
        ("Deployment", "synaps-worker"),
        ("Deployment", "synaps-projector"),
        ("Job", "synaps-migrate"),
        ("StatefulSet", "synaps-postgresql"),
        ("StatefulSet", "synaps-nats"),
    ]:
        spec = spec_of(default_render, kind, name)
        assert spec["securityContext"]["runAsNonRoot"] is True
        assert spec["securityContext"]["runAsUser"] > 0
        for c in spec.get("initContainers", []) + spec["containers"]:
            assert c["securityContext"] == {
                "allowPrivilegeEscalation": False,
                "readOnlyRootFilesystem": True,
                "runAsNonRoot": True,
                "capabilities": {"drop": ["ALL"]},
            }
            assert set(c["resources"]) == {"requests", "limits"}
    assert audit_pods(default_render) == []


def test_values_cannot_switch_off_the_lockdown():
    rendering = render({"podSecurityContext": {"runAsUser": 1234}})
    spec = spec_of(rendering, "Deployment", "synaps-api")
    assert spec["securityContext"]["runAsUser"] == 1234
    assert spec["securityContext"]["runAsNonRoot"] is True
    with pytest.raises(helm.HelmValuesError, match="runAsNonRoot': value must be true"):
        render({"podSecurityContext": {"runAsNonRoot": False}})


@pytest.mark.parametrize(
    ("field", "value", "problem"),
    [
        ("readOnlyRootFilesystem", False, "readOnlyRootFilesystem is not true"),
        ("allowPrivilegeEscalation", True, "allowPrivilegeEscalation is not false"),
        ("capabilities", {"drop": ["NET_RAW"]}, "capabilities do not drop ALL"),
        ("runAsUser", 0, "may run as root"),
        ("seccompProfile", {"type": "Unconfined"}, "no RuntimeDefault seccomp profile"),
    ],
)
def test_audit_catches_a_weakened_container(
    default_render: Rendering, field: str, value: Any, problem: str
):
    broken = default_render.mutated()
    api = spec_of(broken, "Deployment", "synaps-api")["containers"][0]
    api["securityContext"][field] = value
    assert audit_pods(broken) == [f"Deployment/synaps-api container api: {problem}"]


def test_audit_catches_a_root_pod_a_missing_limit_and_no_tmp(default_render: Rendering):
    broken = default_render.mutated()
    spec = spec_of(broken, "Deployment", "synaps-worker")
    spec["securityContext"]["runAsNonRoot"] = False
    del spec["containers"][0]["resources"]["limits"]["memory"]
    spec["containers"][0]["volumeMounts"] = []
    assert audit_pods(broken) == [
        "Deployment/synaps-worker: pod securityContext.runAsNonRoot is not true",
        "Deployment/synaps-worker container worker: no limits.memory",
        "Deployment/synaps-worker container worker: no emptyDir at /tmp",
    ]


def test_api_probes_health_and_readiness(default_render: Rendering):
    api = spec_of(default_render, "Deployment", "synaps-api")["containers"][0]
    assert api["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert api["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    assert audit_probes(default_render) == []
    broken = default_render.mutated()
    api = spec_of(broken, "Deployment", "synaps-api")["containers"][0]
    del api["readinessProbe"]
    api["livenessProbe"]["httpGet"]["path"] = "/"
    del spec_of(broken, "StatefulSet", "synaps-nats")["containers"][0]["livenessProbe"]
    assert audit_probes(broken) == [
        "Deployment/synaps-api container api: livenessProbe is not an httpGet on /healthz",
        "Deployment/synaps-api container api: readinessProbe is not an httpGet on /readyz",
        "StatefulSet/synaps-nats container nats: no livenessProbe",
    ]


# -- network -----------------------------------------------------------------------------


def test_only_the_ingress_controller_reaches_the_api(default_render: Rendering):
    policy = default_render.get("NetworkPolicy", "synaps-api")["spec"]
    assert policy["podSelector"]["matchLabels"]["app.kubernetes.io/component"] == "api"
    (rule,) = policy["ingress"]
    assert rule["from"] == [
        {
            "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
            "podSelector": {"matchLabels": {"app.kubernetes.io/name": "traefik"}},
        }
    ]
    assert rule["ports"] == [{"port": "http", "protocol": "TCP"}]


def test_datastores_accept_only_this_releases_processes(default_render: Rendering):
    for name, port in [("synaps-postgresql", 5432), ("synaps-nats", 4222)]:
        policy = default_render.get("NetworkPolicy", name)["spec"]
        assert policy["policyTypes"] == ["Ingress", "Egress"]
        assert policy["egress"] == []
        (rule,) = policy["ingress"]
        (peer,) = rule["from"]
        # A bare podSelector: pods of this namespace only.
        assert set(peer) == {"podSelector"}
        assert peer["podSelector"]["matchLabels"]["app.kubernetes.io/instance"] == "synaps"
        (expression,) = peer["podSelector"]["matchExpressions"]
        assert expression["values"] == ["api", "worker", "projector", "migrate"]
        assert rule["ports"] == [{"port": port, "protocol": "TCP"}]
    closed = default_render.get("NetworkPolicy", "synaps-no-ingress")["spec"]
    assert closed["policyTypes"] == ["Ingress"]
    assert "ingress" not in closed


def test_pods_get_a_seccomp_profile_even_when_the_values_drop_it():
    rendering = render({"podSecurityContext": {"seccompProfile": None}})
    spec = spec_of(rendering, "Deployment", "synaps-worker")
    assert spec["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    localhost = {"type": "Localhost", "localhostProfile": "synaps.json"}
    rendering = render({"podSecurityContext": {"seccompProfile": localhost}})
    assert spec_of(rendering, "Deployment", "synaps-worker")["securityContext"][
        "seccompProfile"
    ] == (localhost)
