"""Serve the API with uvicorn, with hooks for start-up and a clean stop."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable

import uvicorn
from litestar import Litestar

__all__ = ["serve"]


def serve(
    app: Litestar,
    host: str,
    port: int,
    *,
    on_started: Callable[[], None] | None = None,
    log_level: str = "warning",
) -> None:
    """Run until SIGINT/SIGTERM; ``on_started`` runs in a thread once listening."""
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level=log_level,
        access_log=False,
        lifespan="on",
        timeout_graceful_shutdown=10,
    )
    server = uvicorn.Server(config)
    if on_started is not None:

        def wait_then_run() -> None:
            while not server.started and not server.should_exit:
                time.sleep(0.02)
            if server.started:
                on_started()

        threading.Thread(target=wait_then_run, name="synaps-started", daemon=True).start()
    # uvicorn re-raises the Ctrl-C it handled once it has shut down cleanly
    with contextlib.suppress(KeyboardInterrupt):
        server.run()
