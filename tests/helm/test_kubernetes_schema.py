"""Every rendered object is valid for the Kubernetes API (strict OpenAPI schemas)."""

from __future__ import annotations

from tests.helm.rendering import KUBE_VERSIONS, Rendering, validate_kubernetes


def test_default_rendering_validates(default_render: Rendering):
    assert validate_kubernetes(default_render) == []


def test_production_rendering_validates(production_render: Rendering):
    assert validate_kubernetes(production_render) == []


def test_rendering_with_every_option_on_validates(inline_render: Rendering):
    kinds = {o["kind"] for o in inline_render.objects}
    assert {"Ingress", "HorizontalPodAutoscaler", "PodDisruptionBudget"} <= kinds
    assert validate_kubernetes(inline_render) == []


def test_validation_catches_a_misspelt_field_and_a_wrong_type(default_render: Rendering):
    broken = default_render.mutated()
    api = broken.get("Deployment", "synaps-api")
    security = api["spec"]["template"]["spec"]["containers"][0]["securityContext"]
    security["readOnlyRootFileSystem"] = security.pop("readOnlyRootFilesystem")
    broken.get("Service", "synaps-api")["spec"]["ports"][0]["port"] = "http"
    problems = validate_kubernetes(broken, versions=KUBE_VERSIONS[-1:])
    assert len(problems) == 2
    assert "Deployment/synaps-api" in problems[0]
    assert "'readOnlyRootFileSystem' was unexpected" in problems[0]
    assert "Service/synaps-api" in problems[1]
    assert "is not of type 'integer'" in problems[1]


def test_validation_reports_unknown_kinds(default_render: Rendering):
    broken = default_render.mutated()
    broken.objects.append({"apiVersion": "v1", "kind": "Nonsense", "metadata": {"name": "x"}})
    (problem,) = validate_kubernetes(broken, versions=KUBE_VERSIONS[-1:])
    assert "Couldn't find schema for kind Nonsense" in problem
