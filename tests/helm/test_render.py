"""What one release deploys, for the default and the production values."""

from __future__ import annotations

import tomllib
from typing import Any

import pytest
import yaml

from tests.helm.rendering import CHART_DIR, ROOT, Rendering, render


def container(rendering: Rendering, kind: str, name: str) -> dict[str, Any]:
    spec = rendering.get(kind, name)["spec"]["template"]["spec"]
    first: dict[str, Any] = spec["containers"][0]
    return first


def env_of(c: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {e["name"]: e for e in c.get("env", [])}


def test_default_release_runs_every_process_and_bundled_datastores(default_render: Rendering):
    names = {(o["kind"], o["metadata"]["name"]) for o in default_render.objects}
    assert {
        ("Deployment", "synaps-api"),
        ("Service", "synaps-api"),
        ("Deployment", "synaps-worker"),
        ("Deployment", "synaps-projector"),
        ("Job", "synaps-migrate"),
        ("StatefulSet", "synaps-postgresql"),
        ("Service", "synaps-postgresql"),
        ("StatefulSet", "synaps-nats"),
        ("Service", "synaps-nats"),
        ("ConfigMap", "synaps"),
        ("Secret", "synaps"),
        ("Secret", "synaps-database"),
        ("Secret", "synaps-postgresql"),
        ("ServiceAccount", "synaps-api"),
        ("ServiceAccount", "synaps-worker"),
        ("ServiceAccount", "synaps-projector"),
        ("Role", "synaps-worker-read"),
        ("RoleBinding", "synaps-worker-read"),
    } <= names
    # Off by default: Ingress, autoscaler, the write Role.
    kinds = {o["kind"] for o in default_render.objects}
    assert "Ingress" not in kinds
    assert "HorizontalPodAutoscaler" not in kinds
    assert not default_render.has("Role", "synaps-worker-remediate")


def test_every_object_carries_the_standard_labels(default_render: Rendering):
    for obj in default_render.objects:
        labels = obj["metadata"]["labels"]
        assert labels["app.kubernetes.io/name"] == "synaps", obj["metadata"]["name"]
        assert labels["app.kubernetes.io/instance"] == "synaps"
        assert labels["app.kubernetes.io/managed-by"] == "Helm"
        assert labels["app.kubernetes.io/component"]
        assert labels["helm.sh/chart"] == "synaps-0.1.0"


def test_processes_run_the_contract_commands(default_render: Rendering):
    api = container(default_render, "Deployment", "synaps-api")
    assert api["args"] == ["api", "--host", "0.0.0.0", "--port", "8081"]
    assert api["ports"] == [{"name": "http", "containerPort": 8081, "protocol": "TCP"}]
    worker = container(default_render, "Deployment", "synaps-worker")
    assert worker["args"] == ["worker", "--queues", "default", "--concurrency", "8"]
    assert env_of(worker)["SYNAPS_WORKER_QUEUES"]["value"] == "default"
    assert container(default_render, "Deployment", "synaps-projector")["args"] == ["projector"]
    assert container(default_render, "Job", "synaps-migrate")["args"] == ["migrate"]
    service = default_render.get("Service", "synaps-api")
    assert service["spec"]["ports"][0]["port"] == 8081
    config = default_render.get("ConfigMap", "synaps")["data"]
    assert config["SYNAPS_LOG_FORMAT"] == "json"
    assert config["SYNAPS_NATS_URL"] == "nats://synaps-nats:4222"


def test_bundled_database_url_and_password_come_from_secrets(default_render: Rendering):
    for kind, name in [
        ("Deployment", "synaps-api"),
        ("Deployment", "synaps-worker"),
        ("Deployment", "synaps-projector"),
        ("Job", "synaps-migrate"),
    ]:
        env = env_of(container(default_render, kind, name))
        url_ref = env["SYNAPS_DATABASE_URL"]["valueFrom"]["secretKeyRef"]
        assert url_ref == {"name": "synaps-database", "key": "database-url"}
        assert env["PGPASSWORD"]["valueFrom"]["secretKeyRef"]["name"] == "synaps-postgresql"
    postgres = container(default_render, "StatefulSet", "synaps-postgresql")
    password = env_of(postgres)["POSTGRES_PASSWORD"]["valueFrom"]["secretKeyRef"]
    assert password == {"name": "synaps-postgresql", "key": "password"}


def test_datastores_keep_their_data_on_claims_of_the_default_sizes(default_render: Rendering):
    for name, size, mount in [
        ("synaps-postgresql", "100Gi", "/var/lib/postgresql"),
        ("synaps-nats", "60Gi", "/data"),
    ]:
        sts = default_render.get("StatefulSet", name)
        (claim,) = sts["spec"]["volumeClaimTemplates"]
        assert claim["spec"]["resources"]["requests"]["storage"] == size
        mounts = sts["spec"]["template"]["spec"]["containers"][0]["volumeMounts"]
        assert {"name": claim["metadata"]["name"], "mountPath": mount} in mounts
    nats = container(default_render, "StatefulSet", "synaps-nats")
    assert "--jetstream" in nats["args"]
    assert "--store_dir=/data" in nats["args"]
    assert container(default_render, "StatefulSet", "synaps-postgresql")["image"] == "postgres:18"
    assert nats["image"] == "nats:2.12"


def test_projector_is_one_replica_that_never_overlaps(default_render: Rendering):
    spec = default_render.get("Deployment", "synaps-projector")["spec"]
    assert spec["replicas"] == 1
    assert spec["strategy"] == {"type": "Recreate"}


def test_migration_hook_runs_after_install_with_the_bundled_database(default_render: Rendering):
    job = default_render.get("Job", "synaps-migrate")
    annotations = job["metadata"]["annotations"]
    # The bundled PostgreSQL does not exist before the release's objects do.
    assert annotations["helm.sh/hook"] == "post-install,pre-upgrade"
    assert "before-hook-creation" in annotations["helm.sh/hook-delete-policy"]
    init = job["spec"]["template"]["spec"]["initContainers"][0]
    assert init["name"] == "wait-for-postgresql"
    assert "pg_isready" in init["command"][-1]


def test_production_uses_the_external_database_from_its_secret(production_render: Rendering):
    assert production_render.has("StatefulSet", "synaps-nats")  # NATS stays bundled
    assert not production_render.has("StatefulSet", "synaps-postgresql")
    assert not production_render.has("Secret", "synaps-database")
    for kind, name in [("Deployment", "synaps-api"), ("Job", "synaps-migrate")]:
        env = env_of(container(production_render, kind, name))
        ref = env["SYNAPS_DATABASE_URL"]["valueFrom"]["secretKeyRef"]
        assert ref == {"name": "synaps-database", "key": "database-url"}
        assert "PGPASSWORD" not in env
    job = production_render.get("Job", "synaps-migrate")
    assert job["metadata"]["annotations"]["helm.sh/hook"] == "pre-install,pre-upgrade"
    assert "initContainers" not in job["spec"]["template"]["spec"]


def test_production_scales_workers_and_serves_tls(production_render: Rendering):
    hpa = production_render.get("HorizontalPodAutoscaler", "synaps-worker")
    assert hpa["spec"]["scaleTargetRef"]["name"] == "synaps-worker"
    assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (3, 20)
    assert {m["resource"]["name"] for m in hpa["spec"]["metrics"]} == {"cpu", "memory"}
    # The autoscaler owns the replica count.
    assert "replicas" not in production_render.get("Deployment", "synaps-worker")["spec"]
    worker = container(production_render, "Deployment", "synaps-worker")
    assert worker["args"] == ["worker", "--queues", "default,incidents", "--concurrency", "16"]
    ingress = production_render.get("Ingress", "synaps-api")
    assert ingress["spec"]["ingressClassName"] == "traefik"
    assert ingress["spec"]["tls"] == [{"hosts": ["synaps.example.com"], "secretName": "synaps-tls"}]
    annotations = ingress["metadata"]["annotations"]
    assert annotations["traefik.ingress.kubernetes.io/router.entrypoints"] == "websecure"
    backend = ingress["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]
    assert backend == {"name": "synaps-api", "port": {"name": "http"}}
    assert not production_render.has("Role", "synaps-worker-remediate")
    api = container(production_render, "Deployment", "synaps-api")
    assert api["resources"]["limits"] == {"cpu": "2", "memory": "2Gi"}


def test_production_takes_provider_and_s3_credentials_from_existing_secrets(
    production_render: Rendering,
):
    worker = env_of(container(production_render, "Deployment", "synaps-worker"))
    for name in ("ANTHROPIC_API_KEY", "OPENAI_API_KEY", "MOONSHOT_API_KEY"):
        assert worker[name]["valueFrom"]["secretKeyRef"] == {
            "name": "synaps-providers",
            "key": name,
        }
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_ENDPOINT_URL"):
        assert worker[name]["valueFrom"]["secretKeyRef"]["name"] == "synaps-artifacts"
    # Provider keys go to the workers only.
    api = env_of(container(production_render, "Deployment", "synaps-api"))
    assert "OPENAI_API_KEY" not in api
    data = production_render.get("ConfigMap", "synaps")["data"]
    assert data["SYNAPS_ARTIFACTS_URL"] == "s3://synaps-artifacts/prod"


def test_inline_external_url_reaches_the_pre_install_hook_through_a_hook_secret(
    inline_render: Rendering,
):
    secret = inline_render.get("Secret", "synaps-migrate")
    annotations = secret["metadata"]["annotations"]
    assert annotations["helm.sh/hook"] == "pre-install,pre-upgrade"
    # Created before the Job (weight 0), removed once the hook succeeded.
    assert int(annotations["helm.sh/hook-weight"]) < 0
    assert "hook-succeeded" in annotations["helm.sh/hook-delete-policy"]
    env = env_of(container(inline_render, "Job", "synaps-migrate"))
    ref = env["SYNAPS_DATABASE_URL"]["valueFrom"]["secretKeyRef"]
    assert ref == {"name": "synaps-migrate", "key": "database-url"}
    api = env_of(container(inline_render, "Deployment", "synaps-api"))
    assert api["SYNAPS_DATABASE_URL"]["valueFrom"]["secretKeyRef"]["name"] == "synaps-database"
    assert inline_render.get("ConfigMap", "synaps")["data"]["SYNAPS_NATS_URL"] == (
        "nats://nats.messaging:4222"
    )


def test_extra_namespaces_get_their_own_read_role(inline_render: Rendering):
    namespaces = {r["metadata"]["namespace"] for r in inline_render.of_kind("Role")}
    assert namespaces == {"synaps", "apps", "payments"}
    for binding in inline_render.of_kind("RoleBinding"):
        assert binding["subjects"] == [
            {"kind": "ServiceAccount", "name": "synaps-worker", "namespace": "synaps"}
        ]


def test_release_name_prefixes_every_object():
    rendering = render(release="prod", namespace="agents")
    assert rendering.has("Deployment", "prod-synaps-api")
    assert all(o["metadata"]["namespace"] == "agents" for o in rendering.objects)
    env = env_of(container(rendering, "Deployment", "prod-synaps-api"))
    assert env["SYNAPS_DATABASE_URL"]["valueFrom"]["secretKeyRef"]["name"] == "prod-synaps-database"


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({}, ["port-forward service/synaps-api 8081:8081", "{.data.bootstrap-admin-key}"]),
        (
            {"ingress": {"enabled": True, "tls": [{"hosts": ["synaps.example.com"]}]}},
            ["https://synaps.example.com/", "get secret synaps -o jsonpath"],
        ),
        (
            {"bootstrapAdminKey": {"existingSecret": "admin", "key": "token"}},
            ["get secret admin -o jsonpath='{.data.token}'"],
        ),
    ],
)
def test_notes_tell_how_to_reach_the_api_and_get_the_admin_key(
    values: dict[str, Any], expected: list[str]
):
    notes = render(values).notes
    for text in expected:
        assert text in notes


def test_chart_app_version_is_the_project_version():
    chart = yaml.safe_load((CHART_DIR / "Chart.yaml").read_text())
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert chart["apiVersion"] == "v2"
    assert chart["appVersion"] == project["version"]


def test_existing_secrets_replace_the_generated_ones():
    rendering = render(
        {
            "bootstrapAdminKey": {"existingSecret": "synaps-admin", "key": "key"},
            "postgresql": {"auth": {"existingSecret": "pg-auth", "passwordKey": "pw"}},
            "nats": {"enabled": False},
            "externalNats": {"existingSecret": "nats-creds", "key": "url"},
        }
    )
    # Nothing left for the chart to generate or hold.
    assert not rendering.has("Secret", "synaps")
    assert not rendering.has("Secret", "synaps-postgresql")
    assert not rendering.has("StatefulSet", "synaps-nats")
    api = env_of(container(rendering, "Deployment", "synaps-api"))
    assert api["SYNAPS_BOOTSTRAP_ADMIN_KEY"]["valueFrom"]["secretKeyRef"] == {
        "name": "synaps-admin",
        "key": "key",
    }
    assert api["PGPASSWORD"]["valueFrom"]["secretKeyRef"] == {"name": "pg-auth", "key": "pw"}
    assert api["SYNAPS_NATS_URL"]["valueFrom"]["secretKeyRef"] == {
        "name": "nats-creds",
        "key": "url",
    }
    assert "SYNAPS_NATS_URL" not in rendering.get("ConfigMap", "synaps")["data"]
    postgres = env_of(container(rendering, "StatefulSet", "synaps-postgresql"))
    assert postgres["POSTGRES_PASSWORD"]["valueFrom"]["secretKeyRef"] == {
        "name": "pg-auth",
        "key": "pw",
    }


def test_without_nats_synaps_gets_no_nats_url():
    rendering = render({"nats": {"enabled": False}})
    assert "SYNAPS_NATS_URL" not in rendering.get("ConfigMap", "synaps")["data"]
    assert "SYNAPS_NATS_URL" not in env_of(container(rendering, "Deployment", "synaps-worker"))
    assert not rendering.has("NetworkPolicy", "synaps-nats")


def test_projector_can_be_left_out():
    rendering = render({"projector": {"enabled": False}})
    assert not rendering.has("Deployment", "synaps-projector")
    assert not rendering.has("ServiceAccount", "synaps-projector")
