"""What is asked of a language model and what comes back, recorded as task outcomes."""

from __future__ import annotations

from typing import Annotated, Literal

from msgspec import Meta, Struct

__all__ = [
    "JSON_INSTRUCTION",
    "ChatMessage",
    "FinishReason",
    "ModelAttempt",
    "ModelRequest",
    "ModelResponse",
    "Role",
    "RoutedResponse",
    "TokenUsage",
]

Role = Literal["system", "user", "assistant"]

# One vocabulary across providers, so a caller can tell "cut off" from "done"
# without knowing whose model answered.
FinishReason = Literal["stop", "length", "tool_use", "content_filter", "other"]

# OpenAI refuses JSON mode unless the prompt itself asks for JSON, and Claude
# has no JSON mode at all: saying it in the system prompt serves both.
JSON_INSTRUCTION = "Answer with a single JSON object and nothing else."


class ChatMessage(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    role: Role
    content: str


class ModelRequest(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One completion request; a route may send it to several providers in turn."""

    messages: Annotated[tuple[ChatMessage, ...], Meta(min_length=1)]
    model: Annotated[str, Meta(min_length=1, max_length=200)]
    max_tokens: Annotated[int, Meta(ge=1, le=1_000_000)] = 1024
    temperature: Annotated[float, Meta(ge=0.0, le=2.0)] | None = None
    timeout_seconds: Annotated[float, Meta(gt=0.0, le=3600.0)] = 60.0
    json_output: bool = False

    def system_prompt(self) -> str:
        """The system messages as one prompt, with the JSON instruction when asked for."""
        parts = [m.content for m in self.messages if m.role == "system"]
        if self.json_output:
            parts.append(JSON_INSTRUCTION)
        return "\n\n".join(parts)

    def dialogue(self) -> tuple[ChatMessage, ...]:
        """The user and assistant turns, in order."""
        return tuple(m for m in self.messages if m.role != "system")


class TokenUsage(Struct, frozen=True, kw_only=True):
    input_tokens: int = 0
    output_tokens: int = 0


class ModelResponse(Struct, frozen=True, kw_only=True):
    text: str
    provider: str
    model: str
    usage: TokenUsage
    latency_seconds: float
    finish_reason: FinishReason


class ModelAttempt(Struct, frozen=True, kw_only=True):
    """One call of one provider, answered or not, as the outcome records it."""

    provider: str
    model: str
    attempt: Annotated[int, Meta(ge=1, description="1-based, per provider")]
    latency_seconds: float
    error_code: str = ""  # empty when the provider answered
    error: str = ""
    retry_in_seconds: float | None = None  # the wait before the next attempt, if any

    @property
    def answered(self) -> bool:
        return not self.error_code


class RoutedResponse(Struct, frozen=True, kw_only=True):
    """The answer, and every attempt it took across the route to get it."""

    response: ModelResponse
    attempts: tuple[ModelAttempt, ...]
