"""``synaps control``: the control registry (prompts, skills, tools, routing, policies)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from synaps.cli_api import ApiUrl, call
from synaps.console import out

__all__ = ["control_app"]

control_app = typer.Typer(
    help="Prompts, skills, tools, routing rules and arbiter policies: versions, activation.",
    no_args_is_help=True,
)

KIND_HELP = "prompt, skill, tool, routing_rule or arbiter_policy (plurals work too)"


@control_app.command("list")
def list_items(
    kind: Annotated[str | None, typer.Option("--kind", help=KIND_HELP)] = None,
    url: ApiUrl = None,
) -> None:
    """Items of the registry with their active version."""
    items = call(url, "GET", "/v1/control", kind=kind)["items"]
    table = Table("kind", "name", "active", "versions")
    for item in items:
        table.add_row(
            item["kind"], item["name"], str(item["active_version"] or "-"), str(item["versions"])
        )
    out.print(table)


@control_app.command("show")
def show(
    kind: Annotated[str, typer.Argument(help=KIND_HELP)],
    name: Annotated[str, typer.Argument()],
    as_json: Annotated[bool, typer.Option("--json")] = False,
    url: ApiUrl = None,
) -> None:
    """Every version of an item, who made it and why, and its activations."""
    history = call(url, "GET", f"/v1/control/{kind}/{name}")
    if as_json:
        out.print_json(data=history)
        return
    out.print(
        f"{history['kind']} {history['name']}: active version {history['active_version'] or '-'}"
    )
    table = Table("version", "author", "reason", "spec")
    for v in history["versions"]:
        marker = " *" if v["version"] == history["active_version"] else ""
        table.add_row(
            f"{v['version']}{marker}", v["author"], v["reason"], json.dumps(v["spec"])[:80]
        )
    out.print(table)


@control_app.command("set")
def set_version(
    kind: Annotated[str, typer.Argument(help=KIND_HELP)],
    name: Annotated[str, typer.Argument()],
    spec: Annotated[str | None, typer.Option("--spec", help="The spec as JSON.")] = None,
    spec_file: Annotated[
        Path | None, typer.Option("--file", help="The spec in a JSON file.")
    ] = None,
    reason: Annotated[str, typer.Option("--reason", help="Why (kept in the ledger).")] = "",
    activate: Annotated[bool, typer.Option("--activate", help="Make it effective now.")] = False,
    url: ApiUrl = None,
) -> None:
    """Add a version of an item (optionally activating it)."""
    if (spec is None) == (spec_file is None):
        raise typer.BadParameter("give the spec with --spec JSON or --file PATH")
    try:
        text = spec if spec is not None else spec_file.read_text()  # type: ignore[union-attr]
        body = json.loads(text)
    except (OSError, ValueError) as exc:
        raise typer.BadParameter(f"cannot read the spec: {exc}") from None
    if not isinstance(body, dict):
        raise typer.BadParameter("the spec must be a JSON object")
    body.update({"reason": reason, "activate": activate})
    result = call(url, "POST", f"/v1/control/{kind}/{name}/versions", body)
    out.print(
        f"{result['kind']} {result['name']} version {result['version']} added"
        + (" and activated" if activate else "")
    )


@control_app.command("activate")
def activate(
    kind: Annotated[str, typer.Argument(help=KIND_HELP)],
    name: Annotated[str, typer.Argument()],
    version: Annotated[int, typer.Argument(min=1)],
    reason: Annotated[str, typer.Option("--reason")] = "",
    url: ApiUrl = None,
) -> None:
    """Make a version the effective one."""
    result = call(
        url, "POST", f"/v1/control/{kind}/{name}/activate", {"version": version, "reason": reason}
    )
    out.print(f"{result['kind']} {result['name']}: version {result['active_version']} active")


@control_app.command("rollback")
def rollback(
    kind: Annotated[str, typer.Argument(help=KIND_HELP)],
    name: Annotated[str, typer.Argument()],
    reason: Annotated[str, typer.Option("--reason")] = "",
    url: ApiUrl = None,
) -> None:
    """Go back to the version that was active before the current one."""
    result = call(url, "POST", f"/v1/control/{kind}/{name}/rollback", {"reason": reason})
    out.print(f"{result['kind']} {result['name']}: back to version {result['active_version']}")


@control_app.command("snapshot")
def snapshot(
    as_json: Annotated[bool, typer.Option("--json")] = False,
    url: ApiUrl = None,
) -> None:
    """The effective registry (what workers run with) and its hash."""
    snap = call(url, "GET", "/v1/control/snapshot")
    if as_json:
        out.print_json(data=snap)
        return
    out.print(f"tenant {snap['tenant']}  hash {snap['hash']}")
    table = Table("kind", "name", "version")
    for kind, items in sorted(snap["items"].items()):
        for name, item in sorted(items.items()):
            table.add_row(kind, name, str(item["version"]))
    out.print(table)
