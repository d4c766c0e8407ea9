"""Small blobs kept in the catalog (``satchel.store.inline``): content of at most
``inline_max_bytes`` stored to the filesystem backend is written into the catalog's
``blob_bytes`` in the transaction of its row, never as a file; larger content is a file. Every
way of reading, listing, checking, verifying, collecting and replaying finds the bytes
wherever they are, and nothing about an artifact says which."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from sqlalchemy import delete
from tests.store.internals import blobs_of, catalog_of, context_of, files_of

from satchel import ArtifactStore
from satchel.catalog import CatalogWriter
from satchel.catalog.tables import artifacts
from satchel.core.errors import InvalidRequestError, TooLargeError
from satchel.core.ranges import ByteRange
from satchel.core.requests import StreamDownloadRequest, StreamUploadRequest
from satchel.core.streams import iter_bytes
from satchel.store.ledger import BlobLedger

pytestmark = [
    pytest.mark.not_on("memory", "sqlite", "s3", reason="only the filesystem backend keeps bytes"),
    pytest.mark.embedded_only("looks at where the embedded store keeps bytes"),
]

LIMIT = 16 * 1024  # the default inline_max_bytes


def _digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


async def _kept(store: ArtifactStore) -> dict[str, int]:
    """Digest -> size of every blob the catalog keeps bytes of."""
    async with catalog_of(store).read() as reader:
        return dict(await reader.blob_bytes.page("filesystem", None, 10_000))


async def _is_file(store: ArtifactStore, data: bytes) -> bool:
    return await files_of(store).head(_digest(data)) is not None


async def test_small_content_is_kept_in_the_catalog_and_large_is_a_file(
    store: ArtifactStore,
) -> None:
    at_limit, over = b"a" * LIMIT, b"b" * (LIMIT + 1)
    small = await store.store(b"hello", mime="text/plain", ttl=None)
    exact = await store.store(at_limit, mime="text/plain", ttl=None)
    large = await store.store(over, mime="text/plain", ttl=None)
    kept = await _kept(store)
    assert kept == {_digest(b"hello"): 5, _digest(at_limit): LIMIT}
    assert not await _is_file(store, b"hello")
    assert not await _is_file(store, at_limit)
    assert await _is_file(store, over)
    for artifact, data in ((small, b"hello"), (exact, at_limit), (large, over)):
        assert await store.retrieve(artifact) == data
        meta = await store.metadata(artifact)
        assert (meta.sha256, meta.bytes, meta.storage_provider) == (
            _digest(data),
            len(data),
            "filesystem",
        )
    assert (await store.check_storage(verify=True))["problems"] == []


async def test_reads_of_kept_bytes_honour_ranges_and_chunks(store: ArtifactStore) -> None:
    data = bytes(range(256)) * 40  # 10 KiB
    artifact = await store.store(data, mime="application/octet-stream", ttl=None)
    async with await store.open_content(artifact, byte_range=ByteRange(100, 5099)) as content:
        assert (content.start, content.end) == (100, 5100)
        assert await content.read() == data[100:5100]
    async with await store.open_content(artifact, local_file=True) as content:
        assert content.local_file is None  # no file for nginx to send
        assert await content.read() == data
    chunks = [
        chunk
        async for chunk in store.stream_download(
            StreamDownloadRequest(artifact_id=artifact, chunk_size=4096)
        )
    ]
    assert b"".join(chunks) == data
    assert all(len(chunk) <= 4096 for chunk in chunks)
    blobs = blobs_of(store)
    assert [p async for p in blobs.open_range(_digest(data), len(data) + 5)] == []
    assert await blobs.head(_digest(data)) is not None


async def test_streamed_uploads_are_kept_or_filed_by_their_size(store: ArtifactStore) -> None:
    pieces = [b"x" * 1000] * 10  # 10,000 bytes in ten pieces
    small = await store.stream_upload(
        StreamUploadRequest(data_stream=iter_bytes(b"".join(pieces), chunk_size=1000), mime="a/b")
    )
    big_data = b"y" * (LIMIT * 3)
    big = await store.stream_upload(
        StreamUploadRequest(data_stream=iter_bytes(big_data, chunk_size=1000), mime="a/b")
    )
    assert await store.retrieve(small) == b"".join(pieces)
    assert await store.retrieve(big) == big_data
    assert set(await _kept(store)) == {_digest(b"".join(pieces))}
    assert await _is_file(store, big_data)


async def test_a_refused_small_write_keeps_nothing(make_store: Any) -> None:
    store = await make_store(max_upload_bytes=10)
    with pytest.raises(TooLargeError):
        await store.store(b"eleven byte", mime="text/plain")
    ledger = BlobLedger(context_of(store))
    with pytest.raises(InvalidRequestError, match="not the expected"):
        await ledger.put(
            iter_bytes(b"promised"), backend="filesystem", expected_digest=_digest(b"other")
        )
    assert await _kept(store) == {}
    async with catalog_of(store).read() as reader:
        assert await reader.blob_checks.page(["filesystem"], None, 10) == []


async def test_shared_bytes_stay_until_the_last_reference_is_collected(
    store: ArtifactStore,
) -> None:
    first = await store.store(b"shared", mime="text/plain", ttl=None)
    second = await store.store(b"shared", mime="text/plain", ttl=None)
    assert await _kept(store) == {_digest(b"shared"): 6}
    await store.delete(first)
    await store.collect_garbage()
    assert await store.retrieve(second) == b"shared"
    await store.delete(second)
    await store.collect_garbage()  # the grace period is 0 in these tests
    assert await _kept(store) == {}
    assert await blobs_of(store).head(_digest(b"shared")) is None
    assert (await store.check_storage())["problems"] == []


async def test_inline_limit_zero_makes_every_blob_a_file(make_store: Any) -> None:
    store = await make_store(inline_max_bytes=0)
    artifact = await store.store(b"tiny", mime="text/plain")
    assert await _kept(store) == {}
    assert await _is_file(store, b"tiny")
    assert await store.retrieve(artifact) == b"tiny"


async def test_bytes_filed_before_are_still_read_after_the_limit_changes(
    make_store: Any, tmp_path_factory: pytest.TempPathFactory
) -> None:
    data_dir = tmp_path_factory.mktemp("shared")
    before = await make_store(data_dir=data_dir, inline_max_bytes=0)
    filed = await before.store(b"filed first", mime="text/plain", ttl=None)
    await before.close()
    after = await make_store(data_dir=data_dir)
    again = await after.store(b"filed first", mime="text/plain", ttl=None)  # kept now too
    assert await after.retrieve(filed) == await after.retrieve(again) == b"filed first"
    assert (await after.check_storage(verify=True))["problems"] == []
    await after.delete(filed)
    await after.delete(again)
    await after.collect_garbage()
    assert await _kept(after) == {}
    assert not await _is_file(after, b"filed first")


async def test_listing_merges_files_and_kept_bytes_in_digest_order(store: ArtifactStore) -> None:
    contents = [f"small {n}".encode() for n in range(5)]
    contents += [f"large {n}".encode() * 10_000 for n in range(4)]
    for data in contents:
        await store.store(data, mime="text/plain", ttl=None)
    blobs = blobs_of(store)
    for limit in (1, 2, 3, 100):
        listed: list[tuple[str, int]] = []
        cursor = None
        while True:
            page = await blobs.list_page(cursor=cursor, limit=limit)
            assert len(page.blobs) <= limit
            listed += [(info.digest, info.size) for info in page.blobs]
            if page.next_cursor is None:
                break
            cursor = page.next_cursor
        assert listed == sorted((_digest(data), len(data)) for data in contents), limit


async def test_kept_bytes_nobody_references_are_found_and_collected(
    store: ArtifactStore,
) -> None:
    artifact = await store.store(b"about to be unlinked", mime="text/plain", ttl=None)
    digest = (await store.metadata(artifact)).sha256
    async with context_of(store).catalog.write() as logged:
        writer = CatalogWriter(logged.raw)  # behind the log's back
        await writer.forget_blob(digest, backend="filesystem")
        await writer.raw.execute(delete(artifacts))  # the artifact gone too: no row knows it
    report = await store.check_storage()
    assert [p["kind"] for p in report["problems"]] == ["untracked_blob"]
    assert (await store.check_storage(repair=True))["clean"]
    await store.collect_garbage()
    assert await _kept(store) == {}


async def test_replay_leaves_the_kept_bytes(store: ArtifactStore) -> None:
    artifact = await store.store(b"survives a replay", mime="text/plain", ttl=None)
    await store.replay_events()
    assert await store.retrieve(artifact) == b"survives a replay"
    assert await _kept(store) == {_digest(b"survives a replay"): 17}
