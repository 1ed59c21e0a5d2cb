"""Every module that defines ledger events or aggregates: importing this registers
their topics, so any process can decode any stored event."""

from __future__ import annotations

import domain.access_refusal
import domain.api_key
import domain.approval
import domain.artifact
import domain.command
import domain.control
import domain.events
import domain.identity_events
import domain.incident
import domain.run
import domain.session
import domain.task
import domain.thread
import domain.user

__all__ = ["EVENT_MODULES"]

EVENT_MODULES = (
    domain.events,
    domain.command,
    domain.artifact,
    domain.control,
    domain.identity_events,
    domain.access_refusal,
    domain.api_key,
    domain.approval,
    domain.incident,
    domain.run,
    domain.session,
    domain.task,
    domain.thread,
    domain.user,
)
