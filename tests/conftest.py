"""Shared fixtures: a real PostgreSQL (embedded or SYNAPS_TEST_DATABASE_URL), fresh databases."""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import conninfo

from adapters.postgres.embedded import EmbeddedPostgres
from adapters.postgres.migrate import apply_migrations
from synaps.bootstrap import Container, build
from synaps.settings import Settings

REPO = Path(__file__).resolve().parents[1]


class PostgresServer:
    """Creates databases on one server; each test gets its own, from a migrated template."""

    def __init__(self, admin_url: str) -> None:
        self.admin_url = admin_url
        self.template = f"synaps_tpl_{os.getpid()}"

    def url_for(self, database: str) -> str:
        return conninfo.make_conninfo(self.admin_url, dbname=database)

    def create(self, name: str, template: str | None = None) -> str:
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            sql = f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else "")
            conn.execute(sql.encode())
        return self.url_for(name)

    def drop(self, name: str) -> None:
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'.encode())


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PostgresServer]:
    external = os.environ.get("SYNAPS_TEST_DATABASE_URL")
    if external:
        server = PostgresServer(external)
        yield server
        return
    # Not under pytest's basetemp: a concurrent pytest session prunes old basetemps,
    # and this server lives as long as the whole session.
    with (
        tempfile.TemporaryDirectory(prefix="synaps-test-pg-") as data_dir,
        EmbeddedPostgres(Path(data_dir), fsync=False) as pg,
    ):
        yield PostgresServer(pg.url)


@pytest.fixture(scope="session")
def template_database(pg_server: PostgresServer) -> Iterator[str]:
    pg_server.drop(pg_server.template)
    url = pg_server.create(pg_server.template)
    apply_migrations(url)
    yield pg_server.template
    pg_server.drop(pg_server.template)


@pytest.fixture
def database_url(pg_server: PostgresServer, template_database: str) -> Iterator[str]:
    name = f"synaps_test_{uuid.uuid4().hex[:12]}"
    url = pg_server.create(name, template=template_database)
    yield url
    pg_server.drop(name)


ADMIN_KEY = "sk_admin_" + "test-bootstrap-admin-key-0123456789abcdefXYZ"
JWT_SECRET = "test-jwt-secret-0123456789abcdef0123456789"


def settings_for_tests(database_url: str, **overrides: object) -> Settings:
    """Settings of a test process: cheap password hashing, a fixed JWT secret."""
    values: dict[str, object] = {
        "database_url": database_url,
        "pool_max_size": 30,
        "jwt_secret": JWT_SECRET,
        "argon2_time_cost": 1,
        "argon2_memory_kib": 1024,
        "auth_cache_seconds": 0.0,  # tests see revocations at once; one test checks the cache
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture
def container(database_url: str) -> Iterator[Container]:
    c = build(settings_for_tests(database_url))
    yield c
    c.close()


@pytest.fixture
def admin_key(container: Container) -> str:
    """The bootstrap admin key (every permission, tenant default), issued in the ledger."""
    container.identity.keys.ensure_bootstrap_key(ADMIN_KEY)
    return ADMIN_KEY
