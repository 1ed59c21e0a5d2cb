"""The rules of handing out access: nobody grants a permission they lack, and only
an operator (``tenants:manage``) acts on another tenant's keys and users."""

from __future__ import annotations

from collections.abc import Iterable

from domain.access import Permission
from domain.errors import AccessDenied
from services.ports import Caller
from services.refusals import RefusalLog

__all__ = ["reaches", "refuse_beyond", "tenant_in_reach"]


def reaches(caller: Caller, tenant: str) -> bool:
    """Whether the caller may act on what belongs to ``tenant``."""
    return caller.sees(tenant) or caller.can(Permission.TENANTS_MANAGE)


def tenant_in_reach(caller: Caller, tenant: str | None, refusals: RefusalLog, action: str) -> str:
    """The tenant a management request is about; refused if not the caller's own
    and the caller is no operator."""
    target = tenant or caller.tenant
    if not reaches(caller, target):
        refusals.permission_denied(caller, Permission.TENANTS_MANAGE, action)
        raise AccessDenied(
            f"acting on tenant {target!r} needs {Permission.TENANTS_MANAGE}",
            Permission.TENANTS_MANAGE,
        )
    return target


def refuse_beyond(
    caller: Caller, permissions: Iterable[str], refusals: RefusalLog, action: str
) -> None:
    """Refuse to grant what the caller does not hold itself."""
    beyond = sorted(set(permissions) - caller.permissions)
    if beyond:
        refusals.permission_denied(caller, ",".join(beyond), action)
        raise AccessDenied(
            f"cannot grant permissions you do not hold: {', '.join(beyond)}", beyond[0]
        )
