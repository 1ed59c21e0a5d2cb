"""The effective control registry: each item with its active version and spec."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

import msgspec
import psycopg
from psycopg.rows import dict_row

from domain.control import CONTROL_EVENTS, ControlItem, ControlItemRegistered, snapshot_hash
from projections.processor import Changes, Entry, Tables
from projections.rows import upsert_rows

__all__ = ["ControlItemRow", "ControlProjection", "Snapshot", "read_snapshot"]


class ControlItemRow(msgspec.Struct, kw_only=True):
    item_id: UUID
    tenant: str
    kind: str
    name: str
    active_version: int | None
    active_spec: dict[str, Any] | None
    versions: dict[str, dict[str, Any]]
    activations: list[int]
    version: int
    position: int
    updated_at: datetime


class Snapshot(msgspec.Struct, frozen=True, kw_only=True):
    """The effective registry of a tenant: active items by kind and name, and its hash."""

    tenant: str
    hash: str
    items: dict[str, dict[str, dict[str, Any]]]  # kind -> name -> {version, spec}

    def spec(self, kind: str, name: str) -> dict[str, Any] | None:
        item = self.items.get(kind, {}).get(name)
        return None if item is None else item["spec"]


def _item_from_row(row: ControlItemRow) -> ControlItem:
    item = ControlItem.__new__(ControlItem)
    item.__base_init__(row.item_id, row.version, row.updated_at)
    item.kind, item.name, item.tenant = row.kind, row.name, row.tenant
    item.versions = {int(k): v for k, v in row.versions.items()}
    item.active_version = row.active_version
    item.activations = list(row.activations)
    return item


def _row(item: ControlItem, position: int) -> ControlItemRow:
    return ControlItemRow(
        item_id=item.id,
        tenant=item.tenant,
        kind=item.kind,
        name=item.name,
        active_version=item.active_version,
        active_spec=item.active_spec,
        versions={str(k): v for k, v in item.versions.items()},
        activations=item.activations,
        version=item.version,
        position=position,
        updated_at=item.modified_on,
    )


class ControlProjection:
    name = "control"
    tables: tuple[str, ...] = ("synaps_control_items",)
    topics: tuple[str, ...] | None = tuple(t for c in CONTROL_EVENTS for t in c.stored_topics())
    decodes = True

    def apply(self, cur: psycopg.Cursor[Any], entries: Sequence[Entry], tables: Tables) -> Changes:
        table = tables["synaps_control_items"]
        ids = list({e.event.originator_id for e in entries})
        with cur.connection.cursor(row_factory=dict_row) as dcur:
            loaded = {
                r["item_id"]: _item_from_row(msgspec.convert(r, ControlItemRow))
                for r in dcur.execute(f"SELECT * FROM {table} WHERE item_id = ANY(%s)", (ids,))
            }
        changed: dict[UUID, ControlItemRow] = {}
        changes = Changes()
        for entry in entries:
            event = entry.event
            item = loaded.get(event.originator_id)
            if isinstance(event, ControlItemRegistered):
                if item is not None:
                    continue
                item = loaded[event.originator_id] = event.mutate(None)
            elif item is None or event.originator_version <= item.version:
                if item is None:
                    raise LookupError(f"control item {event.originator_id} not registered")
                continue
            else:
                event.mutate(item)
            changed[item.id] = _row(item, entry.position)
            changes.add("control", f"{item.tenant}/{item.kind}/{item.name}")
        upsert_rows(cur, table, "item_id", ControlItemRow, list(changed.values()))
        return changes


def read_snapshot(cur: psycopg.Cursor[Any], tenant: str) -> Snapshot:
    rows = cur.execute(
        "SELECT kind, name, active_version, active_spec FROM synaps_control_items"
        " WHERE tenant = %s AND active_version IS NOT NULL ORDER BY kind, name",
        (tenant,),
    ).fetchall()
    items: dict[str, dict[str, dict[str, Any]]] = {}
    for kind, name, version, spec in rows:
        items.setdefault(kind, {})[name] = {"version": version, "spec": spec}
    return Snapshot(
        tenant=tenant,
        hash=snapshot_hash((k, n, v, s) for k, n, v, s in rows),
        items=items,
    )
