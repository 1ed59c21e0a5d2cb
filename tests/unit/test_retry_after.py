"""Reading how long a provider asked us to wait, and which statuses are worth a retry."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from adapters.llm.http_errors import error_for_status, retry_after_seconds
from services.models import ProviderRejected, ProviderTransientError

NOW = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("headers", "seconds"),
    [
        ({}, None),
        ({"retry-after": "3"}, 3.0),
        ({"retry-after": "0.5"}, 0.5),
        ({"retry-after": "-4"}, 0.0),
        ({"retry-after": "Thu, 01 Jan 2026 12:00:10 GMT"}, 10.0),
        ({"retry-after": "Thu, 01 Jan 2026 11:00:00 GMT"}, 0.0),
        ({"retry-after": "soon"}, None),
        ({"retry-after-ms": "250", "retry-after": "9"}, 0.25),
        ({"retry-after-ms": "x", "retry-after": "9"}, 9.0),
    ],
)
def test_retry_after(headers: dict[str, str], seconds: float | None) -> None:
    assert retry_after_seconds(headers, now=NOW) == seconds


@pytest.mark.parametrize(
    ("status", "code"),
    [(429, "rate_limited"), (408, "timeout"), (500, "server_error"), (529, "server_error")],
)
def test_retryable_statuses(status: int, code: str) -> None:
    error = error_for_status("p", status, {"retry-after": "2"}, "msg")
    assert isinstance(error, ProviderTransientError)
    assert (error.code, error.status, error.retry_after, error.retryable) == (
        code,
        status,
        2.0,
        True,
    )


@pytest.mark.parametrize("status", [400, 401, 403, 404, 422])
def test_other_statuses_are_rejections(status: int) -> None:
    error = error_for_status("p", status, {}, "msg")
    assert isinstance(error, ProviderRejected)
    assert not error.retryable
    assert error.status == status
