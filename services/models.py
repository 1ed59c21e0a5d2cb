"""The port to language models, and the errors every provider speaks in."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from schemas.models import ModelAttempt, ModelRequest, ModelResponse

__all__ = [
    "AllProvidersFailed",
    "ModelError",
    "ModelProvider",
    "ProviderRejected",
    "ProviderTransientError",
    "ProviderUnavailable",
    "UnknownProvider",
    "is_configured",
]


class ModelProvider(Protocol):
    """One backend that completes chat requests (OpenAI, Kimi, Claude, local)."""

    @property
    def name(self) -> str: ...

    def ensure_available(self) -> None:
        """Raise ``ProviderUnavailable`` saying why, if this provider cannot be called."""

    async def complete(self, request: ModelRequest) -> ModelResponse:
        """Answer once, without retrying; failures raise a ``ModelError``."""
        ...

    async def aclose(self) -> None: ...


class ModelError(Exception):
    """Base of every failure to get an answer from a model."""

    code = "model_error"
    retryable = False
    retry_after: float | None = None  # seconds the provider asked us to wait

    def __init__(self, provider: str, message: str) -> None:
        super().__init__(f"{provider}: {message}")
        self.provider = provider


class ProviderUnavailable(ModelError):
    """Not configured here (no API key): skip it, calling again will not help."""

    code = "provider_unavailable"


class ProviderRejected(ModelError):
    """The provider refused the request or answered nonsense; retrying will not help."""

    code = "provider_rejected"

    def __init__(self, provider: str, message: str, *, status: int | None = None) -> None:
        super().__init__(provider, message)
        self.status = status


class ProviderTransientError(ModelError):
    """Rate limited, overloaded, timed out or unreachable: worth another try."""

    retryable = True

    def __init__(
        self,
        provider: str,
        message: str,
        *,
        code: str,
        status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(provider, message)
        self.code = code
        self.status = status
        self.retry_after = retry_after


class AllProvidersFailed(ModelError):
    """Every provider of the route failed; ``attempts`` says how."""

    code = "all_providers_failed"

    def __init__(self, attempts: Sequence[ModelAttempt]) -> None:
        last = attempts[-1] if attempts else None
        detail = f"{len(attempts)} attempts, last: {last.error}" if last else "the route is empty"
        super().__init__("route", f"no provider answered ({detail})")
        self.attempts = tuple(attempts)


class UnknownProvider(ModelError):
    """A route names a provider this process does not know."""

    code = "unknown_provider"


def is_configured(provider: ModelProvider) -> bool:
    """Whether ``provider`` can be called here at all (it has its key), without calling it."""
    try:
        provider.ensure_available()
    except ProviderUnavailable:
        return False
    return True
