"""Container logs as evidence: bounded to a head and a tail, so one chatty pod cannot
crowd out the rest of the package (or a model's context)."""

from __future__ import annotations

from msgspec import Struct

__all__ = ["DEFAULT_LOG_CAP_BYTES", "LogExcerpt", "bound_log"]

DEFAULT_LOG_CAP_BYTES = 64 * 1024
_ELISION = "\n[... {skipped} bytes elided ...]\n"


class LogExcerpt(Struct, frozen=True, kw_only=True):
    text: str
    total_bytes: int
    truncated: bool = False

    def lines(self) -> list[str]:
        return [line for line in self.text.splitlines() if line.strip()]

    def tail(self, count: int) -> list[str]:
        return self.lines()[-count:]


def bound_log(text: str, cap_bytes: int = DEFAULT_LOG_CAP_BYTES) -> LogExcerpt:
    """Keep the first quarter and the last three quarters of ``cap_bytes``, on line ends.

    The head shows how the process started (versions, flags, what it connects to);
    the tail shows why it stopped, which matters more, hence the larger share.
    """
    raw = text.encode("utf-8", errors="replace")
    if len(raw) <= cap_bytes:
        return LogExcerpt(text=text, total_bytes=len(raw))
    head = raw[: cap_bytes // 4]
    head = head[: head.rfind(b"\n") + 1] or head
    tail = raw[len(raw) - (cap_bytes - len(head)) :]
    newline = tail.find(b"\n")
    tail = tail[newline + 1 :] if 0 <= newline < len(tail) - 1 else tail
    skipped = len(raw) - len(head) - len(tail)
    bounded = (
        head.decode("utf-8", errors="replace")
        + _ELISION.format(skipped=skipped)
        + tail.decode("utf-8", errors="replace")
    )
    return LogExcerpt(text=bounded, total_bytes=len(raw), truncated=True)
