"""Where the cluster-snapshot cases are: this repo's own, and the public examples in
``../shared/fixtures/k8s`` (outside the repo; ``SYNAPS_SHARED_FIXTURES`` points
elsewhere). A checkout without the public examples runs its own cases and skips the
public ones, saying so."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

__all__ = ["CASES", "OWN", "SHARED", "shared_case"]

REPO = Path(__file__).resolve().parents[1]
OWN = REPO / "tests" / "fixtures" / "k8s"
SHARED = Path(os.environ.get("SYNAPS_SHARED_FIXTURES") or REPO.parent / "shared/fixtures/k8s")


def _cases(root: Path) -> list[Path]:
    return sorted(p for p in root.iterdir() if p.is_dir()) if root.is_dir() else []


CASES = _cases(SHARED) + _cases(OWN)


def shared_case(name: str) -> Path:
    """One public example; skipped (with the reason) where the examples are absent."""
    case = SHARED / name
    if not case.is_dir():
        pytest.skip(f"public snapshot {case} not found: set SYNAPS_SHARED_FIXTURES")
    return case
