"""The record cache of a SQLite catalog file answers exactly what a fresh lookup would: changes
committed by this process, by another store on the same files (another worker) and by a plain
SQLite connection are all seen by the very next read."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from pathlib import Path

import pytest
from tests.store.internals import context_of

from satchel import ArtifactStore
from satchel.core.errors import ArtifactNotFoundError


def _store(tmp_path: Path) -> ArtifactStore:
    return ArtifactStore(storage_provider="filesystem", data_dir=tmp_path / "var")


async def test_reads_see_every_commit_from_this_and_other_processes(tmp_path: Path) -> None:
    async with _store(tmp_path) as one, _store(tmp_path) as two:
        artifact = await one.store(b"v1", mime="text/plain", summary="first", scope="sandbox")
        assert (await two.metadata(artifact)).summary == "first"  # now cached by two
        assert (await two.metadata(artifact)).summary == "first"
        records = context_of(two).catalog._records
        assert records is not None
        assert (artifact, context_of(two).sandbox_id) in records._entries

        await one.update_metadata(artifact, summary="second")  # the other "worker" commits
        assert (await two.metadata(artifact)).summary == "second"

        await two.update_metadata(artifact, summary="third")  # this process commits
        assert (await two.metadata(artifact)).summary == "third"
        assert (await one.metadata(artifact)).summary == "third"

        await one.update_file(artifact, data=b"version two")
        assert await two.read_file(artifact) == b"version two"

        await one.delete(artifact)
        with pytest.raises(ArtifactNotFoundError):
            await two.metadata(artifact)


async def test_a_missing_id_is_found_once_another_process_stores_it(tmp_path: Path) -> None:
    async with _store(tmp_path) as one, _store(tmp_path) as two:
        artifact = await one.store(b"x", mime="text/plain", scope="sandbox")
        await one.delete(artifact)
        with pytest.raises(ArtifactNotFoundError):
            await two.metadata(artifact)  # cached as missing
        # a plain SQLite connection puts the row back (as a restore from elsewhere would)
        conn = sqlite3.connect(tmp_path / "var" / "satchel.db")
        try:
            count = conn.execute("SELECT count(*) FROM artifacts").fetchone()[0]
        finally:
            conn.close()
        assert count == 0
        again = await one.store(b"x", mime="text/plain", scope="sandbox")
        assert (await two.metadata(again)).bytes == 1


async def test_an_outside_change_to_a_row_is_seen(tmp_path: Path) -> None:
    async with _store(tmp_path) as store:
        artifact = await store.store(b"x", mime="text/plain", summary="before", scope="sandbox")
        assert (await store.metadata(artifact)).summary == "before"
        conn = sqlite3.connect(tmp_path / "var" / "satchel.db")
        try:
            conn.execute(
                "UPDATE artifacts SET summary = 'after' WHERE artifact_id = ?", (artifact,)
            )
            conn.commit()
        finally:
            conn.close()
        # another program's commit reaches a server as a later event (the request that must
        # see it); blocking writes on the loop's own thread in the same turn are not a case
        await asyncio.sleep(0)
        assert (await store.metadata(artifact)).summary == "after"


async def test_the_cache_is_bounded(tmp_path: Path) -> None:
    async with _store(tmp_path) as store:
        records = context_of(store).catalog._records
        assert records is not None
        records.limit = 5
        ids = [await store.store(b"%d" % n, mime="text/plain", scope="sandbox") for n in range(12)]
        for artifact in ids:
            await store.metadata(artifact)
        assert 0 < len(records._entries) <= 5


async def test_one_check_serves_a_loop_turn_and_the_next_turn_checks_again(
    tmp_path: Path,
) -> None:
    async with _store(tmp_path) as store:
        ids = [await store.store(b"%d" % n, mime="text/plain", scope="sandbox") for n in range(3)]
        records = context_of(store).catalog._records
        assert records is not None
        await asyncio.sleep(0)
        before = records.checks
        catalog = context_of(store).catalog
        sandbox = context_of(store).sandbox_id
        # three lookups with no await that yields in between: one turn, one check
        for artifact in ids:
            coroutine = catalog.get_artifact(artifact, sandbox)
            with contextlib.suppress(StopIteration):
                coroutine.send(None)
        assert records.checks == before + 1
        # a commit by another connection, then a new turn: the next lookup sees it
        conn = sqlite3.connect(tmp_path / "var" / "satchel.db")
        try:
            conn.execute(
                "UPDATE artifacts SET summary = 'changed' WHERE artifact_id = ?", (ids[0],)
            )
            conn.commit()
        finally:
            conn.close()
        await asyncio.sleep(0)
        assert (await store.metadata(ids[0])).summary == "changed"
        assert records.checks == before + 2


async def test_kept_bytes_are_read_once_and_an_outside_change_is_seen(tmp_path: Path) -> None:
    """A small blob's bytes (kept in the catalog) are remembered like records, under the same
    check: a plain SQLite connection that rewrites them is seen by the next read and by a
    verification, so the cache can never hide a damaged blob."""
    async with _store(tmp_path) as store:
        artifact = await store.store(b"kept bytes", mime="text/plain", scope="sandbox")
        digest = (await store.metadata(artifact)).sha256
        records = context_of(store).catalog._records
        assert records is not None
        assert await store.read_file(artifact) == b"kept bytes"
        assert records._blobs[(digest, "filesystem")] == b"kept bytes"
        assert await store.read_file(artifact) == b"kept bytes"  # from the cache
        conn = sqlite3.connect(tmp_path / "var" / "satchel.db")
        try:
            changed = conn.execute(
                "UPDATE blob_bytes SET data = ? WHERE digest = ?", (b"KEPT BYTES", digest)
            ).rowcount
            conn.commit()
        finally:
            conn.close()
        assert changed == 1
        await asyncio.sleep(0)
        assert await store.read_file(artifact) == b"KEPT BYTES"
        report = await store.verify_storage()
        assert report["failed"] == 1, report


async def test_kept_bytes_held_are_bounded_by_a_budget(tmp_path: Path) -> None:
    async with _store(tmp_path) as store:
        records = context_of(store).catalog._records
        assert records is not None
        records.budget = 3 * 1000
        ids = [
            await store.store(bytes([n]) * 1000, mime="text/plain", scope="sandbox")
            for n in range(8)
        ]
        for artifact in ids:
            assert len(await store.read_file(artifact)) == 1000
            assert records._held <= records.budget
            assert records._held == sum(len(data or b"") for data in records._blobs.values())
        assert 0 < len(records._blobs) <= 3
