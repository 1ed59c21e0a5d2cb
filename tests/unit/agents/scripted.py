"""An in-memory model provider answering scripted texts (or raising), recording requests."""

from __future__ import annotations

from collections.abc import Sequence

from schemas.models import ModelRequest, ModelResponse, TokenUsage
from services.models import ModelError


class ScriptedModel:
    def __init__(self, replies: Sequence[str | ModelError], *, name: str = "fake") -> None:
        self.name = name
        self.replies = list(replies)
        self.requests: list[ModelRequest] = []

    def ensure_available(self) -> None:
        pass

    async def complete(self, request: ModelRequest) -> ModelResponse:
        self.requests.append(request)
        if not self.replies:
            raise AssertionError("an unscripted call")
        reply = self.replies.pop(0)
        if isinstance(reply, ModelError):
            raise reply
        return ModelResponse(
            text=reply,
            provider=self.name,
            model=request.model,
            usage=TokenUsage(input_tokens=100, output_tokens=10),
            latency_seconds=0.0,
            finish_reason="stop",
        )

    async def aclose(self) -> None:
        pass
