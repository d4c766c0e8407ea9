"""Group commit for a SQLite catalog: concurrent write transactions share one COMMIT (one fsync).

SQLite has one writer at a time and every durable commit costs an fsync of the WAL, so a store
that commits each write on its own is bounded by the disk's fsync rate. Here writers still run
one after another (an asyncio lock; ``BEGIN IMMEDIATE`` against other processes), but each runs
inside a SAVEPOINT of a transaction that stays open while more writers are queued. When the
queue is empty a flush task commits the whole group and only then are its writers released:
nobody is told "done" before the fsync that makes their change durable.

A writer that fails is rolled back to its savepoint and leaves the group's other writers intact.
A failed COMMIT fails every writer of the group (none of their changes is durable). Readers use
other connections, so they never see a group's changes before its commit.

SQLite keeps the original of every page a savepoint changes in a sub-journal, which it spills to
a temporary file past 64 KiB: a small store changes ~50 pages, and wrote each of them there with
a syscall of its own (half of its time in SQLite). A group's sub-journal is kept in memory
instead (``PRAGMA temp_store=MEMORY`` at its BEGIN; it is emptied at each writer's RELEASE, so it
holds one writer's pages at a time). Only a *bulk* writer, one that may change much of the
catalog (replay, garbage collection), still has it spill to disk: it commits the open group and
begins a group of its own. Durability is the WAL's either way: the sub-journal only undoes a
writer.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any

from sqlalchemy.engine import Connection, Engine, RootTransaction

from satchel._threads import in_thread, settled
from satchel.catalog.engine import refresh_statistics

__all__ = ["GroupCommitWriter"]


# Refresh planner statistics after this many writes, so plans follow the catalog as it grows.
ANALYZE_EVERY = 10_000


_JOURNAL_IN_MEMORY = "PRAGMA temp_store=MEMORY"
_JOURNAL_ON_DISK = "PRAGMA temp_store=DEFAULT"
_SAVEPOINT = "SAVEPOINT satchel_writer"
_RELEASE = "RELEASE SAVEPOINT satchel_writer"


def _rollback_to_savepoint(driver: Any) -> None:
    """Undo one writer's statements and drop its savepoint (SQLite's ROLLBACK TO keeps it)."""
    driver.execute("ROLLBACK TO SAVEPOINT satchel_writer")
    driver.execute(_RELEASE)


class _Group:
    __slots__ = ("done", "transaction")

    def __init__(self, transaction: RootTransaction) -> None:
        self.transaction = transaction
        self.done: asyncio.Future[None] = asyncio.get_running_loop().create_future()


class GroupCommitWriter:
    """Serialised write transactions on one dedicated connection, committed in groups."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._lock = asyncio.Lock()
        self._conn: Connection | None = None
        self._group: _Group | None = None
        self._flushing: set[asyncio.Task[None]] = set()
        self.commits = 0  # how many COMMITs (groups) so far, for tests and metrics
        self.writes = 0  # how many write transactions they carried
        self._analyzed_at = 0  # self.writes when planner statistics were last refreshed

    def _connection(self) -> Connection:
        if self._conn is None:
            self._conn = self._engine.connect().execution_options(satchel_write=True)
        return self._conn

    @contextlib.asynccontextmanager
    async def transaction(self, *, bulk: bool = False) -> AsyncIterator[Connection]:
        """A connection inside a savepoint of the current group; returns once it is durable.
        A *bulk* writer gets a group whose sub-journal may spill to disk (see the module)."""
        async with self._lock:
            conn = self._connection()
            if bulk and self._group is not None:
                # Committed in a task that a cancellation of this writer does not interrupt:
                # the group's writers hear how their commit went, whatever happens here.
                await settled(asyncio.ensure_future(self._commit_group()))
            if self._group is None:
                self._group = _Group(await self._begin(conn, in_memory=not bulk))
            group = self._group
            # The savepoint runs on the driver: SQLAlchemy's begin_nested() compiles and
            # executes two statements per writer (~100 µs each on the loop) for two that take
            # ~10 µs. Writers never nest, so one fixed name does.
            driver = conn.connection.driver_connection
            assert driver is not None
            driver.execute(_SAVEPOINT)
            try:
                yield conn
                driver.execute(_RELEASE)
            except BaseException:
                self._undo(lambda: _rollback_to_savepoint(driver))
                raise
            else:
                self.writes += 1
            finally:
                if not self._flushing:
                    task = asyncio.create_task(self._flush())
                    self._flushing.add(task)
                    task.add_done_callback(self._flushing.discard)
        await asyncio.shield(group.done)

    @staticmethod
    async def _begin(conn: Connection, *, in_memory: bool) -> RootTransaction:
        """BEGIN IMMEDIATE in a thread (it may wait out a writer in another process), with the
        sub-journal in memory or not (SQLite reads ``temp_store`` as a transaction begins)."""
        pragma = _JOURNAL_IN_MEMORY if in_memory else _JOURNAL_ON_DISK

        def start() -> RootTransaction:
            driver = conn.connection.driver_connection
            assert driver is not None
            driver.execute(pragma)
            return conn.begin()

        begin = asyncio.ensure_future(asyncio.to_thread(start))
        try:
            return await asyncio.shield(begin)
        except asyncio.CancelledError:
            await asyncio.wait([begin])
            if not begin.cancelled() and begin.exception() is None:
                begin.result().rollback()  # nobody will use it: let other writers in
            raise

    def _undo(self, rollback: Callable[[], None]) -> None:
        """Roll one writer back; if even that fails, the whole group is lost: fail it."""
        try:
            rollback()
        except Exception as exc:
            group, self._group = self._group, None
            if group is not None:
                with contextlib.suppress(Exception):
                    group.transaction.rollback()
                group.done.set_exception(exc)
                group.done.exception()  # its writers hear of it; do not also log it

    async def _flush(self) -> None:
        """Commit the open group once the writers queued ahead of this task have joined it."""
        async with self._lock:
            await self._commit_group()

    async def _commit_group(self) -> None:
        """Commit the open group (the lock held) and tell its writers how it went."""
        group, self._group = self._group, None
        if group is None:  # failed and rolled back already (or committed for a bulk writer)
            return
        try:
            await in_thread(group.transaction.commit)
        except BaseException as exc:
            with contextlib.suppress(Exception):
                await in_thread(group.transaction.rollback)
            group.done.set_exception(exc)
            group.done.exception()
            if not isinstance(exc, Exception):
                raise
        else:
            self.commits += 1
            group.done.set_result(None)
            if self.writes - self._analyzed_at >= ANALYZE_EVERY:
                self._analyzed_at = self.writes
                await in_thread(self._analyze)

    def _analyze(self) -> None:
        """Refresh the query planner's statistics (sampled: see ``analysis_limit``)."""
        assert self._conn is not None
        with contextlib.suppress(Exception):  # statistics are an optimisation only
            refresh_statistics(self._conn)

    async def close(self) -> None:
        """Wait for pending commits, then close the connection."""
        while self._flushing:
            await asyncio.gather(*self._flushing, return_exceptions=True)
        async with self._lock:
            if self._conn is not None:
                driver = self._conn.connection.driver_connection
                with contextlib.suppress(Exception):  # back to the pool as it came
                    driver.execute(_JOURNAL_ON_DISK)  # type: ignore[union-attr]
                self._conn.close()
                self._conn = None
