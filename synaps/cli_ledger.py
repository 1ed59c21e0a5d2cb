"""``synaps projections`` and ``synaps audit``: operate the read side, audit the ledger."""

from __future__ import annotations

import json
import sys
from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

import msgspec
import psycopg
import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from rich.text import Text

from schemas.views import event_view
from services.audit import AuditFilter, replay, verify_seal
from synaps.logs import configure_logging

__all__ = ["audit_app", "projections_app"]

projections_app = typer.Typer(
    help="Watch and rebuild the projections (read models).", no_args_is_help=True
)
audit_app = typer.Typer(help="Replay and verify the ledger itself.", no_args_is_help=True)
out = Console()
err = Console(stderr=True)

DatabaseUrl = Annotated[
    str | None,
    typer.Option(
        "--database-url", envvar="SYNAPS_DATABASE_URL", help="PostgreSQL URL of the ledger."
    ),
]


def _fail(message: str, code: int = 1) -> typer.Exit:
    err.print(f"[red]error:[/] {message}", highlight=False, soft_wrap=True)
    return typer.Exit(code)


def _database(url: str | None) -> str:
    if not url:
        raise _fail("no database: set SYNAPS_DATABASE_URL or pass --database-url", 2)
    try:
        with psycopg.connect(url, connect_timeout=5) as conn:
            conn.execute("SELECT 1 FROM synaps_projections LIMIT 1")
    except psycopg.errors.UndefinedTable:
        raise _fail("the database has no synaps schema: run `synaps migrate` first") from None
    except psycopg.Error as exc:
        raise _fail(f"cannot reach the database: {str(exc).strip().splitlines()[0]}") from None
    return url


# -- projections ------------------------------------------------------------------


@projections_app.command("status")
def status(
    database_url: DatabaseUrl = None,
    as_json: Annotated[bool, typer.Option("--json", help="A JSON list of objects.")] = False,
) -> None:
    """Per projection: position, ledger head, lag (events, seconds), events/s and state."""
    from adapters.postgres.projection_status import projection_status

    url = _database(database_url)
    with psycopg.connect(url) as conn:
        rows = projection_status(conn)
    if as_json:
        sys.stdout.write(msgspec.json.encode(rows).decode() + "\n")
        return
    table = Table("name", "state", "position", "head", "lag", "lag s", "events/s", "error")
    for r in rows:
        colour = {
            "running": "green",
            "failing": "red",
            "rebuilding": "yellow",
            "stopped": "red",
        }.get(r.state, "")
        table.add_row(
            r.name,
            f"[{colour}]{r.state}[/]" if colour else r.state,
            str(r.position),
            str(r.head),
            str(r.lag),
            f"{r.lag_seconds:.1f}",
            f"{r.rate:.0f}",
            (f"at {r.error_position}: " if r.error_position else "") + (r.error or ""),
        )
    out.print(table)


class _RateColumn(ProgressColumn):
    def render(self, task: Task) -> Text:
        rate = task.fields.get("rate", 0.0)
        return Text(f"{rate:,.0f} events/s")


@projections_app.command("rebuild")
def rebuild(
    name: Annotated[
        str | None, typer.Argument(help="runs, audit_log, audit_seal or queue.")
    ] = None,
    rebuild_all: Annotated[bool, typer.Option("--all", help="Rebuild every projection.")] = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    page_size: Annotated[int, typer.Option("--page-size", min=1, max=100000)] = 5000,
    database_url: DatabaseUrl = None,
) -> None:
    """Rebuild from the ledger into shadow tables and swap them in atomically.

    Readers keep the old view until the swap and the live projector keeps serving;
    interrupting (Ctrl-C) leaves the old view in place."""
    from adapters.postgres.mapper import MsgspecMapper
    from adapters.postgres.rebuild import rebuild_projection, rebuild_queue
    from synaps.bootstrap import build
    from synaps.settings import Settings

    configure_logging("WARNING")
    catalog = _catalog()
    if rebuild_all == (name is not None):
        raise _fail("name one projection, or pass --all", 2)
    names = list(catalog) if rebuild_all else [name or ""]
    unknown = [n for n in names if n not in catalog]
    if unknown:
        raise _fail(f"unknown projection {unknown[0]!r}; known: {', '.join(catalog)}", 2)
    url = _database(database_url)
    if not yes:
        if not sys.stdin.isatty():
            raise _fail("refusing to rebuild without --yes when not interactive", 2)
        typer.confirm(f"Rebuild {', '.join(names)} from the ledger?", abort=True)
    container = build(Settings(database_url=url, group_commit=False))
    recorder, mapper = container.ledger.ledger_recorder, MsgspecMapper()
    try:
        for each in names:
            if each == "queue":
                result = rebuild_queue(recorder, mapper)
            else:
                with Progress(
                    TextColumn(f"[bold]{each}[/]"),
                    BarColumn(),
                    MofNCompleteColumn(),
                    _RateColumn(),
                    TimeRemainingColumn(),
                    console=err,
                    transient=False,
                ) as bar:
                    job = bar.add_task(each, total=None, rate=0.0)

                    def show(
                        done: int, total: int, rate: float, job: Any = job, bar: Progress = bar
                    ) -> None:
                        bar.update(job, completed=done, total=max(total, done), rate=rate)

                    result = rebuild_projection(
                        recorder, mapper, catalog[each], page_size=page_size, progress=show
                    )
            out.print(
                f"rebuilt {result.name}: {result.events} events in {result.seconds:.1f} s,"
                f" at position {result.position}"
            )
    except KeyboardInterrupt:
        raise _fail("interrupted: the previous view is still in place", 130) from None
    finally:
        container.close()


def _catalog() -> dict[str, Any]:
    from projections.catalog import INLINE, processors

    catalog: dict[str, Any] = {p.name: p for p in processors()}
    catalog.update(dict.fromkeys(INLINE))
    return catalog


# -- audit ----------------------------------------------------------------------------


def _time_or_position(value: str | None, option: str) -> tuple[datetime | None, int | None]:
    if value is None:
        return None, None
    if value.isdigit():
        return None, int(value)
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise typer.BadParameter(
            "expected an RFC 3339 time (2026-01-31T12:00:00Z) or a ledger position",
            param_hint=option,
        ) from None
    if moment.tzinfo is None:
        raise typer.BadParameter("the time needs a zone (Z or +hh:mm)", param_hint=option)
    return moment, None


@audit_app.command("replay")
def audit_replay(
    run: Annotated[str | None, typer.Option("--run", help="Only events of this run.")] = None,
    aggregate: Annotated[
        str | None, typer.Option("--aggregate", help="Only events of this aggregate id.")
    ] = None,
    actor: Annotated[str | None, typer.Option("--actor", help="Only events by this actor.")] = None,
    since: Annotated[
        str | None, typer.Option("--since", help="RFC 3339 time, or a ledger position.")
    ] = None,
    from_position: Annotated[int | None, typer.Option("--from-position", min=0)] = None,
    until: Annotated[
        str | None, typer.Option("--until", help="RFC 3339 time, or a ledger position.")
    ] = None,
    output: Annotated[
        str, typer.Option("--format", help="table, or jsonl (one event per line).")
    ] = "table",
    database_url: DatabaseUrl = None,
) -> None:
    """Print the ledger's events in order, from the ledger itself (not the read models)."""
    from adapters.postgres.ledger_scan import PostgresLedgerScan

    if output not in ("table", "jsonl"):
        raise typer.BadParameter("use table or jsonl", param_hint="--format")
    since_time, since_position = _time_or_position(since, "--since")
    until_time, until_position = _time_or_position(until, "--until")
    if from_position is not None and since_position is not None:
        raise typer.BadParameter("give --since or --from-position, not both")
    aggregate_id = None
    if aggregate:
        try:
            aggregate_id = UUID(aggregate)
        except ValueError:
            raise typer.BadParameter("not a UUID", param_hint="--aggregate") from None
    audit = AuditFilter(
        run_id=run,
        aggregate_id=aggregate_id,
        actor=actor,
        since=since_time,
        until=until_time,
        from_position=from_position if from_position is not None else since_position,
        until_position=until_position,
    )
    scan = PostgresLedgerScan(_database(database_url))
    table = Table("position", "time", "type", "actor", "aggregate", "correlation", "summary")
    count = 0
    for position, event in replay(scan, audit):
        count += 1
        if output == "jsonl":
            view = event_view(position, event)
            line = {
                "position": position,
                "time": view.time,
                "type": view.type,
                "aggregate_id": view.aggregate_id,
                "aggregate_type": event.aggregate_type,
                "actor": view.actor,
                "tenant": view.tenant,
                "correlation_id": view.correlation_id,
                "causation_id": view.causation_id,
                "summary": event.summary(),
                "data": view.data,
            }
            sys.stdout.write(msgspec.json.encode(line).decode() + "\n")
        else:
            table.add_row(
                str(position),
                f"{event.timestamp:%Y-%m-%d %H:%M:%S.%f}",
                event.type_name,
                event.actor,
                f"{event.aggregate_type} {str(event.originator_id)[:8]}",
                event.correlation_id[:8],
                event.summary(),
            )
    if output == "table":
        out.print(table)
        err.print(f"{count} events")


@audit_app.command("verify")
def audit_verify(
    from_position: Annotated[
        int | None, typer.Option("--from-position", min=0, help="Verify from this position.")
    ] = None,
    database_url: DatabaseUrl = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Recompute the audit seal from the ledger: exit 1 at the first position that no longer
    matches, else print ok and the number of events checked."""
    from adapters.postgres.ledger_scan import PostgresLedgerScan

    check = verify_seal(PostgresLedgerScan(_database(database_url)), from_position)
    if as_json:
        sys.stdout.write(
            json.dumps(
                {
                    "ok": check.ok,
                    "checked": check.checked,
                    "first_mismatch": check.first_mismatch,
                    "reason": check.reason,
                    "unsealed": check.unsealed,
                }
            )
            + "\n"
        )
    elif check.ok:
        note = f" ({check.unsealed} newer events not sealed yet)" if check.unsealed else ""
        out.print(f"ok: {check.checked} events checked{note}")
    else:
        err.print(
            f"[red]MISMATCH[/] at position {check.first_mismatch}: {check.reason}"
            f" ({check.checked} events matched before it)"
        )
    if not check.ok:
        raise typer.Exit(1)
