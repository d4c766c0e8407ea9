"""Sandboxes sharing one catalog, strangers and expired artifacts, batch scope checks."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.store.internals import catalog_of

from satchel import AccessDeniedError, ArtifactExpiredError, ArtifactStore, Settings
from satchel.testing import ManualClock


async def test_purge_stays_inside_its_sandbox(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, gc_grace_seconds=0)
    clock = ManualClock()
    async with (
        ArtifactStore(
            storage_provider="filesystem", settings=settings, sandbox_id="a", clock=clock
        ) as a,
        ArtifactStore(
            storage_provider="filesystem", settings=settings, sandbox_id="b", clock=clock
        ) as b,
    ):
        in_a = await a.store(b"a", mime="text/plain", session_id="s-a", ttl=60)
        in_b = await b.store(b"b", mime="text/plain", session_id="s-b", ttl=60)
        clock.advance(3600)
        assert (await a.purge_expired())["artifacts"] == 1
        with pytest.raises(ArtifactExpiredError):  # b's artifact awaits b's own purge
            await b.metadata(in_b)
        assert (await b.purge_expired())["artifacts"] == 1
        assert not await a.exists(in_a)
        assert not await b.exists(in_b)


async def test_sandboxes_sharing_a_catalog_do_not_see_each_other(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    async with (
        ArtifactStore(storage_provider="filesystem", settings=settings, sandbox_id="a") as a,
        ArtifactStore(storage_provider="filesystem", settings=settings, sandbox_id="b") as b,
    ):
        shared = await a.store(b"template", mime="text/plain", scope="sandbox")
        assert await a.exists(shared)
        assert not await b.exists(shared)
        assert [m.artifact_id for m in await a.search(scope="sandbox")] == [shared]
        assert list(await b.search(scope="sandbox")) == []


@pytest.mark.embedded_only("moves the store's clock")
async def test_a_stranger_cannot_tell_an_expired_artifact_from_a_live_one(
    store: ArtifactStore, clock: ManualClock
) -> None:
    artifact_id = await store.store(b"x", mime="text/plain", user_id="alice", ttl=60)
    clock.advance(3600)
    with pytest.raises(AccessDeniedError):
        await store.metadata(artifact_id, user_id="bob")
    with pytest.raises(ArtifactExpiredError):
        await store.metadata(artifact_id, user_id="alice")


async def test_a_batch_with_one_forbidden_scope_writes_nothing(
    store: ArtifactStore,
) -> None:
    before = await store.get_stats()
    items = [
        {"data": b"fine", "mime": "text/plain"},
        {"data": b"shared", "mime": "text/plain", "scope": "sandbox"},  # bob is no admin
    ]
    with pytest.raises(AccessDeniedError, match="batch item 1"):
        await store.store_batch(items, user_id="bob")
    assert await store.get_stats() == before
    if isinstance(store, ArtifactStore):  # the remote client cannot read the event log (yet)
        async with catalog_of(store).read() as reader:
            assert await reader.events_after(0) == []
