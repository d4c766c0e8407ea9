"""On the S3 backend the store's presign methods hand out S3's own URLs: downloads and uploads
go straight to the bucket (fetched here with plain httpx, no credentials), and Satchel checks
the uploaded bytes before the artifact exists."""

from __future__ import annotations

import base64
import hashlib
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import botocore.exceptions
import httpx
import pytest

from satchel import ArtifactStore, Settings
from satchel.core.errors import AccessDeniedError, ConflictError

MiB = 1024 * 1024


@pytest.fixture
async def s3_store(
    moto_s3: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[ArtifactStore]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", moto_s3.access_key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", moto_s3.secret_key)
    bucket = moto_s3.create_bucket()
    settings = Settings(
        data_dir=tmp_path / "data",
        bucket=bucket,
        s3_endpoint_url=moto_s3.url,
        s3_region=moto_s3.region,
        s3_addressing_style="path",
        gc_grace_seconds=0,
    )
    store = ArtifactStore(settings=settings, storage_provider="s3")
    await store.open()
    try:
        yield store
    finally:
        await store.close()
        moto_s3.destroy_bucket(bucket)


async def test_presigned_download_is_an_s3_url(s3_store: ArtifactStore, moto_s3: Any) -> None:
    artifact_id = await s3_store.store(
        b"straight from the bucket", mime="text/plain", filename="note.txt", user_id="alice"
    )
    url = await s3_store.presign(artifact_id, user_id="alice")
    assert url.startswith(moto_s3.url)
    async with httpx.AsyncClient() as http:
        response = await http.get(url)
    assert response.status_code == 200
    assert response.content == b"straight from the bucket"
    assert response.headers["content-type"] == "text/plain"
    assert "note.txt" in response.headers["content-disposition"]
    with pytest.raises(AccessDeniedError):
        await s3_store.presign(artifact_id, user_id="bob")


async def test_presigned_upload_goes_to_s3_and_is_checked(
    s3_store: ArtifactStore, moto_s3: Any
) -> None:
    url, artifact_id = await s3_store.presign_upload(
        session_id="s1", filename="photo.jpg", mime_type="image/jpeg", user_id="alice"
    )
    assert url.startswith(moto_s3.url)
    with pytest.raises(ConflictError):
        await s3_store.register_uploaded_artifact(artifact_id, mime="image/jpeg", summary="p")
    data = bytes(range(256)) * 4096  # 1 MiB
    async with httpx.AsyncClient() as http:
        assert (await http.put(url, content=data)).status_code == 200
    with pytest.raises(AccessDeniedError):
        await s3_store.register_uploaded_artifact(
            artifact_id, mime="image/jpeg", summary="p", user_id="bob"
        )
    assert await s3_store.register_uploaded_artifact(
        artifact_id, mime="image/jpeg", summary="pic", user_id="alice"
    )
    meta = await s3_store.metadata(artifact_id, user_id="alice")
    assert (meta.bytes, meta.sha256) == (len(data), "sha256:" + hashlib.sha256(data).hexdigest())
    assert await s3_store.retrieve(artifact_id, user_id="alice") == data


async def test_with_sse_c_urls_stay_satchels_and_the_bucket_holds_ciphertext(
    ceph_rgw: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A presigned S3 URL cannot carry the customer key, so with SSE-C the store keeps its own
    signed URLs; what S3 holds cannot be read without the key (real Ceph RGW: moto ignores
    SSE-C)."""
    endpoint = ceph_rgw.endpoint()
    key = base64.b64encode(os.urandom(32)).decode()
    monkeypatch.setenv("TEST_SSE_C_KEY", key)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", endpoint.access_key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", endpoint.secret_key)
    bucket = endpoint.create_bucket()
    settings = Settings(
        data_dir=tmp_path / "data",
        bucket=bucket,
        s3_endpoint_url=endpoint.url,
        s3_region=endpoint.region,
        s3_addressing_style="path",
        s3_sse_customer_key_ref="env:TEST_SSE_C_KEY",
        public_url="http://satchel.test",
    )
    try:
        async with ArtifactStore(settings=settings, storage_provider="s3") as store:
            artifact_id = await store.store(b"secret bytes", mime="text/plain", user_id="alice")
            url = await store.presign(artifact_id, user_id="alice")
            assert url.startswith("http://satchel.test/v1/signed/")
            assert await store.retrieve(artifact_id, user_id="alice") == b"secret bytes"
            digest = (await store.metadata(artifact_id, user_id="alice")).sha256
        client = endpoint.client()
        key_name = f"blobs/sha256/{digest[7:9]}/{digest[9:11]}/{digest[7:]}"
        with pytest.raises(botocore.exceptions.ClientError) as refused:
            client.get_object(Bucket=bucket, Key=key_name)  # no key: refused
        assert refused.value.response["Error"]["Code"] not in ("NoSuchKey", "404")
        unlocked = client.get_object(
            Bucket=bucket,
            Key=key_name,
            SSECustomerAlgorithm="AES256",
            SSECustomerKey=base64.b64decode(key),
        )
        assert unlocked["Body"].read() == b"secret bytes"
    finally:
        endpoint.destroy_bucket(bucket)
