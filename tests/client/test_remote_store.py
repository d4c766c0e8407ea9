"""RemoteArtifactStore against a real `satchel serve`: same calls, same results, same errors."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from satchel import (
    AccessDeniedError,
    ArtifactMetadata,
    ArtifactNotFoundError,
    ByteRange,
    ConflictError,
    InvalidRequestError,
    MultipartUploadCompleteRequest,
    MultipartUploadInitRequest,
    MultipartUploadPart,
    PreconditionFailedError,
    ProviderUnavailableError,
    RemoteArtifactStore,
    StreamDownloadRequest,
    StreamUploadRequest,
    SyncArtifactStore,
    UnauthorizedError,
    connect,
)

Make = Callable[..., RemoteArtifactStore]


async def test_store_retrieve_metadata(remote: Make) -> None:
    alice = remote("alice")
    artifact_id = await alice.store(
        b"hello remote", mime="text/plain", summary="greeting", filename="a.txt", meta={"k": 1}
    )
    assert await alice.retrieve(artifact_id) == b"hello remote"
    assert await alice.read_file(artifact_id, as_text=True) == "hello remote"
    meta = await alice.metadata(artifact_id)
    assert isinstance(meta, ArtifactMetadata)
    assert (meta.filename, meta.mime, meta.bytes, meta.meta) == (
        "a.txt",
        "text/plain",
        12,
        {"k": 1},
    )
    assert meta.owner_id == "alice"
    assert meta.sha256.startswith("sha256:")
    assert await alice.exists(artifact_id)
    assert alice.parse_grid_key(meta.key) is not None


async def test_update_and_if_match(remote: Make) -> None:
    alice = remote("alice")
    artifact_id = await alice.store(b"v1", mime="text/plain", filename="v.txt", meta={"a": 1})
    first = await alice.metadata(artifact_id)
    merged = await alice.update_metadata(artifact_id, meta={"b": 2}, if_match=first.etag)
    assert merged.meta == {"a": 1, "b": 2}
    assert merged.version == first.version + 1
    with pytest.raises(PreconditionFailedError):
        await alice.update_metadata(artifact_id, summary="stale", if_match=first.etag)
    replaced = await alice.update_file(artifact_id, data=b"v2 longer", summary="second")
    assert replaced.summary == "second"
    assert replaced.bytes == 9
    assert await alice.retrieve(artifact_id) == b"v2 longer"
    with pytest.raises(PreconditionFailedError):
        await alice.delete(artifact_id, if_match=first.etag)
    with pytest.raises(InvalidRequestError):
        await alice.update_file(artifact_id)


async def test_delete_and_missing(remote: Make) -> None:
    alice = remote("alice")
    artifact_id = await alice.store(b"bye", mime="text/plain")
    assert await alice.delete(artifact_id) is True
    assert not await alice.exists(artifact_id)
    with pytest.raises(ArtifactNotFoundError) as caught:
        await alice.retrieve(artifact_id)
    assert artifact_id in caught.value.message
    with pytest.raises(ArtifactNotFoundError):
        await alice.metadata("0" * 32)


async def test_error_mapping_between_users(remote: Make) -> None:
    alice, bob = remote("alice"), remote("bob")
    artifact_id = await alice.store(b"private", mime="text/plain", scope="user")
    with pytest.raises(AccessDeniedError):
        await bob.retrieve(artifact_id)
    with pytest.raises(AccessDeniedError):
        await bob.delete(artifact_id)
    with pytest.raises(UnauthorizedError):
        await remote(None).metadata(artifact_id)
    with pytest.raises(AccessDeniedError):  # a user token cannot act as another user
        await bob.metadata(artifact_id, user_id="alice")


async def test_unreachable_server_is_provider_unavailable() -> None:
    store = RemoteArtifactStore("http://127.0.0.1:9", "x" * 16, timeout=2)
    try:
        with pytest.raises(ProviderUnavailableError):
            await store.open()  # opening checks the service answers
        with pytest.raises(ProviderUnavailableError):
            await store.metadata("0" * 32)
    finally:
        await store.close()


async def test_list_search_copy_move(remote: Make) -> None:
    alice = remote("alice")
    first = await alice.store(b"one", mime="text/plain", filename="docs/one.txt", meta={"t": "x"})
    session_id = (await alice.metadata(first)).session_id
    ids = [first]
    for index in range(3):
        ids.append(
            await alice.store(
                b"n%d" % index, mime="image/png", filename=f"img{index}.png", session_id=session_id
            )
        )
    page = await alice.list_by_session(session_id, limit=2)
    assert len(page) == 2
    assert page.next_cursor
    rest = await alice.list_by_session(session_id, limit=10, cursor=page.next_cursor)
    assert {m.artifact_id for m in [*page, *rest]} == set(ids)
    docs = await alice.get_directory_contents(session_id, "docs/")
    assert [m.artifact_id for m in docs] == [first]
    found = await alice.search(user_id="alice", meta_filter={"t": "x"})
    assert first in {m.artifact_id for m in found}
    images = await alice.search(user_id="alice", mime_prefix="image/", limit=100)
    assert set(ids[1:]) <= {m.artifact_id for m in images}
    copy_id = await alice.copy_file(first, new_filename="docs/copy.txt")
    assert await alice.retrieve(copy_id) == b"one"
    moved = await alice.move_file(copy_id, new_filename="docs/moved.txt")
    assert moved.filename == "docs/moved.txt"
    with pytest.raises(AccessDeniedError):
        await alice.copy_file(first, target_session_id="some-other-session")


async def test_store_batch(remote: Make) -> None:
    alice = remote("alice")
    ids = await alice.store_batch(
        [
            {"data": b"a", "mime": "text/plain", "filename": "a"},
            {"data": b"b", "mime": "text/plain", "filename": "b"},
        ]
    )
    sessions = {(await alice.metadata(i)).session_id for i in ids}
    assert len(ids) == 2
    assert len(sessions) == 1
    with pytest.raises(InvalidRequestError):
        await alice.store_batch([])


async def _chunks(parts: list[bytes]) -> AsyncIterator[bytes]:
    for part in parts:
        await asyncio.sleep(0)
        yield part


async def test_stream_upload_and_download(remote: Make) -> None:
    alice = remote("alice")
    parts = [bytes([i]) * 100_000 for i in range(5)]
    seen: list[tuple[int, int | None]] = []
    artifact_id = await alice.stream_upload(
        StreamUploadRequest(
            data_stream=_chunks(parts),
            mime="application/octet-stream",
            filename="big.bin",
            content_length=500_000,
            progress_callback=lambda done, total: seen.append((done, total)),
        )
    )
    assert seen[-1] == (500_000, 500_000)
    progress: list[int] = []
    got = [
        chunk
        async for chunk in alice.stream_download(
            StreamDownloadRequest(
                artifact_id=artifact_id,
                chunk_size=65536,
                progress_callback=lambda done, total: progress.append(done),
            )
        )
    ]
    assert b"".join(got) == b"".join(parts)
    assert progress[-1] == 500_000
    assert max(len(c) for c in got) <= 65536


async def test_stream_upload_wrong_length_stores_nothing(remote: Make) -> None:
    alice = remote("alice")
    before = await alice.search(user_id="alice", limit=1000)
    with pytest.raises(InvalidRequestError):
        await alice.stream_upload(
            StreamUploadRequest(
                data_stream=_chunks([b"abc"]), filename="short.bin", content_length=10
            )
        )
    with pytest.raises(InvalidRequestError):
        await alice.stream_upload(
            StreamUploadRequest(data_stream=_chunks([b"abcdef"]), content_length=3)
        )
    after = await alice.search(user_id="alice", limit=1000)
    assert len(after) == len(before)


async def test_stream_download_errors(remote: Make) -> None:
    with pytest.raises(ArtifactNotFoundError):
        async for _ in remote("alice").stream_download(StreamDownloadRequest(artifact_id="0" * 32)):
            pass


async def test_presign_download(remote: Make, server: Any) -> None:
    alice = remote("alice")
    artifact_id = await alice.store(b"shared", mime="text/plain")
    url = await alice.presign(artifact_id, 60)
    assert "<signature redacted>" in repr(url)
    async with httpx.AsyncClient() as client:
        response = await client.get(str(url))
    assert response.status_code == 200
    assert response.content == b"shared"
    for method in (alice.presign_short, alice.presign_medium, alice.presign_long):
        assert "/v1/signed/" in await method(artifact_id)
    with pytest.raises(AccessDeniedError):
        await remote("bob").presign(await alice.store(b"mine", mime="text/plain", scope="user"), 60)


async def test_presign_upload_and_register(remote: Make) -> None:
    alice = remote("alice")
    url, artifact_id = await alice.presign_upload(filename="up.txt", mime_type="text/plain")
    with pytest.raises(ConflictError):  # nothing uploaded yet
        await alice.register_uploaded_artifact(artifact_id, mime="text/plain", summary="s")
    async with httpx.AsyncClient() as client:
        response = await client.put(str(url), content=b"uploaded bytes")
    assert response.status_code == 200
    assert await alice.register_uploaded_artifact(artifact_id, mime="text/plain", summary="s")
    assert await alice.retrieve(artifact_id) == b"uploaded bytes"


async def test_multipart(remote: Make) -> None:
    alice = remote("alice")
    info = await alice.initiate_multipart_upload(
        MultipartUploadInitRequest(filename="parts.bin", mime_type="application/octet-stream")
    )
    upload_id = info["upload_id"]
    first = await alice.upload_part(upload_id, 1, b"a" * 2048)
    url = await alice.get_part_upload_url(upload_id, 2, 60)
    async with httpx.AsyncClient() as client:
        response = await client.put(str(url), content=b"b" * 10)
    assert response.status_code == 200
    second = response.headers["etag"]
    artifact_id = await alice.complete_multipart_upload(
        MultipartUploadCompleteRequest(
            upload_id=upload_id,
            parts=[
                MultipartUploadPart(PartNumber=1, ETag=first),
                MultipartUploadPart(PartNumber=2, ETag=second),
            ],
        )
    )
    assert artifact_id == info["artifact_id"]
    assert await alice.retrieve(artifact_id) == b"a" * 2048 + b"b" * 10
    other = await alice.initiate_multipart_upload(MultipartUploadInitRequest(filename="x"))
    assert await alice.abort_multipart_upload(other["upload_id"])
    with pytest.raises(ArtifactNotFoundError):
        await alice.abort_multipart_upload("0" * 32)


async def test_admin_acts_for_users_and_health(remote: Make) -> None:
    admin = remote("admin")
    artifact_id = await admin.store(b"for alice", mime="text/plain", user_id="alice", scope="user")
    assert (await remote("alice").metadata(artifact_id)).owner_id == "alice"
    checks = await admin.validate_configuration()
    assert {"storage", "session", "catalog"} <= set(checks)
    stats = await admin.get_stats()
    assert stats["total_artifacts"] >= 1


async def test_connect_picks_remote_or_embedded(
    server: Any, monkeypatch: Any, tmp_path: Any
) -> None:
    monkeypatch.delenv("SATCHEL_URL", raising=False)
    monkeypatch.delenv("SATCHEL_TOKEN", raising=False)
    embedded = connect(storage_provider="memory")
    assert not isinstance(embedded, RemoteArtifactStore)
    await embedded.close()
    monkeypatch.setenv("SATCHEL_DATA_DIR", str(tmp_path / "var"))
    async with connect() as kept:  # as the CLI: files under the data directory, kept
        assert not isinstance(kept, RemoteArtifactStore)
        assert (kept.storage_provider, kept.persistent) == ("filesystem", True)
        stored = await kept.store(b"kept", mime="text/plain", scope="sandbox")
    async with connect() as again:
        assert await again.retrieve(stored) == b"kept"
    monkeypatch.setenv("SATCHEL_TOKEN", "alice-token-0001")
    with pytest.raises(InvalidRequestError) as refused:  # a token is for a server
        connect()
    assert "SATCHEL_URL" in refused.value.message
    monkeypatch.setenv("SATCHEL_URL", server.url)
    monkeypatch.setenv("SATCHEL_TOKEN", "alice-token-0001")
    remote_store = connect()
    assert isinstance(remote_store, RemoteArtifactStore)
    async with remote_store:
        artifact_id = await remote_store.store(b"x", mime="text/plain")
        assert (await remote_store.metadata(artifact_id)).owner_id == "alice"


def test_sync_facade_remote(server: Any, tmp_path: Any) -> None:
    source = tmp_path / "report.csv"
    source.write_bytes(b"a,b\n" * 50_000)
    with SyncArtifactStore(RemoteArtifactStore(server.url, "alice-token-0001")) as store:
        progress: list[int] = []
        first = store.upload_file(source, progress=lambda done, total: progress.append(done))
        assert progress[-1] == source.stat().st_size
        meta = store.metadata(first)
        assert meta.mime == "text/csv"
        again = store.upload_file(source, session_id=meta.session_id)
        assert again != first  # the first expires before a new upload would: a new artifact
        assert store.metadata(again).sha256 == meta.sha256  # of the same (stored once) bytes
        kept = store.upload_file(source, scope="user", ttl=None)
        assert store.upload_file(source, scope="user", ttl=None) == kept  # exactly the same
        assert store.upload_file(source, scope="user", ttl=None, dedup=False) != kept
        changed = store.upload_file(source, scope="user", ttl=None, meta={"v": 2})
        assert changed != kept
        assert store.metadata(changed).meta == {"v": 2}  # what was asked for is never dropped
        with store.open(first) as handle:
            assert handle.read(4) == b"a,b\n"
            assert len(handle.read()) == source.stat().st_size - 4
        with store.as_local_file(first) as path:
            assert path.name == "report.csv"
            assert path.read_bytes() == source.read_bytes()
        assert not path.exists()
        target = tmp_path / "out" / "copy.csv"
        with store.as_local_file(first, target) as path:
            assert path == target
        assert target.read_bytes() == source.read_bytes()
        chunks = list(store.iter_chunks(first, chunk_size=1000))
        assert max(map(len, chunks)) <= 1000
        assert store.exists(first)  # via __getattr__
        with pytest.raises(ArtifactNotFoundError):
            store.open("0" * 32)


def test_sync_facade_embedded(tmp_path: Any) -> None:
    from satchel import ArtifactStore

    (tmp_path / "f.txt").write_text("embedded")
    with SyncArtifactStore(ArtifactStore(storage_provider="memory")) as store:
        artifact_id = store.upload_file(tmp_path / "f.txt", ttl=None)
        assert store.retrieve(artifact_id) == b"embedded"
        assert store.upload_file(tmp_path / "f.txt", ttl=None) == artifact_id
        with store.open_content(artifact_id, byte_range=ByteRange(2, 4)) as content:
            assert (content.status, content.start, content.end) == (206, 2, 5)
            assert b"".join(content) == b"bed"
        assert store.open_content(artifact_id).read() == b"embedded"
        assert store.read_file(artifact_id, as_text=True) == "embedded"
