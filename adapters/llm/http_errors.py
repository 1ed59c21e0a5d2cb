"""HTTP failures of a provider's API, as the typed errors of ``services.models``."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from types import ModuleType

from services.models import ModelError, ProviderRejected, ProviderTransientError

__all__ = ["error_for_status", "retry_after_seconds", "sdk_errors_as_model_errors"]


def retry_after_seconds(headers: Mapping[str, str], now: datetime | None = None) -> float | None:
    """How long the server asked us to wait: ``retry-after-ms``, else ``Retry-After``.

    ``Retry-After`` is delta-seconds or an HTTP date; anything unreadable is
    ignored (None), so our own backoff applies instead.
    """
    millis = headers.get("retry-after-ms")
    if millis is not None:
        try:
            return max(0.0, float(millis) / 1000.0)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def error_for_status(
    provider: str, status: int, headers: Mapping[str, str], message: str
) -> ModelError:
    """429, 408 and 5xx are worth retrying; any other status is the request's fault."""
    if status == 429:
        code = "rate_limited"
    elif status == 408:
        code = "timeout"
    elif status >= 500:
        code = "server_error"
    else:
        return ProviderRejected(provider, f"HTTP {status}: {message}", status=status)
    return ProviderTransientError(
        provider,
        f"HTTP {status}: {message}",
        code=code,
        status=status,
        retry_after=retry_after_seconds(headers),
    )


@contextlib.contextmanager
def sdk_errors_as_model_errors(
    provider: str, base_url: str, timeout: float, sdk: ModuleType, sdk_error: type[Exception]
) -> Iterator[None]:
    """Translate the errors of the ``openai`` or ``anthropic`` SDK module.

    Both SDKs come from one generator and name their errors alike
    (``APITimeoutError`` < ``APIConnectionError``, ``APIStatusError``); only
    their base class, ``sdk_error``, differs.
    """
    try:
        yield
    except sdk.APITimeoutError:
        raise ProviderTransientError(
            provider, f"no answer within {timeout}s", code="timeout"
        ) from None
    except sdk.APIConnectionError as exc:
        raise ProviderTransientError(
            provider, f"cannot reach {base_url}: {exc}", code="connection_error"
        ) from exc
    except sdk.APIStatusError as exc:
        raise error_for_status(
            provider, exc.status_code, exc.response.headers, exc.message
        ) from None
    except sdk_error as exc:
        raise ProviderRejected(provider, f"unusable answer: {exc}") from exc
