"""The synaps command line."""

from __future__ import annotations

import json
import signal
import sys
import threading
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from adapters.http.client import ApiError
from domain.errors import DomainError
from synaps import __version__
from synaps.cli_agents import agents, ask, health, tools
from synaps.cli_api import ApiUrl
from synaps.cli_api import client as api_client
from synaps.cli_approvals import approvals_app
from synaps.cli_control import control_app
from synaps.cli_identity import config_app, keys_app, login, logout, status, users_app
from synaps.cli_incident import incident_app
from synaps.cli_ledger import audit_app, projections_app
from synaps.console import err, fail, out
from synaps.logs import configure_logging
from synaps.settings import Settings

__all__ = ["app", "main"]

app = typer.Typer(
    name="synaps",
    help="synaps: a control plane for agent work on an event-sourced PostgreSQL ledger.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
runs_app = typer.Typer(help="Read and cancel runs.", no_args_is_help=True)
app.add_typer(runs_app, name="runs")
app.add_typer(incident_app, name="incident")
app.add_typer(projections_app, name="projections")
app.add_typer(audit_app, name="audit")
app.add_typer(control_app, name="control")
app.add_typer(approvals_app, name="approvals")
app.command()(ask)
app.command()(agents)
app.command()(tools)
app.command()(health)
app.command()(login)
app.command()(logout)
app.command()(status)
app.add_typer(config_app, name="config")
app.add_typer(keys_app, name="keys")
app.add_typer(users_app, name="users")

DatabaseUrl = Annotated[
    str | None,
    typer.Option(
        "--database-url", envvar="SYNAPS_DATABASE_URL", help="PostgreSQL URL of the ledger."
    ),
]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


def _settings(database_url: str | None, **overrides: Any) -> Settings:
    settings = Settings.from_env(database_url=database_url, **overrides)
    if not settings.database_url:
        raise fail("no database: set SYNAPS_DATABASE_URL or pass --database-url", 2)
    return settings


def _build(settings: Settings) -> Any:
    """The container, or a one-line error for settings that cannot work (a malformed
    bootstrap key, JWT keys or rate limits)."""
    from synaps.bootstrap import build

    try:
        return build(settings)
    except (DomainError, ValueError) as exc:
        raise fail(f"bad settings: {exc}", 2) from None


@app.callback(invoke_without_command=True)
def _root(
    version: Annotated[bool, typer.Option("--version", help="Print the version.")] = False,
) -> None:
    if version:
        out.print(f"synaps {__version__}")
        raise typer.Exit(0)


# -- servers ----------------------------------------------------------------------


@app.command()
def dev(
    data_dir: Annotated[
        Path, typer.Option("--data-dir", help="Where PostgreSQL data and dev.json live.")
    ] = Path(".synaps"),
    port: Annotated[int, typer.Option("--port", help="API port.")] = 8081,
    host: Annotated[str, typer.Option("--host", help="API interface.")] = "127.0.0.1",
    demo: Annotated[
        bool, typer.Option("--demo/--no-demo", help="Submit a demo command once up.")
    ] = False,
    concurrency: Annotated[int, typer.Option("--concurrency", help="Worker slots.")] = 8,
) -> None:
    """Run everything on this machine: PostgreSQL (embedded), the API and a worker pool."""
    from synaps.devstack import run_dev

    configure_logging()
    try:
        run_dev(data_dir, port, demo=demo, concurrency=concurrency, host=host)
    except (DomainError, ValueError) as exc:
        raise fail(f"bad settings: {exc}", 2) from None


@app.command()
def api(
    database_url: DatabaseUrl = None,
    host: Annotated[str, typer.Option("--host", envvar="SYNAPS_HOST")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", envvar="SYNAPS_PORT")] = 8081,
    with_worker: Annotated[
        bool, typer.Option("--with-worker", help="Also run a worker pool in this process.")
    ] = False,
) -> None:
    """Serve the REST API (and /healthz, /readyz, /metrics, /schema)."""
    from synaps.server import serve
    from synaps.wiring import api_app

    configure_logging()
    container = _build(_settings(database_url, host=host, port=port))
    if container.identity.tokens.signing_keys is None:
        err.print(
            "note: signing in with a password is off (API keys work): set SYNAPS_JWT_SECRET"
            " or SYNAPS_JWT_KEYS to turn it on"
        )
    try:
        if with_worker:
            container.worker_pool().start()
        serve(api_app(container), host, port)
    finally:
        container.close()


@app.command()
def worker(
    database_url: DatabaseUrl = None,
    queues: Annotated[
        str, typer.Option("--queues", envvar="SYNAPS_WORKER_QUEUES", help="Comma-separated.")
    ] = "default",
    concurrency: Annotated[
        int, typer.Option("--concurrency", envvar="SYNAPS_WORKER_CONCURRENCY", min=1, max=1024)
    ] = 8,
    worker_id: Annotated[str | None, typer.Option("--worker-id", envvar="SYNAPS_WORKER_ID")] = None,
    lease_seconds: Annotated[
        float, typer.Option("--lease-seconds", envvar="SYNAPS_LEASE_SECONDS", min=1)
    ] = 30.0,
    shutdown_grace: Annotated[
        float,
        typer.Option(
            "--shutdown-grace",
            envvar="SYNAPS_SHUTDOWN_GRACE_SECONDS",
            min=0,
            help="On SIGTERM, seconds to let running tasks finish before releasing them.",
        ),
    ] = 30.0,
) -> None:
    """Claim and run tasks until SIGTERM/SIGINT; then finish or release in-flight tasks."""
    configure_logging()
    names = [q.strip() for q in queues.split(",") if q.strip()]
    if not names:
        raise fail("--queues needs at least one queue name", 2)
    container = _build(_settings(database_url))
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    pool = container.worker_pool(
        worker_id=worker_id,
        queues=names,
        concurrency=concurrency,
        lease_seconds=lease_seconds,
        shutdown_grace_seconds=shutdown_grace,
    )
    pool.start()
    err.print(
        f"synaps worker {pool.options.worker_id}: queues {','.join(names)}, "
        f"concurrency {concurrency}"
    )
    try:
        while not stop.wait(0.5):
            pass
    finally:
        pool.stop()
        container.close()


@app.command()
def projector(
    database_url: DatabaseUrl = None,
    page_size: Annotated[
        int, typer.Option("--page-size", min=1, max=100000, help="Events per transaction.")
    ] = 1000,
    only: Annotated[
        str | None,
        typer.Option("--only", help="Run just this projection (runs, audit_log, audit_seal)."),
    ] = None,
    threads: Annotated[
        bool,
        typer.Option("--threads", help="Run every projection in this process (small setups)."),
    ] = False,
) -> None:
    """Run every projection processor until SIGTERM/SIGINT.

    By default each projection runs in its own process (restarted if it exits), so
    they use every core. Run one projector per database: pages are applied exactly
    once either way (a page moves its projection's position in the same
    transaction), but two would only race for the same pages."""
    from projections.catalog import processors
    from synaps.bootstrap import build

    configure_logging()
    names = [p.name for p in processors()]
    if Settings.from_env().nats_url:
        names.append("relay")
    if only is not None and only not in names:
        raise fail(f"unknown projection {only!r}; known: {', '.join(names)}", 2)
    settings = _settings(database_url)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    if only is None and not threads:
        from synaps.supervisor import supervise

        err.print(f"synaps projector: {', '.join(names)} (a process each)")
        base = ["projector", "--page-size", str(page_size), "--database-url", settings.database_url]
        raise typer.Exit(supervise({n: [*base, "--only", n] for n in names}, stop))
    container = build(settings)
    running = container.projector(page_size=page_size, only=only)
    running.start()
    try:
        while not stop.wait(0.5):
            if not running.alive:
                raise fail("a projection thread stopped unexpectedly")
    finally:
        container.close()


@app.command()
def migrate(database_url: DatabaseUrl = None) -> None:
    """Create or upgrade the database schema (safe to run repeatedly)."""
    from adapters.postgres.migrate import apply_migrations

    settings = _settings(database_url)
    applied = apply_migrations(settings.database_url)
    out.print(
        f"applied {len(applied)} migration(s)" + (f": {', '.join(applied)}" if applied else "")
    )


# -- client -------------------------------------------------------------------------


def _parse_json(text: str, option: str) -> Any:
    try:
        return json.loads(text)
    except ValueError as exc:
        raise typer.BadParameter(f"not valid JSON: {exc}", param_hint=option) from None


@app.command()
def submit(
    kind: Annotated[str, typer.Argument(help="Command kind, e.g. noop or sleep.")],
    input_json: Annotated[
        str, typer.Option("--input", "-i", help="Input as JSON, e.g. '{\"seconds\": 1}'.")
    ] = "null",
    queue: Annotated[str | None, typer.Option("--queue", "-q")] = None,
    priority: Annotated[int | None, typer.Option("--priority")] = None,
    max_attempts: Annotated[int | None, typer.Option("--max-attempts")] = None,
    thread_id: Annotated[str | None, typer.Option("--thread-id")] = None,
    idempotency_key: Annotated[str | None, typer.Option("--idempotency-key", "-k")] = None,
    wait: Annotated[bool, typer.Option("--wait", help="Wait until the run ends.")] = False,
    timeout: Annotated[float, typer.Option("--timeout", help="Seconds to --wait.")] = 60.0,
    as_json: AsJson = False,
    url: ApiUrl = None,
) -> None:
    """Submit a command; print its ids (and with --wait, its outcome)."""
    payload = _parse_json(input_json, "--input")
    with api_client(url) as client:
        try:
            status, submitted = client.submit(
                kind,
                payload,
                queue=queue,
                priority=priority,
                max_attempts=max_attempts,
                thread_id=thread_id,
                idempotency_key=idempotency_key,
            )
            result: dict[str, Any] = dict(submitted, replayed=status == 200)
            if wait:
                result["run"] = client.wait_for_run(
                    submitted["run_id"], timeout=timeout, min_position=submitted["position"]
                )
        except ApiError as exc:
            raise fail(str(exc)) from None
        except TimeoutError as exc:
            raise fail(str(exc), 3) from None
    if as_json:
        out.print_json(data=result)
    else:
        replay = " (replayed)" if result["replayed"] else ""
        out.print(f"run {submitted['run_id']}{replay} at position {submitted['position']}")
        if wait:
            _print_run(result["run"])
    if wait and result["run"]["status"] != "succeeded":
        raise typer.Exit(1)


@runs_app.command("get")
def runs_get(
    run_id: Annotated[str, typer.Argument(help="The run id.")],
    as_json: AsJson = False,
    url: ApiUrl = None,
) -> None:
    """Show a run: status, tasks and its event history."""
    with api_client(url) as client:
        try:
            run = client.get_run(run_id)
        except ApiError as exc:
            raise fail(str(exc)) from None
    if as_json:
        out.print_json(data=run)
    else:
        _print_run(run)


@runs_app.command("cancel")
def runs_cancel(
    run_id: Annotated[str, typer.Argument(help="The run id.")],
    reason: Annotated[str, typer.Option("--reason")] = "",
    url: ApiUrl = None,
) -> None:
    """Cancel a run: no further claims of its tasks."""
    with api_client(url) as client:
        try:
            result = client.cancel_run(run_id, reason)
        except ApiError as exc:
            raise fail(str(exc)) from None
    out.print(f"run {result['run_id']} is {result['status']}")


def _print_run(run: dict[str, Any]) -> None:
    colour = {"succeeded": "green", "failed": "red", "cancelled": "yellow"}.get(run["status"], "")
    out.print(
        f"run {run['run_id']}  kind {run['kind']}  status [{colour or 'bold'}]{run['status']}[/]"
    )
    if run.get("output") is not None:
        out.print(f"output {json.dumps(run['output'])}")
    if run.get("error"):
        out.print(f"error  {run['error']}")
    tasks = Table("task", "status", "attempt", "worker", "claimed", "finished", title="tasks")
    for t in run["tasks"]:
        tasks.add_row(
            t["task_id"],
            t["status"],
            f"{t['attempt']}/{t['max_attempts']}",
            t.get("worker_id") or "",
            t.get("claimed_at") or "",
            t.get("finished_at") or "",
        )
    out.print(tasks)
    events = Table("position", "time", "type", "actor", title="events")
    for e in run["events"]:
        events.add_row(str(e["position"]), e["time"], e["type"], e["actor"])
    out.print(events)


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
