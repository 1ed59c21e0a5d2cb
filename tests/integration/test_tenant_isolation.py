"""Tenant isolation as a property: whatever two tenants do, neither ever sees the
other's runs, tasks, events or keys; the other's ids answer 404, never 403, never data."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from litestar.testing import TestClient

from synaps.bootstrap import Container, build
from synaps.wiring import api_app
from tests.conftest import ADMIN_KEY, settings_for_tests

pytestmark = pytest.mark.integration

TENANTS = ("acme", "globex")


@dataclass
class World:
    client: TestClient[Any]
    keys: dict[str, str]
    runs: dict[str, list[str]] = field(default_factory=lambda: {t: [] for t in TENANTS})
    tasks: dict[str, list[str]] = field(default_factory=lambda: {t: [] for t in TENANTS})
    claimed: dict[str, list[tuple[str, int]]] = field(
        default_factory=lambda: {t: [] for t in TENANTS}
    )
    seen: int = 0
    position: int = 0  # the latest ledger position a write answered (read-your-writes)

    def call(
        self, tenant: str, method: str, path: str, *, may_refuse: bool = False, **kwargs: Any
    ) -> Any:
        response = self.client.request(
            method, path, headers={"X-API-Key": self.keys[tenant]}, **kwargs
        )
        assert response.status_code < 500, response.text
        if not may_refuse:  # another tenant's ids are 404, never 403
            assert response.status_code != 403, f"{tenant}: {method} {path}: {response.text}"
        self.check_reveals_nothing(tenant, response.text, f"{path} {kwargs.get('json')}")
        self.seen += 1
        position = response.headers.get("Synaps-Position")
        if method == "POST" and position is not None:
            self.position = max(self.position, int(position))
        return response

    def check_reveals_nothing(self, tenant: str, text: str, sent: str) -> None:
        other = next(t for t in TENANTS if t != tenant)
        assert f"secret-of-{other}" not in text
        for ident in self.runs[other] + self.tasks[other]:
            if ident not in sent:  # a 404 may name the id the caller sent
                assert ident not in text, f"{tenant} saw {other}'s {ident}"


@pytest.fixture
def world(database_url: str) -> Iterator[World]:
    container: Container = build(
        settings_for_tests(
            database_url,
            bootstrap_admin_key=ADMIN_KEY,
            rate_limits_by_role="admin=1000000/minute,1000000/hour",
        )
    )
    container.projector().start()
    with TestClient(api_app(container)) as client:
        keys = {}
        for tenant in TENANTS:
            r = client.post(
                "/v1/keys",
                json={"type": "admin", "tenant": tenant},
                headers={"X-API-Key": ADMIN_KEY},
            )
            keys[tenant] = r.json()["key"]
        yield World(client, keys)
    container.close()


tenant = st.sampled_from(TENANTS)
pick = st.integers(min_value=0, max_value=50)
operation = st.one_of(
    st.tuples(st.just("submit"), tenant, st.sampled_from(["noop", "sleep"])),
    st.tuples(st.just("claim"), tenant),
    st.tuples(st.just("complete"), tenant, tenant, pick),
    st.tuples(st.just("read"), tenant, tenant, pick),
    st.tuples(st.just("cancel"), tenant, tenant, pick),
    st.tuples(st.just("stats"), tenant),
    st.tuples(st.just("keys"), tenant, tenant, pick),
)


def apply(world: World, op: tuple[Any, ...]) -> None:
    kind, actor = op[0], op[1]
    if kind == "submit":
        secret = {"note": f"secret-of-{actor}", "n": world.seen}
        r = world.call(actor, "POST", "/v1/commands/submit", json={"kind": op[2], "input": secret})
        world.runs[actor].append(r.json()["run_id"])
        world.tasks[actor].extend(r.json()["task_ids"])
    elif kind == "claim":
        r = world.call(
            actor, "POST", "/v1/queue/claim", json={"worker_id": f"w-{actor}", "max_tasks": 3}
        )
        for task in r.json()["tasks"]:
            assert task["tenant"] == actor and task["task_id"] in world.tasks[actor]
            world.claimed[actor].append((task["task_id"], task["attempt"]))
    elif kind == "complete":
        owner, index = op[2], op[3]
        if not world.claimed[owner]:
            return
        task_id, attempt = world.claimed[owner][index % len(world.claimed[owner])]
        body = {"task_id": task_id, "attempt": attempt, "output": {"by": actor}}
        r = world.call(actor, "POST", "/v1/queue/complete", json=body)
        assert r.status_code == 404 if owner != actor else r.status_code in (200, 409)
    elif kind in ("read", "cancel"):
        owner, index = op[2], op[3]
        if not world.runs[owner]:
            return
        run_id = world.runs[owner][index % len(world.runs[owner])]
        if kind == "read":
            r = world.call(
                actor, "GET", f"/v1/runs/{run_id}", params={"min_position": world.position}
            )
        else:
            r = world.call(actor, "POST", f"/v1/runs/{run_id}/cancel")
        if owner != actor:
            assert r.status_code == 404 and r.json()["code"] == "not_found"
        else:
            assert r.status_code in (200, 409)
            if kind == "read":
                assert {e["tenant"] for e in r.json()["events"]} == {actor}
    elif kind == "stats":
        r = world.call(actor, "GET", "/v1/queue/stats")
        total = sum(q["ready"] + q["scheduled"] + q["in_flight"] for q in r.json()["queues"])
        assert total <= len(world.tasks[actor])
    elif kind == "keys":
        r = world.call(actor, "GET", "/v1/keys")
        assert {k["tenant"] for k in r.json()["keys"]} == {actor}
        other = op[2]
        if other != actor:  # naming another tenant is refused without data
            r = world.call(actor, "GET", "/v1/keys", params={"tenant": other}, may_refuse=True)
            assert r.status_code == 403 and "keys" not in r.json()


@settings(
    max_examples=40,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(operations=st.lists(operation, min_size=1, max_size=15))
def test_two_tenants_never_see_each_others_work(world: World, operations: list[Any]) -> None:
    for op in operations:
        apply(world, op)
