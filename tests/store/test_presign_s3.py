"""On the S3 backend the store's presign methods hand out S3's own URLs: downloads and uploads
go straight to the bucket (fetched here with plain httpx, no credentials), and Satchel checks
the uploaded bytes before the artifact exists."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

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
