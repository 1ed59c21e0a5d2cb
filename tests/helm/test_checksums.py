"""Pods roll when their configuration or credentials change, and only then."""

from __future__ import annotations

from typing import Any

from tests.helm.rendering import Rendering, render

PROCESSES = ("synaps-api", "synaps-worker", "synaps-projector")


def checksums(rendering: Rendering) -> dict[str, dict[str, str]]:
    result = {}
    for name in PROCESSES:
        annotations = rendering.get("Deployment", name)["spec"]["template"]["metadata"][
            "annotations"
        ]
        result[name] = {k: v for k, v in annotations.items() if k.startswith("checksum/")}
    return result


def changed(values: dict[str, Any]) -> set[str]:
    before, after = checksums(render()), checksums(render(values))
    kinds = set()
    for name in PROCESSES:
        assert set(before[name]) == {"checksum/config", "checksum/secret"}
        kinds |= {k for k in before[name] if before[name][k] != after[name][k]}
    return kinds


def test_same_values_same_pods(default_render: Rendering):
    # Generated credentials differ between renders; the pod templates must not.
    again = render()
    for name in PROCESSES:
        first = default_render.get("Deployment", name)["spec"]["template"]
        assert again.get("Deployment", name)["spec"]["template"] == first
    assert again.get("Secret", "synaps") != default_render.get("Secret", "synaps")


def test_config_change_rolls_the_pods():
    assert changed({"config": {"logLevel": "DEBUG"}}) == {"checksum/config"}
    assert changed({"artifacts": {"url": "s3://bucket/x"}}) == {"checksum/config"}


def test_credential_change_rolls_the_pods():
    assert changed({"providers": {"openai": {"apiKey": "sk-new"}}}) == {"checksum/secret"}
    assert changed({"bootstrapAdminKey": {"existingSecret": "admin"}}) == {"checksum/secret"}


def test_unrelated_change_rolls_nothing():
    assert changed({"worker": {"replicas": 5}}) == set()
