"""The control registry over REST, and workers running with the effective snapshot."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from litestar.testing import TestClient

from schemas.commands import SubmitCommand
from schemas.views import ClaimedTask
from services.ports import Caller
from services.task_kinds import TaskContext, builtin_kinds
from synaps.bootstrap import Container
from synaps.wiring import api_app

pytestmark = pytest.mark.integration

USER = Caller(actor="user:ann", request_id="r")


@pytest.fixture
def client(container: Container, admin_key: str) -> Iterator[TestClient]:  # type: ignore[type-arg]
    container.projector().start()
    with TestClient(api_app(container)) as c:
        c.headers["X-API-Key"] = admin_key
        yield c


def ledger_size(url: str) -> int:
    with psycopg.connect(url) as conn:
        return int(conn.execute("SELECT count(*) FROM synaps_events").fetchone()[0])  # type: ignore[index]


def snapshot(client: TestClient, position: int) -> dict[str, Any]:  # type: ignore[type-arg]
    r = client.get("/v1/control/snapshot", params={"min_position": position})
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def test_versions_activation_rollback_and_history(
    client: TestClient,
    database_url: str,  # type: ignore[type-arg]
) -> None:
    empty = snapshot(client, 0)
    assert empty["items"] == {} and empty["hash"].startswith("sha256:")
    v1 = client.post(
        "/v1/control/prompt/greeting/versions", json={"template": "Hello {name}", "reason": "first"}
    )
    assert v1.status_code == 201 and v1.json()["version"] == 1
    assert v1.json()["active_version"] is None, "a new version is not active by itself"
    a1 = client.post("/v1/control/prompt/greeting/activate", json={"version": 1})
    s1 = snapshot(client, a1.json()["position"])
    assert s1["items"]["prompt"]["greeting"]["spec"]["template"] == "Hello {name}"
    v2 = client.post(
        "/v1/control/prompts/greeting/versions",  # plural kinds work too
        json={"template": "Hi {name}!", "reason": "friendlier", "activate": True},
    )
    assert v2.json() == {**v2.json(), "version": 2, "active_version": 2}
    s2 = snapshot(client, v2.json()["position"])
    assert s2["hash"] != s1["hash"]
    back = client.post("/v1/control/prompt/greeting/rollback", json={"reason": "too casual"})
    assert back.status_code == 200 and back.json()["active_version"] == 1
    assert snapshot(client, back.json()["position"])["hash"] == s1["hash"]
    history = client.get("/v1/control/prompt/greeting").json()
    assert [v["version"] for v in history["versions"]] == [1, 2]
    assert history["versions"][1]["reason"] == "friendlier"
    assert history["versions"][0]["author"].startswith("key:"), history["versions"][0]
    assert [(a["type"], a["version"]) for a in history["activations"]] == [
        ("ControlItemActivated", 1),
        ("ControlItemActivated", 2),
        ("ControlItemRolledBack", 1),
    ]
    assert client.post("/v1/control/prompt/greeting/rollback").status_code == 409
    listing = client.get("/v1/control", params={"kind": "prompts"}).json()["items"]
    assert listing == [{"kind": "prompt", "name": "greeting", "active_version": 1, "versions": 2}]


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/v1/control/prompt/p/versions", {"reason": "no template"}),
        ("/v1/control/prompt/p/versions", {"template": "Hi {name}", "variables": ["other"]}),
        ("/v1/control/prompt/p/versions", {"template": "Hi {0}"}),
        ("/v1/control/tool/t/versions", {"description": "x", "json_schema": {"type": "string"}}),
        ("/v1/control/routing_rule/r/versions", {"provider": "anthropic"}),
        (
            "/v1/control/routing_rule/r/versions",
            {"provider": "openai", "model": "m", "timeout_seconds": 0},
        ),
        ("/v1/control/arbiter_policy/incident/versions", {"rule_confidence_threshold": 1.5}),
        ("/v1/control/skill/s/versions", {"description": "d", "surprise": True}),
        ("/v1/control/skills/register", {"description": "no name"}),
    ],
)
def test_invalid_specs_are_422_and_write_nothing(
    client: TestClient,
    database_url: str,
    path: str,
    body: dict[str, Any],  # type: ignore[type-arg]
) -> None:
    before = ledger_size(database_url)
    r = client.post(path, json=body)
    assert r.status_code == 422, r.text
    assert r.json()["code"] == "invalid_spec"
    assert ledger_size(database_url) == before


def test_unknown_kinds_versions_and_items_are_404(client: TestClient) -> None:  # type: ignore[type-arg]
    assert client.post("/v1/control/widget/w/versions", json={"x": 1}).status_code == 404
    assert client.get("/v1/control/prompt/nothing").status_code == 404
    client.post("/v1/control/prompt/p/versions", json={"template": "t"})
    assert client.post("/v1/control/prompt/p/activate", json={"version": 7}).status_code == 404


def test_synaps_aliases(client: TestClient) -> None:  # type: ignore[type-arg]
    r = client.post("/v1/control/prompts/activate", json={"name": "sum", "template": "Sum {x}"})
    assert r.status_code == 200 and r.json()["active_version"] == 1
    r = client.post(
        "/v1/control/skills/register",
        json={"name": "triage", "description": "Triage pods", "tools": ["get_pods"]},
    )
    assert r.status_code == 201 and r.json()["active_version"] == 1
    r = client.post(
        "/v1/control/routing-rules/update",
        json={
            "name": "incidents",
            "match": {"task_kind": "incident.diagnose"},
            "provider": "anthropic",
            "model": "claude-sonnet-4-5",
            "fallbacks": [{"provider": "openai", "model": "gpt-5"}],
            "reason": "default route",
        },
    )
    assert r.status_code == 201
    items = snapshot(client, r.json()["position"])["items"]
    assert set(items) == {"prompt", "skill", "routing_rule"}
    assert items["routing_rule"]["incidents"]["spec"]["fallbacks"][0]["provider"] == "openai"
    again = client.post("/v1/control/prompts/activate", json={"name": "sum", "version": 1})
    assert again.status_code == 200 and again.json()["position"] is None


def test_a_running_worker_uses_a_new_version_within_a_second(container: Container) -> None:
    def peek(task: ClaimedTask, ctx: TaskContext) -> Any:
        return ctx.control.spec("prompt", "greeting")["template"]

    kinds = builtin_kinds()
    kinds.register("peek", peek)
    container.projector().start()
    pool = container.worker_pool(kinds, concurrency=2)
    pool.start()
    control = container.control

    def run_peek() -> tuple[str, str | None]:
        run_id = container.submit.submit(SubmitCommand(kind="peek"), USER).submitted.run_id
        deadline = time.monotonic() + 10
        while (view := container.runs.get_run(run_id, USER)).status != "succeeded":
            assert time.monotonic() < deadline
            time.sleep(0.02)
        return view.output, view.tasks[0].control_hash

    def hash_now() -> str:
        return str(container.control_reads.snapshot("default").hash)

    try:
        control.add_version("prompt", "greeting", {"template": "v1"}, "", USER, activate=True)
        deadline = time.monotonic() + 5
        while (out := run_peek())[0] != "v1":
            assert time.monotonic() < deadline
        v1_hash = hash_now()
        assert out[1] == v1_hash
        changed = time.monotonic()
        control.add_version("prompt", "greeting", {"template": "v2"}, "", USER, activate=True)
        while (out := run_peek())[0] != "v2":
            pass
        assert time.monotonic() - changed < 1.5  # submit->done of the probing task included
        assert out[1] == hash_now() != v1_hash
        control.rollback("prompt", "greeting", "back", USER)
        while (out := run_peek())[0] != "v1":
            pass
        assert out[1] == v1_hash, "the outcome's hash proves which version ran"
    finally:
        pool.stop()
