"""Backend routing in the store: two real backends at once (filesystem + SQLite blobs, and
filesystem + S3 on moto). Each test checks the backends themselves, not only the catalog."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.harness.s3 import S3Endpoint
from tests.store.internals import blobs_of, context_of

from satchel import ArtifactStore, Settings
from satchel.core.errors import InvalidRequestError, ProviderError
from satchel.core.requests import (
    MultipartUploadCompleteRequest,
    MultipartUploadInitRequest,
    MultipartUploadPart,
    StreamDownloadRequest,
)
from satchel.server.app import create_app
from satchel.testing import ManualClock
from satchel.testing.blobstore import digest_of

ROUTES = "guide-board:*=sqlite,*:*=local"
EVIDENCE = {"producer": "guide-board"}
TOKEN = "alice-token-0001"


def _settings(tmp_path: Path, **extra: Any) -> Settings:
    values: dict[str, Any] = {
        "data_dir": tmp_path / "data",
        "gc_grace_seconds": 0,
        "fsync": False,
        "storage_backends": "local,sqlite",
        "storage_default_backend": "local",
        "storage_backend_routes": ROUTES,
        **extra,
    }
    return Settings(**values)


@pytest.fixture
async def store(tmp_path: Path, clock: ManualClock) -> AsyncIterator[ArtifactStore]:
    async with ArtifactStore(settings=_settings(tmp_path), clock=clock) as opened:
        yield opened


async def _where(store: ArtifactStore, digest: str) -> set[str]:
    """The backends that hold *digest*, asked directly."""
    return {
        name
        for name, blobs in context_of(store).backends.items()
        if await blobs.head(digest) is not None
    }


def _fs_path(store: ArtifactStore, digest: str) -> Path:
    hexdigest = digest.removeprefix("sha256:")
    root = store.settings.resolved_fs_root()
    return root / "sha256" / hexdigest[:2] / hexdigest[2:4] / hexdigest


# -- configuration -------------------------------------------------------------------------------


async def test_configured_backends_and_default(store: ArtifactStore) -> None:
    assert set(context_of(store).backends) == {"filesystem", "sqlite"}
    assert store.storage_provider == "filesystem"
    assert blobs_of(store) is context_of(store).backends["filesystem"]
    stats = await store.get_stats()
    assert stats["storage_backends"] == ["filesystem", "sqlite"]
    status = await store.validate_configuration()
    assert status["storage"]["status"] == "ok"
    assert set(status["storage"]["backends"]) == {"filesystem", "sqlite"}


def test_without_routing_settings_the_blob_backend_is_the_only_one(tmp_path: Path) -> None:
    plain = ArtifactStore(settings=Settings(data_dir=tmp_path), storage_provider="vfs-sqlite")
    assert context_of(plain).routing.backends == ("sqlite",)
    assert context_of(plain).routing.default_backend == "sqlite"
    assert context_of(plain).routing.rules == ()


def test_seed_variable_names(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("ARTIFACTSTORE_STORAGE_BACKENDS", "local,sqlite")
    monkeypatch.setenv("ARTIFACTSTORE_STORAGE_DEFAULT_BACKEND", "sqlite")
    monkeypatch.setenv("ARTIFACTSTORE_STORAGE_BACKEND_ROUTES", "guide-board:release-evidence=local")
    routing = context_of(ArtifactStore(settings=Settings(data_dir=tmp_path))).routing
    assert routing.backends == ("filesystem", "sqlite")
    assert routing.default_backend == "sqlite"
    assert routing.backend_for("guide-board", "release-evidence") == "filesystem"
    assert routing.backend_for("guide-board", None) == "sqlite"


def test_satchel_variable_names(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SATCHEL_STORAGE_BACKENDS", "memory,sqlite")
    monkeypatch.setenv("SATCHEL_STORAGE_BACKEND_ROUTES", "*:*=sqlite")
    settings = Settings()
    assert settings.storage_backends == "memory,sqlite"
    assert settings.storage_routing().default_backend == "memory"  # the first listed


@pytest.mark.parametrize(
    ("extra", "named"),
    [
        ({"storage_backend_routes": "guide-board:*=s3"}, "'guide-board:*=s3'"),
        ({"storage_backend_routes": "guide-board=sqlite"}, "'guide-board=sqlite'"),
        ({"storage_backend_routes": "a:b=tape"}, "'a:b=tape'"),
        ({"storage_backends": "local,tape"}, "'tape'"),
        ({"storage_default_backend": "s3"}, "'s3'"),
    ],
)
def test_bad_configuration_is_refused_at_startup(
    tmp_path: Path, extra: dict[str, str], named: str
) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        ArtifactStore(settings=_settings(tmp_path, **extra))
    assert named in str(caught.value)


def test_bad_configuration_stops_the_server_app(tmp_path: Path) -> None:
    with pytest.raises(InvalidRequestError, match="not configured"):
        create_app(_settings(tmp_path, storage_backend_routes="*:*=s3"))


# -- writes land where the rules say ---------------------------------------------------------------


async def test_artifacts_land_where_the_rules_say(store: ArtifactStore) -> None:
    evidence = await store.store(b"evidence", mime="text/plain", meta=EVIDENCE, user_id="alice")
    notes = await store.store(b"notes", mime="text/plain", user_id="alice")
    by_user = await store.store(b"by user", mime="text/plain", user_id="guide-board")

    assert (await store.metadata(evidence)).storage_provider == "sqlite"
    assert (await store.metadata(notes)).storage_provider == "filesystem"
    assert (await store.metadata(by_user)).storage_provider == "sqlite"  # the owner is the producer
    assert await _where(store, digest_of(b"evidence")) == {"sqlite"}
    assert await _where(store, digest_of(b"notes")) == {"filesystem"}
    assert await _where(store, digest_of(b"by user")) == {"sqlite"}
    filesystem = context_of(store).blob_backend("filesystem")
    assert b"".join([c async for c in filesystem.open_range(digest_of(b"notes"))]) == b"notes"
    assert not _fs_path(store, digest_of(b"evidence")).exists()


async def test_session_id_is_the_producer_without_owner_or_meta(store: ArtifactStore) -> None:
    artifact_id = await store.store(b"by session", mime="text/plain", session_id="guide-board")
    assert (await store.metadata(artifact_id)).storage_provider == "sqlite"


async def test_reads_come_from_the_recorded_backend(store: ArtifactStore) -> None:
    evidence = await store.store(b"evidence " * 100, mime="text/plain", meta=EVIDENCE)
    assert await store.retrieve(evidence) == b"evidence " * 100
    assert await store.read_file(evidence, as_text=True) == "evidence " * 100
    request = StreamDownloadRequest(artifact_id=evidence, chunk_size=7)
    assert b"".join([c async for c in store.stream_download(request)]) == b"evidence " * 100
    recorded = (await store.metadata(evidence)).storage_provider
    assert context_of(store).blob_backend(recorded) is context_of(store).backends["sqlite"]


async def test_http_reads_come_from_the_recorded_backend(tmp_path: Path) -> None:
    settings = _settings(tmp_path, auth_tokens=f"{TOKEN}=alice", purge_interval_seconds=0)
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        store: ArtifactStore = app.state.store
        evidence = await store.store(
            b"over http", mime="text/plain", meta=EVIDENCE, user_id="alice"
        )
        assert await _where(store, digest_of(b"over http")) == {"sqlite"}
        transport = httpx.ASGITransport(app=app)
        headers = {"Authorization": f"Bearer {TOKEN}"}
        async with httpx.AsyncClient(
            transport=transport, base_url="http://test", headers=headers
        ) as http:
            plain = await http.get(f"/v1/artifacts/{evidence}/content")  # the fast path
            ranged = await http.get(
                f"/v1/artifacts/{evidence}/content", headers={"Range": "bytes=5-"}
            )
    assert (plain.status_code, plain.content) == (200, b"over http")
    assert (ranged.status_code, ranged.content) == (206, b"http")


async def test_multipart_upload_is_routed(store: ArtifactStore) -> None:
    started = await store.initiate_multipart_upload(
        MultipartUploadInitRequest(filename="e.bin", user_id="alice", meta=EVIDENCE)
    )

    async def body(data: bytes) -> AsyncIterator[bytes]:
        yield data

    etag = await store.upload_part(started["upload_id"], 1, body(b"multi"), user_id="alice")
    artifact_id = await store.complete_multipart_upload(
        MultipartUploadCompleteRequest(
            upload_id=started["upload_id"], parts=[MultipartUploadPart(PartNumber=1, ETag=etag)]
        ),
        user_id="alice",
    )
    assert (await store.metadata(artifact_id, user_id="alice")).storage_provider == "sqlite"
    assert await _where(store, digest_of(b"multi")) == {"sqlite"}
    assert await store.retrieve(artifact_id, user_id="alice") == b"multi"


# -- delete, purge, garbage collection -----------------------------------------------------------


async def test_delete_reclaims_from_the_right_backend(store: ArtifactStore) -> None:
    evidence = await store.store(b"gone soon", mime="text/plain", meta=EVIDENCE)
    notes = await store.store(b"stays", mime="text/plain")
    await store.delete(evidence)
    assert await _where(store, digest_of(b"gone soon")) == set()
    assert await _where(store, digest_of(b"stays")) == {"filesystem"}
    await store.delete(notes)
    assert await _where(store, digest_of(b"stays")) == set()


async def test_purge_and_gc_reclaim_from_the_right_backend(
    store: ArtifactStore, clock: ManualClock
) -> None:
    expiring = await store.store(b"expiring", mime="text/plain", meta=EVIDENCE, ttl=60)
    also = await store.store(b"expiring too", mime="text/plain", ttl=60)
    kept = await store.store(b"kept", mime="text/plain", meta=EVIDENCE, ttl=None)
    clock.advance(3600)

    result = await store.purge_expired()

    assert (result["artifacts"], result["blobs"]) == (2, 2)
    assert result["bytes_freed"] == len(b"expiring") + len(b"expiring too")
    assert await _where(store, digest_of(b"expiring")) == set()
    assert await _where(store, digest_of(b"expiring too")) == set()
    assert await _where(store, digest_of(b"kept")) == {"sqlite"}
    assert not await store.exists(expiring)
    assert not await store.exists(also)
    assert await store.retrieve(kept) == b"kept"


async def test_gc_after_the_grace_period_per_backend(tmp_path: Path) -> None:
    settings = _settings(tmp_path, gc_grace_seconds=600)
    clock = ManualClock()
    async with ArtifactStore(settings=settings, clock=clock) as store:
        evidence = await store.store(b"graced", mime="text/plain", meta=EVIDENCE)
        notes = await store.store(b"graced", mime="text/plain")
        await store.delete(evidence)
        assert await store.collect_garbage() == (0, 0)  # within the grace period
        assert await _where(store, digest_of(b"graced")) == {"filesystem", "sqlite"}
        clock.advance(601)
        assert await store.collect_garbage() == (1, len(b"graced"))
        assert await _where(store, digest_of(b"graced")) == {"filesystem"}
        assert await store.retrieve(notes) == b"graced"


async def test_same_content_in_two_backends_survives_deleting_one_side(
    store: ArtifactStore,
) -> None:
    data = b"the same bytes"
    in_sqlite = await store.store(data, mime="text/plain", meta=EVIDENCE)
    in_files = await store.store(data, mime="text/plain")
    assert await _where(store, digest_of(data)) == {"filesystem", "sqlite"}
    assert (await store.get_stats())["unique_blobs"] == 2

    await store.delete(in_sqlite)
    assert await _where(store, digest_of(data)) == {"filesystem"}
    assert await store.retrieve(in_files) == data

    again = await store.store(data, mime="text/plain", meta=EVIDENCE)
    await store.delete(in_files)
    assert await _where(store, digest_of(data)) == {"sqlite"}
    assert await store.retrieve(again) == data


# -- updates and copies keep routing consistent --------------------------------------------------


async def test_new_content_follows_new_meta(store: ArtifactStore) -> None:
    artifact_id = await store.store(b"draft", mime="text/plain")
    updated = await store.update_file(artifact_id, data=b"final", meta=EVIDENCE)
    assert updated.storage_provider == "sqlite"
    assert await _where(store, digest_of(b"final")) == {"sqlite"}
    assert await _where(store, digest_of(b"draft")) == set()  # released and collected
    assert await store.retrieve(artifact_id) == b"final"


async def test_metadata_changes_leave_the_bytes_where_they_are(store: ArtifactStore) -> None:
    artifact_id = await store.store(b"stays put", mime="text/plain")
    moved = await store.update_metadata(artifact_id, meta=EVIDENCE)
    assert moved.storage_provider == "filesystem"
    assert await store.retrieve(artifact_id) == b"stays put"


async def test_same_content_rerouted_by_an_update_is_stored_there(store: ArtifactStore) -> None:
    artifact_id = await store.store(b"same", mime="text/plain")
    updated = await store.update_file(artifact_id, data=b"same", meta=EVIDENCE)
    assert updated.storage_provider == "sqlite"
    assert await _where(store, digest_of(b"same")) == {"sqlite"}  # the file copy was released


async def test_copy_routed_elsewhere_copies_the_bytes(store: ArtifactStore) -> None:
    source = await store.store(b"original", mime="text/plain", session_id="s1")
    copy = await store.copy_file(source, new_meta=EVIDENCE)
    plain_copy = await store.copy_file(source)
    assert (await store.metadata(copy)).storage_provider == "sqlite"
    assert (await store.metadata(plain_copy)).storage_provider == "filesystem"
    assert await _where(store, digest_of(b"original")) == {"filesystem", "sqlite"}

    await store.delete(source)
    await store.delete(plain_copy)
    assert await _where(store, digest_of(b"original")) == {"sqlite"}
    assert await store.retrieve(copy) == b"original"


# -- a backend that is no longer configured -------------------------------------------------------


async def test_rows_of_an_unconfigured_backend_fail_clearly_and_are_not_collected(
    tmp_path: Path,
) -> None:
    clock = ManualClock()
    async with ArtifactStore(settings=_settings(tmp_path), clock=clock) as store:
        evidence = await store.store(b"in sqlite", mime="text/plain", meta=EVIDENCE, ttl=None)
        doomed = await store.store(b"doomed", mime="text/plain", meta=EVIDENCE, ttl=60)
    narrowed = _settings(tmp_path, storage_backends="local", storage_backend_routes="")
    async with ArtifactStore(settings=narrowed, clock=clock) as store:
        with pytest.raises(ProviderError, match="'sqlite' is not configured"):
            await store.retrieve(evidence)
        clock.advance(3600)
        result = await store.purge_expired()
        assert result["artifacts"] == 1  # the row goes; its bytes wait for a store with sqlite
        assert result["blobs"] == 0
    async with ArtifactStore(settings=_settings(tmp_path), clock=clock) as store:
        assert await _where(store, digest_of(b"doomed")) == {"sqlite"}
        assert not await store.exists(doomed)
        assert await store.collect_garbage() == (1, len(b"doomed"))  # sqlite configured again
        assert await _where(store, digest_of(b"doomed")) == set()
        assert await store.retrieve(evidence) == b"in sqlite"


# -- filesystem + S3 (moto) ----------------------------------------------------------------------


@pytest.fixture
def bucket(moto_s3: S3Endpoint) -> Iterator[str]:
    name = moto_s3.create_bucket(prefix="satchel-routing")
    yield name
    moto_s3.destroy_bucket(name)


@pytest.fixture
async def s3_store(
    tmp_path: Path, moto_s3: S3Endpoint, bucket: str, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[ArtifactStore]:
    monkeypatch.setenv("ROUTING_TEST_ACCESS", moto_s3.access_key)
    monkeypatch.setenv("ROUTING_TEST_SECRET", moto_s3.secret_key)
    settings = _settings(
        tmp_path,
        storage_backends="local,s3",
        storage_backend_routes="guide-board:*=s3,*:*=local",
        bucket=bucket,
        s3_endpoint_url=moto_s3.url,
        s3_region=moto_s3.region,
        s3_addressing_style="path",
        s3_access_key_ref="env:ROUTING_TEST_ACCESS",
        s3_secret_key_ref="env:ROUTING_TEST_SECRET",
    )
    async with ArtifactStore(settings=settings) as opened:
        yield opened


def _s3_blob_keys(moto_s3: S3Endpoint, bucket: str) -> set[str]:
    return {key.rsplit("/", 1)[-1] for key in moto_s3.keys(bucket, "blobs/")}


async def test_s3_and_filesystem_routing(
    s3_store: ArtifactStore, moto_s3: S3Endpoint, bucket: str
) -> None:
    data = b"evidence for s3"
    evidence = await s3_store.store(data, mime="text/plain", meta=EVIDENCE)
    notes = await s3_store.store(b"local notes", mime="text/plain")
    twin = await s3_store.store(data, mime="text/plain")

    hexdigest = digest_of(data).removeprefix("sha256:")
    assert _s3_blob_keys(moto_s3, bucket) == {hexdigest}
    assert (await s3_store.metadata(evidence)).storage_provider == "s3"
    assert (await s3_store.metadata(notes)).storage_provider == "filesystem"
    assert await _where(s3_store, digest_of(data)) == {"filesystem", "s3"}
    assert await _where(s3_store, digest_of(b"local notes")) == {"filesystem"}
    assert await s3_store.retrieve(evidence) == data
    assert await s3_store.retrieve(notes) == b"local notes"

    await s3_store.delete(evidence)
    assert _s3_blob_keys(moto_s3, bucket) == set()
    assert await s3_store.retrieve(twin) == data  # the filesystem copy survives
    await s3_store.delete(twin)
    assert await _where(s3_store, digest_of(data)) == set()


async def test_s3_presign_only_for_artifacts_in_s3(s3_store: ArtifactStore) -> None:
    in_s3 = await s3_store.store(b"signed by s3", mime="text/plain", meta=EVIDENCE)
    local = await s3_store.store(b"signed by satchel", mime="text/plain")
    s3_url = str(await s3_store.presign(in_s3))
    local_url = str(await s3_store.presign(local))
    assert "/v1/signed/" not in s3_url
    assert "/v1/signed/" in local_url
    async with httpx.AsyncClient() as http:
        assert (await http.get(s3_url)).content == b"signed by s3"


# -- retention classes route ----------------------------------------------------------------------


async def test_retention_classes_route_artifacts_and_packages(tmp_path: Path) -> None:
    """Seed 001's ``producer:retention_class=backend`` rules match real retention classes: an
    artifact's (``meta["retention_class"]``) and a package's, for its files and manifest."""
    routes = "*:release-evidence=sqlite,*:*=local"
    async with ArtifactStore(settings=_settings(tmp_path, storage_backend_routes=routes)) as store:
        kept = await store.store(
            b"release notes", mime="text/plain", summary="",
            meta={"retention_class": "release-evidence"},
        )  # fmt: skip
        plain = await store.store(b"scratch", mime="text/plain", summary="")
        assert (await store.metadata(kept)).storage_provider == "sqlite"
        assert (await store.metadata(plain)).storage_provider == "filesystem"

        package_id = await store.create_package("rel", "ci", "v1", "release-evidence")
        entry = await store.ingest_file(package_id, "bin/tool", None, b"\x7fELF binary")
        address = await store.finalize_package(package_id)
        assert await _where(store, entry["sha256"]) == {"sqlite"}
        assert await _where(store, address) == {"sqlite"}
        other = await store.create_package("raw", "ci", "v1", "raw-evidence")
        raw = await store.ingest_file(other, "log.txt", None, b"raw log only")
        assert await _where(store, raw["sha256"]) == {"filesystem"}
