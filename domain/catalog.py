"""Every module that defines ledger events: importing this registers their topics."""

from __future__ import annotations

import domain.artifact
import domain.command
import domain.control
import domain.events
import domain.run
import domain.task
import domain.thread

__all__ = ["EVENT_MODULES"]

EVENT_MODULES = (
    domain.events,
    domain.command,
    domain.artifact,
    domain.control,
    domain.run,
    domain.task,
    domain.thread,
)
