"""The offline provider: a deterministic answer derived from the prompt, no network.

It is meant as the dev stack's default and the provider of tests and demos. Every
answer says plainly that no model was called, so nobody mistakes it for one.
Tokens are counted as a quarter of the characters (rounded up), and
``max_tokens`` cuts the answer like a real model would (``finish_reason``
"length"), so budgets and truncation can be exercised offline.
"""

from __future__ import annotations

import hashlib
import math
import time

import msgspec

from schemas.models import FinishReason, ModelRequest, ModelResponse, TokenUsage

__all__ = ["LocalProvider", "estimate_tokens"]

_CHARS_PER_TOKEN = 4
_ECHO_CHARS = 500


def estimate_tokens(text: str) -> int:
    return math.ceil(len(text) / _CHARS_PER_TOKEN)


class LocalProvider:
    def __init__(self, name: str = "local") -> None:
        self._name = name

    def __repr__(self) -> str:
        return f"LocalProvider({self._name!r})"

    @property
    def name(self) -> str:
        return self._name

    def ensure_available(self) -> None:
        """Always available: it needs neither a key nor a network."""

    async def complete(self, request: ModelRequest) -> ModelResponse:
        started = time.monotonic()
        full = self._answer(request)
        budget = request.max_tokens * _CHARS_PER_TOKEN
        text = full[:budget]
        finish: FinishReason = "stop" if len(text) == len(full) else "length"
        prompt = "".join(m.content for m in request.messages)
        return ModelResponse(
            text=text,
            provider=self._name,
            model=request.model,
            usage=TokenUsage(
                input_tokens=estimate_tokens(prompt), output_tokens=estimate_tokens(text)
            ),
            latency_seconds=time.monotonic() - started,
            finish_reason=finish,
        )

    def _answer(self, request: ModelRequest) -> str:
        users = [m.content for m in request.messages if m.role == "user"]
        last = users[-1] if users else ""
        digest = hashlib.sha256(msgspec.json.encode(request.messages)).hexdigest()
        echo = last[:_ECHO_CHARS]
        if request.json_output:
            return msgspec.json.encode(
                {
                    "provider": self._name,
                    "offline": True,
                    "note": "offline local provider: no model was called",
                    "model": request.model,
                    "prompt_sha256": digest,
                    "messages": len(request.messages),
                    "echo": echo,
                },
                order="sorted",
            ).decode()
        return (
            f"[{self._name} model {request.model}: offline, no model was called]\n"
            f"prompt sha256: {digest}\n"
            f"messages: {len(request.messages)}\n"
            f"you said: {echo}"
        )

    async def aclose(self) -> None:
        """Nothing to release."""
