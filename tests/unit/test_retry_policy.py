from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.retry import RetryPolicy


@given(attempt=st.integers(1, 40), jitter=st.floats(0, 1, exclude_max=True))
def test_delay_is_within_the_upper_half_of_the_capped_exponential_step(
    attempt: int, jitter: float
) -> None:
    policy = RetryPolicy(base_seconds=2, cap_seconds=100)
    step = min(100.0, 2.0 * 2 ** (attempt - 1))
    assert step / 2 <= policy.delay(attempt, jitter) <= step


def test_delay_grows_with_attempts_for_the_same_jitter() -> None:
    policy = RetryPolicy(base_seconds=1, cap_seconds=1000)
    delays = [policy.delay(a, 0.3) for a in range(1, 8)]
    assert delays == sorted(delays)
    assert delays[-1] == pytest.approx(64 * 0.65)


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError):
        RetryPolicy().delay(0, 0.1)
    with pytest.raises(ValueError):
        RetryPolicy().delay(1, 1.0)
