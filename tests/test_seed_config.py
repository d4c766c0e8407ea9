"""Seed 000's configuration helpers: ``configure_*`` set the environment ArtifactStore() reads."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from satchel import ArtifactStore, InvalidRequestError
from satchel.config import (
    configure_filesystem,
    configure_memory,
    configure_redis_session,
    configure_s3,
    configure_sqlite,
)

_VARS = (
    "ARTIFACT_PROVIDER",
    "ARTIFACT_FS_ROOT",
    "ARTIFACT_SQLITE_PATH",
    "ARTIFACT_BUCKET",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_REGION",
    "S3_ENDPOINT_URL",
    "S3_SSE_ALGORITHM",
    "S3_SSE_KMS_KEY_ID",
    "SESSION_PROVIDER",
    "SESSION_REDIS_URL",
)


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(os.environ):
        if name.startswith(("SATCHEL_", "ARTIFACT_")) or name in _VARS:
            monkeypatch.delenv(name)
    for name in _VARS:
        monkeypatch.setenv(name, "placeholder")
        monkeypatch.delenv(name)  # registered with monkeypatch, so it is restored afterwards
    monkeypatch.setenv("SATCHEL_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.chdir(tmp_path)


async def test_configure_filesystem_puts_blobs_under_root(tmp_path: Path) -> None:
    configure_filesystem(root=tmp_path / "my-artifacts")
    async with ArtifactStore() as store:
        body = b"on disk\n" * 4000  # larger than the inline limit: a file under the root
        file_id = await store.store(body, mime="text/plain", summary="fs")
        meta = await store.metadata(file_id)
        assert store.storage_provider == "filesystem"
        hexdigest = meta.sha256.split(":", 1)[1]
        blob = tmp_path / "my-artifacts" / "sha256" / hexdigest[:2] / hexdigest[2:4] / hexdigest
        assert blob.read_bytes() == body


async def test_configure_sqlite_puts_blobs_in_the_file(tmp_path: Path) -> None:
    configure_sqlite(path=tmp_path / "artifacts.db")
    async with ArtifactStore() as store:
        file_id = await store.store(b"in sqlite", mime="text/plain", summary="db")
        assert store.storage_provider == "sqlite"
        assert await store.retrieve(file_id) == b"in sqlite"
    assert (tmp_path / "artifacts.db").stat().st_size > 0


async def test_configure_memory_is_the_default() -> None:
    configure_memory()
    async with ArtifactStore() as store:
        assert store.storage_provider == "memory"


async def test_configure_s3_selects_the_s3_backend(moto_s3: Any) -> None:
    bucket = moto_s3.create_bucket()
    configure_s3(
        access_key=moto_s3.access_key,
        secret_key=moto_s3.secret_key,
        bucket=bucket,
        region="us-east-1",
        endpoint_url=moto_s3.url,
    )
    assert os.environ["ARTIFACT_BUCKET"] == bucket
    try:
        async with ArtifactStore() as store:
            assert store.storage_provider == "s3"
            assert (await store.get_stats())["bucket"] == bucket
            artifact_id = await store.store(b"configured", mime="text/plain")
            assert await store.retrieve(artifact_id) == b"configured"
    finally:
        moto_s3.destroy_bucket(bucket)


async def test_configure_redis_session_selects_redis(redis_url: str) -> None:
    configure_memory()
    configure_redis_session(redis_url)
    async with ArtifactStore() as store:
        assert store.settings.session_provider == "redis"
        assert (await store.validate_configuration())["session"]["url"] == redis_url


@pytest.mark.parametrize(
    ("environment", "expected"),
    [
        ({"S3_SSE_ALGORITHM": "AES256"}, {"ServerSideEncryption": "AES256"}),
        (
            {"S3_SSE_ALGORITHM": "aws:kms", "S3_SSE_KMS_KEY_ID": "alias/satchel"},
            {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": "alias/satchel"},
        ),
    ],
)
async def test_seed_server_side_encryption_reaches_the_bucket(
    moto_s3: Any,
    monkeypatch: pytest.MonkeyPatch,
    environment: dict[str, str],
    expected: dict[str, str],
) -> None:
    """Seed 000's ``S3_SSE_ALGORITHM`` (and its KMS key) configure server-side encryption of
    every object Satchel writes; before, it was silently ignored."""
    bucket = moto_s3.create_bucket()
    configure_s3(
        access_key=moto_s3.access_key,
        secret_key=moto_s3.secret_key,
        bucket=bucket,
        region="us-east-1",
        endpoint_url=moto_s3.url,
    )
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    try:
        async with ArtifactStore() as store:
            artifact_id = await store.store(b"encrypted at rest", mime="text/plain")
            sha256 = (await store.metadata(artifact_id)).sha256
        [key] = [key for key in moto_s3.keys(bucket) if key.endswith(sha256.split(":")[1])]
        head = moto_s3.client().head_object(Bucket=bucket, Key=key)
        assert {name: head.get(name) for name in expected} == expected
    finally:
        moto_s3.destroy_bucket(bucket)


def test_an_unknown_seed_encryption_is_refused_at_start(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("S3_SSE_ALGORITHM", "rot13")
    with pytest.raises(InvalidRequestError, match="rot13"):
        ArtifactStore(storage_provider="s3")
