"""Who may do what: permissions, API key types, user roles and endpoint classes.

A permission is ``resource:action``. Every endpoint belongs to one endpoint
class, and each class needs one permission; callers hold permissions through
their key type (and its scopes) or through their roles. Nobody can hand out a
permission they do not hold themselves.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from domain.errors import InvalidArgument

__all__ = [
    "ADMIN_PERMISSIONS",
    "ALL_PERMISSIONS",
    "READ_PERMISSIONS",
    "ROLE_PERMISSIONS",
    "SCOPE_ALIASES",
    "WRITE_PERMISSIONS",
    "EndpointClass",
    "KeyType",
    "Permission",
    "expand_scopes",
    "permissions_of_roles",
    "required_permission",
]


class Permission(StrEnum):
    RUNS_READ = "runs:read"
    RUNS_WRITE = "runs:write"
    QUEUE_WORK = "queue:work"
    CONTROL_READ = "control:read"
    CONTROL_WRITE = "control:write"
    KUBERNETES_READ = "kubernetes:read"
    KUBERNETES_WRITE = "kubernetes:write"
    INCIDENTS_READ = "incidents:read"
    INCIDENT_CREATE = "incident:create"
    AUDIT_READ = "audit:read"
    KEYS_MANAGE = "keys:manage"
    USERS_MANAGE = "users:manage"
    # Acting on another tenant's keys and users: the operator of the installation.
    TENANTS_MANAGE = "tenants:manage"


READ_PERMISSIONS = frozenset(
    {
        Permission.RUNS_READ,
        Permission.CONTROL_READ,
        Permission.KUBERNETES_READ,
        Permission.INCIDENTS_READ,
        Permission.AUDIT_READ,
    }
)
WRITE_PERMISSIONS = frozenset(
    {
        Permission.RUNS_WRITE,
        Permission.CONTROL_WRITE,
        Permission.KUBERNETES_WRITE,
        Permission.INCIDENT_CREATE,
    }
)
ADMIN_PERMISSIONS = frozenset({Permission.KEYS_MANAGE, Permission.USERS_MANAGE})
ALL_PERMISSIONS = frozenset(Permission)
_TENANT_ADMIN = ALL_PERMISSIONS - {Permission.TENANTS_MANAGE}

# Short names accepted wherever scopes or permissions are given.
SCOPE_ALIASES: dict[str, frozenset[Permission]] = {
    "read": READ_PERMISSIONS,
    "write": WRITE_PERMISSIONS,
    "worker": frozenset({Permission.QUEUE_WORK}),
    "admin": ADMIN_PERMISSIONS,
}


class KeyType(StrEnum):
    LIVE = "live"
    TEST = "test"
    ADMIN = "admin"

    @property
    def prefix(self) -> str:
        return f"sk_{self.value}_"

    @property
    def default_permissions(self) -> frozenset[Permission]:
        """What a key of this type may do when it is issued without scopes."""
        return {
            KeyType.LIVE: READ_PERMISSIONS | WRITE_PERMISSIONS,
            KeyType.TEST: READ_PERMISSIONS,
            KeyType.ADMIN: _TENANT_ADMIN,
        }[self]

    @property
    def allowed_permissions(self) -> frozenset[Permission]:
        """The most a key of this type may ever be given (through scopes)."""
        return {
            KeyType.LIVE: READ_PERMISSIONS | WRITE_PERMISSIONS | SCOPE_ALIASES["worker"],
            KeyType.TEST: READ_PERMISSIONS,
            KeyType.ADMIN: ALL_PERMISSIONS,
        }[self]

    @classmethod
    def of_key(cls, key: str) -> KeyType | None:
        """The type a presented key claims by its prefix (None: not an API key)."""
        return next((t for t in cls if key.startswith(t.prefix)), None)


ROLE_PERMISSIONS: dict[str, frozenset[Permission]] = {
    "viewer": READ_PERMISSIONS,
    "operator": READ_PERMISSIONS | WRITE_PERMISSIONS,
    "worker": frozenset({Permission.QUEUE_WORK, Permission.RUNS_READ}),
    "admin": _TENANT_ADMIN,
}


def expand_scopes(scopes: Iterable[str]) -> frozenset[Permission]:
    """Scopes (aliases such as ``worker`` or permission names) as permissions."""
    result: set[Permission] = set()
    for scope in scopes:
        name = scope.strip()
        if name in SCOPE_ALIASES:
            result |= SCOPE_ALIASES[name]
            continue
        try:
            result.add(Permission(name))
        except ValueError:
            known = ", ".join(sorted([*SCOPE_ALIASES, *Permission]))
            raise InvalidArgument(f"unknown scope {name!r}; known: {known}") from None
    return frozenset(result)


def permissions_of_roles(roles: Iterable[str]) -> frozenset[Permission]:
    result: set[Permission] = set()
    for role in roles:
        if role not in ROLE_PERMISSIONS:
            known = ", ".join(sorted(ROLE_PERMISSIONS))
            raise InvalidArgument(f"unknown role {role!r}; known: {known}")
        result |= ROLE_PERMISSIONS[role]
    return frozenset(result)


class EndpointClass(StrEnum):
    """What an endpoint does, for deciding who may call it."""

    OPEN = "open"  # health, readiness, metrics: no credentials, no limit
    ANONYMOUS = "anonymous"  # login, refresh, service summary, schema: the IP limit
    AUTHENTICATED = "authenticated"  # any valid principal (whoami, logout)
    READ = "read"
    WRITE = "write"
    QUEUE = "queue"
    CONTROL_READ = "control_read"
    CONTROL_WRITE = "control_write"
    APPROVE = "approve"  # decide on tool calls that write to a cluster
    KEYS = "keys"
    USERS = "users"


_REQUIRED: dict[EndpointClass, Permission] = {
    EndpointClass.READ: Permission.RUNS_READ,
    EndpointClass.WRITE: Permission.RUNS_WRITE,
    EndpointClass.QUEUE: Permission.QUEUE_WORK,
    EndpointClass.CONTROL_READ: Permission.CONTROL_READ,
    EndpointClass.CONTROL_WRITE: Permission.CONTROL_WRITE,
    EndpointClass.APPROVE: Permission.KUBERNETES_WRITE,
    EndpointClass.KEYS: Permission.KEYS_MANAGE,
    EndpointClass.USERS: Permission.USERS_MANAGE,
}


def required_permission(endpoint: EndpointClass) -> Permission | None:
    """The permission an endpoint class needs; None when credentials alone decide."""
    return _REQUIRED.get(endpoint)
