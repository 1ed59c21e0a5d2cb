"""Start real synaps processes for end-to-end tests."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def synaps(
    *args: str, env: dict[str, str] | None = None, log: Path | None = None
) -> subprocess.Popen[bytes]:
    if log is None:
        return _spawn(args, env, subprocess.DEVNULL)
    with open(log, "wb") as out:  # the child keeps its own copy of the descriptor
        return _spawn(args, env, out)


def _spawn(
    args: tuple[str, ...], env: dict[str, str] | None, out: object
) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "synaps", *args],
        cwd=REPO,
        env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
        stdout=out,  # type: ignore[arg-type]
        stderr=subprocess.STDOUT,
        start_new_session=True,  # the leader of its own process group
    )


def kill_group(process: subprocess.Popen[bytes]) -> None:
    """SIGKILL the process and everything it started (no chance to clean up)."""
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(10)


@contextmanager
def running(process: subprocess.Popen[bytes]) -> Iterator[subprocess.Popen[bytes]]:
    try:
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
            process.wait(10)


def eventually(check: Callable[[], bool], timeout: float = 30, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)
