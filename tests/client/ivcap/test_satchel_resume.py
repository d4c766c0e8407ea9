"""Large uploads survive failures: a connection really dropped mid-PATCH (a TCP proxy cuts it)
and a store failing mid-piece both resume from the store's offset instead of starting over; a
failure that outlasts ``retries`` raises and leaves no artifact and no open upload."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

import pytest
from tests.harness.cutting_proxy import CuttingProxy

from satchel import ArtifactStoreError, ProviderError, Satchel

MiB = 1024 * 1024


def _spy(monkeypatch: pytest.MonkeyPatch, store: Any, name: str, calls: list[Any]) -> None:
    """Record each call of the real *store*'s method *name* (its arguments, then its answer)."""
    real = getattr(store, name)

    async def recorded(*args: Any, **kwargs: Any) -> Any:
        calls.append(args)
        return await real(*args, **kwargs)

    monkeypatch.setattr(store, name, recorded)


def test_a_dropped_connection_resumes_at_the_servers_offset(
    make_client: Any, platform_server: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = os.urandom(6 * MiB)
    path = tmp_path / "big.bin"
    path.write_bytes(data)
    proxy = CuttingProxy(platform_server.port, cut_after=3 * MiB)
    try:
        client: Satchel = make_client("platform", url=proxy.url, timeout=30)
        created: list[Any] = []
        infos: list[Any] = []
        _spy(monkeypatch, client.client.store, "tus_create", created)
        _spy(monkeypatch, client.client.store, "tus_info", infos)
        artifact = client.upload_artifact(
            file_path=path, chunk_size=2 * MiB, retries=5, retry_delay=0.2
        )
        assert proxy.cuts == 1  # the connection was dropped for real, once
        assert len(created) == 1  # one upload, continued
        assert infos  # after the drop the client asked the server where it stood
        assert proxy.sent_upstream < len(data) + 2 * MiB + 256 * 1024  # not sent again whole
    finally:
        proxy.close()
    assert artifact.size == len(data)
    assert artifact.sha256 == "sha256:" + hashlib.sha256(data).hexdigest()
    fresh = make_client("platform")  # not through the proxy
    assert b"".join(fresh.get_artifact(artifact.id).as_stream()) == data


def test_a_store_failing_mid_piece_resumes(
    make_client: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    client: Satchel = make_client("local")
    store = client.client.store
    real_append = store.tus_append
    failed: list[int] = []

    async def append(upload_id: str, offset: int, chunk: bytes, **kwargs: Any) -> Any:
        if offset >= MiB and not failed:  # the second piece: half of it, then a failure
            failed.append(offset)
            await real_append(upload_id, offset, chunk[: len(chunk) // 2], **kwargs)
            raise ProviderError("the storage went away")
        return await real_append(upload_id, offset, chunk, **kwargs)

    monkeypatch.setattr(store, "tus_append", append)
    data = os.urandom(3 * MiB + 7)
    path = tmp_path / "big.bin"
    path.write_bytes(data)
    artifact = client.upload_artifact(file_path=path, chunk_size=MiB, retry_delay=0)
    assert failed == [MiB]
    assert artifact.sha256 == "sha256:" + hashlib.sha256(data).hexdigest()


def test_a_failure_past_the_retries_raises_and_leaves_nothing(
    make_client: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    client: Satchel = make_client("local")
    store = client.client.store
    created: list[Any] = []
    _spy(monkeypatch, store, "tus_create", created)
    attempts: list[int] = []

    async def broken(upload_id: str, offset: int, chunk: bytes, **kwargs: Any) -> Any:
        attempts.append(offset)
        raise ProviderError("the storage is down")

    monkeypatch.setattr(store, "tus_append", broken)
    path = tmp_path / "big.bin"
    path.write_bytes(os.urandom(2 * MiB))
    before = client.list_artifacts(limit=1000)
    with pytest.raises(ProviderError, match="down"):
        client.upload_artifact(file_path=path, chunk_size=MiB, retries=2, retry_delay=0)
    assert attempts == [0, 0, 0]  # the first try and two retries
    assert len(created) == 1
    assert [a.id for a in client.list_artifacts(limit=1000)] == [a.id for a in before]


def test_the_upload_started_is_terminated(
    make_client: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    client: Satchel = make_client("local")
    store = client.client.store
    started: list[str] = []
    real_create = store.tus_create

    async def create(**kwargs: Any) -> Any:
        status = await real_create(**kwargs)
        started.append(status.upload_id)
        return status

    async def broken(*args: Any, **kwargs: Any) -> Any:
        raise ProviderError("the storage is down")

    monkeypatch.setattr(store, "tus_create", create)
    monkeypatch.setattr(store, "tus_append", broken)
    path = tmp_path / "big.bin"
    path.write_bytes(os.urandom(2 * MiB))
    with pytest.raises(ProviderError):
        client.upload_artifact(file_path=path, chunk_size=MiB, retries=0)
    [upload_id] = started
    with pytest.raises(ArtifactStoreError):
        client.store.tus_info(upload_id)
