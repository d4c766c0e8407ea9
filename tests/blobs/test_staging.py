"""The Staging protocol, the same tests on every implementation: in memory, files, and S3
(segments in the bucket; on moto and on Ceph RGW, with small segments so writes span several)."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from tests.harness.s3 import S3Endpoint

from satchel.blobs.s3 import S3BlobStore
from satchel.blobs.s3_staging import S3Staging
from satchel.blobs.staging import FileStaging, MemoryStaging, Staging, StagingProvider
from satchel.core.errors import ConflictError, InvalidRequestError, TooLargeError

SEGMENT = 1000  # S3 segments in these tests: small, so writes cross segment boundaries
BIG = 1 << 30


async def _stream(*pieces: bytes) -> AsyncIterator[bytes]:
    for piece in pieces:
        yield piece


async def _read(staging: Staging, key: str) -> bytes:
    return b"".join([chunk async for chunk in staging.read(key, chunk_size=700)])


class _Broken(Exception):
    pass


async def _failing_after(*pieces: bytes) -> AsyncIterator[bytes]:
    for piece in pieces:
        yield piece
    raise _Broken("client went away")


@pytest.fixture(params=["memory", "file", "s3-moto", "s3-ceph"])
def staging_kind(request: pytest.FixtureRequest) -> str:
    kind: str = request.param
    return kind


@pytest.fixture
def s3_server(staging_kind: str, request: pytest.FixtureRequest) -> S3Endpoint | None:
    if staging_kind == "s3-moto":
        endpoint: S3Endpoint = request.getfixturevalue("moto_s3")
        return endpoint
    if staging_kind == "s3-ceph":
        return request.getfixturevalue("ceph_rgw").endpoint()  # type: ignore[no-any-return]
    return None


@pytest.fixture
def staging_bucket(s3_server: S3Endpoint | None) -> Iterator[str | None]:
    if s3_server is None:
        yield None
        return
    bucket = s3_server.create_bucket()
    yield bucket
    s3_server.destroy_bucket(bucket)


@pytest.fixture
async def staging(
    staging_kind: str, s3_server: S3Endpoint | None, staging_bucket: str | None, tmp_path: Path
) -> AsyncIterator[Staging]:
    if s3_server is None or staging_bucket is None:
        yield MemoryStaging() if staging_kind == "memory" else FileStaging(tmp_path, fsync=False)
        return
    store = S3BlobStore(**s3_server.store_options(staging_bucket))
    assert isinstance(store, StagingProvider)
    default = store.upload_staging()
    yield S3Staging(default._s3, default._writer, segment_bytes=SEGMENT)
    await store.close()


def _staged_keys(s3_server: S3Endpoint | None, bucket: str | None) -> list[str]:
    return [] if s3_server is None or bucket is None else s3_server.keys(bucket, "uploads/")


async def test_write_append_size_and_read(staging: Staging) -> None:
    data = os.urandom(2500)
    assert await staging.write("u1", 0, _stream(data[:1200], data[1200:1700]), max_bytes=BIG) == (
        1700
    )
    assert await staging.size("u1") == 1700
    assert await staging.write("u1", 1700, _stream(data[1700:]), max_bytes=BIG) == 2500
    assert await _read(staging, "u1") == data


async def test_an_empty_key_exists_and_reads_empty(staging: Staging) -> None:
    assert await staging.write("u1", 0, _stream(), max_bytes=10) == 0
    assert await staging.size("u1") == 0
    assert await _read(staging, "u1") == b""
    assert await staging.write("u1", 0, _stream(b"first"), max_bytes=10) == 5
    assert await _read(staging, "u1") == b"first"


async def test_an_absent_key(staging: Staging) -> None:
    assert await staging.size("nothing") is None
    with pytest.raises(ConflictError):
        await _read(staging, "nothing")
    await staging.truncate("nothing", 0)
    await staging.delete("nothing")
    assert await staging.size("nothing") is None


async def test_an_append_at_the_wrong_offset_is_refused(staging: Staging) -> None:
    await staging.write("u1", 0, _stream(b"abc"), max_bytes=BIG)
    with pytest.raises(ConflictError):
        await staging.write("u1", 2, _stream(b"x"), max_bytes=BIG)
    with pytest.raises(ConflictError):
        await staging.write("absent", 3, _stream(b"x"), max_bytes=BIG)
    assert await _read(staging, "u1") == b"abc"


async def test_writing_at_zero_replaces(staging: Staging) -> None:
    await staging.write("u1.1", 0, _stream(os.urandom(3000)), max_bytes=BIG)
    assert await staging.write("u1.1", 0, _stream(b"short"), max_bytes=BIG) == 5
    assert await _read(staging, "u1.1") == b"short"


async def test_more_than_max_bytes_is_too_large(staging: Staging) -> None:
    await staging.write("u1", 0, _stream(b"12345"), max_bytes=8)
    with pytest.raises(TooLargeError):
        await staging.write("u1", 5, _stream(b"67", b"89"), max_bytes=8)
    await staging.truncate("u1", 5)  # how a caller undoes the rejected append
    assert await _read(staging, "u1") == b"12345"


async def test_truncate_inside_and_across_segments(staging: Staging) -> None:
    data = os.urandom(3500)
    await staging.write("u1", 0, _stream(data), max_bytes=BIG)
    await staging.truncate("u1", 2345)
    assert await staging.size("u1") == 2345
    assert await _read(staging, "u1") == data[:2345]
    await staging.write("u1", 2345, _stream(b"more"), max_bytes=BIG)
    assert await _read(staging, "u1") == data[:2345] + b"more"
    await staging.truncate("u1", 0)
    assert await staging.size("u1") == 0


async def test_a_failing_stream_keeps_what_it_delivered(staging: Staging) -> None:
    data = os.urandom(1500)
    await staging.write("u1", 0, _stream(b"ab"), max_bytes=BIG)
    with pytest.raises(_Broken):
        await staging.write("u1", 2, _failing_after(data[:1200], data[1200:]), max_bytes=BIG)
    assert await staging.size("u1") == 1502
    assert await _read(staging, "u1") == b"ab" + data


async def test_delete_forgets_every_byte(
    staging: Staging, s3_server: S3Endpoint | None, staging_bucket: str | None
) -> None:
    await staging.write("u1", 0, _stream(os.urandom(4200)), max_bytes=BIG)
    await staging.write("u1.2", 0, _stream(b"part"), max_bytes=BIG)
    await staging.delete("u1")
    assert await staging.size("u1") is None
    assert await _read(staging, "u1.2") == b"part"
    await staging.delete("u1.2")
    assert _staged_keys(s3_server, staging_bucket) == []


@pytest.mark.parametrize("key", ["../x", "a/b", "", "x" * 65, "u.1.2", "u\x00"])
async def test_keys_are_validated(staging: Staging, key: str) -> None:
    with pytest.raises(InvalidRequestError):
        await staging.write(key, 0, _stream(b"x"), max_bytes=BIG)
    with pytest.raises(InvalidRequestError):
        await staging.size(key)


@pytest.mark.parametrize("staging_kind", ["s3-moto", "s3-ceph"])
async def test_s3_segments_past_a_gap_are_garbage(
    staging: Staging, s3_server: S3Endpoint, staging_bucket: str
) -> None:
    """A truncation that crashed after rewriting the cut segment leaves later segments behind:
    they are not part of the upload, and the next append removes them."""
    data = os.urandom(2500)
    await staging.write("u1", 0, _stream(data), max_bytes=BIG)
    client = s3_server.client()
    first = "uploads/staged/u1/000000000000000"
    client.put_object(Bucket=staging_bucket, Key=first, Body=data[:400])  # as if cut to 400
    assert await staging.size("u1") == 400
    assert await _read(staging, "u1") == data[:400]
    await staging.write("u1", 400, _stream(b"tail"), max_bytes=BIG)
    assert await _read(staging, "u1") == data[:400] + b"tail"
    assert s3_server.keys(staging_bucket, "uploads/staged/u1/") == [
        first,
        "uploads/staged/u1/000000000000400",
    ]
