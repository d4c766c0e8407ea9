"""Presigned URLs and direct uploads of the S3 backend, fetched with plain httpx.

Every test runs on moto and on Ceph RGW (``[moto]`` / ``[ceph]``).
"""

from __future__ import annotations

import hashlib

import pytest
from tests.harness.s3 import MakeStore, S3Endpoint, http_get, http_put

from satchel.blobs.s3 import S3BlobStore
from satchel.blobs.s3_uploads import DirectUpload
from satchel.core.errors import (
    ConflictError,
    InvalidRequestError,
    NotSupportedError,
    TooLargeError,
)
from satchel.testing.blobstore import MiB, digest_of, make_data, read_all, stream


def leftovers(endpoint: S3Endpoint, store: S3BlobStore) -> list[str]:
    """Keys and multipart uploads outside the content keys."""
    bucket = store.config.bucket
    keys = [key for key in endpoint.keys(bucket) if "/blobs/" not in f"/{key}"]
    return keys + [f"upload {key}" for key in endpoint.multipart_uploads(bucket)]


async def test_presigned_get_downloads_with_plain_http(
    make_s3_store: MakeStore, s3_endpoint: S3Endpoint
) -> None:
    store = make_s3_store(key_prefix="p")
    data = make_data(70_000, seed=1)
    info = await store.put_stream(stream([data]))
    url = await store.presign_get(
        info.digest, 300, filename="résumé 2024.pdf", content_type="application/pdf"
    )
    assert "X-Amz-Signature=" in url
    answer = await http_get(url)
    assert answer.status_code == 200
    assert answer.content == data
    assert answer.headers["content-type"] == "application/pdf"
    disposition = answer.headers["content-disposition"]
    assert disposition.startswith("attachment;")
    assert "filename*=UTF-8''r%C3%A9sum%C3%A9%202024.pdf" in disposition
    if s3_endpoint.enforces:
        tampered = url.replace("X-Amz-Signature=", "X-Amz-Signature=0")
        assert (await http_get(tampered)).status_code == 403
    plain = await http_get(await store.presign_get(info.digest, 60))
    assert plain.content == data


@pytest.mark.parametrize("expires_in", [0, -5, 7 * 24 * 3600 + 1])
async def test_presign_expiry_is_bounded(make_s3_store: MakeStore, expires_in: int) -> None:
    store = make_s3_store()
    with pytest.raises(InvalidRequestError):
        await store.presign_get(digest_of(b"x"), expires_in)
    with pytest.raises(InvalidRequestError):
        await store.presign_put(await store.create_direct_upload(), expires_in)


async def test_direct_upload_with_one_presigned_put(
    make_s3_store: MakeStore, s3_endpoint: S3Endpoint
) -> None:
    store = make_s3_store()
    data = make_data(300_000, seed=2)
    upload = await store.create_direct_upload()
    assert upload.multipart_id is None
    assert upload.key == f"uploads/{upload.upload_id}"
    url = await store.presign_put(upload, 300)
    assert (await http_put(url, data)).status_code == 200
    assert (await store.head(digest_of(data))) is None  # nothing published yet
    info = await store.complete_direct_upload(upload, expected_digest=digest_of(data))
    assert (info.digest, info.size, info.created) == (digest_of(data), len(data), True)
    assert await read_all(store, info.digest) == data
    assert leftovers(s3_endpoint, store) == []


@pytest.mark.parametrize("report_parts", [False, True])
async def test_direct_upload_with_presigned_parts(
    make_s3_store: MakeStore, s3_endpoint: S3Endpoint, report_parts: bool
) -> None:
    store = make_s3_store()
    data = make_data(11 * MiB + 7, seed=3)
    pieces = [data[: 5 * MiB], data[5 * MiB : 10 * MiB], data[10 * MiB :]]
    upload = await store.create_direct_upload(multipart=True)
    assert upload.multipart_id
    etags = []
    for number, piece in enumerate(pieces, start=1):
        answer = await http_put(await store.presign_put_part(upload, number, 300), piece)
        assert answer.status_code == 200
        etags.append((number, answer.headers["etag"]))
    parts = etags if report_parts else None
    info = await store.complete_direct_upload(upload, parts=parts, max_bytes=len(data))
    assert (info.digest, info.size) == (digest_of(data), len(data))
    assert await read_all(store, info.digest) == data
    assert leftovers(s3_endpoint, store) == []


async def test_direct_upload_that_fails_verification_publishes_nothing(
    make_s3_store: MakeStore, s3_endpoint: S3Endpoint
) -> None:
    store = make_s3_store()
    data = make_data(50_000, seed=4)
    for checks, error in [
        ({"expected_digest": digest_of(b"something else")}, InvalidRequestError),
        ({"max_bytes": len(data) - 1}, TooLargeError),
    ]:
        upload = await store.create_direct_upload()
        (await http_put(await store.presign_put(upload, 60), data)).raise_for_status()
        with pytest.raises(error):
            await store.complete_direct_upload(upload, **checks)  # type: ignore[arg-type]
        assert await store.head(digest_of(data)) is None
        assert s3_endpoint.keys(store.config.bucket) == []  # the staged bytes are gone too


async def test_direct_upload_of_existing_content_is_deduplicated(
    make_s3_store: MakeStore, s3_endpoint: S3Endpoint
) -> None:
    store = make_s3_store()
    data = make_data(20_000, seed=5)
    await store.put_stream(stream([data]))
    upload = await store.create_direct_upload()
    (await http_put(await store.presign_put(upload, 60), data)).raise_for_status()
    info = await store.complete_direct_upload(upload)
    assert (info.digest, info.created) == (digest_of(data), False)
    assert leftovers(s3_endpoint, store) == []


async def test_completing_an_empty_upload_is_a_conflict(
    make_s3_store: MakeStore, s3_endpoint: S3Endpoint
) -> None:
    store = make_s3_store()
    with pytest.raises(ConflictError):
        await store.complete_direct_upload(await store.create_direct_upload())
    with pytest.raises(ConflictError):
        await store.complete_direct_upload(await store.create_direct_upload(multipart=True))
    assert leftovers(s3_endpoint, store) == []


async def test_abort_direct_upload_forgets_staged_parts(
    make_s3_store: MakeStore, s3_endpoint: S3Endpoint
) -> None:
    store = make_s3_store()
    upload = await store.create_direct_upload(multipart=True)
    url = await store.presign_put_part(upload, 1, 60)
    (await http_put(url, make_data(5 * MiB, seed=6))).raise_for_status()
    assert s3_endpoint.multipart_uploads(store.config.bucket) == [upload.key]
    await store.abort_direct_upload(upload)
    await store.abort_direct_upload(upload)  # idempotent
    assert leftovers(s3_endpoint, store) == []


async def test_direct_upload_keys_come_from_the_backend(make_s3_store: MakeStore) -> None:
    store = make_s3_store(key_prefix="tenant")
    with pytest.raises(InvalidRequestError):
        store.direct_upload("../../blobs/sha256")
    hexdigest = hashlib.sha256(b"victim").hexdigest()
    victim = f"tenant/blobs/sha256/{hexdigest[:2]}/{hexdigest[2:4]}/{hexdigest}"
    forged = DirectUpload(upload_id="0" * 32, key=victim)
    url = await store.presign_put(forged, 60)
    assert f"/tenant/uploads/{'0' * 32}?" in url
    assert "blobs" not in url
    with pytest.raises(InvalidRequestError):
        await store.presign_put_part(forged, 1, 60)  # not a multipart upload
    multipart = await store.create_direct_upload(multipart=True)
    with pytest.raises(InvalidRequestError):
        await store.presign_put(multipart, 60)
    with pytest.raises(InvalidRequestError):
        await store.presign_put_part(multipart, 10_001, 60)
    await store.abort_direct_upload(multipart)


async def test_sse_c_store_refuses_presigned_downloads(make_s3_store: MakeStore) -> None:
    store = make_s3_store(sse_customer_key=b"\x07" * 32)
    with pytest.raises(NotSupportedError, match="SSE-C"):
        await store.presign_get(digest_of(b"x"), 60)


async def test_a_put_racing_the_completion_cannot_change_what_is_published(
    make_s3_store: MakeStore,
) -> None:
    """The single PUT URL stays valid until it expires: a second PUT landing between the
    verification and the publication must not put other bytes under the verified digest."""
    store = make_s3_store()
    good, evil = make_data(1000, seed=5), make_data(1000, seed=6)
    upload = await store.create_direct_upload()
    url = await store.presign_put(upload, 300)
    assert (await http_put(url, good)).status_code == 200
    publish = store._writer.publish

    async def racing_publish(*args: object, **kwargs: object) -> bool:
        assert (await http_put(url, evil)).status_code == 200  # the client's second PUT
        return await publish(*args, **kwargs)  # type: ignore[arg-type]

    store._writer.publish = racing_publish  # type: ignore[method-assign]
    info = await store.complete_direct_upload(upload)
    assert info.digest == digest_of(good)
    assert await read_all(store, info.digest) == good
