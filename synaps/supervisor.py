"""Run each projection in its own process, so they use every core (Python's GIL
would otherwise serialise them), and restart one that exits unexpectedly."""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Sequence

import structlog

__all__ = ["supervise"]

log = structlog.get_logger(__name__)

_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    # A child must not outlive its supervisor, even one killed with SIGKILL.
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def _spawn(args: Sequence[str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(  # noqa: S603 - our own CLI
        [sys.executable, "-m", "synaps", *args],
        preexec_fn=_die_with_parent,  # noqa: PLW1509 - needed for PDEATHSIG
        env=os.environ.copy(),
    )


def supervise(children: dict[str, list[str]], stop: threading.Event) -> int:
    """Keep one process per name running ``synaps <args>`` until ``stop``."""
    procs = {name: _spawn(args) for name, args in children.items()}
    restarts = dict.fromkeys(children, 0)
    try:
        while not stop.wait(0.5):
            for name, proc in list(procs.items()):
                code = proc.poll()
                if code is None:
                    continue
                restarts[name] += 1
                delay = min(30.0, 0.5 * 2 ** min(restarts[name], 6))
                log.warning(
                    "projection process exited; restarting",
                    projection=name,
                    code=code,
                    restarts=restarts[name],
                    delay=delay,
                )
                if stop.wait(delay):
                    break
                procs[name] = _spawn(children[name])
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 20
        for proc in procs.values():
            try:
                proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    return 0
