"""What only a real S3 server shows: presigned URLs fetched with curl, their expiry and
signatures, and credentials S3 rejects. Runs on the harness's Ceph RGW.
"""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from satchel.blobs.s3 import S3BlobStore
from satchel.blobs.s3_errors import S3AccessError
from satchel.core.errors import ProviderUnavailableError
from satchel.testing.blobstore import MiB, digest_of, make_data, read_all, stream

if TYPE_CHECKING:
    from tests.harness.ceph_rgw import CephRGW


@pytest.fixture
async def ceph_store(ceph_rgw: CephRGW) -> AsyncIterator[S3BlobStore]:
    endpoint = ceph_rgw.endpoint()
    bucket = endpoint.create_bucket()
    store = S3BlobStore(
        **endpoint.store_options(bucket, multipart_threshold=MiB, part_size=5 * MiB)
    )
    yield store
    await store.close()
    endpoint.destroy_bucket(bucket)


async def curl(*args: str) -> tuple[int, bytes]:
    """Run curl; return the HTTP status it saw and what it printed."""
    process = await asyncio.create_subprocess_exec(
        "curl", "-sS", "-o", "-", "-w", "\n%{http_code}", *args,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    out, err = await process.communicate()
    assert process.returncode == 0, err.decode()
    body, _, status = out.rpartition(b"\n")
    return int(status), body


async def test_presigned_get_with_curl(ceph_store: S3BlobStore) -> None:
    data = make_data(3 * MiB + 1, seed=1)
    info = await ceph_store.put_stream(stream([data]))
    url = await ceph_store.presign_get(info.digest, 120, filename="data.bin")
    status, body = await curl(url)
    assert status == 200
    assert body == data
    status, body = await curl("-r", "100-199", url)
    assert status == 206
    assert body == data[100:200]
    status, _ = await curl(url.replace("X-Amz-Signature=", "X-Amz-Signature=f"))
    assert status == 403


async def test_presigned_urls_expire(ceph_store: S3BlobStore) -> None:
    info = await ceph_store.put_stream(stream([b"short-lived"]))
    url = await ceph_store.presign_get(info.digest, 1)
    await asyncio.sleep(2.5)
    status, _ = await curl(url)
    assert status == 403


async def test_direct_upload_with_curl(ceph_store: S3BlobStore, tmp_path: Path) -> None:
    data = make_data(12 * MiB + 5, seed=2)
    single, multipart = tmp_path / "single.bin", tmp_path / "part"
    single.write_bytes(data[:100_000])
    upload = await ceph_store.create_direct_upload()
    status, _ = await curl("-T", str(single), await ceph_store.presign_put(upload, 120))
    assert status == 200
    info = await ceph_store.complete_direct_upload(upload)
    assert info.digest == digest_of(data[:100_000])

    upload = await ceph_store.create_direct_upload(multipart=True)
    for number, start in enumerate(range(0, len(data), 5 * MiB), start=1):
        multipart.write_bytes(data[start : start + 5 * MiB])
        url = await ceph_store.presign_put_part(upload, number, 120)
        status, _ = await curl("-T", str(multipart), url)
        assert status == 200
    info = await ceph_store.complete_direct_upload(upload, expected_digest=digest_of(data))
    assert info.size == len(data)
    assert await read_all(ceph_store, info.digest) == data


async def test_wrong_credentials_are_an_access_error(ceph_rgw: CephRGW) -> None:
    endpoint = ceph_rgw.endpoint()
    bucket = endpoint.create_bucket()
    options = endpoint.store_options(bucket, secret_key="not-the-secret")
    store = S3BlobStore(**options)
    stranger = S3BlobStore(**ceph_rgw.endpoint(alternate=True).store_options(bucket))
    try:
        with pytest.raises(S3AccessError, match="denied") as caught:
            await store.put_stream(stream([b"data"]))
        assert not isinstance(caught.value, ProviderUnavailableError)
        assert caught.value.status_code == 502
        assert "not-the-secret" not in str(caught.value)
        assert (await store.check())["status"] == "error"
        with pytest.raises(S3AccessError):  # valid keys, but not the bucket's owner
            await stranger.put_stream(stream([b"data"]))
    finally:
        await store.close()
        await stranger.close()
        endpoint.destroy_bucket(bucket)
