"""Who may do what, without I/O: key types, scopes, roles, endpoint classes, limits."""

from __future__ import annotations

import pytest

from adapters.http.access_rules import ACCESS_RULES, endpoint_class, undeclared
from domain.access import (
    ALL_PERMISSIONS,
    READ_PERMISSIONS,
    WRITE_PERMISSIONS,
    EndpointClass,
    KeyType,
    Permission,
    expand_scopes,
    permissions_of_roles,
    required_permission,
)
from domain.errors import InvalidArgument
from domain.rate_limits import Limit, RateLimitPolicy, WindowCount, binding, parse_limits

# endpoint class -> key types that may call it
MATRIX = {
    EndpointClass.READ: {KeyType.LIVE, KeyType.TEST, KeyType.ADMIN},
    EndpointClass.WRITE: {KeyType.LIVE, KeyType.ADMIN},
    EndpointClass.QUEUE: {KeyType.ADMIN},  # live keys need the worker scope
    EndpointClass.CONTROL_READ: {KeyType.LIVE, KeyType.TEST, KeyType.ADMIN},
    EndpointClass.CONTROL_WRITE: {KeyType.LIVE, KeyType.ADMIN},
    EndpointClass.APPROVE: {KeyType.LIVE, KeyType.ADMIN},  # kubernetes:write
    EndpointClass.KEYS: {KeyType.ADMIN},
    EndpointClass.USERS: {KeyType.ADMIN},
}


@pytest.mark.parametrize("endpoint", sorted(MATRIX))
@pytest.mark.parametrize("key_type", list(KeyType))
def test_default_permissions_of_each_key_type_per_endpoint_class(
    endpoint: EndpointClass, key_type: KeyType
) -> None:
    needed = required_permission(endpoint)
    assert needed is not None
    assert (needed in key_type.default_permissions) == (key_type in MATRIX[endpoint])


def test_the_worker_scope_opens_the_queue_to_live_keys_only() -> None:
    worker = expand_scopes(["worker"])
    assert worker == {Permission.QUEUE_WORK}
    assert worker <= KeyType.LIVE.allowed_permissions
    assert not worker <= KeyType.TEST.allowed_permissions
    assert KeyType.TEST.allowed_permissions == READ_PERMISSIONS


def test_only_admin_keys_may_hold_management_and_only_explicitly_the_operator_scope() -> None:
    assert KeyType.ADMIN.allowed_permissions == ALL_PERMISSIONS
    assert Permission.TENANTS_MANAGE not in KeyType.ADMIN.default_permissions
    for key_type in (KeyType.LIVE, KeyType.TEST):
        assert Permission.KEYS_MANAGE not in key_type.allowed_permissions


def test_scopes_and_roles_expand_and_unknown_names_are_refused() -> None:
    assert expand_scopes(["read", "runs:write"]) == READ_PERMISSIONS | {Permission.RUNS_WRITE}
    assert permissions_of_roles(["operator"]) == READ_PERMISSIONS | WRITE_PERMISSIONS
    with pytest.raises(InvalidArgument, match="unknown scope"):
        expand_scopes(["root"])
    with pytest.raises(InvalidArgument, match="unknown role"):
        permissions_of_roles(["god"])


def test_key_types_are_told_by_their_prefix() -> None:
    assert KeyType.of_key("sk_live_abc") is KeyType.LIVE
    assert KeyType.of_key("sk_test_abc") is KeyType.TEST
    assert KeyType.of_key("sk_admin_abc") is KeyType.ADMIN
    assert KeyType.of_key("pk_live_abc") is None


@pytest.mark.parametrize(
    ("method", "path", "expected"),
    [
        ("GET", "/healthz", EndpointClass.OPEN),
        ("GET", "/metrics", EndpointClass.OPEN),
        ("GET", "/", EndpointClass.ANONYMOUS),
        ("POST", "/v1/auth/login", EndpointClass.ANONYMOUS),
        ("GET", "/v1/auth/whoami", EndpointClass.AUTHENTICATED),
        ("GET", "/v1/runs/1", EndpointClass.READ),
        ("POST", "/v1/runs/1/cancel", EndpointClass.WRITE),
        ("POST", "/v1/commands/submit", EndpointClass.WRITE),
        ("POST", "/v1/queue/claim", EndpointClass.QUEUE),
        ("GET", "/v1/queue/stats", EndpointClass.READ),
        ("POST", "/v1/keys", EndpointClass.KEYS),
        ("GET", "/v1/users", EndpointClass.USERS),
        # not built yet, declared already
        ("GET", "/v1/control/prompts/p1", EndpointClass.CONTROL_READ),
        ("POST", "/v1/control/prompts/p1/activate", EndpointClass.CONTROL_WRITE),
        ("DELETE", "/v1/control/prompts/p1", EndpointClass.CONTROL_WRITE),
        ("GET", "/v1/incidents", EndpointClass.READ),
        ("POST", "/api/ask", EndpointClass.WRITE),
        ("GET", "/v1/approvals", EndpointClass.READ),
        ("GET", "/v1/approvals/a1", EndpointClass.READ),
        ("POST", "/v1/approvals/a1/approve", EndpointClass.APPROVE),
        ("POST", "/v1/approvals/a1/deny", EndpointClass.APPROVE),
    ],
)
def test_endpoint_classes_come_from_one_declared_table(
    method: str, path: str, expected: EndpointClass
) -> None:
    assert endpoint_class(method, path) is expected


def test_routes_outside_the_table_are_reported() -> None:
    assert undeclared([("GET", "/v1/runs/x"), ("GET", "/internal/debug")]) == [
        "GET /internal/debug"
    ]
    assert all(rule.path.startswith("/") for rule in ACCESS_RULES)


def test_rate_limits_parse_per_role_and_pick_the_most_generous_role() -> None:
    policy = RateLimitPolicy.parse(
        "60/minute,1000/hour",
        "admin=600/minute,6000/hour;worker=1200/minute,20000/hour",
        "5/second",
    )
    assert policy.default == (Limit(60, 60), Limit(1000, 3600))
    assert policy.for_roles(["viewer"]) == policy.default
    assert policy.for_roles(["admin", "worker"]) == (Limit(1200, 60), Limit(20000, 3600))
    assert policy.anonymous == (Limit(5, 1),)
    assert parse_limits("10/30s") == (Limit(10, 30),)
    for bad in ("sixty/minute", "60/fortnight", "0/minute", "1/minute,2/minute"):
        with pytest.raises(InvalidArgument):
            parse_limits(bad)


def test_the_binding_window_is_the_exceeded_one_or_the_tightest() -> None:
    minute = WindowCount(Limit(60, 60), hits=61, reset_seconds=12.0)
    hour = WindowCount(Limit(1000, 3600), hits=61, reset_seconds=3000.0)
    assert binding([minute, hour]) is minute
    calm_minute = WindowCount(Limit(60, 60), hits=10, reset_seconds=12.0)
    busy_hour = WindowCount(Limit(1000, 3600), hits=995, reset_seconds=3000.0)
    assert binding([calm_minute, busy_hour]) is busy_hour
    assert binding([]) is None
