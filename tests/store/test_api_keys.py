"""API keys through the store API, on every backend and through the remote client (where the
key is then used as a real bearer token against the same server)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from tests.store.internals import catalog_of

from satchel import (
    AccessDeniedError,
    ArtifactNotFoundError,
    ArtifactStore,
    InvalidRequestError,
    UnauthorizedError,
)
from satchel.client import RemoteArtifactStore


async def acts_as(store: Any, token: str) -> str | None:
    """The user *token* authenticates as against *store* (None: refused)."""
    if isinstance(store, RemoteArtifactStore):
        async with RemoteArtifactStore(store.url, token, timeout=30) as client:
            try:
                artifact_id = await client.store(b"who", mime="text/plain")
            except UnauthorizedError:
                return None
            owner: str | None = (await client.metadata(artifact_id)).owner_id
            return owner
    key = await store.authenticate_api_key(token)
    return None if key is None else key.user_id


async def test_create_list_use_and_revoke(store: ArtifactStore) -> None:
    token, key = await store.create_api_key("alice", name="ci runner")
    assert token.startswith("satk_")
    assert key.key_id in token
    assert (key.user_id, key.is_admin, key.name) == ("alice", False, "ci runner")
    assert key.sandbox_id == store.sandbox_id
    assert key.expires_at is None
    assert key.revoked_at is None

    listed = await store.list_api_keys()
    assert [k.key_id for k in listed] == [key.key_id]
    assert token.split(".")[1] not in repr(listed)
    assert await acts_as(store, token) == "alice"
    assert await acts_as(store, token[:-1] + ("A" if token[-1] != "A" else "B")) is None

    revoked = await store.revoke_api_key(key.key_id)
    assert revoked.revoked_at is not None
    assert await acts_as(store, token) is None
    assert await store.list_api_keys() == []
    assert [k.key_id for k in await store.list_api_keys(include_revoked=True)] == [key.key_id]
    with pytest.raises(ArtifactNotFoundError):
        await store.revoke_api_key(key.key_id)
    with pytest.raises(ArtifactNotFoundError):
        await store.revoke_api_key("0" * 16)


async def test_a_key_expires(store: ArtifactStore) -> None:
    token, key = await store.create_api_key("bob", ttl=1)
    assert key.expires_at is not None
    assert await acts_as(store, token) == "bob"
    await asyncio.sleep(1.2)
    assert await acts_as(store, token) is None


async def test_bad_key_requests_are_refused(store: ArtifactStore) -> None:
    for user in ("", "a/b", "anonymous", 42):
        with pytest.raises(InvalidRequestError):
            await store.create_api_key(user)  # type: ignore[arg-type]
    for ttl in (0, -1, 0.5, "60", True):
        with pytest.raises(InvalidRequestError):
            await store.create_api_key("alice", ttl=ttl)  # type: ignore[arg-type]
    with pytest.raises(InvalidRequestError):
        await store.create_api_key("alice", name="x" * 256)
    for key_id in ("", "nothex0000000000", "0" * 15, "../etc/passwd"):
        with pytest.raises(InvalidRequestError):
            await store.revoke_api_key(key_id)
    assert await store.list_api_keys(include_revoked=True) == []


async def test_an_admin_key_acts_for_any_user(store: ArtifactStore) -> None:
    token, key = await store.create_api_key("ops", admin=True)
    assert key.is_admin
    if isinstance(store, RemoteArtifactStore):
        async with RemoteArtifactStore(store.url, token, timeout=30) as ops:
            artifact_id = await ops.store(b"x", mime="text/plain", user_id="carol")
            assert (await ops.metadata(artifact_id)).owner_id == "carol"
        user_token, _ = await store.create_api_key("dave")
        async with RemoteArtifactStore(store.url, user_token, timeout=30) as dave:
            with pytest.raises(AccessDeniedError):
                await dave.store(b"x", mime="text/plain", user_id="carol")
            with pytest.raises(AccessDeniedError):
                await dave.list_api_keys()
    else:
        found = await store.authenticate_api_key(token)
        assert found is not None
        assert found.is_admin


@pytest.mark.embedded_only("reads the catalog table")
async def test_the_catalog_keeps_only_a_digest(store: ArtifactStore) -> None:
    from sqlalchemy import select

    from satchel.catalog.tables import api_keys

    token, _ = await store.create_api_key("alice")
    async with catalog_of(store).read() as reader:
        rows = [dict(row._mapping) for row in await reader.conn.execute(select(api_keys))]
    assert len(rows) == 1
    stored = repr(rows)
    assert token.split(".")[1] not in stored
    assert token not in stored
