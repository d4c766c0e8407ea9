"""Fixtures of the S3 backend tests, run once on moto and once on Ceph RGW.

``s3_endpoint`` is parametrised over both servers (``[moto]``, ``[ceph]``); ``s3_bucket`` is a
fresh bucket of this test's own (destroyed afterwards) and ``make_s3_store(**options)`` makes
S3BlobStores on it (closed afterwards).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from tests.harness.s3 import MakeStore, S3Endpoint

from satchel.blobs.s3 import S3BlobStore

__all__ = ["make_s3_store", "s3_bucket", "s3_endpoint"]

MiB = 1024 * 1024
SMALL_PARTS: dict[str, Any] = {"multipart_threshold": 1 * MiB, "part_size": 5 * MiB}


@pytest.fixture(params=["moto", "ceph"])
def s3_endpoint(request: pytest.FixtureRequest) -> S3Endpoint:
    """Each S3 server the tests run against (Ceph starts on first use, once per run)."""
    if request.param == "moto":
        endpoint: S3Endpoint = request.getfixturevalue("moto_s3")
        return endpoint
    return request.getfixturevalue("ceph_rgw").endpoint()  # type: ignore[no-any-return]


@pytest.fixture
def s3_bucket(s3_endpoint: S3Endpoint) -> Iterator[str]:
    bucket = s3_endpoint.create_bucket()
    yield bucket
    s3_endpoint.destroy_bucket(bucket)


@pytest.fixture
async def make_s3_store(s3_endpoint: S3Endpoint, s3_bucket: str) -> AsyncIterator[MakeStore]:
    """``make_s3_store(**options)``: an S3BlobStore on this test's bucket (small parts)."""
    stores: list[S3BlobStore] = []

    def make(**options: Any) -> S3BlobStore:
        store = S3BlobStore(**s3_endpoint.store_options(s3_bucket, **{**SMALL_PARTS, **options}))
        stores.append(store)
        return store

    yield make
    for store in stores:
        await store.close()
