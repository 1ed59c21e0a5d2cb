"""The DevOps steps: the diagnosis as tool calls of the control registry.

Read-only calls run at once. Write calls are queued in a step *held* for an
approval: only ``ApprovalGranted`` releases it, and it runs exactly the calls that
were approved (read from the Approval, not from its own input), through the write
client that exists only when writes were explicitly enabled. Destructive calls are
refused unless the arbiter policy allows them — when proposed and again when run.
"""

from __future__ import annotations

import asyncio
from typing import Any

import msgspec

from domain.incidents.actions import propose_actions
from domain.incidents.package import EvidencePackage
from schemas.commands import NeedsApproval, NextStep, NextTask
from schemas.views import ClaimedTask
from services.agents.answer import review_answer
from services.agents.deps import AgentDeps
from services.agents.ports import ToolCall, ToolOutcome, WritesDisabled
from services.agents.registry_view import active_policy, available_tools
from services.agents.state import Kinds, as_input, state_of
from services.agents.step_io import load_json
from services.agents.tool_catalog import (
    WRITE_TOOLS,
    needs_approval,
    refusal,
    validate_call,
    writer_refusal,
)
from services.task_kinds import TaskContext, TaskError

__all__ = ["DevOpsStep", "ExecuteStep"]


def _entry(call: ToolCall, status: str, **more: Any) -> dict[str, Any]:
    return {"tool": call.tool, "args": call.args, "reason": call.reason, "status": status, **more}


class DevOpsStep:
    def __init__(self, deps: AgentDeps) -> None:
        self._deps = deps

    async def _run_reads(self, reads: list[ToolCall]) -> list[ToolOutcome] | None:
        if not reads or self._deps.reader is None:
            return None
        try:
            async with self._deps.reader() as reader:
                return [await reader.run(call) for call in reads]
        except Exception as exc:  # noqa: BLE001 - the cluster's trouble is retried
            raise TaskError(f"read-only tools failed: {type(exc).__name__}: {exc}") from None

    async def __call__(self, task: ClaimedTask, ctx: TaskContext) -> dict[str, Any]:
        state = state_of(task.input)
        report = state.report
        if report is None:
            raise TaskError("no diagnosis to act on", retryable=False)
        package = (
            await load_json(self._deps.artifacts, state.evidence, EvidencePackage, "evidence")
            if state.evidence is not None
            else None
        )
        tools, policy = available_tools(ctx.control), active_policy(ctx.control)
        proposed: list[dict[str, Any]] = []
        reads: list[ToolCall] = []
        writes: list[ToolCall] = []
        for p in propose_actions(report, package):
            call = ToolCall(tool=p.tool, args=dict(p.args), reason=p.reason)
            spec = tools.get(call.tool)
            if spec is None:
                proposed.append(_entry(call, "unavailable", error="not in the control registry"))
            elif (problem := validate_call(call, spec)) is not None:
                proposed.append(_entry(call, "invalid", error=problem))
            elif (refused := refusal(call, spec, policy)) is not None:
                proposed.append(_entry(call, "refused", refused=refused))
            elif needs_approval(call, spec, policy, WRITE_TOOLS):
                writes.append(call)
                proposed.append(_entry(call, "awaiting_approval"))
            else:
                reads.append(call)
        outcomes = await self._run_reads(reads)
        for i, call in enumerate(reads):
            if outcomes is None:
                proposed.append(_entry(call, "skipped", error="no cluster connection"))
            else:
                o = outcomes[i]
                status = "ran" if o.ok else "failed"
                proposed.append(_entry(call, status, output=o.output, error=o.error))
        state = msgspec.structs.replace(state, proposed=proposed, awaiting_approval=bool(writes))
        if writes:
            root = report["root_cause"]
            summary = (
                f"{root['type']} in {report['namespace']}"
                + (f"/{report['target']}" if report.get("target") else "")
                + ": "
                + "; ".join(f"{c.tool} - {c.reason}" for c in writes)
            )
            ctx.next.append(
                NextTask(
                    kind=Kinds.EXECUTE,
                    input=as_input(state),
                    max_attempts=3,
                    approval=NeedsApproval(
                        tool_calls=[msgspec.to_builtins(c) for c in writes],
                        summary=summary[:20_000],
                        evidence=list(root["evidence"])[:200],
                        on_denied=NextStep(
                            kind=Kinds.REVIEW,
                            input=as_input(state, denied=True, awaiting_approval=False),
                        ),
                    ),
                )
            )
            outcome = f"{len(writes)} write call(s) wait for an approval (synaps approvals list)"
        else:
            ctx.next.append(NextTask(kind=Kinds.REVIEW, input=as_input(state)))
            outcome = "nothing to write: no approval needed"
        return {
            "diagnosis": report,
            "proposed": proposed,
            "awaiting_approval": bool(writes),
            "answer": review_answer(state.report, proposed, outcome=outcome),
        }


class ExecuteStep:
    """Runs when, and only when, a person approved: the approved calls, nothing else."""

    def __init__(self, deps: AgentDeps) -> None:
        self._deps = deps

    async def __call__(self, task: ClaimedTask, ctx: TaskContext) -> dict[str, Any]:
        state = state_of(task.input)
        approved = await asyncio.to_thread(self._deps.approvals.granted_tool_calls, task.task_id)
        if approved is None:
            raise TaskError(f"task {task.task_id} has no granted approval", retryable=False)
        calls = [msgspec.convert(c, ToolCall) for c in approved]
        tools, policy = available_tools(ctx.control), active_policy(ctx.control)
        executed: list[dict[str, Any]] = []
        reason: str | None = None
        if self._deps.writer is None:
            reason = "writing to the cluster is not enabled (SYNAPS_K8S_WRITES=enabled)"
        else:
            try:
                async with self._deps.writer() as writer:
                    for call in calls:
                        refused = refusal(call, tools.get(call.tool, {}), policy) or (
                            writer_refusal(call, writer)
                        )
                        if refused is not None:
                            executed.append(_entry(call, "refused", refused=refused))
                            continue
                        o = await writer.run(call)
                        status = "done" if o.ok else "failed"
                        executed.append(_entry(call, status, output=o.output, error=o.error))
            except WritesDisabled as exc:
                reason = str(exc) or "writing to the cluster is not enabled"
        state = msgspec.structs.replace(
            state, executed=executed, not_executed_reason=reason, awaiting_approval=False
        )
        ctx.next.append(NextTask(kind=Kinds.REVIEW, input=as_input(state)))
        outcome = reason or f"executed {sum(e['status'] == 'done' for e in executed)} call(s)"
        return {
            "diagnosis": state.report,
            "executed": executed,
            "answer": review_answer(state.report, executed or state.proposed, outcome=outcome),
        }
