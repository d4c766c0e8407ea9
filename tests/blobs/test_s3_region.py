"""A store configured with the wrong region finds its bucket's region from the server's answer
(301 ``PermanentRedirect`` + ``x-amz-bucket-region``, or 400 ``AuthorizationHeaderMalformed``
naming the region), moves its client there once, and logs it.

The answers come from a real HTTP proxy in front of moto (tests/harness/region_proxy.py) that
answers as S3 does to requests signed for another region than the bucket's: moto itself does
not check regions. Presigned URLs are checked by the same proxy, so a URL signed for the wrong
region would be refused."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from tests.harness.region_proxy import RegionProxy
from tests.harness.s3 import S3Endpoint, http_get

from satchel.blobs.s3 import S3BlobStore
from satchel.blobs.s3_doctor import run_doctor, summary
from satchel.testing.blobstore import read_all, stream

BUCKET_REGION = "eu-west-1"


@pytest.fixture
def eu_bucket(moto_s3: S3Endpoint) -> Iterator[str]:
    bucket = f"satchel-eu-{id(object())}"
    moto_s3.client().create_bucket(
        Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": BUCKET_REGION}
    )
    yield bucket
    moto_s3.destroy_bucket(bucket)


@pytest.fixture(params=["301", "400"])
def proxy(request: pytest.FixtureRequest, moto_s3: S3Endpoint) -> Iterator[RegionProxy]:
    proxy = RegionProxy(moto_s3.url, BUCKET_REGION, mode=request.param)
    yield proxy
    proxy.stop()


def store_on(proxy: RegionProxy, endpoint: S3Endpoint, bucket: str, region: str) -> S3BlobStore:
    return S3BlobStore(
        **endpoint.store_options(bucket, endpoint_url=proxy.url, region=region),
    )


async def test_wrong_region_is_corrected_once_and_logged(
    proxy: RegionProxy, moto_s3: S3Endpoint, eu_bucket: str, caplog: pytest.LogCaptureFixture
) -> None:
    store = store_on(proxy, moto_s3, eu_bucket, "us-east-1")
    caplog.set_level(logging.WARNING, logger="satchel.blobs.s3")
    try:
        first = await store.put_stream(stream([b"first blob"]))
        assert store._s3.followed_region == store._s3.region == BUCKET_REGION
        second = await store.put_stream(stream([b"second blob"]))
        assert await read_all(store, first.digest) == b"first blob"
        assert await read_all(store, second.digest) == b"second blob"
        # one request bounced; every other one was signed for the bucket's region
        assert len(proxy.redirected) == 1
        assert {region for _, _, region in proxy.forwarded} == {BUCKET_REGION}
        # presigned URLs are signed for the right region too
        answer = await http_get(await store.presign_get(first.digest, expires_in=60))
        assert (answer.status_code, answer.content) == (200, b"first blob")
        assert len(proxy.redirected) == 1
    finally:
        await store.close()
    [record] = [r for r in caplog.records if r.name == "satchel.blobs.s3"]
    assert "is in region 'eu-west-1', not 'us-east-1'" in record.getMessage()
    assert moto_s3.keys(eu_bucket) == sorted(
        [store._s3.content_key(first.digest), store._s3.content_key(second.digest)]
    )


async def test_a_url_presigned_first_is_signed_for_the_right_region(
    proxy: RegionProxy, moto_s3: S3Endpoint, eu_bucket: str
) -> None:
    writer = S3BlobStore(**moto_s3.store_options(eu_bucket, region=BUCKET_REGION))
    info = await writer.put_stream(stream([b"presigned first"]))
    await writer.close()
    store = store_on(proxy, moto_s3, eu_bucket, "ap-south-1")
    try:
        url = await store.presign_get(info.digest, expires_in=60)
        assert "%2Feu-west-1%2Fs3%2F" in url
        answer = await http_get(url)
        assert (answer.status_code, answer.content) == (200, b"presigned first")
    finally:
        await store.close()


async def test_the_right_region_is_never_redirected(
    proxy: RegionProxy, moto_s3: S3Endpoint, eu_bucket: str, caplog: pytest.LogCaptureFixture
) -> None:
    store = store_on(proxy, moto_s3, eu_bucket, BUCKET_REGION)
    try:
        info = await store.put_stream(stream([b"right region"]))
        assert await read_all(store, info.digest) == b"right region"
    finally:
        await store.close()
    assert proxy.redirected == []
    assert not [r for r in caplog.records if r.name == "satchel.blobs.s3"]


async def test_doctor_warns_of_the_wrong_region(
    proxy: RegionProxy, moto_s3: S3Endpoint, eu_bucket: str
) -> None:
    store = store_on(proxy, moto_s3, eu_bucket, "us-east-1")
    try:
        checks = {check.name: check for check in await run_doctor(store)}
    finally:
        await store.close()
    assert checks["credentials"].status == "ok"
    assert checks["bucket"].status == "warn"
    assert checks["bucket"].detail == (
        f"{eu_bucket!r} is in region 'eu-west-1', not 'us-east-1': set SATCHEL_S3_REGION=eu-west-1"
    )
    assert not summary(list(checks.values()))["failed"]
