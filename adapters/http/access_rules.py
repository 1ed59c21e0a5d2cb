"""Which endpoint class each path belongs to: one declared table, first match wins.

Every route of the app must match a rule (``create_app`` checks), so a new
route is never open by accident. Routes that do not exist yet are covered
already: ``/v1/control/...`` reads need ``control:read`` and writes
``control:write``; deciding on an approval needs ``kubernetes:write``;
``/graphql`` needs ``runs:read`` to reach at all and its mutations check their
own permission on the Caller.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from domain.access import EndpointClass

__all__ = ["ACCESS_RULES", "AccessRule", "endpoint_class", "undeclared"]

_READS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True, slots=True)
class AccessRule:
    path: str  # a prefix, or the exact path when ``exact``
    endpoint: EndpointClass
    methods: frozenset[str] | None = None  # None: every method
    exact: bool = False

    def matches(self, method: str, path: str) -> bool:
        if self.methods is not None and method not in self.methods:
            return False
        return path == self.path if self.exact else path.startswith(self.path)


ACCESS_RULES: tuple[AccessRule, ...] = (
    AccessRule("/healthz", EndpointClass.OPEN, exact=True),
    AccessRule("/readyz", EndpointClass.OPEN, exact=True),
    AccessRule("/metrics", EndpointClass.OPEN, exact=True),
    AccessRule("/", EndpointClass.ANONYMOUS, _READS, exact=True),
    AccessRule("/schema", EndpointClass.ANONYMOUS, _READS),
    AccessRule("/.well-known/jwks.json", EndpointClass.ANONYMOUS, _READS, exact=True),
    AccessRule("/v1/auth/login", EndpointClass.ANONYMOUS, exact=True),
    AccessRule("/v1/auth/refresh", EndpointClass.ANONYMOUS, exact=True),
    AccessRule("/v1/auth/logout", EndpointClass.ANONYMOUS, exact=True),
    AccessRule("/v1/auth/", EndpointClass.AUTHENTICATED),
    AccessRule("/v1/keys", EndpointClass.KEYS),
    AccessRule("/v1/users", EndpointClass.USERS),
    AccessRule("/v1/control", EndpointClass.CONTROL_READ, _READS, exact=True),
    AccessRule("/v1/control/", EndpointClass.CONTROL_READ, _READS),
    AccessRule("/v1/control/", EndpointClass.CONTROL_WRITE),
    AccessRule("/v1/queue/stats", EndpointClass.READ, _READS, exact=True),
    AccessRule("/v1/queue/", EndpointClass.QUEUE),
    AccessRule("/v1/approvals/", EndpointClass.APPROVE, frozenset({"POST"})),
    AccessRule("/v1/", EndpointClass.READ, _READS),
    AccessRule("/v1/", EndpointClass.WRITE),
    AccessRule("/api/ask", EndpointClass.WRITE, exact=True),
    AccessRule("/graphql", EndpointClass.READ),
)


def endpoint_class(method: str, path: str) -> EndpointClass | None:
    """The class of ``method path``; None when no rule declares it."""
    return next((r.endpoint for r in ACCESS_RULES if r.matches(method, path)), None)


def undeclared(routes: Iterable[tuple[str, str]]) -> list[str]:
    """The (method, path) pairs no rule covers."""
    return [f"{m} {p}" for m, p in routes if endpoint_class(m, p) is None]
