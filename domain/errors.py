"""Typed domain errors. The HTTP adapter maps them to status codes in one place."""

from __future__ import annotations

from uuid import UUID

__all__ = [
    "AccessDenied",
    "AlreadyCompleted",
    "AlreadyExists",
    "AuthenticationRequired",
    "ConcurrencyConflict",
    "DomainError",
    "IdempotencyConflict",
    "InvalidArgument",
    "InvalidTransition",
    "LeaseLost",
    "NotConfigured",
    "NotFound",
    "RateLimitExceeded",
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


class InvalidArgument(DomainError):
    """A request that is well-formed but names something that cannot be (422)."""

    code = "invalid_request"


class AlreadyExists(DomainError):
    code = "already_exists"


class AuthenticationRequired(DomainError):
    """No credentials, or credentials that prove nothing (401).

    ``code`` says which: missing_credentials, invalid_api_key, invalid_token,
    token_expired, invalid_credentials, invalid_refresh_token, ...
    """

    code = "unauthenticated"

    def __init__(self, detail: str, code: str = "unauthenticated") -> None:
        super().__init__(detail)
        self.code = code


class AccessDenied(DomainError):
    """Authenticated, but without the permission this needs (403)."""

    code = "forbidden"

    def __init__(self, detail: str, permission: str = "") -> None:
        super().__init__(detail)
        self.permission = permission


class RateLimitExceeded(DomainError):
    """Too many requests in a window (429); ``retry_after`` seconds until it resets."""

    code = "rate_limited"

    def __init__(self, detail: str, retry_after: int) -> None:
        super().__init__(detail)
        self.retry_after = retry_after


class NotConfigured(DomainError):
    """A feature this installation has not been set up for (503)."""

    code = "not_configured"
