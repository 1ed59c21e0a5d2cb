"""Issue, list and revoke API keys; make sure the bootstrap admin key exists.

A key is shown once, when it is issued; the ledger keeps its digest.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from uuid import UUID

from domain.access import ALL_PERMISSIONS, KeyType, expand_scopes
from domain.api_key import ApiKey, key_id_for
from domain.envelope import EventContext
from domain.errors import ConcurrencyConflict, InvalidArgument, NotFound
from schemas.identity import ApiKeyView, CreateApiKey, IssuedApiKey
from schemas.moments import in_utc
from services.grants import reaches, refuse_beyond, tenant_in_reach
from services.identity_ports import Directory
from services.ports import Caller, Clock, LedgerPort
from services.refusals import RefusalLog

__all__ = ["BOOTSTRAP_TENANT", "ApiKeys", "key_view", "new_key"]

BOOTSTRAP_TENANT = "default"
BOOTSTRAP_ACTOR = "system:bootstrap"


def new_key(key_type: KeyType) -> str:
    """A fresh key: the type prefix and 32 random bytes (43 base64url characters)."""
    return key_type.prefix + secrets.token_urlsafe(32)


def key_view(key: ApiKey) -> ApiKeyView:
    return ApiKeyView(
        key_id=key.id,
        tenant=key.tenant,
        key_type=key.key_type.value,
        hint=key.hint,
        name=key.name,
        permissions=sorted(key.permissions),
        created_at=key.created_on,
        created_by=key.created_by,
        expires_at=key.expires_at,
        revoked_at=key.revoked_at,
    )


class ApiKeys:
    def __init__(
        self,
        ledger: LedgerPort,
        directory: Directory,
        refusals: RefusalLog,
        clock: Clock,
        generate: Callable[[KeyType], str] = new_key,
    ) -> None:
        self._ledger = ledger
        self._directory = directory
        self._refusals = refusals
        self._clock = clock
        self._generate = generate

    def issue(self, request: CreateApiKey, caller: Caller) -> IssuedApiKey:
        key_type = KeyType(request.type)
        action = f"issue a {key_type} key"
        tenant = tenant_in_reach(caller, request.tenant, self._refusals, action)
        permissions = (
            key_type.default_permissions
            if request.scopes is None
            else expand_scopes(request.scopes)
        )
        if not permissions:
            raise InvalidArgument("a key needs at least one scope")
        refuse_beyond(caller, permissions, self._refusals, action)
        key = self._generate(key_type)
        api_key = ApiKey.issue(
            key=key,
            name=request.name,
            permissions=permissions,
            expires_at=in_utc(request.expires_at, "expires_at"),
            ip=caller.ip,
            user_agent=caller.user_agent,
            ctx=EventContext(
                actor=caller.actor,
                tenant=tenant,
                correlation_id=str(key_id_for(key)),
                causation_id=caller.request_id,
            ),
            now=self._clock(),
        )
        self._ledger.commit(api_key)
        return IssuedApiKey(
            key=key,
            key_id=api_key.id,
            tenant=tenant,
            key_type=key_type.value,
            hint=api_key.hint,
            permissions=sorted(api_key.permissions),
            expires_at=api_key.expires_at,
        )

    def list_keys(self, caller: Caller, tenant: str | None = None) -> list[ApiKeyView]:
        target = tenant_in_reach(caller, tenant, self._refusals, "list keys")
        return self._directory.keys_of(target)

    def revoke(self, key_id: UUID, reason: str, caller: Caller) -> ApiKeyView:
        for _ in range(3):
            key: ApiKey = self._ledger.get(key_id, ApiKey)
            if not reaches(caller, key.tenant):
                raise NotFound("key", key_id)  # another tenant's key does not exist here
            changed = key.revoke(
                reason=reason,
                ip=caller.ip,
                user_agent=caller.user_agent,
                ctx=EventContext(
                    actor=caller.actor,
                    tenant=key.tenant,
                    correlation_id=str(key.id),
                    causation_id=caller.request_id,
                ),
                now=self._clock(),
            )
            if not changed:
                return key_view(key)
            try:
                self._ledger.commit(key)
            except ConcurrencyConflict:
                continue
            return key_view(key)
        raise ConcurrencyConflict(f"key {key_id} kept changing; try again")

    def ensure_bootstrap_key(self, key: str) -> bool:
        """Issue the installation's first admin key (every permission, tenant
        ``default``) unless it exists: True if it was issued now. Several API
        processes may race to do this; the ledger lets exactly one win."""
        if KeyType.of_key(key) is not KeyType.ADMIN:
            raise InvalidArgument("the bootstrap admin key must start with sk_admin_")
        try:
            self._ledger.get(key_id_for(key), ApiKey)
            return False
        except NotFound:
            pass
        api_key = ApiKey.issue(
            key=key,
            name="bootstrap admin key",
            permissions=ALL_PERMISSIONS,
            expires_at=None,
            ip="",
            user_agent="",
            ctx=EventContext(
                actor=BOOTSTRAP_ACTOR,
                tenant=BOOTSTRAP_TENANT,
                correlation_id=str(key_id_for(key)),
                causation_id="bootstrap",
            ),
            now=self._clock(),
        )
        try:
            self._ledger.commit(api_key)
        except ConcurrencyConflict:
            return False
        return True
