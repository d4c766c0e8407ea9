"""Two replicas of the pull-through cache on one PostgreSQL catalog and one blob directory: while
one downloads a path, the other does not ask upstream but waits and serves the copy the first
one cached; a replica that dies mid-download does not hold the path for ever."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.harness.origin import Origin
from tests.store.internals import catalog_of, context_of

from satchel import ArtifactStore, Settings
from satchel.catalog.proxy import ProxyRows
from satchel.core.proxy import entry_id


@pytest.fixture
def origin() -> Iterator[Origin]:
    started = Origin()
    yield started
    started.stop()


def _replica(url: str, tmp_path: Path, name: str, remotes: Path) -> ArtifactStore:
    settings = Settings(
        data_dir=tmp_path / name,
        fs_root=tmp_path / "shared-blobs",
        database_url=url,
        remotes_file=remotes,
        fsync=False,
    )
    return ArtifactStore(settings=settings, storage_provider="filesystem")


@pytest.fixture
def remotes(origin: Origin, tmp_path: Path) -> Path:
    path = tmp_path / "remotes.yaml"
    path.write_text(
        f'remotes:\n  rel:\n    base_url: "{origin.url}"\n    include_patterns: [".*"]\n',
        encoding="utf-8",
    )
    return path


async def test_one_replica_downloads_while_the_other_waits_for_its_copy(
    postgres_url: str, tmp_path: Path, origin: Origin, remotes: Path
) -> None:
    first, second = (_replica(postgres_url, tmp_path, n, remotes) for n in ("one", "two"))
    body = b"release bytes " * 50_000
    origin.files["v1/tool.tar.gz"] = body
    release = origin.hold["v1/tool.tar.gz"] = threading.Event()
    try:
        answer = await first.open_remote_file("rel", "v1/tool.tar.gz")
        assert answer.source == "remote"
        started = await anext(aiter(answer))  # half of it has arrived at the first replica
        waiting = asyncio.create_task(second.open_remote_file("rel", "v1/tool.tar.gz"))
        await asyncio.sleep(0.5)
        assert not waiting.done()  # the second replica waits: it does not ask upstream
        assert origin.gets["v1/tool.tar.gz"] == 1
        release.set()
        assert started + await answer.read() == body
        await answer.aclose()
        other = await asyncio.wait_for(waiting, 30)
        assert other.source == "cache"
        assert await other.read() == body
        await other.aclose()
        assert origin.gets["v1/tool.tar.gz"] == 1
    finally:
        release.set()
        for replica in (first, second):
            await replica.close()


async def test_a_lapsed_lease_does_not_hold_a_path_for_ever(
    postgres_url: str, tmp_path: Path, origin: Origin, remotes: Path
) -> None:
    store = _replica(postgres_url, tmp_path, "one", remotes)
    origin.files["v2/tool.bin"] = b"tool"
    key = entry_id(store.sandbox_id, "rel", "v2/tool.bin")
    try:
        await store.open()
        catalog = catalog_of(store)
        now = context_of(store).now()
        async with catalog.write() as writer:  # a replica that died one second into its lease
            assert await ProxyRows(writer.conn).claim(key, "dead-replica", now - 60, now + 1)
        answer = await asyncio.wait_for(store.open_remote_file("rel", "v2/tool.bin"), 30)
        assert (answer.source, await answer.read()) == ("remote", b"tool")
        await answer.aclose()
        async with catalog.read() as reader:
            assert await ProxyRows(reader.conn).holder(key, context_of(store).now()) is None
    finally:
        await store.close()
