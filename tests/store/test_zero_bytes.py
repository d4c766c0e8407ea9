"""Zero-byte artifacts are artifacts like any other (``_SUCCESS`` markers, empty outputs): they
are stored, read, listed, copied, replaced, presigned and uploaded through every upload kind,
on every backend and through the remote client."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from satchel import (
    ArtifactStore,
    ByteRange,
    MultipartUploadCompleteRequest,
    MultipartUploadInitRequest,
    MultipartUploadPart,
    RangeNotSatisfiableError,
    RemoteArtifactStore,
    StreamDownloadRequest,
    StreamUploadRequest,
)

EMPTY_SHA = "sha256:" + hashlib.sha256(b"").hexdigest()


async def nothing() -> AsyncIterator[bytes]:
    return
    yield b""  # pragma: no cover


async def fetch(store: Any, url: str) -> bytes:
    """GET a presigned URL: Satchel's own through the embedded store (what ``satchel serve``
    does for it), any other (the server's, S3's) over HTTP."""
    if "/v1/signed/" in url and not isinstance(store, RemoteArtifactStore):
        async with await store.open_signed_content(url.rsplit("/", 1)[1]) as content:
            return await content.read()
    async with httpx.AsyncClient() as http:
        response = await http.get(url)
    assert response.status_code == 200, response.text
    return response.content


async def test_store_read_list_copy_and_presign(store: ArtifactStore) -> None:
    empty = await store.store(b"", mime="text/plain", filename="out/_SUCCESS", session_id="z")
    meta = await store.metadata(empty)
    assert (meta.bytes, meta.sha256, meta.filename) == (0, EMPTY_SHA, "out/_SUCCESS")
    assert await store.retrieve(empty) == b""
    assert await store.read_file(empty, as_text=True) == ""
    assert await store.exists(empty)
    request = StreamDownloadRequest(artifact_id=empty, session_id="z")
    assert [chunk async for chunk in store.stream_download(request)] == []

    listed = await store.list_by_session("z")
    assert [(m.artifact_id, m.bytes) for m in listed] == [(empty, 0)]
    assert [m.artifact_id for m in await store.get_directory_contents("z", "out/")] == [empty]
    assert empty in {m.artifact_id for m in await store.search(sha256=EMPTY_SHA, session_id="z")}

    copy = await store.copy_file(empty, new_filename="out/_SUCCESS.bak")
    assert ((await store.metadata(copy)).bytes, await store.retrieve(copy)) == (0, b"")

    url = await store.presign(empty, expires=60)
    assert await fetch(store, url) == b""
    await store.delete(copy)
    assert await store.delete(empty)


async def test_stream_upload_of_an_empty_stream(store: ArtifactStore) -> None:
    artifact_id = await store.stream_upload(
        StreamUploadRequest(data_stream=nothing(), filename="empty.bin", session_id="z")
    )
    meta = await store.metadata(artifact_id)
    assert (meta.bytes, meta.sha256, meta.mime) == (0, EMPTY_SHA, "application/octet-stream")
    declared = await store.stream_upload(
        StreamUploadRequest(data_stream=nothing(), content_length=0, session_id="z")
    )
    assert (await store.metadata(declared)).bytes == 0


async def test_content_can_be_replaced_by_nothing_and_back(store: ArtifactStore) -> None:
    artifact_id = await store.store(b"something", mime="text/plain", session_id="z")
    emptied = await store.update_file(artifact_id, data=b"")
    assert (emptied.bytes, emptied.sha256, emptied.version) == (0, EMPTY_SHA, 2)
    assert await store.retrieve(artifact_id) == b""
    restored = await store.update_file(artifact_id, data=b"something else")
    assert (restored.bytes, await store.retrieve(artifact_id)) == (14, b"something else")


async def test_opened_empty_content_has_no_range(store: ArtifactStore) -> None:
    empty = await store.store(b"", mime="text/plain")
    async with await store.open_content(empty) as content:
        assert (content.status, content.length, content.size) == (200, 0, 0)
        assert await content.read() == b""
    with pytest.raises(RangeNotSatisfiableError):
        await store.open_content(empty, byte_range=ByteRange(0))


async def test_a_resumable_upload_of_length_zero_is_complete_at_once(store: ArtifactStore) -> None:
    status = await store.tus_create(length=0, metadata={"filename": "_SUCCESS"}, user_id="alice")
    assert status.complete
    assert (status.offset, status.length) == (0, 0)
    meta = await store.metadata(status.artifact_id, user_id="alice")
    assert (meta.bytes, meta.filename, meta.owner_id) == (0, "_SUCCESS", "alice")
    info = await store.tus_info(status.upload_id, user_id="alice")
    assert (info.complete, info.length, info.offset) == (True, 0, 0)
    assert info.expires_at == pytest.approx(status.expires_at, abs=1)


async def test_a_multipart_upload_of_one_empty_part(store: ArtifactStore) -> None:
    started = await store.initiate_multipart_upload(
        MultipartUploadInitRequest(filename="empty.dat", user_id="alice")
    )
    etag = await store.upload_part(started["upload_id"], 1, b"", user_id="alice")
    done = await store.complete_multipart_upload(
        MultipartUploadCompleteRequest(
            upload_id=started["upload_id"], parts=[MultipartUploadPart(PartNumber=1, ETag=etag)]
        ),
        user_id="alice",
    )
    meta = await store.metadata(done, user_id="alice")
    assert (done, meta.bytes, meta.sha256) == (started["artifact_id"], 0, EMPTY_SHA)


@pytest.mark.satchel_urls("PUTs an empty body through Satchel's upload URL")
async def test_a_presigned_upload_of_nothing(store: ArtifactStore) -> None:
    url, artifact_id = await store.presign_upload(session_id="z", filename="_SUCCESS")
    token = url.rsplit("/", 1)[1]
    if isinstance(store, RemoteArtifactStore):
        async with httpx.AsyncClient() as http:
            assert (await http.put(url, content=b"")).json() == {"kind": "upload", "size": 0}
    else:
        assert (await store.signed_put(token, b"")).size == 0
    assert await store.register_uploaded_artifact(artifact_id, summary="done")
    assert (await store.metadata(artifact_id)).bytes == 0
