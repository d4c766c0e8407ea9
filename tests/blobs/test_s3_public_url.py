"""``public_url(digest)`` of the S3 backend: the content key under ``public_url_base``,
fetched for real without credentials from Ceph RGW once a bucket policy makes it public."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest
from tests.harness.s3 import S3Endpoint, http_get

from satchel.blobs.base import PublicURLs
from satchel.blobs.filesystem import FilesystemBlobStore
from satchel.blobs.memory import MemoryBlobStore
from satchel.blobs.s3 import S3BlobStore
from satchel.core.errors import InvalidRequestError
from satchel.testing.blobstore import digest_of, stream

if TYPE_CHECKING:
    from pathlib import Path

    from tests.harness.ceph_rgw import CephRGW

DIGEST = digest_of(b"x")


def public_read_policy(bucket: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "PublicRead",
                    "Effect": "Allow",
                    "Principal": "*",
                    "Action": ["s3:GetObject"],
                    "Resource": [f"arn:aws:s3:::{bucket}/*"],
                }
            ],
        }
    )


async def test_public_url_is_the_quoted_content_key_under_the_base() -> None:
    store = S3BlobStore("b", key_prefix="team a", public_url_base="https://cdn.example/files/")
    hexdigest = DIGEST.removeprefix("sha256:")
    assert store.public_url(DIGEST) == (
        f"https://cdn.example/files/team%20a/blobs/sha256/{hexdigest[:2]}/{hexdigest[2:4]}/"
        f"{hexdigest}"
    )
    assert isinstance(store, PublicURLs)
    with pytest.raises(InvalidRequestError):
        store.public_url("sha256:nothex")
    await store.close()
    plain = S3BlobStore("b")
    assert plain.public_url(DIGEST) is None
    await plain.close()


def test_other_backends_have_no_public_urls(tmp_path: Path) -> None:
    assert not isinstance(MemoryBlobStore(), PublicURLs)
    assert not isinstance(FilesystemBlobStore(tmp_path), PublicURLs)


@pytest.fixture
def ceph_bucket(ceph_rgw: CephRGW) -> Iterator[tuple[S3Endpoint, str]]:
    endpoint = ceph_rgw.endpoint()
    bucket = endpoint.create_bucket()
    yield endpoint, bucket
    endpoint.destroy_bucket(bucket)


async def test_public_url_is_readable_anonymously_only_under_a_public_policy(
    ceph_bucket: tuple[S3Endpoint, str],
) -> None:
    endpoint, bucket = ceph_bucket
    store = S3BlobStore(
        **endpoint.store_options(
            bucket, key_prefix="pub lic", public_url_base=f"{endpoint.url}/{bucket}"
        )
    )
    try:
        data = b"public bytes \x00\xff" * 1000
        info = await store.put_stream(stream([data]))
        url = store.public_url(info.digest)
        assert url is not None
        assert "pub%20lic/blobs/sha256/" in url
        denied = await http_get(url)
        assert denied.status_code == 403  # private bucket: no anonymous reads
        endpoint.client().put_bucket_policy(Bucket=bucket, Policy=public_read_policy(bucket))
        answer = await http_get(url)
        assert answer.status_code == 200
        assert answer.content == data
        missing = store.public_url(digest_of(b"never stored"))
        assert missing is not None
        # S3 answers 403, not 404, for a missing key to whoever may not list the bucket
        assert (await http_get(missing)).status_code == 403
    finally:
        await store.close()
