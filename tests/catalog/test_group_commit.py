"""Group commit on a SQLite catalog file: concurrent writers share COMMITs, failures stay local,
and nobody hears "done" before the change is committed."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import text

from satchel.catalog import Catalog, CatalogWriter
from satchel.core.events import Audience
from satchel.core.models import SessionRecord


def _session(n: int) -> SessionRecord:
    return SessionRecord(
        session_id=f"sess-{n}",
        sandbox_id="default",
        user_id=None,
        created_at=1.0,
        expires_at=None,
    )


async def _insert(writer: CatalogWriter, n: int) -> None:
    """A session row and its event (a write that changes a view without one is refused)."""
    await writer.insert_session(_session(n))
    await writer.append_event(
        type="v1.session.created",
        subject=f"sess-{n}",
        payload={},
        actor=None,
        time=1.0,
        audience=Audience.admins("default"),
    )


def _committed_sessions(db: Path) -> set[str]:
    conn = sqlite3.connect(db)
    try:
        return {row[0] for row in conn.execute("SELECT session_id FROM sessions")}
    finally:
        conn.close()


@pytest.fixture
async def catalog(tmp_path: Path) -> Catalog:
    catalog = Catalog(f"sqlite:///{tmp_path / 'catalog.db'}")
    await catalog.migrate()
    yield catalog  # type: ignore[misc]
    await catalog.close()


async def test_concurrent_writers_share_commits_and_are_durable_when_told(
    catalog: Catalog, tmp_path: Path
) -> None:
    db = tmp_path / "catalog.db"
    seen_at_return: dict[int, bool] = {}

    async def write(n: int) -> None:
        async with catalog.write() as writer:
            await _insert(writer, (n))
        # Another connection (another process, say) sees it as soon as the writer returns.
        seen_at_return[n] = f"sess-{n}" in _committed_sessions(db)

    await asyncio.gather(*(write(n) for n in range(64)))
    group = catalog.group_commit
    assert group is not None
    assert len(seen_at_return) == 64
    assert all(seen_at_return.values())
    assert group.writes == 64
    assert group.commits < 64  # some writers shared a COMMIT (one fsync)


async def test_a_failing_writer_leaves_its_group_intact(catalog: Catalog, tmp_path: Path) -> None:
    class Boom(Exception):
        pass

    async def good(n: int) -> None:
        async with catalog.write() as writer:
            await _insert(writer, (n))

    async def bad() -> None:
        async with catalog.write() as writer:
            await _insert(writer, (999))
            raise Boom

    results = await asyncio.gather(good(1), bad(), good(2), return_exceptions=True)
    assert results[0] is None
    assert results[2] is None
    assert isinstance(results[1], Boom)
    assert _committed_sessions(tmp_path / "catalog.db") == {"sess-1", "sess-2"}


async def test_a_cancelled_writer_is_rolled_back_and_others_commit(
    catalog: Catalog, tmp_path: Path
) -> None:
    entered = asyncio.Event()

    async def stuck() -> None:
        async with catalog.write() as writer:
            await _insert(writer, (7))
            entered.set()
            await asyncio.sleep(3600)

    task = asyncio.create_task(stuck())
    await entered.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    async with catalog.write() as writer:
        await _insert(writer, (8))
    assert _committed_sessions(tmp_path / "catalog.db") == {"sess-8"}


async def test_readers_never_see_an_uncommitted_group(catalog: Catalog) -> None:
    inside = asyncio.Event()
    release = asyncio.Event()

    async def writer_task() -> None:
        async with catalog.write() as writer:
            await _insert(writer, (5))
            inside.set()
            await release.wait()

    task = asyncio.create_task(writer_task())
    await inside.wait()
    async with catalog.read() as reader:
        assert await reader.get_session("sess-5") is None
    release.set()
    await task
    async with catalog.read() as reader:
        assert await reader.get_session("sess-5") is not None


async def test_a_writer_failing_in_sql_is_undone_alone_and_its_group_goes_on(
    catalog: Catalog, tmp_path: Path
) -> None:
    """A writer whose second statement fails (a duplicate key, after its first row went in)
    loses both rows; writers before and after it in the group keep theirs, and the group's
    connection takes writers as before once that group has committed."""
    go = asyncio.Event()

    async def first() -> None:
        async with catalog.write() as writer:
            await _insert(writer, 1)
            await go.wait()  # hold the group open while the others queue behind

    async def duplicate() -> None:
        async with catalog.write() as writer:
            await _insert(writer, 40)
            await writer.raw.execute(
                text(
                    "INSERT INTO sessions (session_id, sandbox_id, created_at) VALUES (:i, :s, 1)"
                ),
                {"i": "sess-1", "s": "default"},
            )

    async def after(n: int) -> None:
        async with catalog.write() as writer:
            await _insert(writer, n)

    tasks = [asyncio.create_task(first())]
    await asyncio.sleep(0)
    tasks += [asyncio.create_task(duplicate()), asyncio.create_task(after(2))]
    for _ in range(5):
        await asyncio.sleep(0)
    go.set()
    results = await asyncio.gather(*tasks, return_exceptions=True)
    assert results[0] is None
    assert results[2] is None
    assert "UNIQUE" in str(results[1]), results[1]
    assert _committed_sessions(tmp_path / "catalog.db") == {"sess-1", "sess-2"}
    for n in range(3, 8):  # savepoints do not pile up: each later writer still commits
        await after(n)
    assert _committed_sessions(tmp_path / "catalog.db") == {
        f"sess-{n}" for n in (1, 2, *range(3, 8))
    }


async def _temp_store(writer: CatalogWriter) -> int:
    return int((await writer.raw.execute(text("PRAGMA temp_store"))).scalar_one())


async def test_a_bulk_writer_commits_the_open_group_and_journals_to_disk(
    catalog: Catalog, tmp_path: Path
) -> None:
    """Writers' savepoint journals are kept in memory (2: MEMORY); a bulk writer (replay, GC)
    first commits the group open before it, then runs in a group of its own whose journal may
    spill to disk (0: the default), and the groups after it are in memory again."""
    group = catalog.group_commit
    assert group is not None
    go = asyncio.Event()
    inside = asyncio.Event()
    seen: dict[str, object] = {}

    async def small() -> None:
        async with catalog.write() as writer:
            await _insert(writer, 1)
            seen["small"] = await _temp_store(writer)
            inside.set()
            await go.wait()

    async def bulk() -> None:
        async with catalog.write(bulk=True) as writer:
            # the group before it is committed already: another connection sees its row
            seen["committed before"] = _committed_sessions(tmp_path / "catalog.db")
            seen["bulk"] = await _temp_store(writer)
            await _insert(writer, 2)

    first = asyncio.create_task(small())
    await inside.wait()
    second = asyncio.create_task(bulk())
    await asyncio.sleep(0)
    go.set()
    await asyncio.gather(first, second)
    assert seen["small"] == 2
    assert seen["committed before"] == {"sess-1"}
    assert seen["bulk"] == 0
    assert group.commits == 2
    async with catalog.write() as writer:
        await _insert(writer, 3)
        assert await _temp_store(writer) == 2
    assert _committed_sessions(tmp_path / "catalog.db") == {"sess-1", "sess-2", "sess-3"}
