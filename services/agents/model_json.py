"""Ask a route for a JSON answer of a msgspec type: validated, repaired once, never raising.

Models wrap JSON in code fences or prose, and sometimes get a field wrong. The
answer is decoded with msgspec against the wanted type (whose JSON Schema is in
the prompt); if that fails, the model gets exactly one chance to correct it,
seeing its own answer and the validation error. A second failure, or no
provider answering at all, is a result with ``value=None`` and the reasons, so
the caller keeps its rule-based answer instead of failing the task.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, Generic, TypeVar

import msgspec

from schemas.models import ChatMessage, ModelRequest, ModelResponse
from services.model_routes import ModelRetryPolicy, Route, complete_with_fallback
from services.models import AllProvidersFailed

__all__ = [
    "JsonAnswer",
    "NoJsonObject",
    "ask_json",
    "parse_answer",
    "repair_prompt",
    "schema_instruction",
]

T = TypeVar("T")

# A semantic check beyond the type (e.g. "type is one of the allowed ones"):
# the reason the value is invalid, or None when it is fine.
Check = Callable[[T], str | None]

_OBJECTS = json.JSONDecoder()


class NoJsonObject(ValueError):
    """The answer holds no JSON object at all."""


class JsonAnswer(msgspec.Struct, Generic[T], frozen=True, kw_only=True):
    """What came of asking: the value (None if the model never got it right), every raw
    answer, every validation or provider error, and the usage to record."""

    value: T | None
    answers: list[str]
    errors: list[str]
    # provider, model (of the last answer; None if none answered), input_tokens,
    # output_tokens (summed over calls), calls (answers received), attempts (provider calls)
    usage: dict[str, Any]

    @property
    def provider(self) -> str | None:
        provider: str | None = self.usage.get("provider")
        return provider

    @property
    def model(self) -> str | None:
        model: str | None = self.usage.get("model")
        return model


def parse_answer(text: str, answer_type: type[T]) -> T:
    """The answer as ``answer_type``: the whole text if it is JSON, else the first JSON
    object inside it (in code fences or prose) that fits the type.

    Raises ``msgspec.ValidationError`` (why the first object does not fit; a
    ``DecodeError`` in general) or ``NoJsonObject``.
    """
    try:
        return msgspec.json.decode(text, type=answer_type)
    except msgspec.ValidationError:
        raise
    except msgspec.DecodeError:
        pass  # not bare JSON: look for objects inside
    first_error: msgspec.DecodeError | None = None
    start = text.find("{")
    while start != -1:
        try:
            _, end = _OBJECTS.raw_decode(text, start)
        except ValueError:
            start = text.find("{", start + 1)
            continue
        try:
            return msgspec.json.decode(text[start:end], type=answer_type)
        except msgspec.DecodeError as exc:  # ValidationError included
            first_error = first_error or exc
        start = text.find("{", end)
    if first_error is not None:
        raise first_error
    raise NoJsonObject("the answer holds no JSON object")


def _validated(text: str, answer_type: type[T], check: Check[T] | None) -> T:
    """The parsed answer; ``ValueError`` (msgspec's included) saying what is wrong."""
    value = parse_answer(text, answer_type)
    problem = check(value) if check is not None else None
    if problem:
        raise ValueError(problem)
    return value


def schema_instruction(answer_type: type[Any]) -> str:
    schema = msgspec.json.encode(msgspec.json.schema(answer_type)).decode()
    return f"Answer with one JSON object that validates against this JSON Schema:\n{schema}"


def repair_prompt(error: str) -> str:
    return (
        f"Your answer is not valid: {error}\n"
        "Answer again with the corrected JSON object only: no prose, no code fences."
    )


class _Tally:
    """Token usage and calls summed over the requests of one question."""

    def __init__(self) -> None:
        self.provider: str | None = None
        self.model: str | None = None
        self.input_tokens = 0
        self.output_tokens = 0
        self.calls = 0
        self.attempts = 0

    def add(self, answer: ModelResponse, attempts: int) -> None:
        self.provider, self.model = answer.provider, answer.model
        self.input_tokens += answer.usage.input_tokens
        self.output_tokens += answer.usage.output_tokens
        self.calls += 1
        self.attempts += attempts

    def usage(self) -> dict[str, Any]:
        return {
            "provider": self.provider,
            "model": self.model,
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "calls": self.calls,
            "attempts": self.attempts,
        }


async def ask_json(
    route: Route,
    *,
    system: str,
    prompt: str,
    answer_type: type[T],
    timeout_seconds: float = 60,
    check: Check[T] | None = None,
    max_tokens: int = 1024,
    policy: ModelRetryPolicy | None = None,
) -> JsonAnswer[T]:
    """Ask ``route`` for one ``answer_type``; at most two answers (the first and one repair).

    ``check`` adds a rule the type cannot express; its complaint is treated like a
    validation error (it triggers the repair).
    """
    messages = [
        ChatMessage(role="system", content=f"{system}\n\n{schema_instruction(answer_type)}"),
        ChatMessage(role="user", content=prompt),
    ]
    answers: list[str] = []
    errors: list[str] = []
    tally = _Tally()
    for _ in range(2):
        request = ModelRequest(
            messages=tuple(messages),
            model=route[0][1] if route else "none",
            max_tokens=max_tokens,
            timeout_seconds=timeout_seconds,
            json_output=True,
        )
        try:
            routed = await complete_with_fallback(route, request, policy=policy)
        except AllProvidersFailed as exc:
            tally.attempts += len(exc.attempts)
            errors.append(str(exc))
            break
        answer = routed.response
        tally.add(answer, len(routed.attempts))
        answers.append(answer.text)
        try:
            value = _validated(answer.text, answer_type, check)
        except ValueError as exc:  # msgspec.ValidationError is one
            error = str(exc)
        else:
            return JsonAnswer(value=value, answers=answers, errors=errors, usage=tally.usage())
        errors.append(error)
        messages += [
            # Anthropic refuses an empty turn: say it was empty instead.
            ChatMessage(role="assistant", content=answer.text or "(empty answer)"),
            ChatMessage(role="user", content=repair_prompt(error)),
        ]
    return JsonAnswer(value=None, answers=answers, errors=errors, usage=tally.usage())
