"""Ask the providers of a route in turn, retrying each a bounded number of times."""

from __future__ import annotations

import asyncio
import itertools
import random
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence

import msgspec

from domain.retry import RetryPolicy
from schemas.models import ModelAttempt, ModelRequest, RoutedResponse
from services.models import AllProvidersFailed, ModelError, ModelProvider, UnknownProvider

__all__ = ["ModelRetryPolicy", "Route", "complete_with_fallback", "resolve_route"]

Route = Sequence[tuple[ModelProvider, str]]
Sleep = Callable[[float], Awaitable[None]]


class ModelRetryPolicy(msgspec.Struct, frozen=True, kw_only=True):
    max_attempts: int = 3  # per provider, the first call included
    backoff: RetryPolicy = RetryPolicy(base_seconds=0.5, cap_seconds=8.0)
    # A provider that asks for a longer pause than this is left for the next one.
    max_retry_after_seconds: float = 30.0

    def wait_before_retry(self, attempt: int, error: ModelError, jitter: float) -> float | None:
        """Seconds to wait before calling the same provider again, or None to move on."""
        if not error.retryable or attempt >= self.max_attempts:
            return None
        if error.retry_after is None:
            return self.backoff.delay(attempt, jitter)
        return error.retry_after if error.retry_after <= self.max_retry_after_seconds else None


def resolve_route(
    providers: Mapping[str, ModelProvider], steps: Sequence[tuple[str, str]]
) -> list[tuple[ModelProvider, str]]:
    """Turn ``[(provider name, model), ...]`` from a routing rule into a route."""
    route = []
    for name, model in steps:
        provider = providers.get(name)
        if provider is None:
            known = ", ".join(sorted(providers)) or "none"
            raise UnknownProvider(name, f"no such model provider (known: {known})")
        route.append((provider, model))
    return route


async def complete_with_fallback(
    route: Route,
    request: ModelRequest,
    *,
    policy: ModelRetryPolicy | None = None,
    sleep: Sleep = asyncio.sleep,
    jitter: Callable[[], float] = random.random,
) -> RoutedResponse:
    """The first answer along ``route``; raise ``AllProvidersFailed`` if none answers.

    ``request.model`` is replaced by each step's model. Errors other than
    ``ModelError`` are bugs and propagate at once.
    """
    policy = policy or ModelRetryPolicy()
    attempts: list[ModelAttempt] = []
    for provider, model in route:
        routed = msgspec.structs.replace(request, model=model)
        for attempt in itertools.count(1):
            started = time.monotonic()
            error: ModelError | None = None
            try:
                response = await provider.complete(routed)
            except ModelError as exc:
                error = exc
            wait = None if error is None else policy.wait_before_retry(attempt, error, jitter())
            attempts.append(
                ModelAttempt(
                    provider=provider.name,
                    model=model,
                    attempt=attempt,
                    latency_seconds=time.monotonic() - started,
                    error_code=error.code if error else "",
                    error=str(error) if error else "",
                    retry_in_seconds=wait,
                )
            )
            if error is None:
                return RoutedResponse(response=response, attempts=tuple(attempts))
            if wait is None:
                break
            await sleep(wait)
    raise AllProvidersFailed(attempts)
