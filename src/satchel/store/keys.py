"""API keys: create, list and revoke bearer tokens kept (as digests) in the catalog, and
authenticate a presented token. ``satchel serve`` accepts these tokens; ``satchel keys`` and
the ``/v1/keys`` admin routes manage them."""

from __future__ import annotations

from typing import Any

from satchel.core.apikeys import (
    ApiKey,
    check_key_id,
    new_api_token,
    secret_digest,
    secret_matches,
    split_api_token,
)
from satchel.core.errors import ArtifactNotFoundError, InvalidRequestError
from satchel.core.events import Audience
from satchel.core.validation import check_id, check_ttl
from satchel.store.context import StoreContext

__all__ = ["RESERVED_USERS", "KeyService"]

RESERVED_USERS = frozenset({"anonymous"})
"""User ids no key may act as (anonymous readers act as ``anonymous``)."""

MAX_KEY_NAME = 255


class KeyService:
    def __init__(self, context: StoreContext) -> None:
        self.context = context

    async def create_api_key(
        self, user_id: str, *, admin: bool = False, name: str = "", ttl: int | None = None
    ) -> tuple[str, ApiKey]:
        check_id("user_id", user_id)
        if user_id in RESERVED_USERS:
            raise InvalidRequestError(f"{user_id!r} is reserved")
        if not isinstance(admin, bool):
            raise InvalidRequestError("admin must be true or false")
        if not isinstance(name, str) or len(name) > MAX_KEY_NAME or "\x00" in name:
            raise InvalidRequestError(f"name must be text of at most {MAX_KEY_NAME} characters")
        lifetime = check_ttl(ttl)
        context = self.context
        await context.ensure_open()
        key_id, secret, token = new_api_token()
        now = context.now()
        key = ApiKey(
            key_id=key_id,
            user_id=user_id,
            sandbox_id=context.sandbox_id,
            is_admin=admin,
            name=name,
            created_at=now,
            expires_at=None if lifetime is None else now + lifetime,
            revoked_at=None,
        )
        async with context.catalog.write() as writer:
            await writer.insert_api_key(key, secret_digest(secret))
            await writer.append_event(
                type="v1.api_key.created",
                subject=key_id,
                payload={"user_id": user_id, "admin": admin, "name": name},
                actor=None,
                time=now,
                audience=Audience.admins(context.sandbox_id),
            )
        return token, key

    async def list_api_keys(self, *, include_revoked: bool = False) -> list[ApiKey]:
        context = self.context
        await context.ensure_open()
        async with context.catalog.read() as reader:
            keys = await reader.list_api_keys(context.sandbox_id)
        return [key for key in keys if include_revoked or key.revoked_at is None]

    async def revoke_api_key(self, key_id: str) -> ApiKey:
        check_key_id(key_id)
        context = self.context
        await context.ensure_open()
        now = context.now()
        async with context.catalog.write() as writer:
            if not await writer.revoke_api_key(key_id, context.sandbox_id, now):
                raise ArtifactNotFoundError(f"no live API key {key_id}")
            await writer.append_event(
                type="v1.api_key.revoked",
                subject=key_id,
                payload={},
                actor=None,
                time=now,
                audience=Audience.admins(context.sandbox_id),
            )
            found = await writer.get_api_key(key_id)
        assert found is not None
        return found[0]

    async def whoami(self) -> dict[str, Any]:
        """The embedded store acts as the application itself (callers name users per call)."""
        return {
            "user_id": None,
            "sandbox_id": self.context.sandbox_id,
            "admin": True,
            "name": "embedded",
            "key": None,
        }

    async def authenticate_api_key(self, token: str) -> ApiKey | None:
        parts = split_api_token(token)
        if parts is None:
            return None
        context = self.context
        await context.ensure_open()
        async with context.catalog.read() as reader:
            found = await reader.get_api_key(parts[0])
        if found is None:
            secret_matches(parts[1], "0" * 64)  # the same work whether or not the id exists
            return None
        key, digest = found
        if not secret_matches(parts[1], digest):
            return None
        if key.sandbox_id != context.sandbox_id or not key.usable(context.now()):
            return None
        return key
