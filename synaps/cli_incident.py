"""``synaps incident``: diagnose a Kubernetes incident offline, from a kubectl dump."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Annotated

import msgspec
import typer
from rich.console import Console
from rich.panel import Panel
from rich.table import Table

from adapters.k8s.dump import DumpDirectory, DumpError
from domain.incidents.logs import DEFAULT_LOG_CAP_BYTES
from schemas.incidents import IncidentReport
from services.incidents.agent import DEFAULT_ARBITER_THRESHOLD, IncidentAgent
from services.incidents.analyze import analyze_incident

__all__ = ["incident_app", "print_report"]

incident_app = typer.Typer(
    help="Diagnose Kubernetes incidents: Planner, evidence and IncidentAgent rules, offline.",
    no_args_is_help=True,
)
out = Console()
err = Console(stderr=True)

_DUMP_HELP = (
    "Directory of a kubectl JSON dump of one namespace: pods.json (required), events.json, "
    "logs/<pod>/<container>[.previous].log and optional deployments/replicasets/statefulsets/"
    "jobs/nodes/services/endpoints/pvcs/configmaps/resourcequotas .json files."
)


@incident_app.command("analyze")
def analyze(
    dump: Annotated[Path, typer.Option("--dump", help=_DUMP_HELP, show_default=False)],
    question: Annotated[
        str | None,
        typer.Option(
            "--question",
            "-q",
            help="The operator's question, e.g. 'why is checkout crashing in prod?'. "
            "Default: question.txt in the dump directory, else a namespace overview.",
        ),
    ] = None,
    namespace: Annotated[
        str | None,
        typer.Option("--namespace", "-n", help="Namespace, if the dump does not say."),
    ] = None,
    workload: Annotated[
        str | None,
        typer.Option("--workload", "-w", help="Workload or pod the question is about."),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print one JSON object instead of a report.")
    ] = False,
    threshold: Annotated[
        float,
        typer.Option(
            "--arbiter-threshold",
            min=0.0,
            max=1.0,
            help="Rule confidence below which the model would be asked; without a model "
            "the answer is flagged needs_review.",
        ),
    ] = DEFAULT_ARBITER_THRESHOLD,
    log_cap: Annotated[
        int,
        typer.Option("--log-cap-bytes", min=1024, help="Bytes kept per container log."),
    ] = DEFAULT_LOG_CAP_BYTES,
) -> None:
    """Diagnose the incident in a kubectl dump: root cause, evidence, remediation.

    Runs offline and read-only: no cluster, no server, no model. Example:

        synaps incident analyze --dump ./snap --question "why is api stuck?" --json
    """
    if question is None:
        question_file = dump / "question.txt"
        question = question_file.read_text().strip() if question_file.is_file() else ""
    source = DumpDirectory(dump, log_cap_bytes=log_cap)
    agent = IncidentAgent(threshold=threshold)
    try:
        report = asyncio.run(
            analyze_incident(question, source, namespace=namespace, workload=workload, agent=agent)
        )
    except DumpError as exc:
        err.print(f"[red]error:[/] {exc}", highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None
    if as_json:
        sys.stdout.write(msgspec.json.encode(report).decode() + "\n")
    else:
        print_report(report)


def print_report(report: IncidentReport) -> None:
    cause = report.root_cause
    colour = "green" if cause.type == "healthy" else "red"
    review = "  [yellow](needs review)[/]" if report.needs_review else ""
    scope = f"{report.namespace}/{report.target}" if report.target else report.namespace
    out.print(
        Panel(
            f"[bold {colour}]{cause.type}[/]  confidence {cause.confidence:.2f} "
            f"({cause.detection_method}){review}\n"
            + "\n".join(f"• {line}" for line in cause.evidence),
            title=f"incident: {scope}  [dim]intent {report.intent}[/]",
            expand=False,
        ),
        highlight=False,
    )
    remedy = Table(show_header=False, box=None, padding=(0, 1))
    remedy.add_row("[bold]now[/]", report.remediation.immediate)
    remedy.add_row("[bold]verify[/]", report.remediation.verification)
    remedy.add_row("[bold]prevent[/]", report.remediation.prevention)
    out.print(Panel(remedy, title="remediation (read-only)", expand=False), highlight=False)
    if report.other_findings:
        others = Table("also seen", "confidence", "first evidence", title=None)
        for finding in report.other_findings:
            others.add_row(finding.type, f"{finding.confidence:.2f}", finding.evidence[0][:100])
        out.print(others)
