"""Claude through the anthropic SDK's messages API.

``ModelRequest.temperature`` is not sent: this SDK's messages API no longer
takes it. ``json_output`` becomes an instruction in the system prompt, as the
API's own JSON format needs a schema we do not have.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING

from adapters.llm.http_errors import sdk_errors_as_model_errors
from schemas.models import ChatMessage, FinishReason, ModelRequest, ModelResponse, TokenUsage
from services.models import ProviderUnavailable

if TYPE_CHECKING:
    import anthropic
    from anthropic.types import Message, MessageParam

__all__ = ["ANTHROPIC_BASE_URL", "ClaudeProvider", "claude_provider"]

ANTHROPIC_BASE_URL = "https://api.anthropic.com"

_FINISH_REASONS: dict[str, FinishReason] = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "tool_use": "tool_use",
    "refusal": "content_filter",
}


def _message(message: ChatMessage) -> MessageParam:
    if message.role == "assistant":
        return {"role": "assistant", "content": message.content}
    return {"role": "user", "content": message.content}


class ClaudeProvider:
    """``POST {base_url}/v1/messages`` with ``ANTHROPIC_API_KEY``; the SDK does not retry."""

    def __init__(self, *, api_key: str | None, base_url: str, name: str = "anthropic") -> None:
        self._name = name
        self._api_key = api_key or None
        self.base_url = base_url
        self._client: anthropic.AsyncAnthropic | None = None

    def __repr__(self) -> str:
        return f"ClaudeProvider({self._name!r}, base_url={self.base_url!r})"

    @property
    def name(self) -> str:
        return self._name

    def ensure_available(self) -> None:
        if self._api_key is None:
            raise ProviderUnavailable(
                self._name, "ANTHROPIC_API_KEY is not set, so this provider is unavailable"
            )

    def _connect(self) -> anthropic.AsyncAnthropic:
        self.ensure_available()
        if self._client is None:
            import anthropic  # seconds to import: only when Claude is really called

            # An explicit key keeps the SDK from looking for credentials of its own.
            self._client = anthropic.AsyncAnthropic(
                api_key=self._api_key, base_url=self.base_url, max_retries=0
            )
        return self._client

    async def complete(self, request: ModelRequest) -> ModelResponse:
        client = self._connect()
        import anthropic

        system = request.system_prompt()
        messages = [_message(m) for m in request.dialogue()]
        started = time.monotonic()
        with sdk_errors_as_model_errors(
            self._name, self.base_url, request.timeout_seconds, anthropic, anthropic.AnthropicError
        ):
            message = await client.messages.create(
                model=request.model,
                max_tokens=request.max_tokens,
                system=system or anthropic.omit,
                messages=messages,
                timeout=request.timeout_seconds,
            )
        return self._response(message, request, time.monotonic() - started)

    def _response(self, message: Message, request: ModelRequest, latency: float) -> ModelResponse:
        text = "".join(block.text for block in message.content if block.type == "text")
        return ModelResponse(
            text=text,
            provider=self._name,
            model=message.model or request.model,
            usage=TokenUsage(
                input_tokens=message.usage.input_tokens,
                output_tokens=message.usage.output_tokens,
            ),
            latency_seconds=latency,
            finish_reason=_FINISH_REASONS.get(message.stop_reason or "", "other"),
        )

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.close()
            self._client = None


def claude_provider(environ: Mapping[str, str] = os.environ) -> ClaudeProvider:
    """Claude: ``ANTHROPIC_API_KEY``, ``ANTHROPIC_BASE_URL``."""
    return ClaudeProvider(
        api_key=environ.get("ANTHROPIC_API_KEY"),
        base_url=environ.get("ANTHROPIC_BASE_URL") or ANTHROPIC_BASE_URL,
    )
