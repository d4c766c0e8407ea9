"""The S3 blob backend beyond the conformance suite: how it writes, reads, fails and cleans up.

Tests taking ``make_s3_store`` run on moto and on Ceph RGW (``[moto]`` / ``[ceph]``).
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import EndpointConnectionError
from tests.harness.s3 import CallLog, MakeStore, S3Endpoint

from satchel.blobs.registry import create_blob_store
from satchel.blobs.s3 import S3BlobStore, part_size_for
from satchel.core.errors import (
    BlobNotFoundError,
    InvalidRequestError,
    ProviderError,
    ProviderUnavailableError,
    TooLargeError,
)
from satchel.testing.blobstore import MiB, digest_of, make_data, read_all, stream


def split(data: bytes, size: int) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


def content_key(store: S3BlobStore, data: bytes) -> str:
    hexdigest = hashlib.sha256(data).hexdigest()
    return f"{store.config.key_prefix}blobs/sha256/{hexdigest[:2]}/{hexdigest[2:4]}/{hexdigest}"


def all_keys_and_uploads(endpoint: S3Endpoint, store: S3BlobStore) -> list[str]:
    bucket = store.config.bucket
    return endpoint.keys(bucket) + [f"upload {k}" for k in endpoint.multipart_uploads(bucket)]


# -- writing -----------------------------------------------------------------------------------


async def test_small_blob_is_one_put_at_its_content_key(make_s3_store: MakeStore) -> None:
    store = make_s3_store(key_prefix="tenant-a")
    log = await CallLog.attach(store)
    data = make_data(300_000, seed=1)
    info = await store.put_stream(stream(split(data, 64_000)))
    assert info.created
    assert "CreateMultipartUpload" not in log.names()
    (put,) = log.of("PutObject")
    assert put["Key"] == content_key(store, data)
    assert put["Key"].startswith("tenant-a/blobs/")
    assert put["BodySize"] == len(data)


async def test_large_blob_goes_multipart_in_parts_of_part_size(
    make_s3_store: MakeStore, s3_endpoint: S3Endpoint
) -> None:
    store = make_s3_store(multipart_threshold=2 * MiB, part_size=5 * MiB)
    data = make_data(12 * MiB + 3, seed=2)
    paused, resume = asyncio.Event(), asyncio.Event()

    async def chunks() -> AsyncIterator[bytes]:
        for piece in split(data[: 11 * MiB], 512 * 1024):
            yield piece
        paused.set()
        await resume.wait()  # hold the upload open so its parts can be seen through S3
        yield data[11 * MiB :]

    task = asyncio.create_task(store.put_stream(chunks()))
    await asyncio.wait_for(paused.wait(), 30)
    client, bucket = s3_endpoint.client(), store.config.bucket
    (upload,) = client.list_multipart_uploads(Bucket=bucket)["Uploads"]
    assert upload["Key"].startswith("staging/")
    parts = client.list_parts(Bucket=bucket, Key=upload["Key"], UploadId=upload["UploadId"])
    assert [part["Size"] for part in parts["Parts"]] == [5 * MiB, 5 * MiB]
    assert s3_endpoint.keys(bucket) == []  # nothing visible while the upload is open
    resume.set()
    info = await task
    assert (info.digest, info.size, info.created) == (digest_of(data), len(data), True)
    assert all_keys_and_uploads(s3_endpoint, store) == [content_key(store, data)]
    assert await read_all(store, info.digest) == data


async def test_identical_content_is_not_uploaded_again(
    make_s3_store: MakeStore, s3_endpoint: S3Endpoint
) -> None:
    store = make_s3_store()
    small, large = make_data(10_000, seed=3), make_data(6 * MiB, seed=4)
    await store.put_stream(stream([small]))
    await store.put_stream(stream(split(large, MiB)))
    log = await CallLog.attach(store)
    again_small = await store.put_stream(stream([small]))
    again_large = await store.put_stream(stream(split(large, MiB)))
    assert not again_small.created
    assert not again_large.created
    assert "PutObject" not in log.names()
    assert "CopyObject" not in log.names()
    assert sorted(all_keys_and_uploads(s3_endpoint, store)) == sorted(
        [content_key(store, small), content_key(store, large)]
    )


def test_part_size_doubles_every_thousand_parts() -> None:
    assert [part_size_for(8 * MiB, n) for n in (1, 1000, 1001, 2001)] == [
        8 * MiB,
        8 * MiB,
        16 * MiB,
        32 * MiB,
    ]
    assert part_size_for(8 * MiB, 10_000) == 4096 * MiB
    assert part_size_for(64 * MiB, 10_000) == 5 * 1024 * MiB  # S3's largest part
    total = sum(part_size_for(8 * MiB, n) for n in range(1, 10_001))
    assert total > 5 * 1024**4  # 10 000 parts hold S3's largest object


# -- failures leave nothing behind --------------------------------------------------------------


@pytest.mark.parametrize("size", [300_000, 7 * MiB])
async def test_wrong_expected_digest_stores_nothing(
    make_s3_store: MakeStore, s3_endpoint: S3Endpoint, size: int
) -> None:
    store = make_s3_store()
    data = make_data(size, seed=5)
    with pytest.raises(InvalidRequestError):
        await store.put_stream(stream(split(data, MiB)), expected_digest=digest_of(b"other"))
    assert all_keys_and_uploads(s3_endpoint, store) == []


async def test_too_large_multipart_put_is_aborted(
    make_s3_store: MakeStore, s3_endpoint: S3Endpoint
) -> None:
    store = make_s3_store()
    chunks = [make_data(MiB, seed=i) for i in range(9)]
    with pytest.raises(TooLargeError):
        await store.put_stream(stream(chunks), max_bytes=8 * MiB)
    assert all_keys_and_uploads(s3_endpoint, store) == []


@pytest.mark.parametrize("failing", ["UploadPart", "CompleteMultipartUpload", "CopyObject"])
async def test_failed_s3_call_mid_put_leaves_nothing(
    make_s3_store: MakeStore, s3_endpoint: S3Endpoint, failing: str
) -> None:
    store = make_s3_store()
    log = await CallLog.attach(store)
    log.fail(failing, EndpointConnectionError(endpoint_url=s3_endpoint.url), after=1)
    data = make_data(11 * MiB, seed=6)
    await store.put_stream(stream([make_data(3 * MiB, seed=7)]))  # one call of each succeeds
    with pytest.raises(ProviderUnavailableError):
        await store.put_stream(stream(split(data, MiB)))
    keys = all_keys_and_uploads(s3_endpoint, store)
    assert keys == [content_key(store, make_data(3 * MiB, seed=7))]
    assert await store.head(digest_of(data)) is None


# -- reading -----------------------------------------------------------------------------------


async def test_ranged_read_asks_s3_for_the_range_only(make_s3_store: MakeStore) -> None:
    store = make_s3_store()
    data = make_data(2 * MiB, seed=8)
    info = await store.put_stream(stream([data]))
    log = await CallLog.attach(store)
    assert await read_all(store, info.digest, 1000, 1100) == data[1000:1100]
    assert await read_all(store, info.digest, 5) == data[5:]
    assert await read_all(store, info.digest) == data
    ranges = [get.get("Range") for get in log.of("GetObject")]
    assert ranges == ["bytes=1000-1099", "bytes=5-", None]


async def test_read_resumes_after_a_dropped_connection(
    make_s3_store: MakeStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    from satchel.blobs import s3_client

    store = make_s3_store()
    data = make_data(3 * MiB, seed=9)
    info = await store.put_stream(stream([data]))
    real_read, reads = s3_client._read_up_to, 0

    async def flaky_read(body: Any, size: int) -> bytes:
        nonlocal reads
        reads += 1
        if reads in (2, 5):
            raise ConnectionResetError("connection reset by peer")  # mapped as transient
        return await real_read(body, size)

    monkeypatch.setattr(s3_client, "_read_up_to", flaky_read)
    log = await CallLog.attach(store)
    assert await read_all(store, info.digest, 10, None, chunk_size=512 * 1024) == data[10:]
    ranges = [get.get("Range") for get in log.of("GetObject")]
    assert ranges == ["bytes=10-", f"bytes={10 + 512 * 1024}-", f"bytes={10 + 3 * 512 * 1024}-"]


# -- bulk deletion and housekeeping -------------------------------------------------------------


async def test_delete_prefix_dry_run_then_for_real(
    make_s3_store: MakeStore, s3_endpoint: S3Endpoint
) -> None:
    store = make_s3_store(key_prefix="team")
    contents = [make_data(1000 + i, seed=20 + i) for i in range(3)]
    for data in contents:
        await store.put_stream(stream([data]))
    s3_endpoint.client().put_object(Bucket=store.config.bucket, Key="other/keep", Body=b"x")
    expected = sorted(content_key(store, data)[len("team/") :] for data in contents)

    preview = await store.delete_prefix("blobs/")
    assert preview.dry_run
    assert sorted(preview.keys) == expected
    assert preview.bytes == sum(len(data) for data in contents)
    assert len((await store.list_page()).blobs) == 3

    done = await store.delete_prefix("blobs/", dry_run=False)
    assert not done.dry_run
    assert sorted(done.keys) == expected
    assert done.failed == {}
    assert (await store.list_page()).blobs == []
    assert s3_endpoint.keys(store.config.bucket) == ["other/keep"]  # outside the prefix


@pytest.mark.parametrize("prefix", ["/abs", "a/../b", "..", "x\x00"])
async def test_delete_prefix_rejects_escaping_prefixes(
    make_s3_store: MakeStore, prefix: str
) -> None:
    with pytest.raises(InvalidRequestError):
        await make_s3_store().delete_prefix(prefix, dry_run=False)


async def test_sweep_staging_removes_what_crashed_puts_left(
    make_s3_store: MakeStore, s3_endpoint: S3Endpoint
) -> None:
    store = make_s3_store()
    client, bucket = s3_endpoint.client(), store.config.bucket
    client.put_object(Bucket=bucket, Key="staging/crashed-1", Body=b"partial")
    client.create_multipart_upload(Bucket=bucket, Key="staging/crashed-2")
    info = await store.put_stream(stream([b"kept"]))
    recent = await store.sweep_staging(older_than=3600)  # moto dates every upload 2010
    assert s3_endpoint.keys(bucket, "staging/") == ["staging/crashed-1"]
    assert recent + await store.sweep_staging(older_than=0) == 2
    assert all_keys_and_uploads(s3_endpoint, store) == [store._s3.content_key(info.digest)]


# -- configuration and the registry -------------------------------------------------------------


async def test_registry_creates_it(moto_s3: S3Endpoint) -> None:
    bucket = moto_s3.create_bucket()
    store = create_blob_store("vfs-s3", **moto_s3.store_options(bucket))
    try:
        assert isinstance(store, S3BlobStore)
        info = await store.put_stream(stream([b"via the registry"]))
        assert await read_all(store, info.digest) == b"via the registry"
        assert (await store.check())["status"] == "ok"
    finally:
        await store.close()
        moto_s3.destroy_bucket(bucket)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"part_size": 4 * MiB}, "part_size"),
        ({"addressing_style": "sideways"}, "addressing_style"),
        ({"key_prefix": "a/../b"}, "prefix"),
        ({"sse": "rot13"}, "sse"),
        ({"sse": "AES256", "sse_customer_key": b"k" * 32}, "SSE-C"),
        ({"sse_customer_key": b"short"}, "32 bytes"),
        ({"access_key": "only-half", "secret_key": None}, "secret"),
        ({"no_such_option": 1}, "no_such_option"),
        ({"bucket": ""}, "bucket"),
    ],
)
def test_invalid_options_are_clear_errors(options: dict[str, Any], message: str) -> None:
    base: dict[str, Any] = {"bucket": "b", "access_key": "a", "secret_key": "s"}
    with pytest.raises(InvalidRequestError, match=message):
        S3BlobStore(**{**base, **options})


def test_unknown_option_through_the_registry() -> None:
    with pytest.raises(InvalidRequestError):
        create_blob_store("s3", bucket="b", part_size="big")


async def test_unreachable_endpoint_fails_fast_as_unavailable() -> None:
    import socket

    with socket.socket() as sock:  # a loopback port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    store = S3BlobStore(
        "bucket", endpoint_url=f"http://127.0.0.1:{port}", access_key="a", secret_key="s"
    )
    try:
        began = time.monotonic()
        with pytest.raises(ProviderUnavailableError):
            await store.put_stream(stream([b"data"]))
        with pytest.raises(ProviderUnavailableError):
            await read_all(store, digest_of(b"data"))
        assert time.monotonic() - began < 15
        report = await store.check()
        assert report["status"] == "error"
        assert "reach" in report["error"]
    finally:
        await store.close()


async def test_missing_bucket_is_a_provider_error(s3_endpoint: S3Endpoint) -> None:
    store = S3BlobStore(**s3_endpoint.store_options("satchel-no-such-bucket"))
    try:
        with pytest.raises(ProviderError, match="satchel-no-such-bucket") as caught:
            await store.put_stream(stream([b"data"]))
        assert not isinstance(caught.value, ProviderUnavailableError)
        with pytest.raises(ProviderError, match="does not exist"):
            await read_all(store, digest_of(b"data"))
        report = await store.check()
        assert report["status"] == "error"
        assert "does not exist" in report["error"]
    finally:
        await store.close()


async def test_missing_blob_reads_as_not_found(make_s3_store: MakeStore) -> None:
    store = make_s3_store()
    with pytest.raises(BlobNotFoundError):
        await read_all(store, digest_of(b"never stored"), 10, 20)


# -- the store on S3, configured through the environment ----------------------------------------


async def test_artifact_store_on_s3_from_settings(
    moto_s3: S3Endpoint, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from satchel import ArtifactStore

    for name in list(os.environ):
        if name.startswith(("SATCHEL_", "ARTIFACT_", "AWS_", "IBM_COS_")):
            monkeypatch.delenv(name)
    bucket = moto_s3.create_bucket()
    (tmp_path / "secret").write_text(moto_s3.secret_key)
    monkeypatch.setenv("SATCHEL_TEST_ACCESS_KEY", moto_s3.access_key)
    settings = {
        "SATCHEL_DATA_DIR": str(tmp_path / "data"),
        "SATCHEL_S3_ENDPOINT_URL": moto_s3.url,
        "SATCHEL_S3_REGION": "us-east-1",
        "SATCHEL_S3_ADDRESSING_STYLE": "path",
        "SATCHEL_S3_KEY_PREFIX": "prod/satchel",
        "SATCHEL_S3_ACCESS_KEY_REF": "env:SATCHEL_TEST_ACCESS_KEY",
        "SATCHEL_S3_SECRET_KEY_REF": f"file:{tmp_path / 'secret'}",
        "SATCHEL_S3_MULTIPART_THRESHOLD_BYTES": str(MiB),
        "SATCHEL_S3_MULTIPART_CHUNK_BYTES": str(5 * MiB),
    }
    for name, value in settings.items():
        monkeypatch.setenv(name, value)
    data = make_data(6 * MiB, seed=30)
    try:
        async with ArtifactStore(storage_provider="s3", bucket=bucket) as store:
            assert store.storage_provider == "s3"
            file_id = await store.store(data, mime="application/octet-stream", summary="on s3")
            assert await store.retrieve(file_id) == data
        (key,) = moto_s3.keys(bucket)
        assert key.startswith("prod/satchel/blobs/sha256/")
        assert key.endswith(hashlib.sha256(data).hexdigest())
    finally:
        moto_s3.destroy_bucket(bucket)
