"""Concurrent use of one store: no lost updates, conditional writes, consistent artifacts."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
from tests.store.internals import blobs_of

from satchel import (
    ArtifactNotFoundError,
    ArtifactStore,
    PreconditionFailedError,
    ProviderError,
)


async def blob_set(store: ArtifactStore) -> set[str]:
    page = await blobs_of(store).list_page(limit=1000)
    assert page.next_cursor is None
    return {b.digest for b in page.blobs}


async def test_100_concurrent_stores(store: ArtifactStore, sha: Callable[[bytes], str]) -> None:
    payloads = [b"payload %03d" % i for i in range(100)]
    ids = await asyncio.gather(
        *(
            store.store(p, mime="text/plain", session_id="busy", filename=f"f{i:03d}.txt")
            for i, p in enumerate(payloads)
        )
    )
    assert len(ids) == 100
    assert len(set(ids)) == 100

    listed = await store.list_by_session("busy", limit=1000)
    assert {m.artifact_id for m in listed} == set(ids)
    assert listed.next_cursor is None
    by_id = {m.artifact_id: m for m in listed}
    for i, artifact_id in enumerate(ids):
        assert by_id[artifact_id].filename == f"f{i:03d}.txt"
        assert by_id[artifact_id].sha256 == sha(payloads[i])
    contents = await asyncio.gather(*(store.retrieve(i) for i in ids))
    assert contents == payloads
    stats = await store.get_stats()
    assert stats["total_artifacts"] == 100
    assert stats["unique_blobs"] == 100
    assert stats["sessions"] == 1


async def test_concurrent_stores_with_identical_content(
    store: ArtifactStore, sha: Callable[[bytes], str]
) -> None:
    ids = await asyncio.gather(
        *(store.store(b"same bytes", mime="text/plain", user_id="alice") for _ in range(30))
    )
    assert len(set(ids)) == 30
    assert await blob_set(store) == {sha(b"same bytes")}
    metas = await asyncio.gather(*(store.metadata(i) for i in ids))
    assert {m.sha256 for m in metas} == {sha(b"same bytes")}
    assert len({m.session_id for m in metas}) == 30  # each got its own new session


async def test_50_concurrent_metadata_merges_lose_nothing(store: ArtifactStore) -> None:
    artifact_id = await store.store(b"x", mime="text/plain", session_id="s", meta={"base": 0})
    results = await asyncio.gather(
        *(store.update_metadata(artifact_id, meta={f"k{i}": i}, merge=True) for i in range(50))
    )
    assert sorted(r.version for r in results) == list(range(2, 52))
    assert len({r.etag for r in results}) == 50

    final = await store.metadata(artifact_id)
    assert final.meta == {"base": 0, **{f"k{i}": i for i in range(50)}}
    assert final.version == 51
    assert await store.retrieve(artifact_id) == b"x"


async def test_if_match_current_and_stale(store: ArtifactStore) -> None:
    artifact_id = await store.store(b"v1", mime="text/plain", session_id="s", meta={"a": 1})
    v1 = await store.metadata(artifact_id)

    v2 = await store.update_metadata(artifact_id, meta={"b": 2}, if_match=v1.etag)
    assert v2.version == 2
    assert v2.meta == {"a": 1, "b": 2}
    v3 = await store.update_file(artifact_id, data=b"v3", if_match=f'"{v2.etag}"')  # quoted
    assert v3.version == 3

    blobs_before = await blob_set(store)
    for stale in (v1.etag, v2.etag, "not-an-etag"):
        for call in (
            lambda e=stale: store.update_metadata(artifact_id, meta={"c": 3}, if_match=e),
            lambda e=stale: store.update_file(artifact_id, data=b"lost", if_match=e),
            lambda e=stale: store.update_file(artifact_id, summary="lost", if_match=e),
            lambda e=stale: store.move_file(artifact_id, new_filename="lost.txt", if_match=e),
            lambda e=stale: store.delete(artifact_id, if_match=e),
        ):
            with pytest.raises(PreconditionFailedError) as caught:
                await call()
            assert caught.value.status_code == 412
            current = await store.metadata(artifact_id)
            assert current == v3
            assert await store.retrieve(artifact_id) == b"v3"
            assert await blob_set(store) == blobs_before  # the refused bytes do not linger

    assert await store.delete(artifact_id, if_match=v3.etag) is True
    with pytest.raises(ArtifactNotFoundError):
        await store.metadata(artifact_id)


@pytest.mark.parametrize("kind", ["metadata", "content"])
async def test_racing_conditional_updates_exactly_one_wins(
    store: ArtifactStore, kind: str, sha: Callable[[bytes], str]
) -> None:
    artifact_id = await store.store(b"original", mime="text/plain", session_id="s")
    etag = (await store.metadata(artifact_id)).etag

    async def update(i: int) -> Any:
        if kind == "metadata":
            return await store.update_metadata(artifact_id, meta={"winner": i}, if_match=etag)
        return await store.update_file(artifact_id, data=b"content %d" % i, if_match=etag)

    for _ in range(3):
        results = await asyncio.gather(update(1), update(2), return_exceptions=True)
        winners = [r for r in results if not isinstance(r, BaseException)]
        losers = [r for r in results if isinstance(r, BaseException)]
        assert len(winners) == 1, results
        assert len(losers) == 1
        assert isinstance(losers[0], PreconditionFailedError)
        final = await store.metadata(artifact_id)
        assert final == winners[0]
        etag = final.etag
    assert final.version == 4
    if kind == "content":
        content = await store.retrieve(artifact_id)
        assert sha(content) == final.sha256
        assert await blob_set(store) == {final.sha256}  # losers' and replaced bytes are gone


async def test_concurrent_content_updates_leave_a_consistent_artifact(
    store: ArtifactStore, sha: Callable[[bytes], str]
) -> None:
    artifact_id = await store.store(b"start", mime="text/plain", session_id="s")
    versions = [b"version %02d " % i * (i + 1) for i in range(20)]
    results = await asyncio.gather(
        *(store.update_file(artifact_id, data=v, summary=f"v{i}") for i, v in enumerate(versions))
    )
    assert sorted(r.version for r in results) == list(range(2, 22))

    final = await store.metadata(artifact_id)
    assert final.version == 21
    content = await store.retrieve(artifact_id)
    assert content in versions
    assert final.sha256 == sha(content)
    assert final.bytes == len(content)
    assert final.summary == f"v{versions.index(content)}"
    # The last writer's result is what is stored; every superseded version's bytes are gone.
    last = max(results, key=lambda r: r.version)
    assert last == final
    assert await blob_set(store) == {final.sha256}


async def test_concurrent_store_and_delete_of_shared_content(
    store: ArtifactStore, sha: Callable[[bytes], str]
) -> None:
    """Storing content while deleting another artifact with the same bytes never leaves an
    artifact whose bytes are missing (a store may fail with a retryable ProviderError)."""
    content = b"contended bytes"
    previous = await store.store(content, mime="text/plain", session_id="s")
    for _ in range(15):
        results = await asyncio.gather(
            store.store(content, mime="text/plain", session_id="s"),
            store.delete(previous),
            return_exceptions=True,
        )
        stored, deleted = results
        assert deleted is True
        if isinstance(stored, BaseException):
            assert isinstance(stored, ProviderError), stored
            previous = await store.store(content, mime="text/plain", session_id="s")
        else:
            previous = stored
        assert await store.retrieve(previous) == content
    live = await store.list_by_session("s")
    assert [m.artifact_id for m in live] == [previous]
    assert await blob_set(store) == {sha(content)}


async def test_concurrent_readers_and_writers(
    store: ArtifactStore, sha: Callable[[bytes], str]
) -> None:
    artifact_id = await store.store(b"v0", mime="text/plain", session_id="s")
    written = {b"v0"} | {b"v%d" % i for i in range(1, 11)}

    async def reader() -> list[bytes]:
        seen = []
        for _ in range(10):
            data = await store.retrieve(artifact_id)
            meta = await store.metadata(artifact_id)
            assert data in written
            assert meta.sha256 in {sha(w) for w in written}
            seen.append(data)
            await asyncio.sleep(0)
        return seen

    async def writer() -> None:
        for i in range(1, 11):
            await store.update_file(artifact_id, data=b"v%d" % i)

    outcome = await asyncio.gather(reader(), reader(), writer(), return_exceptions=True)
    errors = [o for o in outcome if isinstance(o, BaseException)]
    assert errors == []
    assert await store.retrieve(artifact_id) == b"v10"
    assert (await store.metadata(artifact_id)).version == 11
