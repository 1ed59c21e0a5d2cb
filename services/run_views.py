"""Runs as read from the projected views, with read-your-writes.

A writer gets the ledger position of its write; a reader that passes it
(``min_position``) waits up to two seconds for the views to reach it, then
answers with what they have and says how far behind they were.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol
from uuid import UUID

from domain.errors import NotFound
from domain.run import RUN_TERMINAL
from schemas.views import RunList, RunSummary, RunView
from services.ports import Caller

__all__ = ["RUN_VIEWS", "InvalidCursor", "RunRead", "RunReadModel", "RunViews", "Waits"]

# The projections a run view is made of (its timeline is read from the ledger).
RUN_VIEWS = ("runs",)
READ_YOUR_WRITES_SECONDS = 2.0
MAX_LONG_POLL_SECONDS = 60.0


class RunReadModel(Protocol):
    def get(self, run_id: UUID, tenant: str) -> RunView | None: ...

    def list_runs(
        self, tenant: str, *, status: str | None, kind: str | None, limit: int, after: int | None
    ) -> tuple[list[RunSummary], int | None]: ...

    def lag(self, projections: list[str], position: int) -> int: ...


class Waits(Protocol):
    def wait_for_position(
        self, projections: tuple[str, ...], position: int, timeout: float
    ) -> bool: ...

    def wait_for_change(self, model: str, ident: str, since: int, timeout: float) -> int: ...

    @property
    def generation(self) -> int: ...


@dataclass(frozen=True, slots=True)
class RunRead:
    run: RunView
    lag: int  # events up to the requested position the views had not applied


class RunViews:
    def __init__(self, reads: RunReadModel, waits: Waits) -> None:
        self._reads = reads
        self._waits = waits

    def get(
        self,
        run_id: UUID,
        caller: Caller,
        *,
        min_position: int | None = None,
        wait_until_finished: float | None = None,
        settled: Callable[[RunView], bool] | None = None,
    ) -> RunRead:
        """``wait_until_finished``: long-poll until the run is terminal (or ``settled``
        says it is as far as it will get without someone's help)."""
        lag = 0
        if min_position is not None and not self._waits.wait_for_position(
            RUN_VIEWS, min_position, READ_YOUR_WRITES_SECONDS
        ):
            lag = self._reads.lag(list(RUN_VIEWS), min_position)
        since = self._waits.generation
        run = self._reads.get(run_id, caller.tenant)
        if wait_until_finished:
            deadline = time.monotonic() + min(wait_until_finished, MAX_LONG_POLL_SECONDS)
            done = settled or _terminal
            while (run is None or not done(run)) and (left := deadline - time.monotonic()) > 0:
                since = self._waits.wait_for_change("runs", str(run_id), since, left)
                run = self._reads.get(run_id, caller.tenant)
        if run is None:
            raise NotFound("run", run_id)
        return RunRead(run, lag)

    def list_runs(
        self,
        caller: Caller,
        *,
        status: str | None = None,
        kind: str | None = None,
        limit: int = 50,
        cursor: str | None = None,
    ) -> RunList:
        after = _parse_cursor(cursor)
        runs, next_after = self._reads.list_runs(
            caller.tenant, status=status, kind=kind, limit=limit, after=after
        )
        return RunList(runs=runs, next_cursor=None if next_after is None else str(next_after))


def _terminal(run: RunView) -> bool:
    return run.status in RUN_TERMINAL


class InvalidCursor(ValueError):
    pass


def _parse_cursor(cursor: str | None) -> int | None:
    if cursor is None or cursor == "":
        return None
    if not cursor.isdigit():
        raise InvalidCursor(f"invalid cursor {cursor!r}: pass next_cursor from the last page")
    return int(cursor)
