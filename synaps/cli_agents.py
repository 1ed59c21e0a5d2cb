"""``synaps ask``, ``agents``, ``tools`` and ``health``: the DevOps teammate from the
command line, through the API."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Any

import msgspec
import typer
from rich.panel import Panel
from rich.table import Table

from adapters.http.client import ApiError
from adapters.k8s.dump import DumpDirectory, DumpError
from schemas.incidents import IncidentReport
from services.agents.pack import AGENTS
from services.agents.tool_catalog import BUILTIN_TOOLS
from synaps.cli_api import ApiUrl, call, client
from synaps.cli_incident import print_report
from synaps.console import fail, out

__all__ = ["agents", "ask", "health", "tools"]


def _held(run: dict[str, Any]) -> bool:
    return any(t["status"] == "held" for t in run["tasks"])


def _upload_dump(api: Any, dump: Path, namespace: str | None) -> dict[str, Any]:
    """Read the kubectl dump here (read-only, bounded logs) and upload the evidence."""
    try:
        package = DumpDirectory(dump).read(namespace)
    except DumpError as exc:
        raise fail(str(exc), 2) from None
    return dict(api.upload(msgspec.json.encode(package), "application/json"))


def ask(
    question: Annotated[str, typer.Argument(help='e.g. "why is checkout crashing in staging?"')],
    namespace: Annotated[
        str | None, typer.Option("--namespace", "-n", help="The namespace to look at.")
    ] = None,
    workload: Annotated[
        str | None, typer.Option("--workload", "-w", help="The workload or pod.")
    ] = None,
    dump: Annotated[
        Path | None,
        typer.Option(
            "--dump",
            help="A kubectl JSON dump directory to diagnose instead of the server's cluster "
            "(read here, uploaded as the evidence).",
            exists=True,
            file_okay=False,
        ),
    ] = None,
    wait: Annotated[
        bool, typer.Option("--wait/--no-wait", help="Wait for the answer (default).")
    ] = True,
    timeout: Annotated[float, typer.Option("--timeout", help="Seconds to --wait.")] = 300.0,
    as_json: Annotated[bool, typer.Option("--json", help="Print the run as JSON.")] = False,
    url: ApiUrl = None,
) -> None:
    """Ask the DevOps teammate; every step is a task in the ledger.

    Example: synaps ask "why is checkout crashing?" -n shop --dump ./snapshot
    """
    payload: dict[str, Any] = {"question": question}
    if namespace:
        payload["namespace"] = namespace
    if workload:
        payload["workload"] = workload
    with client(url) as api:
        try:
            if dump is not None:
                payload["evidence"] = _upload_dump(api, dump, namespace)
            _, submitted = api.submit("agent.ask", payload)
            if not wait:
                run_id = submitted["run_id"]
                out.print(f"run {run_id} submitted: synaps runs get {run_id}")
                return
            run = api.wait_for_run(
                submitted["run_id"],
                timeout=timeout,
                min_position=submitted["position"],
                settled=_held,
            )
            approvals = []
            if _held(run):
                pending = api.get("/v1/approvals", run_id=run["run_id"], status="pending")
                approvals = pending.json()["approvals"]
        except ApiError as exc:
            raise fail(str(exc)) from None
        except TimeoutError as exc:
            raise fail(str(exc), 3) from None
    if as_json:
        out.print_json(data={"run": run, "pending_approvals": approvals})
        return
    _print_answer(run, approvals)
    if run["status"] == "failed":
        raise typer.Exit(1)


def _print_answer(run: dict[str, Any], approvals: list[dict[str, Any]]) -> None:
    output = run.get("output") if isinstance(run.get("output"), dict) else {}
    diagnosis = output.get("diagnosis") if output else None
    if diagnosis:
        print_report(msgspec.convert(diagnosis, IncidentReport))
    calls = (output or {}).get("tool_calls") or (output or {}).get("proposed") or []
    if calls:
        table = Table("tool", "args", "status", "why", title="tool calls")
        for c in calls:
            args = ", ".join(f"{k}={v}" for k, v in c.get("args", {}).items())
            note = c.get("refused") or c.get("error") or c.get("reason") or ""
            table.add_row(c["tool"], args, c["status"], str(note)[:80])
        out.print(table)
    for check in (output or {}).get("review") or []:
        mark = "[green]✓[/]" if check["ok"] else "[yellow]✗[/]"
        out.print(f"{mark} {check['check']}: {check['detail']}", highlight=False)
    for a in approvals:
        out.print(
            Panel(
                f"{a['summary']}\n\nsynaps approvals approve {a['approval_id']}\n"
                f"synaps approvals deny {a['approval_id']}",
                title="waiting for your approval",
                expand=False,
            ),
            highlight=False,
        )
    if not diagnosis:
        out.print((output or {}).get("answer") or f"run {run['run_id']} is {run['status']}")
        if run.get("error"):
            out.print(f"[red]error:[/] {run['error']}", highlight=False)
    out.print(f"[dim]run {run['run_id']} · {run['status']}[/]", highlight=False)


def agents() -> None:
    """The agents of the DevOps pack and the task kinds that run them."""
    table = Table("agent", "task kinds", "what it does")
    for agent in AGENTS:
        table.add_row(agent.name, ", ".join(agent.kinds), agent.description)
    out.print(table)


def tools(
    as_json: Annotated[bool, typer.Option("--json")] = False,
    url: ApiUrl = None,
) -> None:
    """Tools the DevOps agent may call: built-ins and the control registry's versions."""
    snapshot = call(url, "GET", "/v1/control/snapshot")
    registered: dict[str, Any] = snapshot["items"].get("tool", {})
    rows = []
    for name in sorted({*BUILTIN_TOOLS, *registered}):
        item = registered.get(name)
        spec = item["spec"] if item else BUILTIN_TOOLS[name]
        rows.append(
            {
                "name": name,
                "source": f"registry v{item['version']}" if item else "built-in",
                "requires_approval": bool(spec.get("requires_approval")),
                "destructive": bool(spec.get("destructive")),
                "description": spec.get("description", ""),
            }
        )
    if as_json:
        out.print_json(data=rows)
        return
    table = Table("tool", "source", "approval", "destructive", "description")
    for r in rows:
        table.add_row(
            r["name"],
            r["source"],
            "yes" if r["requires_approval"] else "-",
            "yes" if r["destructive"] else "-",
            r["description"],
        )
    out.print(table)


def health(url: ApiUrl = None) -> None:
    """Is the API up and ready (database, workers)? Exit 1 when not."""
    started = time.monotonic()
    with client(url) as api:
        try:
            summary = api.get("/").json()
            ready, body = api.readiness()
        except ApiError as exc:
            raise fail(str(exc)) from None
    elapsed = (time.monotonic() - started) * 1000
    out.print(
        f"{summary.get('service', '?')} {summary.get('version', '')} at {api.base_url}: "
        f"{'[green]ready[/]' if ready else '[red]not ready[/]'} "
        f"({elapsed:.0f} ms)",
        highlight=False,
    )
    for name, state in body.get("checks", {}).items():
        out.print(f"  {name}: {state}", highlight=False)
    if not ready:
        raise typer.Exit(1)
