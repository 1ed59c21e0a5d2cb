"""Every request but health, readiness and metrics passes here first.

1. Its endpoint class comes from the declared rules (adapters/http/access_rules).
2. Credentials (``X-API-Key``, or ``Authorization: Bearer`` with a key or an
   access token) become a Caller.
3. One statement counts the request against the caller's limits (or, without a
   caller, its IP's); every answer carries ``RateLimit-*`` headers and an
   exceeded limit answers 429 with ``Retry-After``.
4. Failed authentication answers 401 and a missing permission 403; both are
   recorded in the ledger (refusals of unknown callers only within the IP limit).

A request that passes writes nothing to the ledger.
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass
from typing import Any

import anyio.to_thread
import msgspec
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from adapters.http.access_rules import endpoint_class
from adapters.http.problems import PROBLEM_MEDIA_TYPE, domain_problem
from domain.access import EndpointClass, required_permission
from domain.errors import AccessDenied, AuthenticationRequired, DomainError, RateLimitExceeded
from domain.rate_limits import RateLimitPolicy, WindowCount, binding
from services.authentication import Authenticator, credential_hint
from services.identity_ports import RateCounter
from services.ports import Caller
from services.refusals import Origin, RefusalLog

__all__ = ["CALLER_KEY", "AccessControl", "AccessMiddleware", "caller_in"]

CALLER_KEY = "synaps.caller"
_encode = msgspec.json.Encoder().encode


@dataclass(frozen=True, slots=True)
class AccessControl:
    authenticator: Authenticator
    counter: RateCounter
    policy: RateLimitPolicy
    refusals: RefusalLog
    trust_forwarded_for: bool = False


def caller_in(scope: Scope) -> Caller:
    """The Caller the access middleware put in this request's scope."""
    caller = scope.get("state", {}).get(CALLER_KEY)
    if not isinstance(caller, Caller):
        raise AuthenticationRequired("no caller for this request", "missing_credentials")
    return caller


@dataclass(frozen=True, slots=True)
class _Decision:
    caller: Caller | None
    refusal: DomainError | None
    window: WindowCount | None


class AccessMiddleware:
    def __init__(self, app: ASGIApp, access: AccessControl) -> None:
        self.app = app
        self.access = access

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        method, path = scope["method"], scope["path"]
        endpoint = endpoint_class(method, path)
        if endpoint is EndpointClass.OPEN:
            await self.app(scope, receive, send)
            return
        headers = _headers(scope)
        origin = Origin(
            request_id=_printable(headers.get("x-request-id") or f"req_{uuid.uuid4().hex}")[:200],
            ip=_printable(self._ip(scope, headers)),
            user_agent=_printable(headers.get("user-agent", ""))[:500],
            action=_printable(f"{method} {path}")[:500],
        )
        decision = await anyio.to_thread.run_sync(
            self._decide, endpoint, headers, origin, abandon_on_cancel=False
        )
        limit_headers = _limit_headers(decision.window)
        if decision.refusal is not None:
            await _refuse(send, decision.refusal, limit_headers)
            return
        scope.setdefault("state", {})[CALLER_KEY] = decision.caller

        async def send_with_limits(message: Message) -> None:
            if message["type"] == "http.response.start" and limit_headers:
                message["headers"] = [
                    *message.get("headers", []),
                    *((k.encode(), v.encode()) for k, v in limit_headers.items()),
                ]
            await send(message)

        await self.app(scope, receive, send_with_limits)

    def _decide(
        self, endpoint: EndpointClass | None, headers: dict[str, str], origin: Origin
    ) -> _Decision:
        access = self.access
        api_key, bearer = _credentials(headers)
        caller: Caller | None = None
        failure: AuthenticationRequired | None = None
        try:
            caller = access.authenticator.authenticate(api_key, bearer, origin)
        except AuthenticationRequired as exc:
            failure = exc
        if endpoint is EndpointClass.ANONYMOUS and caller is None:
            # login, refresh, the summary, the schema: no credentials needed, and
            # stale ones are not held against the request.
            failure = None
            caller = Caller(
                actor="anonymous",
                tenant="",
                request_id=origin.request_id,
                ip=origin.ip,
                user_agent=origin.user_agent,
            )
            subject, limits = f"ip:{origin.ip}", access.policy.anonymous
        elif caller is None:
            subject, limits = f"ip:{origin.ip}", access.policy.anonymous
        else:
            subject = caller.actor  # key:<id>, user:<email> or external:<subject>
            limits = access.policy.for_roles(caller.roles)
        window = binding(access.counter.hit(subject, limits))
        if window is not None and window.exceeded:
            retry_after = max(1, math.ceil(window.reset_seconds))
            return _Decision(
                None,
                RateLimitExceeded(
                    f"over the limit of {window.limit}; try again in {retry_after} s",
                    retry_after,
                ),
                window,
            )
        if failure is not None:
            access.refusals.authentication_failed(
                failure.code, origin, credential=credential_hint(api_key, bearer)
            )
            return _Decision(None, failure, window)
        assert caller is not None
        # An undeclared route needs a permission nobody has (create_app refuses those).
        needed: str | None = "undeclared" if endpoint is None else required_permission(endpoint)
        if needed is not None and not caller.can(needed):
            access.refusals.permission_denied(caller, needed, origin.action)
            return _Decision(
                caller,
                AccessDenied(f"{origin.action} needs the {needed} permission", needed),
                window,
            )
        return _Decision(caller, None, window)

    def _ip(self, scope: Scope, headers: dict[str, str]) -> str:
        if self.access.trust_forwarded_for and headers.get("x-forwarded-for"):
            return headers["x-forwarded-for"].split(",")[0].strip()[:64]
        client = scope.get("client")
        return str(client[0]) if client else ""


def _printable(text: str) -> str:
    """What the client sent, fit for the audit: control characters (NUL above all,
    which PostgreSQL's text and jsonb refuse) as ``?``."""
    return text.translate(_CONTROL)


_CONTROL = {c: "?" for c in (*range(0x20), 0x7F)}


def _headers(scope: Scope) -> dict[str, str]:
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}


def _credentials(headers: dict[str, str]) -> tuple[str | None, str | None]:
    api_key = headers.get("x-api-key", "").strip() or None
    authorization = headers.get("authorization", "")
    scheme, _, value = authorization.partition(" ")
    bearer = value.strip() or None if scheme.lower() == "bearer" else None
    return api_key, bearer


def _limit_headers(window: WindowCount | None) -> dict[str, str]:
    if window is None:
        return {}
    return {
        "RateLimit-Limit": str(window.limit.requests),
        "RateLimit-Remaining": str(window.remaining),
        "RateLimit-Reset": str(max(0, math.ceil(window.reset_seconds))),
        "RateLimit-Policy": f"{window.limit.requests};w={window.limit.seconds}",
    }


async def _refuse(send: Send, error: DomainError, extra: dict[str, str]) -> None:
    body, headers = domain_problem(error)
    payload = _encode(body)
    all_headers: dict[str, Any] = {
        "content-type": PROBLEM_MEDIA_TYPE,
        "content-length": str(len(payload)),
        **headers,
        **extra,
    }
    await send(
        {
            "type": "http.response.start",
            "status": body.status,
            "headers": [(k.encode(), str(v).encode()) for k, v in all_headers.items()],
        }
    )
    await send({"type": "http.response.body", "body": payload, "more_body": False})
