"""A public artifact's permanent URL on the S3 backend with a public base URL: the object in a
bucket that serves anonymous reads (Ceph RGW under a public-read bucket policy), fetched
without credentials; a private artifact still gets a presigned URL."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest
from tests.blobs.test_s3_public_url import public_read_policy
from tests.harness.s3 import S3Endpoint, http_get

from satchel import ArtifactStore
from satchel.blobs.s3 import S3BlobStore

if TYPE_CHECKING:
    from tests.harness.ceph_rgw import CephRGW


@pytest.fixture
def public_bucket(ceph_rgw: CephRGW) -> Iterator[tuple[S3Endpoint, str]]:
    endpoint = ceph_rgw.endpoint()
    bucket = endpoint.create_bucket()
    endpoint.client().put_bucket_policy(Bucket=bucket, Policy=public_read_policy(bucket))
    yield endpoint, bucket
    endpoint.destroy_bucket(bucket)


async def test_a_public_artifacts_url_is_its_object_in_the_public_bucket(
    public_bucket: tuple[S3Endpoint, str],
) -> None:
    endpoint, bucket = public_bucket
    base = f"{endpoint.url}/{bucket}"
    blobs = S3BlobStore(**endpoint.store_options(bucket, public_url_base=base))
    try:
        await _check_urls(ArtifactStore(blob_store=blobs), base)
    finally:
        await blobs.close()  # (a blob store given to a store stays its giver's)


async def _check_urls(opened: ArtifactStore, base: str) -> None:
    async with opened as store:
        data = b"a public report\n" * 100
        made = await store.store(
            data, mime="text/plain", summary="", filename="r.txt", scope="sandbox"
        )
        private = await store.get_url(made, 300)
        assert private.expires_at is not None
        assert "X-Amz-Signature" in private.url  # S3's own presigned GET
        await store.set_policy(made, "public")
        public = await store.get_url(made)
        assert public.expires_at is None
        assert public.url.startswith(base + "/")
        assert "?" not in public.url
        answer = await http_get(public.url)  # no credentials at all
        assert (answer.status_code, answer.content) == (200, data)
        assert (await store.presign(made)).url == public.url
        paid = await store.get_url(made, 60, policy="presigned")
        assert paid.url != public.url
        assert "X-Amz-Signature" in paid.url
        assert (await http_get(paid.url)).content == data
