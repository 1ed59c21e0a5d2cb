"""Chat completions through the openai SDK: OpenAI itself, and Kimi (Moonshot) at its
OpenAI-compatible base URL."""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Literal

from adapters.llm.http_errors import sdk_errors_as_model_errors
from schemas.models import ChatMessage, FinishReason, ModelRequest, ModelResponse, TokenUsage
from services.models import ProviderRejected, ProviderUnavailable

if TYPE_CHECKING:
    import openai
    from openai.types.chat import ChatCompletion, ChatCompletionMessageParam

__all__ = [
    "KIMI_BASE_URL",
    "OPENAI_BASE_URL",
    "OpenAIChatProvider",
    "kimi_provider",
    "openai_provider",
]

OPENAI_BASE_URL = "https://api.openai.com/v1"
KIMI_BASE_URL = "https://api.moonshot.ai/v1"

_FINISH_REASONS: dict[str, FinishReason] = {
    "stop": "stop",
    "length": "length",
    "tool_calls": "tool_use",
    "function_call": "tool_use",
    "content_filter": "content_filter",
}


def _message(message: ChatMessage) -> ChatCompletionMessageParam:
    if message.role == "assistant":
        return {"role": "assistant", "content": message.content}
    return {"role": "user", "content": message.content}


class OpenAIChatProvider:
    """``POST {base_url}/chat/completions`` with a key from ``key_env``.

    The SDK's own retries are off: ``complete_with_fallback`` retries, so
    every attempt is counted and recorded in one place.
    """

    def __init__(
        self,
        name: str,
        *,
        api_key: str | None,
        key_env: str,
        base_url: str,
        max_tokens_field: Literal["max_tokens", "max_completion_tokens"] = "max_tokens",
    ) -> None:
        self._name = name
        self._api_key = api_key or None
        self._key_env = key_env
        self.base_url = base_url
        self._max_tokens_field = max_tokens_field
        self._client: openai.AsyncOpenAI | None = None

    def __repr__(self) -> str:
        return f"OpenAIChatProvider({self._name!r}, base_url={self.base_url!r})"

    @property
    def name(self) -> str:
        return self._name

    def ensure_available(self) -> None:
        if self._api_key is None:
            raise ProviderUnavailable(
                self._name, f"{self._key_env} is not set, so this provider is unavailable"
            )

    def _connect(self) -> openai.AsyncOpenAI:
        self.ensure_available()
        if self._client is None:
            import openai  # a second or two to import: only when really called

            self._client = openai.AsyncOpenAI(
                api_key=self._api_key, base_url=self.base_url, max_retries=0
            )
        return self._client

    async def complete(self, request: ModelRequest) -> ModelResponse:
        client = self._connect()
        import openai

        system = request.system_prompt()
        messages: list[ChatCompletionMessageParam] = (
            [{"role": "system", "content": system}] if system else []
        )
        messages.extend(_message(m) for m in request.dialogue())
        limit = request.max_tokens
        started = time.monotonic()
        with sdk_errors_as_model_errors(
            self._name, self.base_url, request.timeout_seconds, openai, openai.OpenAIError
        ):
            completion = await client.chat.completions.create(
                model=request.model,
                messages=messages,
                max_tokens=limit if self._max_tokens_field == "max_tokens" else openai.omit,
                max_completion_tokens=(
                    limit if self._max_tokens_field == "max_completion_tokens" else openai.omit
                ),
                temperature=openai.omit if request.temperature is None else request.temperature,
                response_format=({"type": "json_object"} if request.json_output else openai.omit),
                timeout=request.timeout_seconds,
            )
        return self._response(completion, request, time.monotonic() - started)

    def _response(
        self, completion: ChatCompletion, request: ModelRequest, latency: float
    ) -> ModelResponse:
        if not completion.choices:
            raise ProviderRejected(self._name, "the answer has no choices")
        choice = completion.choices[0]
        usage = completion.usage
        return ModelResponse(
            text=choice.message.content or "",
            provider=self._name,
            model=completion.model or request.model,
            usage=TokenUsage(
                input_tokens=usage.prompt_tokens if usage else 0,
                output_tokens=usage.completion_tokens if usage else 0,
            ),
            latency_seconds=latency,
            finish_reason=_FINISH_REASONS.get(choice.finish_reason, "other"),
        )

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.close()
            self._client = None


def openai_provider(environ: Mapping[str, str] = os.environ) -> OpenAIChatProvider:
    """OpenAI: ``OPENAI_API_KEY``, ``OPENAI_BASE_URL``."""
    return OpenAIChatProvider(
        "openai",
        api_key=environ.get("OPENAI_API_KEY"),
        key_env="OPENAI_API_KEY",
        base_url=environ.get("OPENAI_BASE_URL") or OPENAI_BASE_URL,
        # OpenAI's reasoning models refuse the older ``max_tokens``.
        max_tokens_field="max_completion_tokens",
    )


def kimi_provider(environ: Mapping[str, str] = os.environ) -> OpenAIChatProvider:
    """Kimi (Moonshot): ``MOONSHOT_API_KEY``, ``MOONSHOT_BASE_URL``."""
    return OpenAIChatProvider(
        "kimi",
        api_key=environ.get("MOONSHOT_API_KEY"),
        key_env="MOONSHOT_API_KEY",
        base_url=environ.get("MOONSHOT_BASE_URL") or KIMI_BASE_URL,
    )
