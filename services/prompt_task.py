"""The ``prompt`` task kind: render the active prompt, ask the routed model, keep the
answer as an artifact.

Input: ``{"prompt": NAME, ...variables}``. Output: the text, which provider and
model answered, the token usage and the artifact holding the answer.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from schemas.commands import ProducedArtifact
from schemas.models import ChatMessage, ModelRequest
from schemas.views import ClaimedTask
from services.artifacts import ArtifactStore
from services.model_routes import complete_with_fallback, resolve_route
from services.models import AllProvidersFailed, ModelProvider, UnknownProvider
from services.prompts import active_template, render
from services.routing import choose_route
from services.task_kinds import TaskContext, TaskError

__all__ = ["PromptTask", "render"]


class PromptTask:
    def __init__(self, providers: Mapping[str, ModelProvider], store: ArtifactStore) -> None:
        self._providers = providers
        self._store = store

    async def __call__(self, task: ClaimedTask, ctx: TaskContext) -> Any:
        params = task.input
        if not isinstance(params, dict) or not isinstance(params.get("prompt"), str):
            raise TaskError('input must be an object with a "prompt" name', retryable=False)
        name = params["prompt"]
        snapshot = ctx.control
        template = active_template(snapshot, name)
        if template is None:
            raise TaskError(f"no active prompt named {name!r}", retryable=False)
        text = render(template, {k: v for k, v in params.items() if k != "prompt"})
        route = choose_route(
            snapshot, task_kind=task.kind, tenant=task.tenant, intent=params.get("intent")
        )
        try:
            steps = resolve_route(self._providers, route.steps)
        except UnknownProvider as exc:
            raise TaskError(str(exc), retryable=False) from None
        request = ModelRequest(
            messages=(ChatMessage(role="user", content=text),),
            model=route.steps[0][1],
            timeout_seconds=route.timeout_seconds,
        )
        try:
            routed = await complete_with_fallback(steps, request)
        except AllProvidersFailed as exc:
            raise TaskError(str(exc)) from None  # retried with backoff
        answer = routed.response
        ref = await self._store.put(answer.text.encode(), "text/plain; charset=utf-8")
        artifact = ProducedArtifact(
            name=f"{name}.answer", digest=ref.digest, size=ref.size, content_type=ref.content_type
        )
        ctx.artifacts.append(artifact)
        ctx.usage = {
            "provider": answer.provider,
            "model": answer.model,
            "input_tokens": answer.usage.input_tokens,
            "output_tokens": answer.usage.output_tokens,
            "attempts": len(routed.attempts),
            "route_rule": route.rule,
        }
        return {
            "text": answer.text,
            "provider": answer.provider,
            "model": answer.model,
            "usage": ctx.usage,
            "artifact": {"name": artifact.name, "digest": ref.digest, "size": ref.size},
        }
