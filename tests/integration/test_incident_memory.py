"""Incident memory on a real PostgreSQL: repeated findings become occurrences of one
incident, a run counts once, similar past incidents are found (same tenant only) with
pgvector and with plain SQL, and the incidents read model rebuilds to the same rows."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec
import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from psycopg.rows import dict_row

from adapters.embeddings.hashing import HashingEmbedder
from adapters.k8s.dump import DumpDirectory
from adapters.postgres.incident_reads import IncidentReads
from adapters.postgres.projector import ProjectionRunner
from adapters.postgres.rebuild import rebuild_projection
from domain.incident import NotAnIncident
from domain.incident_fingerprint import Fingerprint, incident_id_for, workload_of
from projections.incidents import IncidentsProjection
from services.agents.ports import IncidentMemoryPort
from services.incident_memory import IncidentMemory
from services.incidents.analyze import analyze_incident
from synaps.bootstrap import Container, build
from tests.conftest import settings_for_tests
from tests.fakes import FakeClock

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

REPO = Path(__file__).resolve().parents[2]
CASES = sorted(p for p in (REPO / "tests" / "fixtures" / "k8s").iterdir() if p.is_dir())
ACTOR = "agent:reviewer"


class Memory:
    """The service, its container and the incidents projection, for one test database."""

    def __init__(
        self, container: Container, clock: FakeClock, url: str, pgvector: bool | None
    ) -> None:
        self.container, self.clock, self.url = container, clock, url
        self.reads = IncidentReads(container.pool, pgvector=pgvector)
        self.service = IncidentMemory(container.ledger, clock, self.reads, HashingEmbedder())
        self.runner = ProjectionRunner(
            container.ledger.ledger_recorder,
            container.ledger.mapper,
            IncidentsProjection(),
            page_size=3,
        )
        self.runner.ensure_tracking()

    def project(self) -> None:
        self.runner.catch_up()

    def rows(self) -> list[dict[str, Any]]:
        with psycopg.connect(self.url) as conn, conn.cursor(row_factory=dict_row) as cur:
            return cur.execute("SELECT * FROM synaps_incidents ORDER BY incident_id").fetchall()

    def row(self, incident_id: uuid.UUID) -> dict[str, Any]:
        (found,) = [r for r in self.rows() if r["incident_id"] == incident_id]
        return found

    def events(self, incident_id: uuid.UUID) -> list[str]:
        with psycopg.connect(self.url) as conn:
            rows = conn.execute(
                "SELECT topic FROM synaps_events WHERE originator_id = %s"
                " ORDER BY originator_version",
                (incident_id,),
            ).fetchall()
        return [r[0] for r in rows]


def has_pgvector() -> bool:
    return not os.environ.get("SYNAPS_TEST_DATABASE_URL")  # the embedded server has it


@pytest.fixture
def memory(request: pytest.FixtureRequest, database_url: str) -> Iterator[Memory]:
    """Similarity with pgvector (True), plain SQL (False) or what the server has (None)."""
    pgvector: bool | None = getattr(request, "param", None)
    clock = FakeClock()
    container = build(settings_for_tests(database_url), clock=clock)
    if pgvector and not IncidentReads(container.pool).uses_pgvector:
        container.close()
        pytest.skip("this PostgreSQL has no pgvector")
    yield Memory(container, clock, database_url, pgvector=pgvector)
    container.close()


BOTH_PATHS = pytest.mark.parametrize(
    "memory", [True, False], ids=["pgvector", "plain-sql"], indirect=True
)


def report(
    target: str | None,
    cause: str,
    evidence: list[str],
    *,
    namespace: str = "shop",
    pods: tuple[str, ...] = (),
) -> dict[str, Any]:
    return {
        "intent": "diagnose_pod",
        "namespace": namespace,
        "target": target,
        "root_cause": {
            "type": cause,
            "confidence": 0.9,
            "detection_method": "rule_based",
            "evidence": evidence,
        },
        "remediation": {
            "immediate": f"fix {cause}",
            "verification": f"kubectl -n {namespace} get pods -w",
            "prevention": "",
        },
        "needs_review": False,
        "affected_pods": list(pods),
    }


def oom(pod: str, restarts: int, *, workload: str = "checkout") -> dict[str, Any]:
    return report(
        None,
        "oom_killed",
        [
            f"pod {pod} container app lastState.terminated.reason=OOMKilled exitCode=137"
            f" restartCount={restarts}",
            f"memory limit 512Mi; {restarts} restarts",
            f"JVM -Xmx1g above memory limit 512Mi ({workload})",
        ],
        pods=(pod,),
    )


IMAGE_PULL = report(
    "api",
    "image_pull_error",
    [
        'pod api-l7s6kc6t7-tcd7h container api state.waiting.reason=ImagePullBackOff message="Back'
        '-off pulling image "ghcr.io/acme/api:v2.3.9""',
        'event Warning Failed Pod/api-l7s6kc6t7-tcd7h (x7): Failed to pull image "ghcr.io/acme/api:'
        'v2.3.9": not found',
    ],
)
CRASH = report(
    "indexer",
    "crash_loop",
    [
        "kubectl logs indexer-lxwksgbr78-bsdkn -c indexer --previous: flag provided but not"
        " defined: -shards",
        "pod indexer-lxwksgbr78-bsdkn container indexer lastState.terminated.reason=Error"
        " exitCode=2",
    ],
)


def test_the_container_wires_incident_memory_as_the_agent_pack_port(container: Container) -> None:
    port: IncidentMemoryPort = container.incident_memory()
    assert isinstance(port, IncidentMemory)
    assert port is container.incident_memory(), "one embedder per process"
    # mypy checks IncidentMemory against the port (the agent pack only sees the port)
    direct: IncidentMemoryPort = IncidentMemory(
        container.ledger, container.clock, IncidentReads(container.pool), HashingEmbedder()
    )
    assert direct is not port


async def test_a_repeated_finding_is_one_incident_and_each_run_counts_once(
    memory: Memory,
) -> None:
    first_run, second_run = uuid.uuid4(), uuid.uuid4()
    first = await memory.service.remember(
        tenant="acme",
        run_id=first_run,
        report=oom("checkout-7d9f8b6c5d-x2k4p", 7),
        remediation_executed=False,
        verified=False,
        actor=ACTOR,
    )
    assert (first.occurrences, first.deduplicated) == (1, False)
    assert first.position is not None
    memory.clock.advance(3600)
    # the same failure in another pod of the Deployment, found by another run
    second = await memory.service.remember(
        tenant="acme",
        run_id=second_run,
        report=oom("checkout-5c4b6d8f9-q7zrt", 31),
        remediation_executed=True,
        verified=True,
        actor=ACTOR,
    )
    assert second.incident_id == first.incident_id
    assert (second.occurrences, second.deduplicated) == (2, True)
    assert second.position is not None and second.position > first.position
    # the second run's Reviewer task, retried: nothing is written
    again = await memory.service.remember(
        tenant="acme",
        run_id=second_run,
        report=oom("checkout-5c4b6d8f9-q7zrt", 32),
        remediation_executed=False,
        verified=False,
        actor=ACTOR,
    )
    assert (again.incident_id, again.occurrences, again.deduplicated) == (
        first.incident_id,
        2,
        True,
    )
    assert again.position is None
    assert memory.events(first.incident_id) == ["IncidentRecorded.v1", "IncidentRecurred.v1"]
    memory.project()
    row = memory.row(first.incident_id)
    assert row["occurrences"] == 2
    assert (row["first_run_id"], row["last_run_id"]) == (first_run, second_run)
    assert row["workload"] == "checkout" and row["tenant"] == "acme"
    assert row["verified"] and row["executed"]
    assert row["last_seen"] > row["first_seen"]
    assert "restartcount=<n>" in row["summary"]


async def test_a_healthy_finding_is_refused_and_nothing_is_written(memory: Memory) -> None:
    healthy = report(None, "healthy", ["all pods ready"])
    with pytest.raises(NotAnIncident):
        await memory.service.remember(
            tenant="acme",
            run_id=uuid.uuid4(),
            report=healthy,
            remediation_executed=False,
            verified=False,
            actor=ACTOR,
        )
    with psycopg.connect(memory.url) as conn:
        written = conn.execute(
            "SELECT count(*) FROM synaps_events WHERE topic LIKE 'Incident%%'"
        ).fetchone()
    assert written == (0,)
    assert await memory.service.similar(tenant="acme", report=healthy) == []


async def remember_all(memory: Memory, tenant: str, *reports: dict[str, Any]) -> list[uuid.UUID]:
    ids = []
    for found in reports:
        memory.clock.advance(60)
        remembered = await memory.service.remember(
            tenant=tenant,
            run_id=uuid.uuid4(),
            report=found,
            remediation_executed=False,
            verified=False,
            actor=ACTOR,
        )
        ids.append(remembered.incident_id)
    return ids


@BOTH_PATHS
async def test_similar_finds_the_same_failure_and_not_an_unrelated_one_nor_another_tenants(
    memory: Memory,
) -> None:
    acme_oom, acme_pull, acme_crash = await remember_all(
        memory, "acme", oom("checkout-7d9f8b6c5d-x2k4p", 7), IMAGE_PULL, CRASH
    )
    (globex_oom,) = await remember_all(memory, "globex", oom("checkout-7d9f8b6c5d-x2k4p", 7))
    assert globex_oom != acme_oom
    memory.project()
    probe = oom("checkout-66b8d7c9f4-bq2zx", 2)  # a new occurrence, not yet remembered
    found = await memory.service.similar(tenant="acme", report=probe, limit=5)
    assert [f.incident_id for f in found] == [acme_oom], found
    (best,) = found
    assert best.similarity > 0.99
    assert (best.root_cause, best.namespace, best.occurrences) == ("oom_killed", "shop", 1)
    assert best.remediation.startswith("fix oom_killed")
    # globex sees its own incident only
    (theirs,) = await memory.service.similar(tenant="globex", report=probe)
    assert theirs.incident_id == globex_oom
    # the probe's own incident left out (the Reviewer asks for *other* incidents)
    assert await memory.service.similar(tenant="acme", report=probe, exclude=acme_oom) == []
    crash = await memory.service.similar(tenant="acme", report=CRASH, limit=5)
    assert [f.incident_id for f in crash] == [acme_crash]
    assert acme_pull not in {f.incident_id for f in crash}


@BOTH_PATHS
async def test_the_same_cause_in_another_workload_ranks_after_the_same_failure(
    memory: Memory,
) -> None:
    checkout, payments, _ = await remember_all(
        memory,
        "acme",
        oom("checkout-7d9f8b6c5d-x2k4p", 7),
        oom("payments-5c4b6d8f9-q7zrt", 3, workload="payments"),
        IMAGE_PULL,
    )
    memory.project()
    found = await memory.service.similar(
        tenant="acme", report=oom("checkout-66b8d7c9f4-bq2zx", 2), limit=5
    )
    assert [f.incident_id for f in found] == [checkout, payments]
    assert found[0].similarity > found[1].similarity >= 0.35


@BOTH_PATHS
async def test_every_diagnosed_snapshot_case_finds_itself_first(memory: Memory) -> None:
    """Real analyzer reports: a recurrence of each case ranks that case's incident first."""
    reports = []
    for case in CASES:
        question = (case / "question.txt").read_text().strip()
        found = await analyze_incident(question, DumpDirectory(case))
        reports.append(msgspec.to_builtins(found))
    remembered: dict[uuid.UUID, str] = {}
    for found in reports:
        if found["root_cause"]["type"] == "healthy":
            continue
        ids = await remember_all(memory, "acme", found)
        remembered[ids[0]] = found["root_cause"]["type"]
    assert len(remembered) > 40
    memory.project()
    for found in reports:
        cause = found["root_cause"]["type"]
        if cause == "healthy":
            continue
        fingerprint = Fingerprint(
            tenant="acme",
            namespace=found["namespace"],
            workload=workload_of(found["target"], found["affected_pods"]),
            root_cause=cause,
        )
        best, *rest = await memory.service.similar(tenant="acme", report=found, limit=3)
        assert best.incident_id == incident_id_for(fingerprint)
        assert best.similarity > 0.99
        assert all(other.similarity < best.similarity for other in rest)


async def test_pgvector_and_plain_sql_rank_alike(memory: Memory) -> None:
    await remember_all(
        memory,
        "acme",
        oom("checkout-7d9f8b6c5d-x2k4p", 7),
        oom("payments-5c4b6d8f9-q7zrt", 3, workload="payments"),
        IMAGE_PULL,
        CRASH,
    )
    memory.project()
    if not IncidentReads(memory.container.pool).uses_pgvector:
        pytest.skip("this PostgreSQL has no pgvector")
    vector = HashingEmbedder().vector("oom killed checkout exitcode=137 back-off")
    args: dict[str, Any] = {"tenant": "acme", "embedder": "hashing-v1-256", "limit": 10}
    with_pgvector = IncidentReads(memory.container.pool, pgvector=True).nearest(
        vector=vector, **args
    )
    plain = IncidentReads(memory.container.pool, pgvector=False).nearest(vector=vector, **args)
    assert len(with_pgvector) == len(plain) >= 3
    assert [f.incident_id for f in with_pgvector] == [f.incident_id for f in plain]
    for a, b in zip(with_pgvector, plain, strict=True):
        assert a.similarity == pytest.approx(b.similarity, abs=1e-5)


async def test_listing_and_getting_incidents_is_tenant_filtered(memory: Memory) -> None:
    oom_id, pull_id = await remember_all(
        memory, "acme", oom("checkout-7d9f8b6c5d-x2k4p", 7), IMAGE_PULL
    )
    (theirs,) = await remember_all(memory, "globex", CRASH)
    memory.project()
    assert [v.incident_id for v in memory.reads.recent("acme")] == [pull_id, oom_id]
    assert [v.incident_id for v in memory.reads.recent("acme", root_cause="oom_killed")] == [oom_id]
    assert memory.reads.recent("acme", namespace="elsewhere") == []
    assert [v.incident_id for v in memory.reads.recent("globex")] == [theirs]
    view = memory.reads.get("acme", oom_id)
    assert view is not None and (view.workload, view.occurrences) == ("checkout", 1)
    assert memory.reads.get("acme", theirs) is None, "another tenant's incident"


@BOTH_PATHS
async def test_an_incident_without_a_direction_is_similar_to_nothing(memory: Memory) -> None:
    """A zero vector has no cosine (pgvector answers NaN, which PostgreSQL sorts above
    every number): such a row is never returned, whatever the floor."""
    (incident,) = await remember_all(memory, "acme", CRASH)
    memory.project()
    with psycopg.connect(memory.url, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO synaps_incidents SELECT gen_random_uuid(), tenant, namespace, workload,"
            " target, 'oom_killed', summary, remediation, evidence, confidence, detection_method,"
            " verified, executed, occurrences, first_seen, last_seen, first_run_id, last_run_id,"
            " embedder, array_fill(0::real, ARRAY[cardinality(embedding)]), position"
            " FROM synaps_incidents WHERE incident_id = %s",
            (incident,),
        )
    vector = HashingEmbedder().vector("crash loop indexer")
    found = memory.reads.nearest(
        tenant="acme", embedder="hashing-v1-256", vector=vector, limit=5, min_similarity=0.0
    )
    assert [f.incident_id for f in found] == [incident]
    assert (
        memory.reads.nearest(tenant="acme", embedder="hashing-v1-256", vector=[0.0] * 256, limit=5)
        == []
    )


def test_the_embedded_server_has_pgvector(database_url: str) -> None:
    if not has_pgvector():
        pytest.skip("an external PostgreSQL")
    with psycopg.connect(database_url) as conn:
        row = conn.execute(
            "SELECT extversion FROM pg_extension WHERE extname = 'vector'"
        ).fetchone()
    assert row is not None, "migration 0006 creates it where the server ships it"


async def test_concurrent_first_findings_of_one_incident_count_every_run(memory: Memory) -> None:
    runs = [uuid.uuid4() for _ in range(4)]
    results = await asyncio.gather(
        *(
            memory.service.remember(
                tenant="acme",
                run_id=run,
                report=oom(f"checkout-7d9f8b6c5d-x2k4{'pqrs'[i]}", i),
                remediation_executed=False,
                verified=False,
                actor=ACTOR,
            )
            for i, run in enumerate(runs)
        )
    )
    assert len({r.incident_id for r in results}) == 1
    assert sorted(r.occurrences for r in results) == [1, 2, 3, 4]
    assert [r.deduplicated for r in results].count(False) == 1
    memory.project()
    assert memory.row(results[0].incident_id)["occurrences"] == 4


def rebuilt_equals_incremental(memory: Memory, suffix_seed: int) -> list[dict[str, Any]]:
    """The rows after catching up, after re-delivering a suffix of the log (the
    projection moved back to just before one of its events), and after a rebuild."""
    memory.project()
    incremental = memory.rows()
    with psycopg.connect(memory.url, autocommit=True) as conn:
        positions = [
            r[0]
            for r in conn.execute(
                "SELECT notification_id FROM synaps_events WHERE topic LIKE 'Incident%%' ORDER BY 1"
            )
        ]
        back = positions[suffix_seed % len(positions)] - 1
        conn.execute(
            "UPDATE synaps_projections SET position = %s WHERE name = 'incidents'", (back,)
        )
    memory.project()
    assert memory.rows() == incremental, "re-delivery changed the read model"
    ledger = memory.container.ledger
    rebuild_projection(ledger.ledger_recorder, ledger.mapper, IncidentsProjection(), page_size=2)
    assert memory.rows() == incremental, "a rebuild differs from incremental processing"
    return incremental


async def test_a_rebuild_from_scratch_equals_the_incremental_read_model(memory: Memory) -> None:
    runs = [uuid.uuid4() for _ in range(3)]
    for i, run in enumerate(runs):
        for found in (oom(f"checkout-7d9f8b6c5d-x2k{i + 4}p", i), IMAGE_PULL, CRASH):
            memory.clock.advance(30)
            await memory.service.remember(
                tenant="acme" if found is not CRASH else "globex",
                run_id=run,
                report=found,
                remediation_executed=i == 1,
                verified=i == 2,
                actor=ACTOR,
            )
        memory.runner.step()  # one page, mid-history
    rows = rebuilt_equals_incremental(memory, suffix_seed=4)  # from the second run's OOM
    assert sorted(r["occurrences"] for r in rows) == [3, 3, 3]
    assert all(r["verified"] and r["executed"] for r in rows)


FINDINGS = [
    ("acme", oom("checkout-7d9f8b6c5d-x2k4p", 7)),
    ("acme", oom("checkout-5c4b6d8f9-q7zrt", 9)),  # the same incident as the first
    ("acme", IMAGE_PULL),
    ("acme", CRASH),
    ("globex", oom("checkout-7d9f8b6c5d-x2k4p", 7)),
]


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    remembered=st.lists(
        st.tuples(st.integers(0, len(FINDINGS) - 1), st.integers(0, 4), st.booleans()),
        min_size=1,
        max_size=14,
    ),
    suffix_seed=st.integers(0, 100),
)
def test_occurrences_are_the_distinct_runs_per_fingerprint(
    memory: Memory, remembered: list[tuple[int, int, bool]], suffix_seed: int
) -> None:
    with psycopg.connect(memory.url, autocommit=True) as conn:
        conn.execute("TRUNCATE synaps_events, synaps_incidents, synaps_projections")
    memory.runner.ensure_tracking()
    runs = [uuid.UUID(int=n + 1) for n in range(5)]
    expected: dict[uuid.UUID, set[uuid.UUID]] = {}

    async def remember_each() -> None:
        for finding, run, project in remembered:
            tenant, found = FINDINGS[finding]
            result = await memory.service.remember(
                tenant=tenant,
                run_id=runs[run],
                report=found,
                remediation_executed=False,
                verified=False,
                actor=ACTOR,
            )
            counted = expected.setdefault(result.incident_id, set())
            assert (result.position is None) == (runs[run] in counted)
            assert result.deduplicated == bool(counted)
            counted.add(runs[run])
            assert result.occurrences == len(counted)
            if project:
                memory.runner.step()

    asyncio.run(remember_each())
    rows = rebuilt_equals_incremental(memory, suffix_seed)
    assert {r["incident_id"]: r["occurrences"] for r in rows} == {
        incident: len(counted) for incident, counted in expected.items()
    }
