"""S3 Object Lock on blobs (retention, legal hold), on moto and on Ceph RGW.

Where the server enforces it (Ceph), deleting a locked object version is refused.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator

import pytest
from botocore.exceptions import ClientError
from tests.harness.s3 import MakeStore, S3Endpoint

from satchel.blobs.s3 import S3BlobStore
from satchel.core.errors import BlobNotFoundError, InvalidRequestError, NotSupportedError
from satchel.testing.blobstore import digest_of, stream


@pytest.fixture
async def locked_store(s3_endpoint: S3Endpoint) -> AsyncIterator[S3BlobStore]:
    """A store on a bucket created with ObjectLockEnabledForBucket=True."""
    bucket = s3_endpoint.create_bucket(object_lock=True)
    store = S3BlobStore(**s3_endpoint.store_options(bucket))
    yield store
    await store.close()
    s3_endpoint.destroy_bucket(bucket)


def soon(seconds: int) -> dt.datetime:
    return (dt.datetime.now(dt.UTC) + dt.timedelta(seconds=seconds)).replace(microsecond=0)


async def test_retention_and_legal_hold(locked_store: S3BlobStore, s3_endpoint: S3Endpoint) -> None:
    info = await locked_store.put_stream(stream([b"evidence"]))
    state = await locked_store.object_lock(info.digest)
    assert (state.mode, state.retain_until, state.legal_hold) == (None, None, False)

    until = soon(3600)
    await locked_store.put_retention(info.digest, "GOVERNANCE", until)
    await locked_store.set_legal_hold(info.digest, True)
    state = await locked_store.object_lock(info.digest)
    assert (state.mode, state.retain_until, state.legal_hold) == ("GOVERNANCE", until, True)

    if s3_endpoint.enforces:
        client, bucket = s3_endpoint.client(), locked_store.config.bucket
        key = locked_store._s3.content_key(info.digest)
        version = client.head_object(Bucket=bucket, Key=key)["VersionId"]
        with pytest.raises(ClientError, match="AccessDenied"):
            client.delete_object(Bucket=bucket, Key=key, VersionId=version)

    await locked_store.set_legal_hold(info.digest, False)
    await locked_store.put_retention(info.digest, "GOVERNANCE", soon(60), bypass_governance=True)
    state = await locked_store.object_lock(info.digest)
    assert state.legal_hold is False
    assert state.retain_until == soon(60) or state.retain_until == soon(59)


async def test_lock_calls_check_their_arguments(locked_store: S3BlobStore) -> None:
    info = await locked_store.put_stream(stream([b"x"]))
    with pytest.raises(InvalidRequestError, match="mode"):
        await locked_store.put_retention(info.digest, "FOREVER", soon(60))
    with pytest.raises(InvalidRequestError, match="timezone"):
        await locked_store.put_retention(info.digest, "GOVERNANCE", dt.datetime(2100, 1, 1))
    with pytest.raises(InvalidRequestError, match="future"):
        await locked_store.put_retention(info.digest, "GOVERNANCE", soon(-60))
    with pytest.raises(BlobNotFoundError):
        await locked_store.set_legal_hold(digest_of(b"never stored"), True)


async def test_bucket_without_object_lock_is_not_supported(make_s3_store: MakeStore) -> None:
    store = make_s3_store()
    info = await store.put_stream(stream([b"unlockable"]))
    with pytest.raises(NotSupportedError, match="Object Lock"):
        await store.put_retention(info.digest, "GOVERNANCE", soon(60))
    with pytest.raises(NotSupportedError, match="Object Lock"):
        await store.set_legal_hold(info.digest, True)
