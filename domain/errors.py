"""Typed domain errors. The HTTP adapter maps them to status codes in one place."""

from __future__ import annotations

from uuid import UUID

__all__ = [
    "AlreadyCompleted",
    "ConcurrencyConflict",
    "DomainError",
    "IdempotencyConflict",
    "InvalidTransition",
    "LeaseLost",
    "NotFound",
    "RunFinished",
]


class DomainError(Exception):
    """Base of every error a caller can cause and correct."""

    code = "domain_error"


class NotFound(DomainError):
    code = "not_found"

    def __init__(self, what: str, ident: object) -> None:
        super().__init__(f"{what} {ident} not found")
        self.what = what
        self.ident = ident


class LeaseLost(DomainError):
    """The caller's attempt is not the task's current lease (the fencing token)."""

    code = "lease_lost"

    def __init__(self, task_id: UUID, attempt: int, current_attempt: int, status: str) -> None:
        super().__init__(
            f"task {task_id}: attempt {attempt} no longer holds the lease "
            f"(current attempt {current_attempt}, status {status})"
        )
        self.task_id = task_id
        self.attempt = attempt
        self.current_attempt = current_attempt
        self.status = status


class AlreadyCompleted(DomainError):
    """The attempt already completed, with a different result."""

    code = "already_completed"


class InvalidTransition(DomainError):
    code = "invalid_transition"


class RunFinished(DomainError):
    code = "run_finished"


class IdempotencyConflict(DomainError):
    """The idempotency key was used before with a different request."""

    code = "idempotency_conflict"

    def __init__(self, key: str) -> None:
        super().__init__(f"idempotency key {key!r} was already used with a different request body")
        self.key = key


class ConcurrencyConflict(DomainError):
    """Another writer changed an aggregate first: reload and decide again."""

    code = "concurrency_conflict"
