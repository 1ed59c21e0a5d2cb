"""``synaps approvals``: what waits for a person's decision before it changes a cluster."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.table import Table

from synaps.cli_api import ApiUrl, call
from synaps.console import out

__all__ = ["approvals_app"]

approvals_app = typer.Typer(
    help="Approve or deny tool calls that would write to a cluster (recorded in the ledger).",
    no_args_is_help=True,
)

Reason = Annotated[str, typer.Option("--reason", help="Why (kept in the ledger).")]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


@approvals_app.command("list")
def list_approvals(
    status: Annotated[
        str | None,
        typer.Option("--status", help="pending, granted or denied (default: all)."),
    ] = "pending",
    run_id: Annotated[str | None, typer.Option("--run", help="Only this run's.")] = None,
    as_json: AsJson = False,
    url: ApiUrl = None,
) -> None:
    """Approvals of your tenant, oldest first (by default the pending ones)."""
    if status not in (None, "pending", "granted", "denied", "all"):
        raise typer.BadParameter("--status is pending, granted, denied or all")
    approvals = call(
        url,
        "GET",
        "/v1/approvals",
        status=None if status == "all" else status,
        run_id=run_id,
    )["approvals"]
    if as_json:
        out.print_json(data=approvals)
        return
    table = Table("approval", "status", "run", "tool calls", "summary", "requested", "decided by")
    for a in approvals:
        tools = ", ".join(
            f"{c.get('tool', '?')}({json.dumps(c.get('args', {}))})" for c in a["tool_calls"]
        )
        table.add_row(
            a["approval_id"],
            a["status"],
            a["run_id"],
            tools,
            a["summary"][:120],
            a["requested_at"],
            a.get("decided_by") or "",
        )
    out.print(table)
    if not approvals:
        out.print("nothing waits for a decision" if status == "pending" else "no approvals")


def _decide(verb: str, approval_id: str, reason: str, url: str | None) -> None:
    decision = call(url, "POST", f"/v1/approvals/{approval_id}/{verb}", {"reason": reason})
    note = "" if decision["position"] is not None else " (it already was)"
    out.print(
        f"approval {decision['approval_id']} {decision['status']}{note}: run {decision['run_id']}"
    )


@approvals_app.command("approve")
def approve(
    approval_id: Annotated[str, typer.Argument(help="The approval id (synaps approvals list).")],
    reason: Reason = "",
    url: ApiUrl = None,
) -> None:
    """Approve: the held step runs the tool calls, with you recorded as the approver."""
    _decide("approve", approval_id, reason, url)


@approvals_app.command("deny")
def deny(
    approval_id: Annotated[str, typer.Argument(help="The approval id (synaps approvals list).")],
    reason: Reason = "",
    url: ApiUrl = None,
) -> None:
    """Deny: the tool calls never run and the run ends with the plan unexecuted."""
    _decide("deny", approval_id, reason, url)
