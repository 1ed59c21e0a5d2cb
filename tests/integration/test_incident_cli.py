"""`synaps incident analyze` end to end, on every snapshot case: the public examples in
shared/ and this repo's own cases. The analyzer sees a copy without expected.json."""

from __future__ import annotations

import json
import shutil
from collections import Counter
from pathlib import Path

import pytest
from typer.testing import CliRunner

from domain.incidents.taxonomy import RootCause
from synaps.cli import app
from tests.snapshot_cases import CASES, OWN, shared_case

REPO = Path(__file__).resolve().parents[2]
runner = CliRunner()


def analyze(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["incident", "analyze", *args])
    return result.exit_code, result.stdout, result.stderr


def blind_copy(case: Path, tmp_path: Path) -> Path:
    copy = tmp_path / case.name
    shutil.copytree(case, copy, ignore=shutil.ignore_patterns("expected.json"))
    return copy


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_every_case_is_diagnosed(case: Path, tmp_path: Path) -> None:
    expected = json.loads((case / "expected.json").read_text())
    code, stdout, stderr = analyze("--dump", str(blind_copy(case, tmp_path)), "--json")
    assert code == 0, stderr
    report = json.loads(stdout)  # exactly one JSON object
    assert isinstance(report, dict)
    cause = report["root_cause"]
    assert cause["type"] in [expected["root_cause_type"], *expected["acceptable_types"]]
    if expected["min_confidence"] is not None:
        assert cause["confidence"] >= expected["min_confidence"]
    assert cause["detection_method"] == "rule_based"
    assert any(k in line for k in expected["evidence_keywords"] for line in cause["evidence"])
    assert set(report["remediation"]) == {"immediate", "verification", "prevention"}
    assert report["intent"] in {
        "diagnose_pod",
        "namespace_overview",
        "collect_evidence",
        "general_help",
    }
    assert isinstance(report["needs_review"], bool)


def test_own_cases_cover_every_root_cause_at_least_twice() -> None:
    own = Counter(
        json.loads((case / "expected.json").read_text())["root_cause_type"]
        for case in CASES
        if case.parent == OWN
    )
    answerable = {c.value for c in RootCause} - {RootCause.UNKNOWN.value}
    assert {t for t in answerable if own[t] < 2} == set()


def test_the_question_option_overrides_question_txt(tmp_path: Path) -> None:
    case = blind_copy(shared_case("pub-06-newsletter"), tmp_path)
    code, stdout, _ = analyze(
        "--dump", str(case), "--json", "--question", "is newsletter-redis ok?"
    )
    assert code == 0
    assert json.loads(stdout)["target"] == "newsletter-redis"


def test_without_json_a_readable_report_is_printed(tmp_path: Path) -> None:
    code, stdout, _ = analyze(
        "--dump", str(blind_copy(shared_case("pub-01-auth-service"), tmp_path))
    )
    assert code == 0
    assert "oom_killed" in stdout
    assert "remediation" in stdout


def test_a_missing_directory_is_a_one_line_error(tmp_path: Path) -> None:
    code, stdout, stderr = analyze("--dump", str(tmp_path / "nope"), "--json")
    assert code != 0
    assert stdout == ""
    assert "no such directory" in stderr
    assert len(stderr.strip().splitlines()) == 1


def test_an_invalid_json_file_is_a_one_line_error(tmp_path: Path) -> None:
    case = blind_copy(shared_case("pub-03-api-rollout"), tmp_path)
    (case / "events.json").write_text('{"kind": "List", "items": [')
    code, stdout, stderr = analyze("--dump", str(case), "--json")
    assert code != 0
    assert stdout == ""
    assert "events.json" in stderr
    assert len(stderr.strip().splitlines()) == 1
