"""The event log under the feed: the SQL audience filter is exactly Audience.allows, sequence
numbers are never reused (SQLite AUTOINCREMENT, a 64-bit PostgreSQL sequence), and on
PostgreSQL a reader resuming ``after=next_after`` while replicas write concurrently misses
nothing and sees nothing twice (events commit in sequence order)."""

from __future__ import annotations

import asyncio
import itertools
import sqlite3
from pathlib import Path

import sqlalchemy as sa

from satchel.catalog import Catalog
from satchel.catalog.feed import read_events
from satchel.config import Settings
from satchel.core.access import Caller
from satchel.core.events import Audience
from satchel.store.facade import ArtifactStore
from satchel.testing import ManualClock

USERS = (None, "alice", "bob")
SESSIONS = (None, "s1", "s2")


async def _append(catalog: Catalog, audience: Audience, subject: str) -> None:
    async with catalog.write() as writer:
        await writer.append_event(
            type="v1.artifact.stored",
            subject=subject,
            payload={},
            actor=None,
            time=1.0,
            audience=audience,
        )


async def test_the_sql_filter_is_the_audience_rule(tmp_path: Path) -> None:
    catalog = Catalog(f"sqlite:///{tmp_path / 'catalog.db'}")
    await catalog.migrate()
    audiences: dict[str, Audience] = {}
    for n, (scope, owner, session) in enumerate(
        itertools.product(("session", "user", "sandbox", "admin"), USERS, SESSIONS)
    ):
        audiences[f"e{n}"] = Audience("sb", scope, owner, session)
        await _append(catalog, audiences[f"e{n}"], f"e{n}")
    await _append(catalog, Audience("other-sandbox", "sandbox"), "elsewhere")
    try:
        for user, session, admin in itertools.product(USERS, SESSIONS, (False, True)):
            caller = Caller(user_id=user, session_id=session, is_admin=admin)
            async with catalog.read() as reader:
                page = await read_events(
                    reader.conn, sandbox_id="sb", caller=caller, after=0, limit=1000
                )
            seen = {event["subject"] for event in page.events}
            expected = {name for name, audience in audiences.items() if audience.allows(caller)}
            assert seen == expected, caller
            assert page.next_after == len(audiences) + 1  # past the other sandbox's too
    finally:
        await catalog.close()


async def test_sqlite_never_hands_out_a_sequence_number_twice(tmp_path: Path) -> None:
    path = tmp_path / "catalog.db"
    catalog = Catalog(f"sqlite:///{path}")
    await catalog.migrate()
    for n in range(3):
        await _append(catalog, Audience("sb", "sandbox"), f"e{n}")
    await catalog.close()
    with sqlite3.connect(path) as raw:
        raw.execute("DELETE FROM events WHERE seq = 3")  # the newest row, gone
    catalog = Catalog(f"sqlite:///{path}")
    try:
        await _append(catalog, Audience("sb", "sandbox"), "after")
        async with catalog.read() as reader:
            page = await read_events(
                reader.conn, sandbox_id="sb", caller=Caller(), after=0, limit=10
            )
        assert [(e["seq"], e["subject"]) for e in page.events] == [
            (1, "e0"),
            (2, "e1"),
            (4, "after"),
        ]
    finally:
        await catalog.close()


async def test_postgres_sequence_numbers_are_64_bit(postgres_url: str) -> None:
    catalog = Catalog(postgres_url)
    try:
        async with catalog.read() as reader:
            kind = await reader.conn.execute(
                sa.text(
                    "SELECT data_type FROM information_schema.columns "
                    "WHERE table_name = 'events' AND column_name = 'seq'"
                )
            )
            assert kind.scalar_one() == "bigint"
            sequence = await reader.conn.execute(
                sa.text(
                    "SELECT data_type FROM information_schema.sequences "
                    "WHERE sequence_name = 'events_seq_seq'"
                )
            )
            assert sequence.scalar_one() == "bigint"
        # Past 2**31: a 32-bit column or sequence would fail here.
        async with catalog.write() as writer:
            await writer.conn.execute(sa.text("SELECT setval('events_seq_seq', 3000000000)"))
        await _append(catalog, Audience("sb", "sandbox"), "big")
        async with catalog.read() as reader:
            page = await read_events(
                reader.conn, sandbox_id="sb", caller=Caller(), after=0, limit=10
            )
        assert [e["seq"] for e in page.events] == [3_000_000_001]
    finally:
        await catalog.close()


async def test_a_resumed_reader_misses_nothing_while_replicas_write(
    postgres_url: str, tmp_path: Path
) -> None:
    clock = ManualClock()
    replicas = [
        ArtifactStore(
            settings=Settings(
                data_dir=tmp_path / f"replica{n}",
                fs_root=tmp_path / "blobs",
                database_url=postgres_url,
                fsync=False,
            ),
            storage_provider="filesystem",
            clock=clock,
        )
        for n in range(3)
    ]
    reader = replicas[0]
    writing = True
    seen: list[int] = []

    async def read_along() -> None:
        after = 0
        while writing or after < (await reader.list_events(after))["next_after"]:
            page = await reader.list_events(after, limit=50)
            seen.extend(event["seq"] for event in page["events"])
            after = page["next_after"]
            await asyncio.sleep(0)

    async def write(store: ArtifactStore, n: int) -> None:
        for k in range(40):
            await store.store(f"{n}-{k}".encode(), mime="text/plain", summary="", ttl=None)

    try:
        for store in replicas:
            await store.open()
        follower = asyncio.ensure_future(read_along())
        await asyncio.gather(*(write(store, n) for n, store in enumerate(replicas * 2)))
        writing = False
        await asyncio.wait_for(follower, 60)
        every = [e["seq"] async for e in reader.events(page_size=1000)]
        assert len(every) >= 6 * 40
        assert seen == every  # in order, none missed, none twice
    finally:
        for store in replicas:
            await store.close()


async def test_a_slow_transaction_holds_back_later_events(postgres_url: str) -> None:
    """Transaction A logs an event and is slow to commit; B logs one meanwhile. B's event must
    not become visible before A's (a reader at B's sequence number would skip A's forever):
    B waits for A's commit and takes the later number."""
    catalog = Catalog(postgres_url)
    audience = Audience("sb", "sandbox")
    a_logged = asyncio.Event()

    async def slow() -> None:
        async with catalog.write() as writer:
            await writer.append_event(
                type="v1.artifact.stored",
                subject="A",
                payload={},
                actor=None,
                time=1.0,
                audience=audience,
            )
            await writer.flush_events()  # A's row is written, not yet committed
            a_logged.set()
            await asyncio.sleep(2.0)  # long enough for the read below, even on a busy machine

    async def read(after: int) -> tuple[list[str], int]:
        async with catalog.read() as reader:
            page = await read_events(
                reader.conn, sandbox_id="sb", caller=Caller(), after=after, limit=10
            )
        return [event["subject"] for event in page.events], page.next_after

    try:
        first = asyncio.ensure_future(slow())
        await a_logged.wait()
        second = asyncio.ensure_future(_append(catalog, audience, "B"))
        await asyncio.sleep(0.4)
        seen, after = await read(0)
        assert seen == []  # neither: A has not committed, and B waits behind it
        await asyncio.gather(first, second)
        rest, _ = await read(after)
        assert seen + rest == ["A", "B"]
    finally:
        await catalog.close()
