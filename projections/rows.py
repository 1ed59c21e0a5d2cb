"""Read-model rows as msgspec Structs, read and upserted in bulk by their key."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, TypeVar
from uuid import UUID

import msgspec
import psycopg
from psycopg.rows import dict_row

__all__ = ["load_rows", "upsert_rows"]

Row = TypeVar("Row", bound=msgspec.Struct)
_encode = msgspec.json.Encoder().encode


def load_rows(
    cur: psycopg.Cursor[Any], table: str, key: str, ids: Iterable[UUID], row_type: type[Row]
) -> dict[UUID, Row]:
    """The rows of ``table`` whose ``key`` is one of ``ids``, by key."""
    with cur.connection.cursor(row_factory=dict_row) as dcur:
        return {
            r[key]: msgspec.convert(r, row_type)
            for r in dcur.execute(f"SELECT * FROM {table} WHERE {key} = ANY(%s)", (list(ids),))
        }


def upsert_rows(
    cur: psycopg.Cursor[Any], table: str, key: str, row_type: type[Row], rows: Sequence[Row]
) -> None:
    """Insert ``rows`` into ``table``, replacing every column of those already there."""
    if not rows:
        return
    columns = row_type.__struct_fields__
    assignments = ", ".join(f"{c} = EXCLUDED.{c}" for c in columns if c != key)
    cur.execute(
        f"INSERT INTO {table} SELECT * FROM json_populate_recordset(NULL::{table},"
        f" %s::json) ON CONFLICT ({key}) DO UPDATE SET {assignments}",
        (_encode(list(rows)).decode(),),
    )
