"""``verify_storage`` (seed 001's ``storage verify``): re-hashing every blob (or a sample) finds
bytes that are gone (on every backend: a file, a row of the SQLite blob store, an object of the
bucket) and bytes that hash otherwise (a file rewritten on disk, or a small blob's bytes
rewritten in the catalog); failed blobs are never served
(IntegrityError), ``health()`` is degraded and counts them, each check is an event, and a
restored blob is found intact again and served."""

from __future__ import annotations

from typing import Any

import pytest
from tests.store.internals import blobs_of, rewrite_blob

from satchel import ArtifactStore
from satchel.core.errors import AccessDeniedError, IntegrityError, InvalidRequestError
from satchel.core.requests import StreamDownloadRequest
from satchel.core.streams import iter_bytes

pytestmark = pytest.mark.embedded_only("damages blobs behind the store's back")


async def _verified(store: ArtifactStore) -> list[dict[str, Any]]:
    return [e async for e in store.events(types=["v1.storage.location_verified"])]


async def test_a_missing_blob_is_caught_quarantined_and_restored(store: ArtifactStore) -> None:
    kept = await store.store(b"kept bytes", mime="text/plain", ttl=None)
    lost = await store.store(b"bytes that will be lost", mime="text/plain", ttl=None)
    digest = (await store.metadata(lost)).sha256
    clean = await store.verify_storage()
    assert (clean["checked"], clean["intact"], clean["failed"]) == (2, 2, 0)
    assert (await store.health())["checks"]["integrity"] == {"status": "ok", "failed_blobs": 0}

    assert await blobs_of(store).delete(digest)  # the file, the row or the bucket's object
    report = await store.verify_storage()
    assert (report["checked"], report["intact"], report["failed"]) == (2, 1, 1)
    [failure] = report["failures"]
    assert failure["digest"] == digest
    assert failure["failure"] == "missing"
    with pytest.raises(IntegrityError, match="failed verification"):
        await store.retrieve(lost)
    chunks = store.stream_download(StreamDownloadRequest(artifact_id=lost))
    with pytest.raises(IntegrityError):
        await anext(chunks)
    with pytest.raises(IntegrityError):
        await store.copy_file(lost, new_filename="copy.txt")
    assert await store.retrieve(kept) == b"kept bytes"
    health = await store.health()
    assert health["status"] == "degraded"
    assert health["checks"]["integrity"] == {"status": "failed", "failed_blobs": 1}
    events = await _verified(store)
    assert len(events) == 4
    assert {(e["subject"], e["payload"]["ok"]) for e in events[2:]} == {
        (digest, False),
        ((await store.metadata(kept)).sha256, True),
    }

    await blobs_of(store).put_stream(iter_bytes(b"bytes that will be lost"))  # from a backup
    restored = await store.verify_storage()
    assert (restored["failed"], restored["restored"]) == (0, 1)
    assert await store.retrieve(lost) == b"bytes that will be lost"
    assert (await store.health())["status"] == "ok"


@pytest.mark.not_on("memory", "sqlite", "s3", reason="rewrites a blob file in place")
@pytest.mark.parametrize("size", [8, 70_000], ids=["kept-in-catalog", "file"])
async def test_bytes_rewritten_on_disk_are_caught(store: ArtifactStore, size: int) -> None:
    artifact = await store.store(b"o" * size, mime="text/plain", ttl=None)
    digest = (await store.metadata(artifact)).sha256
    await rewrite_blob(store, digest, b"t" * size)  # the same size: only hashing tells
    report = await store.verify_storage(store.storage_provider)
    assert report["failed"] == 1
    assert report["failures"][0]["failure"].startswith("corrupt: the bytes hash to sha256:")
    with pytest.raises(IntegrityError):
        await store.retrieve(artifact)
    await rewrite_blob(store, digest, b"short")
    report = await store.verify_storage()
    assert report["failures"][0]["failure"] == f"size 5 where {size} was stored"


async def test_a_sample_and_the_rules(store: ArtifactStore) -> None:
    for n in range(5):
        await store.store(f"blob {n}".encode(), mime="text/plain", ttl=None)
    sampled = await store.verify_storage(sample=2)
    assert (sampled["checked"], sampled["intact"]) == (2, 2)
    assert len(await _verified(store)) == 2
    with pytest.raises(AccessDeniedError):
        await store.verify_storage(user_id="alice")
    with pytest.raises(InvalidRequestError, match="unknown backend"):
        await store.verify_storage("nowhere")
    for bad in (0, -1, True, 10**7):
        with pytest.raises(InvalidRequestError):
            await store.verify_storage(sample=bad)
