"""values.schema.json (and the template's own checks) turn bad values away, saying why."""

from __future__ import annotations

from typing import Any

import helm_python as helm
import pytest

from tests.helm.rendering import PRODUCTION_VALUES, lint, load_values, render


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"worker": {"concurrency": 0}}, "at '/worker/concurrency': minimum: got 0, want 1"),
        ({"worker": {"concurrency": "8"}}, "at '/worker/concurrency': got string, want integer"),
        (
            {"worker": {"queues": ["default,urgent"]}},
            "at '/worker/queues/0': 'default,urgent' does not match pattern",
        ),
        ({"worker": {"queues": []}}, "at '/worker/queues': minItems"),
        ({"worker": {"concurency": 4}}, "at '/worker': additional properties 'concurency'"),
        ({"projector": {"replicas": 2}}, "at '/projector/replicas': value must be 1"),
        (
            {"ingress": {"annotations": {"traefik.ingress.kubernetes.io/router.tls": True}}},
            "router.tls': got boolean, want string",
        ),
        (
            {"api": {"extraEnv": [{"name": "OPENAI_API_KEY", "value": "sk-live"}]}},
            "at '/api/extraEnv/0/value': value must be "
            "'secret-like name: use valueFrom.secretKeyRef, not value'",
        ),
        (
            {
                "rbac": {
                    "remediation": {
                        "enabled": True,
                        "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["*"]}],
                    }
                }
            },
            "at '/rbac/remediation/rules/0/verbs/0': value must be one of 'get'",
        ),
        ({"podSecurityContext": {"runAsUser": 0}}, "at '/podSecurityContext/runAsUser': minimum"),
        ({"config": {"logFormat": "xml"}}, "at '/config/logFormat': value must be one of 'json'"),
        ({"artifacts": {"url": "ftp://bucket"}}, "at '/artifacts/url': 'ftp://bucket' does not"),
        ({"postgresql": {"persistence": {"size": "big"}}}, "at '/postgresql/persistence/size'"),
        ({"image": {"digest": "latest"}}, "at '/image/digest': 'latest' does not match"),
        (
            {"api": {"readinessProbe": {"httpGet": {"path": "/", "port": "http"}}}},
            "at '/api/readinessProbe/httpGet/path': value must be '/readyz'",
        ),
        (
            {"api": {"resources": {"limits": None}}},
            "at '/api/resources': missing property 'limits'",
        ),
    ],
)
def test_schema_rejects_bad_values_naming_the_key(values: dict[str, Any], message: str):
    with pytest.raises(helm.HelmValuesError) as caught:
        render(values)
    assert message in str(caught.value)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        (
            {"postgresql": {"enabled": False}},
            "postgresql.enabled=false needs an external database: set "
            "externalDatabase.existingSecret (and externalDatabase.key) or externalDatabase.url",
        ),
        (
            {"externalDatabase": {"existingSecret": "db"}},
            "externalDatabase is set but postgresql.enabled=true",
        ),
        (
            {"worker": {"autoscaling": {"enabled": True, "minReplicas": 5, "maxReplicas": 2}}},
            "worker.autoscaling.minReplicas (5) must not exceed worker.autoscaling.maxReplicas (2)",
        ),
        (
            {"providers": {"openai": {"apiKey": "k", "existingSecret": "s"}}},
            "providers.openai: set apiKey or existingSecret, not both",
        ),
    ],
)
def test_combinations_the_schema_cannot_express_fail_with_the_fix(
    values: dict[str, Any], message: str
):
    with pytest.raises(helm.HelmRenderError) as caught:
        render(values)
    assert message in str(caught.value)


def test_schema_accepts_the_shipped_values_and_lint_is_clean():
    assert lint() == []
    assert lint(load_values(PRODUCTION_VALUES)) == []


def test_lint_reports_schema_violations():
    problems = lint({"worker": {"concurrency": 0}})
    assert any("minimum: got 0, want 1" in p for p in problems)
