"""When a failed task runs again: exponential backoff with jitter."""

from __future__ import annotations

import msgspec

__all__ = ["RetryPolicy"]


class RetryPolicy(msgspec.Struct, frozen=True, kw_only=True):
    base_seconds: float = 1.0
    cap_seconds: float = 300.0

    def delay(self, attempt: int, jitter: float) -> float:
        """Seconds to wait after failed ``attempt`` (1-based).

        ``jitter`` in [0, 1) spreads retries over the upper half of the
        exponential step ("equal jitter"), so a burst of failures does not come
        back as a burst, while the delay still grows with every attempt.
        """
        if attempt < 1:
            raise ValueError("attempt is 1-based")
        if not 0.0 <= jitter < 1.0:
            raise ValueError("jitter must be in [0, 1)")
        step = min(self.cap_seconds, self.base_seconds * 2.0 ** (attempt - 1))
        return step / 2.0 + step / 2.0 * jitter
