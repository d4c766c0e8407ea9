"""The S3 blob backend against the shared BlobStore conformance suite, on moto and on Ceph RGW.

Both run with small multipart settings (1 MiB threshold, 5 MiB parts, copies in 5 MiB ranges
past 6 MiB) so that the suite's larger blobs go through multipart upload and ranged copy.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

import pytest
from tests.harness.s3 import S3Endpoint

from satchel.blobs.base import BlobStore
from satchel.blobs.s3 import S3BlobStore
from satchel.testing.blobstore import BlobStoreConformance, MiB

if TYPE_CHECKING:
    from tests.harness.ceph_rgw import CephRGW


SMALL_PARTS: dict[str, Any] = {
    "key_prefix": "conformance",
    "multipart_threshold": 1 * MiB,
    "part_size": 5 * MiB,
    "max_copy_bytes": 6 * MiB,
    "copy_part_size": 5 * MiB,
}


async def staged_leftovers(endpoint: S3Endpoint, store: BlobStore) -> list[str]:
    """Objects and multipart uploads a put left outside the content keys."""
    assert isinstance(store, S3BlobStore)
    bucket = store.config.bucket
    stray = [
        key
        for key in endpoint.keys(bucket)
        if not key.startswith(f"{store.config.key_prefix}blobs/")
    ]
    uploads = [f"multipart {key}" for key in endpoint.multipart_uploads(bucket)]
    return sorted(stray + uploads)


class TestS3BlobStoreOnMoto(BlobStoreConformance):
    @pytest.fixture
    async def blob_store(self, moto_s3: S3Endpoint) -> AsyncIterator[BlobStore]:
        self.endpoint = moto_s3
        bucket = moto_s3.create_bucket()
        store = S3BlobStore(**moto_s3.store_options(bucket, **SMALL_PARTS))
        yield store
        await store.close()
        moto_s3.destroy_bucket(bucket)

    async def leftovers(self, store: BlobStore) -> list[str]:
        return await staged_leftovers(self.endpoint, store)


class TestS3BlobStoreOnCeph(BlobStoreConformance):
    @pytest.fixture
    async def blob_store(self, ceph_rgw: CephRGW) -> AsyncIterator[BlobStore]:
        self.endpoint = ceph_rgw.endpoint()
        bucket = self.endpoint.create_bucket()
        store = S3BlobStore(**self.endpoint.store_options(bucket, **SMALL_PARTS))
        yield store
        await store.close()
        self.endpoint.destroy_bucket(bucket)

    async def leftovers(self, store: BlobStore) -> list[str]:
        return await staged_leftovers(self.endpoint, store)
