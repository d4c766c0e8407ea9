"""Gaps a new user hit in the contract, closed on every backend and through the remote client:
a missing media type is guessed from the filename, ``upload_part`` takes bytes, the caller of
``complete_multipart_upload`` is named like every other caller, ``search`` finds content by
digest, and presigned URLs say when they expire."""

from __future__ import annotations

import hashlib
import time
from typing import Any

import pytest

from satchel import (
    AccessDeniedError,
    ArtifactStore,
    MultipartUploadCompleteRequest,
    MultipartUploadInitRequest,
    MultipartUploadPart,
    PreconditionFailedError,
    PresignedURL,
    StreamUploadRequest,
)


async def _one(data: bytes) -> Any:
    yield data


@pytest.mark.parametrize(
    ("filename", "expected"),
    [
        ("report.pdf", "application/pdf"),
        ("docs/notes.txt", "text/plain"),
        ("photo.JPG", "image/jpeg"),
        ("archive.tar.gz", "application/gzip"),  # what the bytes are: compressed
        ("data.csv.gz", "application/gzip"),
        ("logs.txt.xz", "application/x-xz"),
        ("no-extension", "application/octet-stream"),
        (None, "application/octet-stream"),
    ],
)
async def test_a_missing_mime_is_guessed_from_the_filename(
    store: ArtifactStore, filename: str | None, expected: str
) -> None:
    stored = await store.store(b"x", filename=filename, session_id="m")
    assert (await store.metadata(stored)).mime == expected
    streamed = await store.stream_upload(
        StreamUploadRequest(data_stream=_one(b"y"), filename=filename, session_id="m")
    )
    assert (await store.metadata(streamed)).mime == expected
    batch = await store.store_batch([{"data": b"z", "filename": filename}], session_id="m")
    assert (await store.metadata(batch[0])).mime == expected


async def test_a_given_mime_wins_and_updates_keep_the_type(store: ArtifactStore) -> None:
    stored = await store.store(b"{}", mime="application/json", filename="data.txt")
    assert (await store.metadata(stored)).mime == "application/json"
    updated = await store.update_file(stored, data=b"[]")
    assert updated.mime == "application/json"


async def test_upload_part_takes_bytes_and_the_caller_completes_by_name(
    store: ArtifactStore,
) -> None:
    started = await store.initiate_multipart_upload(
        MultipartUploadInitRequest(filename="data.bin", user_id="alice", scope="user")
    )
    upload_id = started["upload_id"]
    etag = await store.upload_part(upload_id, 1, b"raw bytes, no stream", user_id="alice")
    request = MultipartUploadCompleteRequest(
        upload_id=upload_id, parts=[MultipartUploadPart(PartNumber=1, ETag=etag)]
    )
    with pytest.raises(AccessDeniedError):
        await store.complete_multipart_upload(request, user_id="bob")
    done = await store.complete_multipart_upload(request, user_id="alice")
    assert await store.retrieve(done, user_id="alice") == b"raw bytes, no stream"


async def test_search_finds_content_by_digest_among_what_the_caller_reads(
    store: ArtifactStore,
) -> None:
    data = b"the same report"
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    mine = await store.store(data, user_id="alice", scope="user", filename="a.txt")
    theirs = await store.store(data, user_id="bob", scope="user", filename="b.txt")
    await store.store(b"other", user_id="alice", scope="user")
    found = await store.search(user_id="alice", scope="user", sha256=digest)
    assert [m.artifact_id for m in found] == [mine]
    assert theirs not in {m.artifact_id for m in await store.search(sha256=digest, user_id="alice")}


async def test_presigned_urls_carry_their_expiry(store: ArtifactStore) -> None:
    artifact_id = await store.store(b"x", user_id="alice")
    before = time.time()
    url = await store.presign(artifact_id, 600, user_id="alice")
    assert isinstance(url, PresignedURL)
    assert url.url == str(url)
    assert isinstance(url.url, str)
    assert url.expires_at is not None
    assert before + 590 <= url.expires_at <= time.time() + 601
    assert "signature redacted" in repr(url)
    short = await store.presign_short(artifact_id, user_id="alice")  # 15 minutes
    assert short.expires_at is not None
    assert url.expires_at < short.expires_at <= time.time() + 901
    upload_url, _ = await store.presign_upload(session_id="p", user_id="alice", expires=120)
    assert upload_url.expires_at is not None
    assert upload_url.expires_at <= time.time() + 121


async def test_a_left_out_summary_may_be_none(store: ArtifactStore) -> None:
    stored = await store.store(b"x", summary=None, session_id="m")  # type: ignore[arg-type]
    assert (await store.metadata(stored)).summary == ""


async def test_if_match_takes_a_star_or_a_quoted_etag_on_every_face(store: ArtifactStore) -> None:
    artifact_id = await store.store(b"x", session_id="m")
    etag = (await store.metadata(artifact_id)).etag
    changed = await store.update_metadata(artifact_id, summary="any version", if_match="*")
    quoted = await store.update_metadata(
        artifact_id, summary="quoted", if_match=f'"{changed.etag}"'
    )
    assert quoted.summary == "quoted"
    for stale in (etag, f'"{etag}"', f'W/"{quoted.etag}"'):  # If-Match compares strongly
        with pytest.raises(PreconditionFailedError):
            await store.update_metadata(artifact_id, summary="no", if_match=stale)
    assert await store.delete(artifact_id, if_match="*")
