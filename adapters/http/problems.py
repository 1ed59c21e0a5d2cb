"""Errors to HTTP, in one place: every error answers a JSON problem body (RFC 9457)."""

from __future__ import annotations

from typing import Any

import msgspec
import psycopg
import structlog
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.openapi import ResponseSpec
from psycopg_pool import PoolTimeout

from domain.control import InvalidSpec
from domain.errors import (
    AccessDenied,
    AlreadyCompleted,
    AlreadyExists,
    AuthenticationRequired,
    ConcurrencyConflict,
    DomainError,
    IdempotencyConflict,
    InvalidArgument,
    InvalidTransition,
    LeaseLost,
    NotConfigured,
    NotFound,
    RateLimitExceeded,
    RunFinished,
)
from services.run_views import InvalidCursor

__all__ = [
    "EXCEPTION_HANDLERS",
    "PROBLEM_MEDIA_TYPE",
    "Problem",
    "domain_problem",
    "problem",
    "problem_of",
    "problem_responses",
]

log = structlog.get_logger(__name__)

PROBLEM_TYPE = "https://synaps.dev/problems/"
PROBLEM_MEDIA_TYPE = "application/problem+json"
_STATUS = {
    AuthenticationRequired: 401,
    AccessDenied: 403,
    RateLimitExceeded: 429,
    InvalidArgument: 422,
    AlreadyExists: 409,
    NotConfigured: 503,
    NotFound: 404,
    InvalidSpec: 422,
    LeaseLost: 409,
    AlreadyCompleted: 409,
    IdempotencyConflict: 409,
    RunFinished: 409,
    InvalidTransition: 409,
    ConcurrencyConflict: 409,
}
_TITLES = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Request body too large",
    415: "Unsupported media type",
    422: "Invalid request",
    429: "Too many requests",
    500: "Internal server error",
    503: "Service unavailable",
}


class Problem(msgspec.Struct, kw_only=True, omit_defaults=True):
    type: str
    title: str
    status: int
    detail: str
    code: str
    errors: list[dict[str, Any]] | None = None


def problem_of(
    status: int, code: str, detail: str, errors: list[dict[str, Any]] | None = None
) -> Problem:
    return Problem(
        type=PROBLEM_TYPE + code,
        title=_TITLES.get(status, "Error"),
        status=status,
        detail=detail,
        code=code,
        errors=errors,
    )


def problem(
    status: int,
    code: str,
    detail: str,
    errors: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> Response[Problem]:
    return Response(
        problem_of(status, code, detail, errors),
        status_code=status,
        media_type=PROBLEM_MEDIA_TYPE,
        headers=headers,
    )


def problem_responses(*statuses: int) -> dict[int, ResponseSpec]:
    """OpenAPI entries for the problems an endpoint may answer with."""
    return {
        status: ResponseSpec(
            Problem,
            description=_TITLES.get(status, "Error"),
            media_type=PROBLEM_MEDIA_TYPE,
            generate_examples=False,
        )
        for status in statuses
    }


def domain_problem(exc: DomainError) -> tuple[Problem, dict[str, str]]:
    """The problem body and the extra headers of a domain error."""
    status = next((s for cls, s in _STATUS.items() if isinstance(exc, cls)), 409)
    headers: dict[str, str] = {}
    if isinstance(exc, AuthenticationRequired):
        headers["WWW-Authenticate"] = f'Bearer realm="synaps", error="{exc.code}"'
    elif isinstance(exc, RateLimitExceeded):
        headers["Retry-After"] = str(exc.retry_after)
    return problem_of(status, exc.code, str(exc)), headers


def _domain(_: Request[Any, Any, Any], exc: DomainError) -> Response[Problem]:
    body, headers = domain_problem(exc)
    return Response(body, status_code=body.status, media_type=PROBLEM_MEDIA_TYPE, headers=headers)


def _validation(request: Request[Any, Any, Any], exc: ValidationException) -> Response[Problem]:
    errors = exc.extra if isinstance(exc.extra, list) else None
    if isinstance(exc.__cause__, msgspec.ValidationError) and not _missing_body(errors):
        detail = str(exc.__cause__).replace("$.data", "$")
        return problem(422, "invalid_request", detail, errors)
    if _missing_body(errors):
        return problem(400, "missing_body", "the request needs a JSON body")
    return problem(400, "bad_request", str(exc.detail), errors)


def _missing_body(errors: list[dict[str, Any]] | None) -> bool:
    return bool(errors) and all(
        e.get("key") == "data" and e.get("message") == "'data'" for e in errors or []
    )


def _http(_: Request[Any, Any, Any], exc: HTTPException) -> Response[Problem]:
    status = exc.status_code
    detail = str(exc.detail)
    code = {
        400: "bad_request",
        404: "not_found",
        405: "method_not_allowed",
        413: "body_too_large",
        415: "unsupported_media_type",
    }.get(status, f"http_{status}")
    if status == 400 and "malformed" in detail.lower():
        code = "malformed_json"
    return problem(status, code, detail)


def _unavailable(_: Request[Any, Any, Any], exc: Exception) -> Response[Problem]:
    log.warning("database unavailable", error=str(exc))
    return problem(503, "database_unavailable", "the database is not reachable; try again")


def _internal(request: Request[Any, Any, Any], exc: Exception) -> Response[Problem]:
    log.exception("unhandled error", path=request.url.path, error=str(exc))
    return problem(500, "internal_error", "an internal error occurred; it has been logged")


def _invalid(_: Request[Any, Any, Any], exc: InvalidCursor) -> Response[Problem]:
    return problem(422, "invalid_request", str(exc))


EXCEPTION_HANDLERS: dict[type[Exception] | int, Any] = {
    InvalidCursor: _invalid,
    DomainError: _domain,
    ValidationException: _validation,
    HTTPException: _http,
    psycopg.OperationalError: _unavailable,
    PoolTimeout: _unavailable,
    Exception: _internal,
}
