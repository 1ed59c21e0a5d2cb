"""Settings from the environment (``SYNAPS_*``), overridable by CLI flags."""

from __future__ import annotations

import os
from typing import Any

import msgspec

__all__ = ["Settings"]


def _env(name: str, default: str) -> str:
    return os.environ.get(name, default)


class Settings(msgspec.Struct, kw_only=True):
    database_url: str = ""
    nats_url: str = ""  # empty: no NATS (workers poll; nothing is announced)
    # file:///path or s3://bucket/prefix; empty: a directory under ./.synaps
    artifacts_url: str = ""
    api_url: str = "http://127.0.0.1:8081"
    host: str = "127.0.0.1"
    port: int = 8081
    # worker pool
    worker_id: str = ""
    worker_queues: list[str] = msgspec.field(default_factory=lambda: ["default"])
    worker_concurrency: int = 8
    lease_seconds: float = 30.0
    claim_batch: int = 32
    idle_poll_max_seconds: float = 1.0
    reap_interval_seconds: float = 1.0
    shutdown_grace_seconds: float = 30.0
    # database pool
    pool_min_size: int = 2
    pool_max_size: int = 20
    group_commit: bool = True
    # identity and limits
    bootstrap_admin_key: str = ""
    jwt_keys: str = ""  # a JWK set (JSON, or the path of a JSON file); the first key signs
    jwt_secret: str = ""  # or HS256 secrets, comma-separated (the first signs)
    jwt_issuer: str = "synaps"
    jwt_audience: str = "synaps"
    oidc_issuer: str = ""  # an external issuer whose tokens are accepted too
    oidc_jwks_url: str = ""
    oidc_audience: str = ""
    oidc_tenant_claim: str = "tenant"
    oidc_roles_claim: str = "roles"
    rate_limit_default: str = "60/minute,1000/hour"
    rate_limits_by_role: str = ""  # "admin=600/minute,10000/hour;worker=1200/minute"
    rate_limit_anonymous: str = "30/minute,300/hour"  # per IP, without credentials
    trust_forwarded_for: bool = False  # behind a proxy: the client IP from X-Forwarded-For
    auth_cache_seconds: float = 1.0  # at most 1: how long a revoked key may still work
    argon2_time_cost: int = 0  # 0: argon2-cffi's default
    argon2_memory_kib: int = 0
    # where the agent pack's EvidenceCollector reads a cluster: a kubectl dump directory
    # (for demos and tests), else a kubeconfig / the pod's service account when present
    k8s_dump_dir: str = ""
    k8s_kubeconfig: str = ""  # empty: $KUBECONFIG, ~/.kube/config, or in-cluster
    k8s_context: str = ""
    # writes to a cluster (approved remediations) need this switch and their own
    # credentials (empty: $KUBECONFIG, ~/.kube/config or the pod's service account)
    k8s_writes_enabled: bool = False
    k8s_write_kubeconfig: str = ""
    k8s_write_context: str = ""
    ask_wait_seconds: float = 60.0  # how long POST /api/ask waits for the answer

    @classmethod
    def from_env(cls, **overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "database_url": _env("SYNAPS_DATABASE_URL", ""),
            "nats_url": _env("SYNAPS_NATS_URL", ""),
            "artifacts_url": _env("SYNAPS_ARTIFACTS_URL", ""),
            "api_url": _env("SYNAPS_URL", "http://127.0.0.1:8081"),
            "host": _env("SYNAPS_HOST", "127.0.0.1"),
            "port": int(_env("SYNAPS_PORT", "8081")),
            "worker_id": _env("SYNAPS_WORKER_ID", ""),
            "worker_queues": [
                q.strip() for q in _env("SYNAPS_WORKER_QUEUES", "default").split(",") if q.strip()
            ],
            "worker_concurrency": int(_env("SYNAPS_WORKER_CONCURRENCY", "8")),
            "lease_seconds": float(_env("SYNAPS_LEASE_SECONDS", "30")),
            "pool_max_size": int(_env("SYNAPS_DB_POOL_MAX", "20")),
            "bootstrap_admin_key": _env("SYNAPS_BOOTSTRAP_ADMIN_KEY", ""),
            "jwt_keys": _env("SYNAPS_JWT_KEYS", ""),
            "jwt_secret": _env("SYNAPS_JWT_SECRET", ""),
            "jwt_issuer": _env("SYNAPS_JWT_ISSUER", "synaps"),
            "jwt_audience": _env("SYNAPS_JWT_AUDIENCE", "synaps"),
            "oidc_issuer": _env("SYNAPS_OIDC_ISSUER", ""),
            "oidc_jwks_url": _env("SYNAPS_OIDC_JWKS_URL", ""),
            "oidc_audience": _env("SYNAPS_OIDC_AUDIENCE", ""),
            "oidc_tenant_claim": _env("SYNAPS_OIDC_TENANT_CLAIM", "tenant"),
            "oidc_roles_claim": _env("SYNAPS_OIDC_ROLES_CLAIM", "roles"),
            "rate_limit_default": _env("SYNAPS_RATE_LIMIT", "60/minute,1000/hour"),
            "rate_limits_by_role": _env("SYNAPS_RATE_LIMITS_BY_ROLE", ""),
            "rate_limit_anonymous": _env("SYNAPS_RATE_LIMIT_ANONYMOUS", "30/minute,300/hour"),
            "trust_forwarded_for": _env("SYNAPS_TRUST_FORWARDED_FOR", "").lower()
            in {"1", "true", "yes"},
            "k8s_dump_dir": _env("SYNAPS_K8S_DUMP_DIR", ""),
            "k8s_kubeconfig": _env("SYNAPS_KUBECONFIG", ""),
            "k8s_context": _env("SYNAPS_K8S_CONTEXT", ""),
            "k8s_writes_enabled": _env("SYNAPS_K8S_WRITES", "disabled").lower()
            in {"enabled", "true", "1", "yes"},
            "k8s_write_kubeconfig": _env("SYNAPS_K8S_WRITE_KUBECONFIG", ""),
            "k8s_write_context": _env("SYNAPS_K8S_WRITE_CONTEXT", ""),
            "ask_wait_seconds": float(_env("SYNAPS_ASK_WAIT_SECONDS", "60")),
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)
