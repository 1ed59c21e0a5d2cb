"""The REST API over a real PostgreSQL: status codes, problem bodies, nothing half-written."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import psycopg
import pytest
from litestar.testing import TestClient

from domain.api_key import key_id_for
from synaps.bootstrap import Container
from synaps.wiring import api_app
from tests.conftest import ADMIN_KEY

pytestmark = pytest.mark.integration


@pytest.fixture
def client(container: Container, admin_key: str) -> Iterator[TestClient]:  # type: ignore[type-arg]
    container.projector().start()
    with TestClient(api_app(container)) as c:
        c.headers["X-API-Key"] = admin_key
        yield c


def read_run(client: TestClient, run_id: str, position: int) -> dict:  # type: ignore[type-arg]
    """Read a run after a write at ``position`` (read-your-writes)."""
    r = client.get(f"/v1/runs/{run_id}", params={"min_position": position})
    assert r.status_code == 200, r.text
    assert r.headers["Synaps-Projection-Lag"] == "0"
    return r.json()  # type: ignore[no-any-return]


def ledger_size(database_url: str) -> int:
    with psycopg.connect(database_url) as conn:
        row = conn.execute("SELECT count(*) FROM synaps_events").fetchone()
    assert row is not None
    return int(row[0])


def assert_problem(response, status: int, code: str) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert {"type", "title", "detail"} <= body.keys()
    assert body["code"] == code
    assert body["status"] == status


def test_submit_then_read_the_run_with_its_history(client: TestClient) -> None:  # type: ignore[type-arg]
    r = client.post("/v1/commands/submit", json={"kind": "noop", "input": {"n": 1}})
    assert r.status_code == 201
    body = r.json()
    assert set(body) == {"command_id", "run_id", "thread_id", "task_ids", "position"}
    assert r.headers["Synaps-Position"] == str(body["position"])
    run = read_run(client, body["run_id"], body["position"])
    assert run["status"] == "queued"
    assert [e["type"] for e in run["events"]] == [
        "CommandSubmitted",
        "ThreadStarted",
        "RunCreated",
        "TaskQueued",
    ]
    positions = [e["position"] for e in run["events"]]
    assert positions == sorted(positions)
    assert all(e["actor"] == f"key:{key_id_for(ADMIN_KEY)}" for e in run["events"])
    assert run["events"][0]["time"].endswith("Z")
    assert "." in run["events"][0]["time"]
    assert run["tasks"][0]["status"] == "queued"


def test_worker_endpoints_drive_a_run_to_success(client: TestClient) -> None:  # type: ignore[type-arg]
    run_id = client.post("/v1/commands/submit", json={"kind": "noop"}).json()["run_id"]
    claimed = client.post("/v1/queue/claim", json={"worker_id": "ext-1", "max_tasks": 5}).json()
    (task,) = claimed["tasks"]
    assert task["attempt"] == 1
    renew = client.post(
        "/v1/queue/renew", json={"task_id": task["task_id"], "attempt": 1, "lease_seconds": 60}
    )
    assert renew.status_code == 200
    body = {"task_id": task["task_id"], "attempt": 1, "output": {"answer": 42}}
    first = client.post("/v1/queue/complete", json=body)
    second = client.post("/v1/queue/complete", json=body)
    assert (first.status_code, second.status_code) == (200, 200)
    assert second.json()["duplicate"] is True
    run = read_run(client, run_id, first.json()["position"])
    assert run["status"] == "succeeded"
    assert run["output"] == {"answer": 42}
    types = [e["type"] for e in run["events"]]
    assert types.count("TaskSucceeded") == 1
    assert types[-2:] == ["TaskSucceeded", "RunSucceeded"]
    claimed_by = [e["actor"] for e in run["events"] if e["type"] == "TaskClaimed"]
    assert claimed_by == [f"worker:ext-1@key:{key_id_for(ADMIN_KEY)}"]
    (attempt,) = run["tasks"][0]["attempts"]
    assert (attempt["attempt"], attempt["worker_id"], attempt["outcome"]) == (
        1,
        "ext-1",
        "succeeded",
    )


def test_stale_attempts_get_409_lease_lost_and_change_nothing(
    client: TestClient,
    database_url: str,  # type: ignore[type-arg]
) -> None:
    client.post("/v1/commands/submit", json={"kind": "noop"})
    (task,) = client.post("/v1/queue/claim", json={"worker_id": "w"}).json()["tasks"]
    before = ledger_size(database_url)
    for path, extra in (
        ("/v1/queue/complete", {}),
        ("/v1/queue/renew", {}),
        ("/v1/queue/fail", {"error": "x"}),
    ):
        r = client.post(path, json={"task_id": task["task_id"], "attempt": 2, **extra})
        assert_problem(r, 409, "lease_lost")
        assert "lease_lost" in r.text
    assert ledger_size(database_url) == before


def test_idempotency_over_http(client: TestClient, database_url: str) -> None:  # type: ignore[type-arg]
    headers = {"Idempotency-Key": "order-7"}
    first = client.post("/v1/commands/submit", json={"kind": "noop", "input": 1}, headers=headers)
    again = client.post("/v1/commands/submit", json={"kind": "noop", "input": 1}, headers=headers)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()
    before = ledger_size(database_url)
    other = client.post("/v1/commands/submit", json={"kind": "noop", "input": 2}, headers=headers)
    assert_problem(other, 409, "idempotency_conflict")
    assert ledger_size(database_url) == before


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        (b"{not json", 400, "malformed_json"),
        (b"", 400, "missing_body"),
        (b'{"input": {}}', 422, "invalid_request"),
        (b'{"kind": ""}', 422, "invalid_request"),
        (b'{"kind": "has space"}', 422, "invalid_request"),
        (b'{"kind": "noop", "priority": "high"}', 422, "invalid_request"),
        (b'{"kind": "noop", "max_attempts": 0}', 422, "invalid_request"),
        (b'{"kind": "noop", "thread_id": "nope"}', 422, "invalid_request"),
        (b'{"kind": "noop", "not_before": "2026-01-01T00:00:00"}', 422, "invalid_request"),
        (b'{"kind": "noop", "surprise": 1}', 422, "invalid_request"),
        (b"[1, 2]", 422, "invalid_request"),
    ],
)
def test_bad_submits_get_a_problem_and_write_nothing(
    client: TestClient,
    database_url: str,
    body: bytes,
    status: int,
    code: str,  # type: ignore[type-arg]
) -> None:
    before = ledger_size(database_url)
    r = client.post(
        "/v1/commands/submit", content=body, headers={"content-type": "application/json"}
    )
    assert_problem(r, status, code)
    assert ledger_size(database_url) == before


def test_unknown_ids_and_routes_are_404_problems(client: TestClient) -> None:  # type: ignore[type-arg]
    assert_problem(client.get(f"/v1/runs/{uuid.uuid4()}"), 404, "not_found")
    assert_problem(client.get("/v1/runs/not-a-uuid"), 404, "not_found")
    assert_problem(client.post(f"/v1/runs/{uuid.uuid4()}/cancel"), 404, "not_found")
    assert_problem(client.get("/v1/nothing-here"), 404, "not_found")
    unknown_thread = client.post(
        "/v1/commands/submit", json={"kind": "noop", "thread_id": str(uuid.uuid4())}
    )
    assert_problem(unknown_thread, 404, "not_found")
    r = client.post("/v1/queue/complete", json={"task_id": str(uuid.uuid4()), "attempt": 1})
    assert_problem(r, 404, "not_found")


def test_cancel_over_http(client: TestClient) -> None:  # type: ignore[type-arg]
    run_id = client.post("/v1/commands/submit", json={"kind": "noop"}).json()["run_id"]
    r = client.post(f"/v1/runs/{run_id}/cancel", json={"reason": "changed my mind"})
    assert r.status_code == 200
    assert r.json()["status"] == "cancelled"
    assert client.post(f"/v1/runs/{run_id}/cancel").status_code == 200
    assert client.post("/v1/queue/claim", json={"worker_id": "w"}).json() == {"tasks": []}
    run = read_run(client, run_id, r.json()["position"])
    assert run["status"] == "cancelled"
    assert [e["type"] for e in run["events"]][-2:] == ["RunCancelled", "TaskCancelled"]


def test_health_ready_metrics_and_openapi(client: TestClient) -> None:  # type: ignore[type-arg]
    assert client.get("/healthz").json() == {"status": "ok", "checks": {}}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"database": "ok"}
    client.post("/v1/commands/submit", json={"kind": "noop"})
    client.post("/v1/commands/submit", json={"kind": "noop", "queue": "slow"})
    client.post("/v1/queue/claim", json={"worker_id": "w", "queues": ["slow"]})
    text = client.get("/metrics").text
    assert "synaps_commands_submitted_total 2.0" in text
    assert 'synaps_tasks_claimed_total{queue="slow"} 1.0' in text
    assert 'synaps_queue_ready_tasks{queue="default"} 1.0' in text
    assert 'synaps_queue_in_flight_tasks{queue="slow"} 1.0' in text
    assert "synaps_claim_latency_seconds_bucket" in text
    spec = client.get("/schema/openapi.json").json()
    assert "/v1/commands/submit" in spec["paths"]
    assert "Idempotency-Key" in str(spec["paths"]["/v1/commands/submit"])
    summary = client.get("/", headers={"accept": "application/json"}).json()
    assert summary["service"] == "synaps"


def test_list_runs_with_filters_and_keyset_pagination(client: TestClient) -> None:  # type: ignore[type-arg]
    positions = []
    for i in range(5):
        kind = "noop" if i % 2 == 0 else "sleep"
        positions.append(client.post("/v1/commands/submit", json={"kind": kind}).json())
    done = client.post("/v1/queue/claim", json={"worker_id": "w", "max_tasks": 1}).json()["tasks"]
    last = client.post("/v1/queue/complete", json={"task_id": done[0]["task_id"], "attempt": 1})
    read_run(client, done[0]["run_id"], last.json()["position"])
    newest_first = [p["run_id"] for p in reversed(positions)]
    page1 = client.get("/v1/runs", params={"limit": 2}).json()
    page2 = client.get("/v1/runs", params={"limit": 2, "after": page1["next_cursor"]}).json()
    page3 = client.get("/v1/runs", params={"limit": 2, "after": page2["next_cursor"]}).json()
    seen = [r["run_id"] for page in (page1, page2, page3) for r in page["runs"]]
    assert seen == newest_first
    assert page3["next_cursor"] is None
    sleeps = client.get("/v1/runs", params={"kind": "sleep"}).json()["runs"]
    assert {r["run_id"] for r in sleeps} == {positions[1]["run_id"], positions[3]["run_id"]}
    finished = client.get("/v1/runs", params={"status": "succeeded"}).json()["runs"]
    assert [r["run_id"] for r in finished] == [done[0]["run_id"]]
    assert finished[0]["tasks"]["succeeded"] == 1
    assert_problem(client.get("/v1/runs", params={"after": "not-a-cursor"}), 422, "invalid_request")
    assert_problem(client.get("/v1/runs", params={"status": "bogus"}), 422, "invalid_request")


def test_read_your_writes_reports_lag_when_the_views_are_behind(
    container: Container, database_url: str, admin_key: str
) -> None:
    # no projector running: the views never catch up
    with TestClient(api_app(container)) as c:
        c.headers["X-API-Key"] = admin_key
        submitted = c.post("/v1/commands/submit", json={"kind": "noop"}).json()
        r = c.get(f"/v1/runs/{submitted['run_id']}", params={"min_position": submitted["position"]})
        assert_problem(r, 404, "not_found")
        container.projector().start()
        r = c.get(
            f"/v1/runs/{submitted['run_id']}",
            headers={"Synaps-Min-Position": str(submitted["position"])},
        )
        assert r.status_code == 200
        assert r.headers["Synaps-Projection-Lag"] == "0"


def test_long_poll_returns_when_the_run_finishes(client: TestClient) -> None:  # type: ignore[type-arg]
    import threading
    import time

    submitted = client.post("/v1/commands/submit", json={"kind": "noop"}).json()

    def finish_soon() -> None:
        time.sleep(0.5)
        (task,) = client.post("/v1/queue/claim", json={"worker_id": "w"}).json()["tasks"]
        client.post("/v1/queue/complete", json={"task_id": task["task_id"], "attempt": 1})

    threading.Thread(target=finish_soon).start()
    started = time.monotonic()
    r = client.get(
        f"/v1/runs/{submitted['run_id']}",
        params={"min_position": submitted["position"], "wait": 20},
    )
    assert r.json()["status"] == "succeeded"
    assert 0.4 < time.monotonic() - started < 10
