"""The composition root: build the services for a database, in one place."""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from psycopg_pool import ConnectionPool

from adapters.artifacts.filesystem import FilesystemArtifactStore
from adapters.artifacts.store_url import open_artifact_store
from adapters.embeddings import embedder_from_env
from adapters.identity.access_tokens import JwtAccessTokens
from adapters.identity.argon2_passwords import Argon2Passwords
from adapters.identity.oidc import OidcIssuer
from adapters.identity.signing_keys import SigningKeys
from adapters.k8s.sources import evidence_source_factory, reader_factory, writer_factory
from adapters.llm.registry import providers_from_env
from adapters.metrics import Metrics
from adapters.nats.bridge import NatsBridge
from adapters.nats.relay import NatsRelay
from adapters.nats.wakeups import NatsWakeups
from adapters.postgres.change_feed import ChangeFeed
from adapters.postgres.control_reads import PostgresControlReads
from adapters.postgres.directory import PostgresDirectory
from adapters.postgres.incident_reads import IncidentReads
from adapters.postgres.ledger import Ledger
from adapters.postgres.projector import Projector
from adapters.postgres.rate_counter import PostgresRateCounter
from adapters.postgres.read_models import PostgresRunReads
from adapters.postgres.recorder import LedgerRecorder
from domain.incidents.redaction import Redactor
from domain.rate_limits import RateLimitPolicy
from projections.catalog import processors
from projections.identity import IdentityProjection
from projections.processor import Processor
from projections.queue import QueueDepth, QueueProjection
from services.agents.deps import AgentDeps
from services.agents.pack import register_agent_pack
from services.agents.ports import IncidentMemoryPort
from services.api_keys import ApiKeys
from services.approvals import ApprovalService
from services.artifacts import ArtifactStore
from services.ask import AskService
from services.authentication import Authenticator
from services.control import ControlService
from services.control_cache import ControlCache
from services.incident_memory import IncidentMemory
from services.models import ModelProvider
from services.ports import Clock, system_clock
from services.prompt_task import PromptTask
from services.queue import QueueService
from services.refusals import RefusalLog
from services.run_views import RunViews
from services.runs import RunQueries
from services.sessions import Sessions
from services.submit import SubmitService
from services.task_kinds import TaskKinds, builtin_kinds
from services.users import Users
from services.wakeups import Wakeups
from services.worker import WorkerOptions, WorkerPool
from synaps.settings import Settings

__all__ = ["Container", "Identity", "build", "default_worker_id"]


def _pick(value: float | None, default: float) -> float:
    return default if value is None else value


def default_worker_id() -> str:
    return f"{socket.gethostname()}-{os.getpid()}"


@dataclass
class Identity:
    """Who may do what: keys, users, sessions, tokens, limits, and refusals."""

    directory: PostgresDirectory
    tokens: JwtAccessTokens
    authenticator: Authenticator
    refusals: RefusalLog
    keys: ApiKeys
    users: Users
    sessions: Sessions
    rate_counter: PostgresRateCounter
    rate_limits: RateLimitPolicy

    def jwks(self) -> dict[str, Any]:
        keys = self.tokens.signing_keys
        return {"keys": []} if keys is None else keys.public_jwks()


def _identity(settings: Settings, pool: Any, ledger: Ledger, clock: Clock) -> Identity:
    directory = PostgresDirectory(pool)
    external = (
        OidcIssuer(
            settings.oidc_issuer,
            settings.oidc_jwks_url,
            audience=settings.oidc_audience,
            tenant_claim=settings.oidc_tenant_claim,
            roles_claim=settings.oidc_roles_claim,
        )
        if settings.oidc_issuer and settings.oidc_jwks_url
        else None
    )
    tokens = JwtAccessTokens(
        SigningKeys.from_settings(settings.jwt_keys, settings.jwt_secret),
        issuer=settings.jwt_issuer,
        audience=settings.jwt_audience,
        external=external,
    )
    passwords = Argon2Passwords(
        time_cost=settings.argon2_time_cost or None,
        memory_kib=settings.argon2_memory_kib or None,
    )
    refusals = RefusalLog(ledger, clock)
    return Identity(
        directory=directory,
        tokens=tokens,
        authenticator=Authenticator(
            directory, tokens, clock, cache_seconds=min(1.0, settings.auth_cache_seconds)
        ),
        refusals=refusals,
        keys=ApiKeys(ledger, directory, refusals, clock),
        users=Users(ledger, directory, passwords, refusals, clock),
        sessions=Sessions(ledger, passwords, tokens, refusals, clock),
        rate_counter=PostgresRateCounter(pool),
        rate_limits=RateLimitPolicy.parse(
            settings.rate_limit_default,
            settings.rate_limits_by_role,
            settings.rate_limit_anonymous,
        ),
    )


@dataclass
class Container:
    settings: Settings
    pool: ConnectionPool[psycopg.Connection[Any]]
    ledger: Ledger
    metrics: Metrics
    clock: Clock
    submit: SubmitService
    queue: QueueService
    runs: RunQueries
    change_feed: ChangeFeed
    run_views: RunViews
    control: ControlService
    control_reads: PostgresControlReads
    approvals: ApprovalService
    ask: AskService
    artifacts: ArtifactStore
    identity: Identity
    wakeups: Wakeups | None = None
    nats: NatsBridge | None = None
    workers: list[WorkerPool] = field(default_factory=list)
    projectors: list[Projector] = field(default_factory=list)
    _control_cache: ControlCache | None = None
    _providers: dict[str, ModelProvider] | None = None
    _incident_memory: IncidentMemory | None = None

    def processors(self) -> list[Processor]:
        """The read-model processors, and the NATS relay when NATS is configured."""
        chosen = processors()
        if self.nats is not None:
            chosen.append(NatsRelay(self.nats))
        return chosen

    def projector(self, page_size: int = 1000, only: str | None = None) -> Projector:
        """The projection processors (or ``only`` one) for this process to run."""
        chosen = [p for p in self.processors() if only is None or p.name == only]
        projector = Projector(
            self.ledger.ledger_recorder, self.ledger.mapper, chosen, page_size=page_size
        )
        self.projectors.append(projector)
        return projector

    def queue_depth(self, tenant: str | None = None) -> list[QueueDepth]:
        with self.pool.connection() as conn, conn.cursor() as cur:
            return QueueProjection.depth(cur, self.clock(), tenant)

    def ping(self) -> None:
        self.ledger.ledger_recorder.ping()

    def worker_pool(self, kinds: TaskKinds | None = None, **overrides: Any) -> WorkerPool:
        s = self.settings
        options = WorkerOptions(
            worker_id=overrides.pop("worker_id", None) or s.worker_id or default_worker_id(),
            queues=tuple(overrides.pop("queues", None) or s.worker_queues),
            concurrency=overrides.pop("concurrency", None) or s.worker_concurrency,
            lease_seconds=overrides.pop("lease_seconds", None) or s.lease_seconds,
            claim_batch=overrides.pop("claim_batch", None) or s.claim_batch,
            complete_batch=overrides.pop("complete_batch", None) or 1000,
            idle_poll_max_seconds=s.idle_poll_max_seconds,
            reap_interval_seconds=s.reap_interval_seconds,
            shutdown_grace_seconds=_pick(
                overrides.pop("shutdown_grace_seconds", None), s.shutdown_grace_seconds
            ),
        )
        if overrides:
            raise TypeError(f"unknown worker options: {sorted(overrides)}")
        if kinds is None:
            kinds = self.task_kinds()
        pool = WorkerPool(
            self.queue,
            kinds,
            options,
            self.clock,
            wakeups=self.wakeups,
            control=self.control_cache(),
        )
        self.workers.append(pool)
        return pool

    def task_kinds(self) -> TaskKinds:
        """Every kind this process can run: built-ins, ``prompt`` and the agent pack."""
        kinds = builtin_kinds()
        kinds.register("prompt", PromptTask(self.providers(), self.artifacts))
        register_agent_pack(kinds, self.agent_deps())
        return kinds

    def agent_deps(self) -> AgentDeps:
        """What the agent pack's steps use in this process (the cluster per settings)."""
        s = self.settings
        redactor = Redactor()
        return AgentDeps(
            providers=self.providers(),
            artifacts=self.artifacts,
            approvals=self.approvals,
            evidence=evidence_source_factory(
                dump_dir=s.k8s_dump_dir, kubeconfig=s.k8s_kubeconfig, context=s.k8s_context
            ),
            reader=reader_factory(
                dump_dir=s.k8s_dump_dir,
                kubeconfig=s.k8s_kubeconfig,
                context=s.k8s_context,
                redactor=redactor,
            ),
            writer=writer_factory(s),
            memory=self.incident_memory(),
            redactor=redactor,
        )

    def providers(self) -> dict[str, ModelProvider]:
        """Model providers by name; keys come from the environment only."""
        if self._providers is None:
            self._providers = providers_from_env()
        return self._providers

    def incident_memory(self) -> IncidentMemoryPort:
        """Incident memory over this ledger and its incidents read model. The embedder
        comes from ``SYNAPS_EMBEDDINGS``, once per process, so its vectors never mix."""
        if self._incident_memory is None:
            self._incident_memory = IncidentMemory(
                self.ledger, self.clock, IncidentReads(self.pool), embedder_from_env()
            )
        return self._incident_memory

    def control_cache(self) -> ControlCache:
        """The workers' cache of control snapshots (one per process)."""
        if self._control_cache is None:
            cache = ControlCache(self.control_reads.snapshot, self._control_position)
            if self.nats is not None:
                self.nats.subscribe("synaps.ctrl.>", lambda _s, _d: cache.invalidate())
            cache.start()
            self._control_cache = cache
        return self._control_cache

    def _control_position(self) -> int:
        with self.pool.connection() as conn:
            row = conn.execute(
                "SELECT position FROM synaps_projections WHERE name = 'control'"
            ).fetchone()
        return 0 if row is None else int(row[0])

    def close(self) -> None:
        for worker in self.workers:
            worker.stop()
        if self._control_cache is not None:
            self._control_cache.stop()
        for projector in self.projectors:
            projector.stop()
        self.change_feed.stop()
        self.ledger.close()
        if self.nats is not None:
            self.nats.close()
        self.pool.close()


def build(
    settings: Settings, *, clock: Clock = system_clock, wakeups: Wakeups | None = None
) -> Container:
    if not settings.database_url:
        raise ValueError("no database: set SYNAPS_DATABASE_URL or pass --database-url")
    pool: ConnectionPool[psycopg.Connection[Any]] = ConnectionPool(
        settings.database_url,
        kwargs={"autocommit": True},
        min_size=settings.pool_min_size,
        max_size=settings.pool_max_size,
        name="synaps",
        open=False,
    )
    pool.open(wait=True, timeout=15)
    nats = None
    if settings.nats_url:
        nats = NatsBridge(settings.nats_url)
        nats.start()
        if wakeups is None:
            wakeups = NatsWakeups(nats)
    ledger = Ledger(
        LedgerRecorder(pool, [QueueProjection(), IdentityProjection()]),
        group_commit=settings.group_commit,
    )

    def read_depth() -> list[QueueDepth]:
        with pool.connection() as conn, conn.cursor() as cur:
            return QueueProjection.depth(cur, clock())

    metrics = Metrics(read_depth=read_depth)
    change_feed = ChangeFeed(settings.database_url)
    submit = SubmitService(ledger, clock, wakeups, observer=metrics)
    run_views = RunViews(PostgresRunReads(pool), change_feed)
    container = Container(
        settings=settings,
        pool=pool,
        ledger=ledger,
        metrics=metrics,
        clock=clock,
        submit=submit,
        queue=QueueService(ledger, clock, observer=metrics),
        runs=RunQueries(ledger),
        change_feed=change_feed,
        run_views=run_views,
        artifacts=(
            open_artifact_store(settings.artifacts_url)
            if settings.artifacts_url
            else FilesystemArtifactStore(Path(".synaps") / "artifacts")
        ),
        control=ControlService(ledger, clock),
        approvals=ApprovalService(ledger, clock),
        ask=AskService(submit, run_views, settings.ask_wait_seconds),
        control_reads=PostgresControlReads(pool),
        identity=_identity(settings, pool, ledger, clock),
        wakeups=wakeups,
        nats=nats,
    )
    if settings.bootstrap_admin_key:
        container.identity.keys.ensure_bootstrap_key(settings.bootstrap_admin_key)
    return container
