"""Presigned URLs, presigned uploads, multipart and tus uploads through the store API.

Run on every embedded backend and on the remote client. A presigned URL is used the way its
holder would: over HTTP against the remote client's server, and through the store's signed-URL
entry points (what ``satchel serve`` calls) for an embedded store, which has no server. The HTTP
tests (tests/server/) also drive these flows with curl and tuspy.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import ValidationError
from tests.store.internals import context_of, staging_of

from satchel import (
    AccessDeniedError,
    ArtifactExpiredError,
    ArtifactNotFoundError,
    ArtifactStore,
    ArtifactStoreError,
    ChecksumMismatchError,
    ConflictError,
    InvalidRequestError,
    MultipartUploadCompleteRequest,
    MultipartUploadInitRequest,
    MultipartUploadPart,
    Settings,
    TooLargeError,
)
from satchel.client import RemoteArtifactStore
from satchel.client.remote import raise_for_response
from satchel.testing import ManualClock


async def body(*parts: bytes) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


def token_of(url: str) -> str:
    return url.rsplit("/", 1)[1]


def later(store: ArtifactStore, seconds: float) -> None:
    """Move the embedded store's clock (the ``clock`` fixture) *seconds* forward."""
    clock = context_of(store).clock
    assert isinstance(clock, ManualClock)
    clock.advance(seconds)


def is_remote(store: Any) -> bool:
    return isinstance(store, RemoteArtifactStore)


async def fetch_url(store: Any, url: str) -> bytes:
    """GET a presigned URL's bytes (embedded: what ``satchel serve`` does for the GET)."""
    if is_remote(store):
        async with httpx.AsyncClient() as client:
            response = await client.get(url)
        raise_for_response(response)
        return response.content
    async with await store.open_signed_content(token_of(url)) as content:
        return await content.read()


async def put_url(store: Any, url: str, *parts: bytes) -> Any:
    """PUT bytes to a presigned upload or part URL: its size, or a part's ETag."""
    if is_remote(store):
        async with httpx.AsyncClient() as client:
            response = await client.put(url, content=b"".join(parts))
        raise_for_response(response)
        answer = response.json()
        return answer.get("etag", answer.get("size"))
    stored = await store.signed_put(token_of(url), body(*parts))
    return stored.etag if stored.kind == "part" else stored.size


# -- presigned downloads ---------------------------------------------------------------------------
@pytest.mark.satchel_urls("Satchel's token format")
async def test_presigned_url_is_method_bound_and_tamper_proof(store: ArtifactStore) -> None:
    artifact_id = await store.store(b"data", mime="text/plain", user_id="alice")
    url = await store.presign(artifact_id, expires=60, user_id="alice")
    assert await fetch_url(store, url) == b"data"
    payload, signature = token_of(url).split(".")
    assert signature not in repr(url)
    tampered = payload + "." + ("A" if signature[0] != "A" else "B") + signature[1:]
    with pytest.raises(AccessDeniedError, match="signature"):
        await fetch_url(store, url.replace(token_of(url), tampered))
    with pytest.raises(AccessDeniedError, match="allows GET"):
        await put_url(store, url, b"overwrite?")
    assert await store.retrieve(artifact_id, user_id="alice") == b"data"


@pytest.mark.satchel_urls("Satchel's token expiry")
@pytest.mark.embedded_only("moves the store's clock")
async def test_presigned_url_expires(store: ArtifactStore) -> None:
    artifact_id = await store.store(b"data", mime="text/plain", user_id="alice")
    token = token_of(await store.presign(artifact_id, expires=60, user_id="alice"))
    later(store, 120)
    with pytest.raises(AccessDeniedError, match="expired"):
        await store.open_signed_content(token)


async def test_presign_checks_expires_and_access(store: ArtifactStore) -> None:
    artifact_id = await store.store(b"data", mime="text/plain", user_id="alice", scope="user")
    for bad in (0, -5, 10**9, 1.5, "60"):
        with pytest.raises(InvalidRequestError):
            await store.presign(artifact_id, expires=bad, user_id="alice")  # type: ignore[arg-type]
    with pytest.raises(AccessDeniedError):
        await store.presign(artifact_id, user_id="bob")


async def test_a_url_signed_by_another_store_key_is_refused(tmp_path: Path) -> None:
    async with (
        ArtifactStore(settings=Settings(signing_key="k" * 32)) as first,
        ArtifactStore(settings=Settings(signing_key="z" * 32)) as second,
    ):
        artifact_id = await first.store(b"x", mime="text/plain")
        url = await first.presign(artifact_id)
        with pytest.raises(AccessDeniedError):
            await second.open_signed_content(token_of(url))


async def test_the_signing_key_is_kept_in_the_data_dir(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    async with ArtifactStore(storage_provider="filesystem", settings=settings) as first:
        artifact_id = await first.store(b"x", mime="text/plain")
        url = await first.presign(artifact_id)
    key_file = tmp_path / "signing.key"
    assert oct(key_file.stat().st_mode & 0o777) == "0o600"
    async with ArtifactStore(storage_provider="filesystem", settings=settings) as second:
        assert (await second.open_signed_content(token_of(url))).artifact_id == artifact_id


# -- presigned uploads -----------------------------------------------------------------------------
@pytest.mark.satchel_urls("PUTs through Satchel's upload URL")
async def test_presigned_upload_lifecycle(store: ArtifactStore) -> None:
    url, artifact_id = await store.presign_upload(
        session_id="s1", filename="photo.jpg", mime_type="image/jpeg", user_id="alice"
    )
    with pytest.raises(ConflictError, match="nothing has been uploaded"):
        await store.register_uploaded_artifact(artifact_id, mime="image/jpeg", summary="p")
    assert not await store.exists(artifact_id)
    assert await put_url(store, url, b"\xff\xd8", b"jpeg") == 6
    with pytest.raises(AccessDeniedError):
        await store.register_uploaded_artifact(
            artifact_id, mime="image/jpeg", summary="p", user_id="bob"
        )
    assert await store.register_uploaded_artifact(
        artifact_id, mime="image/jpeg", summary="pic", user_id="alice", meta={"k": 1}
    )
    meta = await store.metadata(artifact_id, user_id="alice")
    assert (meta.bytes, meta.sha256, meta.meta) == (
        6,
        "sha256:" + hashlib.sha256(b"\xff\xd8jpeg").hexdigest(),
        {"k": 1},
    )
    with pytest.raises(ConflictError, match="registered already"):
        await store.register_uploaded_artifact(artifact_id, mime="image/jpeg", summary="p")
    with pytest.raises(ConflictError):
        await put_url(store, url, b"again")


@pytest.mark.satchel_urls("PUTs through Satchel's upload URL")
@pytest.mark.embedded_only("moves the store's clock")
async def test_registering_after_expiry_is_refused(store: ArtifactStore) -> None:
    url, artifact_id = await store.presign_upload(session_id="s1", expires=60)
    await store.signed_put(token_of(url), body(b"late"))
    later(store, store.settings.upload_expiry_seconds + 1)
    with pytest.raises(ArtifactExpiredError):
        await store.register_uploaded_artifact(artifact_id, mime="text/plain", summary="x")
    result = await store.purge_expired()
    assert result["uploads"] == 1
    with pytest.raises(ArtifactNotFoundError):
        await store.register_uploaded_artifact(artifact_id, mime="text/plain", summary="x")


async def test_unknown_artifact_cannot_be_registered(store: ArtifactStore) -> None:
    with pytest.raises(ArtifactNotFoundError):
        await store.register_uploaded_artifact("f" * 32, mime="text/plain", summary="x")


# -- multipart -------------------------------------------------------------------------------------


@pytest.fixture
async def small_parts(make_store: Any) -> ArtifactStore:
    store: ArtifactStore = await make_store(multipart_min_part_bytes=8)
    return store


async def start(store: ArtifactStore, **fields: Any) -> dict[str, Any]:
    request = MultipartUploadInitRequest(filename="big.bin", user_id="alice", **fields)
    return await store.initiate_multipart_upload(request)


@pytest.mark.satchel_urls("parts below S3's 5 MiB minimum")
async def test_parallel_out_of_order_parts_assemble_in_order(small_parts: ArtifactStore) -> None:
    store = small_parts
    started = await start(store, meta={"run": 7})
    chunks = {n: os.urandom(8 + n) for n in range(1, 7)}

    async def send(n: int) -> MultipartUploadPart:
        url = await store.get_part_upload_url(started["upload_id"], n, user_id="alice")
        etag = await put_url(store, url, chunks[n])
        return MultipartUploadPart(PartNumber=n, ETag=f'"{etag}"')

    parts = await asyncio.gather(*(send(n) for n in (4, 2, 6, 1, 5, 3)))
    parts.sort(key=lambda part: part.PartNumber)
    artifact_id = await store.complete_multipart_upload(
        MultipartUploadCompleteRequest(upload_id=started["upload_id"], parts=parts)
    )
    assert artifact_id == started["artifact_id"]
    expected = b"".join(chunks[n] for n in range(1, 7))
    assert await store.retrieve(artifact_id, user_id="alice") == expected
    assert (await store.metadata(artifact_id, user_id="alice")).meta == {"run": 7}


@pytest.mark.satchel_urls("parts below S3's 5 MiB minimum")
async def test_complete_refuses_missing_wrong_and_unordered_parts(
    small_parts: ArtifactStore,
) -> None:
    store = small_parts
    started = await start(store)
    upload_id = started["upload_id"]
    one = await store.upload_part(upload_id, 1, body(b"A" * 8), user_id="alice")
    two = await store.upload_part(upload_id, 2, body(b"tail"), user_id="alice")
    with pytest.raises(ValidationError, match="at least 1 item"):  # the model refuses no parts
        MultipartUploadCompleteRequest(upload_id=upload_id, parts=[])
    bad_requests = [
        [MultipartUploadPart(PartNumber=1, ETag=one), MultipartUploadPart(PartNumber=3, ETag=two)],
        [MultipartUploadPart(PartNumber=1, ETag="0" * 32)],
        [MultipartUploadPart(PartNumber=2, ETag=two), MultipartUploadPart(PartNumber=1, ETag=one)],
        [MultipartUploadPart(PartNumber=2, ETag=two), MultipartUploadPart(PartNumber=2, ETag=two)],
        # part 2 is only 4 bytes: too small unless it is the last
        [MultipartUploadPart(PartNumber=2, ETag=two), MultipartUploadPart(PartNumber=3, ETag=two)],
    ]
    before = await store.get_stats()
    for parts in bad_requests:
        with pytest.raises(InvalidRequestError):
            await store.complete_multipart_upload(
                MultipartUploadCompleteRequest(upload_id=upload_id, parts=parts)
            )
    assert await store.get_stats() == before
    assert not await store.exists(started["artifact_id"])
    good = [
        MultipartUploadPart(PartNumber=1, ETag=one),
        MultipartUploadPart(PartNumber=2, ETag=two),
    ]
    done = await store.complete_multipart_upload(
        MultipartUploadCompleteRequest(upload_id=upload_id, parts=good)
    )
    assert await store.retrieve(done) == b"A" * 8 + b"tail"
    with pytest.raises(ConflictError):
        await store.complete_multipart_upload(
            MultipartUploadCompleteRequest(upload_id=upload_id, parts=good)
        )


@pytest.mark.satchel_urls("parts below S3's 5 MiB minimum")
async def test_abort_reclaims_parts_and_ends_the_upload(small_parts: ArtifactStore) -> None:
    store = small_parts
    started = await start(store)
    upload_id = started["upload_id"]
    url = await store.get_part_upload_url(upload_id, 1, user_id="alice")
    await put_url(store, url, b"P" * 10)
    assert await staging_of(store).size(f"{upload_id}.1") == 10
    with pytest.raises(AccessDeniedError):
        await store.abort_multipart_upload(upload_id, user_id="bob")
    assert await store.abort_multipart_upload(upload_id, user_id="alice") is True
    assert await staging_of(store).size(f"{upload_id}.1") is None
    with pytest.raises(ArtifactNotFoundError):
        await put_url(store, url, b"late")


@pytest.mark.embedded_only("moves the store's clock")
async def test_expired_multipart_uploads_are_reclaimed(small_parts: ArtifactStore) -> None:
    store = small_parts
    started = await start(store)
    await store.upload_part(started["upload_id"], 1, body(b"P" * 10), user_id="alice")
    later(store, store.settings.upload_expiry_seconds + 1)
    assert (await store.purge_expired())["uploads"] == 1
    assert await staging_of(store).size(f"{started['upload_id']}.1") is None


async def test_part_numbers_are_checked(small_parts: ArtifactStore) -> None:
    started = await start(small_parts)
    for bad in (0, 10_001, -1):
        with pytest.raises(InvalidRequestError):
            await small_parts.get_part_upload_url(started["upload_id"], bad, user_id="alice")


# -- tus -------------------------------------------------------------------------------------------


@pytest.mark.embedded_only("the store side of /v1/tus/ (tests/server/test_tus_http.py drives it)")
async def test_tus_upload_completes_into_an_artifact(store: ArtifactStore) -> None:
    upload = await store.tus_create(
        length=10,
        metadata={"filename": "t.bin", "mime": "text/plain", "meta": '{"a": 1}', "scope": "user"},
        user_id="alice",
    )
    checksum = ("sha1", hashlib.sha1(b"01234").digest())
    upload = await store.tus_append(
        upload.upload_id, 0, body(b"01234"), checksum=checksum, user_id="alice"
    )
    assert (upload.offset, upload.state) == (5, "open")
    with pytest.raises(ConflictError):
        await store.tus_append(upload.upload_id, 3, body(b"xx"), user_id="alice")
    with pytest.raises(ChecksumMismatchError):
        await store.tus_append(
            upload.upload_id, 5, body(b"56789"), checksum=("sha1", b"\0" * 20), user_id="alice"
        )
    assert (await store.tus_info(upload.upload_id, user_id="alice")).offset == 5
    with pytest.raises(AccessDeniedError):
        await store.tus_append(upload.upload_id, 5, body(b"56789"), user_id="bob")
    done = await store.tus_append(upload.upload_id, 5, body(b"56789"), user_id="alice")
    assert (done.state, done.offset) == ("completed", 10)
    meta = await store.metadata(done.artifact_id, user_id="alice")
    assert (meta.filename, meta.scope, meta.meta, meta.bytes) == ("t.bin", "user", {"a": 1}, 10)
    assert await store.retrieve(done.artifact_id, user_id="alice") == b"0123456789"
    info = await store.tus_info(upload.upload_id, user_id="alice")
    assert (info.state, info.offset) == ("completed", 10)


@pytest.mark.embedded_only("the store side of /v1/tus/ (tests/server/test_tus_http.py drives it)")
async def test_a_tus_body_in_one_patch_completes_at_its_full_offset(store: ArtifactStore) -> None:
    upload = await store.tus_create(length=6, user_id="alice")
    done = await store.tus_append(upload.upload_id, 0, body(b"abcdef"), user_id="alice")
    assert (done.state, done.offset) == ("completed", 6)
    assert await store.retrieve(done.artifact_id, user_id="alice") == b"abcdef"


@pytest.mark.embedded_only("the store side of /v1/tus/ (tests/server/test_tus_http.py drives it)")
async def test_tus_refuses_bytes_past_the_length_and_terminates(store: ArtifactStore) -> None:
    upload = await store.tus_create(length=4, user_id="alice")
    with pytest.raises(TooLargeError) as caught:
        await store.tus_append(upload.upload_id, 0, body(b"too long"), user_id="alice")
    assert caught.value.status_code == 413
    assert (await store.tus_info(upload.upload_id, user_id="alice")).offset == 0
    await store.tus_terminate(upload.upload_id, user_id="alice")
    with pytest.raises(ArtifactNotFoundError):
        await store.tus_info(upload.upload_id, user_id="alice")


async def test_tus_upload_resumes_after_a_restart(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    async with ArtifactStore(storage_provider="filesystem", settings=settings) as first:
        upload = await first.tus_create(length=8, user_id="alice")
        await first.tus_append(upload.upload_id, 0, body(b"abcd"), user_id="alice")
    async with ArtifactStore(storage_provider="filesystem", settings=settings) as second:
        info = await second.tus_info(upload.upload_id, user_id="alice")
        assert info.offset == 4
        done = await second.tus_append(upload.upload_id, 4, body(b"efgh"), user_id="alice")
        assert await second.retrieve(done.artifact_id, user_id="alice") == b"abcdefgh"


@pytest.mark.embedded_only("feeds the store a part body that breaks half-way")
async def test_a_failed_retry_of_a_part_cannot_slip_into_the_artifact(
    store: ArtifactStore, backend: str
) -> None:
    """A part PUT again (a client's retry) that breaks half-way leaves other bytes staged under
    the part's key; completing with the ETag accepted before must not assemble them."""
    good = os.urandom(100_000)
    upload_id = (await start(store))["upload_id"]
    etag = await store.upload_part(upload_id, 1, body(good), user_id="alice")

    async def cut_off() -> AsyncIterator[bytes]:
        yield good[:30_000]
        raise ConnectionResetError("the client went away")

    with pytest.raises((ConnectionResetError, ArtifactStoreError)):
        await store.upload_part(upload_id, 1, cut_off(), user_id="alice")
    complete = MultipartUploadCompleteRequest(
        upload_id=upload_id, parts=[MultipartUploadPart(PartNumber=1, ETag=etag)]
    )
    if backend == "memory":  # memory staging keeps the accepted bytes: it completes
        artifact_id = await store.complete_multipart_upload(complete, user_id="alice")
    else:  # files and S3 hold the broken retry's bytes: refused, and the part is sent again
        with pytest.raises(ConflictError, match="not the ones accepted"):
            await store.complete_multipart_upload(complete, user_id="alice")
        etag = await store.upload_part(upload_id, 1, body(good), user_id="alice")
        complete = MultipartUploadCompleteRequest(
            upload_id=upload_id, parts=[MultipartUploadPart(PartNumber=1, ETag=etag)]
        )
        artifact_id = await store.complete_multipart_upload(complete, user_id="alice")
    assert await store.retrieve(artifact_id, user_id="alice") == good


@pytest.mark.not_on("memory", reason="an in-memory store is one process's own")
@pytest.mark.embedded_only("two stores over one data directory, as two workers or replicas")
async def test_a_tus_upload_takes_one_patch_at_a_time_across_processes(
    make_store: Any, tmp_path: Path
) -> None:
    """While one worker streams a PATCH, a second PATCH of the same upload on another worker
    (a client retry) is refused instead of staging its bytes over the first's; a lease left by
    a crashed worker is taken over once it expires."""
    first = await make_store(data_dir=tmp_path / "shared")
    second = await make_store(data_dir=tmp_path / "shared")
    upload = await first.tus_create(length=10, metadata={"filename": "x.bin"}, user_id="alice")
    release = asyncio.Event()

    async def slow() -> AsyncIterator[bytes]:
        yield b"AAAAA"
        await release.wait()
        yield b"AAAAA"

    streaming = asyncio.create_task(first.tus_append(upload.upload_id, 0, slow(), user_id="alice"))
    await asyncio.sleep(0.3)  # the first PATCH holds the upload now
    with pytest.raises(ConflictError, match="being written by another request"):
        await second.tus_append(upload.upload_id, 0, body(b"BBBBBBBBBB"), user_id="alice")
    release.set()
    done = await streaming
    assert await second.retrieve(done.artifact_id, user_id="alice") == b"AAAAAAAAAA"

    stale = await first.tus_create(length=4, metadata={"filename": "y.bin"}, user_id="alice")
    record = await first._tus.uploads.find(stale.upload_id)
    assert record is not None
    await first._tus._take_lease(record)  # as if its worker died mid-PATCH
    with pytest.raises(ConflictError, match="being written by another request"):
        await second.tus_append(stale.upload_id, 0, body(b"late"), user_id="alice")
    later(second, 901)  # past the lease
    finished = await second.tus_append(stale.upload_id, 0, body(b"late"), user_id="alice")
    assert await second.retrieve(finished.artifact_id, user_id="alice") == b"late"


@pytest.mark.embedded_only("moves the store's clock")
async def test_completing_into_an_expired_session_writes_no_bytes(
    make_store: Any, snapshot: Any
) -> None:
    # a long grace period: bytes stored and then discarded would still be there to see
    store = await make_store(
        session_ttl_hours=1, multipart_min_part_bytes=1, gc_grace_seconds=86400
    )
    started = await start(store)
    etag = await store.upload_part(started["upload_id"], 1, b"P" * 64, user_id="alice")
    later(store, 2 * 3600)  # the session is gone; the upload (24 h) is not
    before = await snapshot(store)
    request = MultipartUploadCompleteRequest(
        upload_id=started["upload_id"], parts=[MultipartUploadPart(PartNumber=1, ETag=etag)]
    )
    with pytest.raises(ArtifactExpiredError):
        await store.complete_multipart_upload(request, user_id="alice")
    assert await snapshot(store) == before  # refused before a byte reached the blob store
