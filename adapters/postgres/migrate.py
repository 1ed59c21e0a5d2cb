"""Apply the schema: numbered SQL files, each once, under an advisory lock."""

from __future__ import annotations

from importlib import resources

import psycopg

__all__ = ["apply_migrations", "migration_names"]

_LOCK_KEY = 0x53594E4150  # "SYNAP": one migrator at a time across processes


def migration_names() -> list[str]:
    folder = resources.files("adapters.postgres") / "migrations"
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".sql"))


def apply_migrations(conninfo: str) -> list[str]:
    """Bring the database to the current schema; return the migrations applied."""
    folder = resources.files("adapters.postgres") / "migrations"
    applied: list[str] = []
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (_LOCK_KEY,))
        try:
            conn.execute(
                "CREATE TABLE IF NOT EXISTS synaps_schema_migrations ("
                " name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
            )
            done = {row[0] for row in conn.execute("SELECT name FROM synaps_schema_migrations")}
            for name in migration_names():
                if name in done:
                    continue
                sql = (folder / name).read_text(encoding="utf-8")
                with conn.transaction():
                    conn.execute(sql.encode())
                    conn.execute("INSERT INTO synaps_schema_migrations (name) VALUES (%s)", (name,))
                applied.append(name)
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (_LOCK_KEY,))
    return applied
