"""Dependencies point inwards: each layer imports only the layers it may."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
OURS = {"domain", "schemas", "services", "projections", "adapters", "synaps"}
ALLOWED = {
    "domain": {"domain"},
    "schemas": {"domain", "schemas"},
    "services": {"domain", "schemas", "services"},
    "projections": {"domain", "schemas", "projections"},
    "adapters": {"domain", "schemas", "services", "projections", "adapters"},
    "synaps": OURS,
}


def imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found & OURS


@pytest.mark.parametrize("layer", sorted(ALLOWED))
def test_layer_imports_only_inner_layers(layer: str) -> None:
    offenders = {
        str(path.relative_to(ROOT)): sorted(imports_of(path) - ALLOWED[layer])
        for path in (ROOT / layer).rglob("*.py")
        if imports_of(path) - ALLOWED[layer]
    }
    assert offenders == {}
