"""Seed 000 README: Configuration (zero config, constructor arguments, environment, aliases)."""

# The seed's zero-config example checks the disk with a blocking Path call inside a coroutine.
# ruff: noqa: ASYNC240

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from tests.harness.stored import stored_bytes

from satchel import ArtifactStore, InvalidRequestError

# -- Configuration -----------------------------------------------------------------------------


async def test_zero_config_store() -> None:
    # Just works! Uses memory providers
    store = ArtifactStore()
    file_id = await store.store(b"zero", mime="text/plain")
    assert store.storage_provider == "memory"
    assert await store.retrieve(file_id) == b"zero"
    await store.close()
    assert not Path("var").exists()  # nothing written to disk


async def test_constructor_arguments(isolated: Path) -> None:
    store = ArtifactStore(
        storage_provider="filesystem", session_provider="memory", sandbox_id="myapp"
    )
    async with store:
        file_id = await store.store(b"on disk", mime="text/plain", user_id="alice")
        meta = await store.metadata(file_id)
        assert store.storage_provider == "filesystem"
        assert store.sandbox_id == "myapp"
        assert meta.key.startswith("grid/myapp/sessions/")
        assert meta.storage_provider == "filesystem"
        stats = await store.get_stats()
        assert stats["storage_provider"] == "filesystem"
        assert stats["session_provider"] == "memory"
        assert stats["sandbox_id"] == "myapp"
    # under ./var: small content in the catalog's blob_bytes, larger content as a file
    assert stored_bytes(isolated / "var", meta.sha256) == b"on disk"
    assert (isolated / "var" / "satchel.db").is_file()


async def test_environment_configuration(isolated: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ARTIFACT_PROVIDER", "vfs-filesystem")
    monkeypatch.setenv("ARTIFACT_FS_ROOT", str(isolated / "my-artifacts"))
    monkeypatch.setenv("ARTIFACT_SANDBOX_ID", "prod-env")
    monkeypatch.setenv("ARTIFACT_BUCKET", "my-files")
    monkeypatch.setenv("SESSION_PROVIDER", "memory")

    async with ArtifactStore() as store:
        body = b"configured by env\n" * 2000  # larger than the inline limit: a file
        file_id = await store.store(body, mime="text/plain", user_id="alice")
        meta = await store.metadata(file_id)
        stats = await store.get_stats()
        status = await store.validate_configuration()

    assert store.storage_provider == "filesystem"
    assert meta.key.startswith("grid/prod-env/sessions/")
    assert (stats["storage_provider"], stats["bucket"], stats["sandbox_id"]) == (
        "filesystem",
        "my-files",
        "prod-env",
    )
    assert status["storage"]["status"] == "ok"
    assert status["storage"]["root"] == str((isolated / "my-artifacts").resolve())
    hexdigest = meta.sha256.removeprefix("sha256:")
    blob = isolated / "my-artifacts" / "sha256" / hexdigest[:2] / hexdigest[2:4] / hexdigest
    assert blob.read_bytes() == body
    assert (isolated / "var" / "satchel.db").is_file()  # the catalog stays in the data dir


async def test_environment_configuration_vfs_sqlite(
    isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ARTIFACT_PROVIDER", "vfs-sqlite")
    monkeypatch.setenv("ARTIFACT_SQLITE_PATH", "./artifacts.db")
    async with ArtifactStore() as store:
        file_id = await store.store(b"in sqlite", mime="text/plain")
        assert await store.retrieve(file_id) == b"in sqlite"
        assert store.storage_provider == "sqlite"
    assert (isolated / "artifacts.db").is_file()
    assert not (isolated / "var" / "blobs").exists()


ALIASES = {
    "memory": "memory",
    "vfs-memory": "memory",
    "filesystem": "filesystem",
    "vfs-filesystem": "filesystem",
    "vfs-sqlite": "sqlite",
}


@pytest.mark.parametrize(("alias", "backend"), ALIASES.items())
async def test_provider_alias_as_argument(alias: str, backend: str) -> None:
    async with ArtifactStore(storage_provider=alias) as store:
        file_id = await store.store(b"alias", mime="text/plain", user_id="alice")
        assert await store.retrieve(file_id, user_id="alice") == b"alias"
        assert store.storage_provider == backend
        assert (await store.metadata(file_id)).storage_provider == backend
        assert (await store.validate_configuration())["storage"]["status"] == "ok"


@pytest.mark.parametrize(("alias", "backend"), ALIASES.items())
async def test_provider_alias_from_environment(
    alias: str, backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ARTIFACT_PROVIDER", alias)
    async with ArtifactStore() as store:
        file_id = await store.store(b"alias", mime="text/plain", user_id="alice")
        assert await store.retrieve(file_id, user_id="alice") == b"alias"
        assert (await store.get_stats())["storage_provider"] == backend


def test_unknown_provider_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(InvalidRequestError, match=r"unknown storage provider 'nope'.*known:"):
        ArtifactStore(storage_provider="nope")
    monkeypatch.setenv("ARTIFACT_PROVIDER", "azure")
    with pytest.raises(InvalidRequestError, match=r"unknown storage provider 'azure'.*vfs-sqlite"):
        ArtifactStore()


@pytest.mark.parametrize("alias", ["s3", "vfs-s3", "ibm_cos"])
async def test_s3_aliases_select_the_s3_backend(
    alias: str, moto_s3: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    bucket = moto_s3.create_bucket()
    monkeypatch.setenv("S3_ENDPOINT_URL", moto_s3.url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", moto_s3.access_key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", moto_s3.secret_key)
    monkeypatch.setenv("AWS_REGION", moto_s3.region)
    try:
        async with ArtifactStore(storage_provider=alias, bucket=bucket) as store:
            assert store.storage_provider == "s3"
            artifact_id = await store.store(b"in a bucket", mime="text/plain")
            assert await store.retrieve(artifact_id) == b"in a bucket"
        keys = [o["Key"] for o in moto_s3.client().list_objects_v2(Bucket=bucket)["Contents"]]
        assert any(key.startswith("blobs/sha256/") for key in keys)
    finally:
        moto_s3.destroy_bucket(bucket)


async def test_redis_session_provider(redis_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # SESSION_PROVIDER=redis with SESSION_REDIS_URL, as in the seed's docker-compose example
    monkeypatch.setenv("SESSION_REDIS_URL", redis_url)
    async with ArtifactStore(session_provider="redis") as store:
        session_id = await store.create_session(user_id="alice")
        assert await store.validate_session(session_id)
        assert (await store.validate_configuration())["session"]["status"] == "ok"
    assert store.settings.session_provider == "redis"
