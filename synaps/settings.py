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
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)
