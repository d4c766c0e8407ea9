"""``check_storage`` (fsck): each kind of disagreement between catalog, blobs and staging is
found, ``repair`` fixes exactly what is safe, and work in flight is left alone."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest
from tests.store.internals import blobs_of, context_of, files_of, rewrite_blob, staging_of

from satchel import ArtifactStore
from satchel._process import named_for_this_process
from satchel.blobs.filesystem import FilesystemBlobStore
from satchel.catalog import CatalogWriter
from satchel.core.requests import MultipartUploadInitRequest
from satchel.core.streams import iter_bytes
from satchel.testing import ManualClock

pytestmark = pytest.mark.embedded_only("puts the catalog, blobs and staging out of step")


def _kinds(report: dict[str, Any], *, repaired: bool | None = None) -> list[str]:
    return sorted(
        p["kind"] for p in report["problems"] if repaired is None or p["repaired"] is repaired
    )


def _dead_name(suffix: str) -> str:
    """A name as a process of this host that has exited would have made it."""
    child = subprocess.run(
        [
            sys.executable,
            "-c",
            f"from satchel._process import named_for_this_process as n; print(n({suffix!r}))",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return child.stdout.strip()


async def test_a_store_in_normal_use_is_clean(store: ArtifactStore) -> None:
    first = await store.store(b"one", mime="text/plain")
    await store.store(b"one", mime="text/plain")  # the same bytes again
    await store.update_file(first, data=b"two")
    upload = await store.initiate_multipart_upload(
        MultipartUploadInitRequest(filename="m.bin", mime_type="application/x-test")
    )
    await store.upload_part(upload["upload_id"], 1, b"part")  # unfinished, not expired: fine
    await store.delete(first)
    report = await store.check_storage()
    assert report["clean"], report["problems"]
    assert report["problems"] == []
    assert report["checked"]["artifact_blobs"] == 1
    again = await store.check_storage(repair=True, verify=True)
    assert again["clean"]
    assert again["repaired"] == 0


async def test_lost_and_damaged_content_is_reported_never_repaired(store: ArtifactStore) -> None:
    lost = await store.store(b"lost bytes", mime="text/plain")
    digest = (await store.metadata(lost)).sha256
    assert await blobs_of(store).delete(digest)
    report = await store.check_storage(repair=True)
    assert not report["clean"]
    assert _kinds(report) == ["missing_blob"]
    assert report["problems"][0]["subject"].endswith(digest)
    assert report["unresolved"] == 1
    assert (await store.metadata(lost)).sha256 == digest  # the row is left for the operator


@pytest.mark.not_on("memory", "sqlite", "s3", reason="rewrites a blob file in place")
@pytest.mark.parametrize("size", [8, 70_000], ids=["kept-in-catalog", "file"])
async def test_verify_finds_bytes_that_hash_otherwise(store: ArtifactStore, size: int) -> None:
    artifact = await store.store(b"o" * size, mime="text/plain")
    digest = (await store.metadata(artifact)).sha256
    await rewrite_blob(store, digest, b"t" * size)  # same size: only re-hashing tells
    assert (await store.check_storage())["clean"]
    report = await store.check_storage(verify=True)
    assert _kinds(report) == ["digest_mismatch"]
    await rewrite_blob(store, digest, b"short")
    assert _kinds(await store.check_storage()) == ["size_mismatch"]


async def test_bytes_nobody_knows_go_to_garbage_collection(
    store: ArtifactStore, clock: ManualClock
) -> None:
    info = await blobs_of(store).put_stream(iter_bytes(b"stray bytes of a crashed write"))
    report = await store.check_storage()
    assert _kinds(report) == ["untracked_blob"]
    repaired = await store.check_storage(repair=True)
    assert _kinds(repaired, repaired=True) == ["untracked_blob"]
    assert repaired["clean"]
    assert (await store.check_storage())["problems"] == []
    clock.advance(context_of(store).settings.gc_grace_seconds + 1)
    await store.collect_garbage()
    assert await blobs_of(store).head(info.digest) is None


async def test_ledger_rows_are_mended(store: ArtifactStore, clock: ManualClock) -> None:
    kept = await store.store(b"kept", mime="text/plain")
    kept_digest = (await store.metadata(kept)).sha256
    gone_digest = "sha256:" + "ab" * 32  # a ledger row whose bytes are gone
    backend = context_of(store).default_backend
    async with context_of(store).catalog.write() as logged:
        writer = CatalogWriter(logged.raw)  # behind the log's back: nothing of it is logged
        await writer.reference_blob(gone_digest, 10, clock(), backend=backend)
        await writer.release_blob(gone_digest, clock(), backend=backend)
        await writer.forget_blob(kept_digest, backend=backend)  # a referenced blob unlisted
    report = await store.check_storage(repair=True)
    assert _kinds(report, repaired=True) == ["ledger_dangling", "ledger_unlinked"]
    assert report["clean"]
    assert (await store.check_storage())["problems"] == []
    assert await store.read_file(kept) == b"kept"


@pytest.mark.not_on("memory", "s3", reason="no local temp files or staging")
async def test_leftovers_of_dead_writers_are_removed_and_live_ones_left(
    store: ArtifactStore,
) -> None:
    staging = staging_of(store)
    dead_key, live_key = _dead_name("a1b2c3"), named_for_this_process("d4e5f6")
    for key in (dead_key, live_key):
        await staging.write(key, 0, iter_bytes(b"half a body"), max_bytes=100)
    blobs = files_of(store)
    dead_temp = None
    if isinstance(blobs, FilesystemBlobStore):
        dead_temp = blobs._tmp / f"{_dead_name('0123abcd')}.part"
        dead_temp.write_bytes(b"half a blob")
        (blobs._tmp / f"{named_for_this_process('4567cdef')}.part").write_bytes(b"in flight")
    report = await store.check_storage()
    expected = ["abandoned_staging"] + (["abandoned_temp"] if dead_temp else [])
    assert _kinds(report) == expected
    assert report["in_flight"] == len(expected)
    repaired = await store.check_storage(repair=True)
    assert repaired["clean"]
    assert await staging.size(dead_key) is None
    assert await staging.size(live_key) == len(b"half a body")
    if dead_temp is not None:
        assert not dead_temp.exists()
    assert (await store.check_storage())["in_flight"] == len(expected)


@pytest.mark.not_on("memory", "s3", reason="no local staging")
async def test_expired_uploads_are_purged(store: ArtifactStore, clock: ManualClock) -> None:
    upload = await store.initiate_multipart_upload(
        MultipartUploadInitRequest(filename="m.bin", mime_type="application/x-test")
    )
    await store.upload_part(upload["upload_id"], 1, b"part")
    clock.advance(context_of(store).settings.upload_expiry_seconds + 1)
    report = await store.check_storage()
    assert _kinds(report) == ["stale_upload"]
    repaired = await store.check_storage(repair=True)
    assert _kinds(repaired, repaired=True) == ["stale_upload"]
    assert repaired["clean"]
    assert await staging_of(store).size(f"{upload['upload_id']}.1") is None
    assert (await store.check_storage())["problems"] == []
