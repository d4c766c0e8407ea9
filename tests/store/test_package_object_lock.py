"""A finalized package's files and manifest locked in an S3 bucket with Object Lock, as their
retention class asks, and legal holds mirrored onto them: on moto, and on Ceph RGW, which
enforces the lock (deleting a locked version is refused even with governance bypass where the
mode is compliance)."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from tests.harness.s3 import S3Endpoint

from satchel import ArtifactStore, Settings
from satchel.blobs.s3 import S3BlobStore

CLASSES = """
[retention_classes.sealed]
default_duration_seconds = 30
mode = "compliance"
"""


@pytest.fixture
async def locked(
    s3_endpoint: S3Endpoint, tmp_path: Path
) -> AsyncIterator[tuple[ArtifactStore, S3BlobStore, S3Endpoint]]:
    bucket = s3_endpoint.create_bucket(object_lock=True)
    blobs = S3BlobStore(**s3_endpoint.store_options(bucket))
    config = tmp_path / "retention.toml"
    config.write_text(CLASSES)
    settings = Settings(
        data_dir=tmp_path / "data", gc_grace_seconds=0, retention_config_path=config
    )
    store = ArtifactStore(settings=settings, blob_store=blobs)
    await store.open()
    yield store, blobs, s3_endpoint
    await store.close()
    await blobs.close()
    s3_endpoint.destroy_bucket(bucket)


async def _push(store: ArtifactStore, retention_class: str, body: bytes) -> tuple[str, list[str]]:
    package_id = await store.create_package("locked", "ci", "s", retention_class)
    entry = await store.ingest_file(package_id, "evidence.txt", "text/plain", body)
    address = await store.finalize_package(package_id)
    return package_id, [entry["sha256"], address]


def _near(actual: dt.datetime | None, expected: str | None, slack: float = 5) -> bool:
    assert actual is not None
    assert expected is not None
    wanted = dt.datetime.fromisoformat(expected.replace("Z", "+00:00"))
    return abs((actual - wanted).total_seconds()) <= slack


async def test_finalized_bytes_are_locked_as_their_class_asks(locked: Any) -> None:
    store, blobs, endpoint = locked
    package_id, digests = await _push(store, "raw-evidence", b"governed evidence")
    retain_until = (await store.get_package(package_id))["retain_until"]
    for digest in digests:
        state = await blobs.object_lock(digest)
        assert state.mode == "GOVERNANCE"
        assert _near(state.retain_until, retain_until)

    # extending retention extends the lock; a legal hold goes onto every blob and comes off
    await store.set_retention(package_id, "2040-01-01T00:00:00Z")
    hold = await store.apply_hold(package_id, "case-7", "preserve")
    for digest in digests:
        state = await blobs.object_lock(digest)
        assert state.retain_until.year == 2040
        assert state.legal_hold is True
    if endpoint.enforces:
        client, bucket = endpoint.client(), blobs.config.bucket
        key = blobs._s3.content_key(digests[0])
        version = client.head_object(Bucket=bucket, Key=key)["VersionId"]
        with pytest.raises(ClientError, match="AccessDenied"):
            client.delete_object(
                Bucket=bucket, Key=key, VersionId=version, BypassGovernanceRetention=True
            )
    await store.release_hold(hold["hold_id"], "closed")
    assert all([(await blobs.object_lock(d)).legal_hold is False for d in digests])


async def test_compliance_is_locked_for_the_bucket_admin_too(locked: Any) -> None:
    store, blobs, endpoint = locked
    _, digests = await _push(store, "sealed", b"sealed evidence")
    for digest in digests:
        assert (await blobs.object_lock(digest)).mode == "COMPLIANCE"
    if endpoint.enforces:
        client, bucket = endpoint.client(), blobs.config.bucket
        key = blobs._s3.content_key(digests[1])
        version = client.head_object(Bucket=bucket, Key=key)["VersionId"]
        with pytest.raises(ClientError, match="AccessDenied"):
            client.delete_object(
                Bucket=bucket, Key=key, VersionId=version, BypassGovernanceRetention=True
            )


async def test_a_shared_blob_keeps_the_longer_lock_and_another_hold(locked: Any) -> None:
    store, blobs, _ = locked
    body = b"the same bytes in two packages"
    long_id, (digest, _) = await _push(store, "release-evidence", body)
    await _push(store, "raw-evidence", body)  # a shorter class must not shorten the lock
    state = await blobs.object_lock(digest)
    assert _near(state.retain_until, (await store.get_package(long_id))["retain_until"])

    first = await store.apply_hold(long_id, "a", "one")
    artifact_id = await store.store(body, mime="text/plain", summary="", ttl=None)
    second = await store.apply_hold(artifact_id, "b", "two", kind="artifact")
    await store.release_hold(first["hold_id"], "done")
    assert (await blobs.object_lock(digest)).legal_hold is True  # the artifact's hold covers it
    await store.release_hold(second["hold_id"], "done")
    assert (await blobs.object_lock(digest)).legal_hold is False


async def test_a_bucket_without_object_lock_is_left_alone(
    s3_endpoint: S3Endpoint, tmp_path: Path
) -> None:
    bucket = s3_endpoint.create_bucket()
    blobs = S3BlobStore(**s3_endpoint.store_options(bucket))
    store = ArtifactStore(settings=Settings(data_dir=tmp_path / "d"), blob_store=blobs)
    try:
        package_id, digests = await _push(store, "raw-evidence", b"plain bucket")
        assert (await store.get_package(package_id))["state"] == "finalized"
        await store.apply_hold(package_id, "x", "y")
        assert (await blobs.object_lock(digests[0])).mode is None
    finally:
        await store.close()
        await blobs.close()
        s3_endpoint.destroy_bucket(bucket)
