"""API keys: create, list and revoke bearer tokens kept (as digests) in the catalog, and
authenticate a presented token. ``satchel serve`` accepts these tokens; ``satchel keys`` and
the ``/v1/keys`` admin routes manage them."""

from __future__ import annotations

from satchel.catalog import apikeys as key_rows
from satchel.core.apikeys import (
    ApiKey,
    check_key_id,
    new_api_token,
    secret_digest,
    secret_matches,
    split_api_token,
)
from satchel.core.errors import ArtifactNotFoundError, InvalidRequestError
from satchel.core.validation import check_id, check_ttl
from satchel.store.base import StoreBase

__all__ = ["RESERVED_USERS", "KeysMixin"]

RESERVED_USERS = frozenset({"anonymous"})
"""User ids no key may act as (anonymous readers act as ``anonymous``)."""

MAX_KEY_NAME = 255


class KeysMixin(StoreBase):
    async def create_api_key(
        self,
        user_id: str,
        *,
        admin: bool = False,
        name: str = "",
        ttl: int | None = None,
    ) -> tuple[str, ApiKey]:
        """Create an API key acting as *user_id* in this sandbox; return ``(token, key)``.

        The token is shown only here: the catalog keeps a digest of its secret. ``ttl`` (seconds)
        makes the key expire; ``admin=True`` gives it the admin role (it may act for any user).
        """
        check_id("user_id", user_id)
        if user_id in RESERVED_USERS:
            raise InvalidRequestError(f"{user_id!r} is reserved")
        if not isinstance(admin, bool):
            raise InvalidRequestError("admin must be true or false")
        if not isinstance(name, str) or len(name) > MAX_KEY_NAME or "\x00" in name:
            raise InvalidRequestError(f"name must be text of at most {MAX_KEY_NAME} characters")
        lifetime = check_ttl(ttl)
        await self._ensure_open()
        key_id, secret, token = new_api_token()
        now = self._now()
        key = ApiKey(
            key_id=key_id,
            user_id=user_id,
            sandbox_id=self.sandbox_id,
            is_admin=admin,
            name=name,
            created_at=now,
            expires_at=None if lifetime is None else now + lifetime,
            revoked_at=None,
        )
        async with self.catalog.write() as writer:
            await key_rows.insert_api_key(writer.conn, key, secret_digest(secret))
            await writer.append_event(
                type="api_key.created",
                subject=key_id,
                payload={"user_id": user_id, "admin": admin, "name": name},
                actor=None,
                time=now,
            )
        return token, key

    async def list_api_keys(self, *, include_revoked: bool = False) -> list[ApiKey]:
        """This sandbox's API keys, oldest first (never their secrets)."""
        await self._ensure_open()
        async with self.catalog.read() as reader:
            keys = await key_rows.list_api_keys(reader.conn, self.sandbox_id)
        return [key for key in keys if include_revoked or key.revoked_at is None]

    async def revoke_api_key(self, key_id: str) -> ApiKey:
        """Revoke a key at once; ArtifactNotFoundError when this sandbox has no such live key."""
        check_key_id(key_id)
        await self._ensure_open()
        now = self._now()
        async with self.catalog.write() as writer:
            if not await key_rows.revoke_api_key(writer.conn, key_id, self.sandbox_id, now):
                raise ArtifactNotFoundError(f"no live API key {key_id}")
            await writer.append_event(
                type="api_key.revoked", subject=key_id, payload={}, actor=None, time=now
            )
            found = await key_rows.get_api_key(writer.conn, key_id)
        assert found is not None
        return found[0]

    async def authenticate_api_key(self, token: str) -> ApiKey | None:
        """The live key of this sandbox that *token* belongs to, else None."""
        parts = split_api_token(token)
        if parts is None:
            return None
        await self._ensure_open()
        async with self.catalog.read() as reader:
            found = await key_rows.get_api_key(reader.conn, parts[0])
        if found is None:
            secret_matches(parts[1], "0" * 64)  # the same work whether or not the id exists
            return None
        key, digest = found
        if not secret_matches(parts[1], digest):
            return None
        if key.sandbox_id != self.sandbox_id or not key.usable(self._now()):
            return None
        return key
