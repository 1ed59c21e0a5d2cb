"""Renderings shared by the chart tests (each render takes a few milliseconds; the
Kubernetes schema validation is what costs, so renderings are made once per session)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.helm.rendering import PRODUCTION_VALUES, Rendering, load_values, render

# Every credential the chart accepts inline, set to a value that must only ever appear in
# a Secret.
SENTINELS = {
    "anthropic": "sentinel-anthropic-4f1d",
    "openai": "sentinel-openai-9a7c",
    "moonshot": "sentinel-moonshot-2b6e",
    "s3_id": "sentinel-s3-access-key-id-77",
    "s3_secret": "sentinel-s3-secret-access-key-31",
    "s3_endpoint": "https://sentinel-endpoint.example.com",
    "database": "postgresql://sentinel-user:sentinel-pass-61@db.example.com:5432/synaps",
}


def inline_secrets_values() -> dict[str, Any]:
    """Values passing every credential inline, plus the optional parts switched on."""
    return {
        "providers": {
            "anthropic": {"apiKey": SENTINELS["anthropic"]},
            "openai": {"apiKey": SENTINELS["openai"]},
            "moonshot": {"apiKey": SENTINELS["moonshot"]},
        },
        "artifacts": {
            "url": "s3://synaps-artifacts/test",
            "s3": {
                "accessKeyId": SENTINELS["s3_id"],
                "secretAccessKey": SENTINELS["s3_secret"],
                "endpointUrl": SENTINELS["s3_endpoint"],
            },
        },
        "postgresql": {"enabled": False},
        "externalDatabase": {"url": SENTINELS["database"]},
        "nats": {"enabled": False},
        "externalNats": {"url": "nats://nats.messaging:4222"},
        "rbac": {"remediation": {"enabled": True}, "extraNamespaces": ["apps", "payments"]},
        "ingress": {"enabled": True, "tls": [{"secretName": "t", "hosts": ["synaps.example.com"]}]},
        "worker": {"autoscaling": {"enabled": True}, "podDisruptionBudget": {"enabled": True}},
        "api": {"podDisruptionBudget": {"enabled": True}},
    }


@pytest.fixture(scope="session")
def default_render() -> Rendering:
    return render()


@pytest.fixture(scope="session")
def production_values() -> dict[str, Any]:
    return load_values(PRODUCTION_VALUES)


@pytest.fixture(scope="session")
def production_render(production_values: dict[str, Any]) -> Rendering:
    return render(production_values)


@pytest.fixture(scope="session")
def inline_render() -> Rendering:
    return render(inline_secrets_values())
