"""The catalog: metadata, sessions, blob references and the event log, on SQLAlchemy.

``read()`` and ``write()`` hand out a reader or writer bound to one transaction.

SQLite (the embedded default) runs on a synchronous engine with statements executed inline on
the event loop's thread (see :mod:`satchel.catalog.connection`); only what can wait on the disk
or another process runs in a worker thread. Reads share one autocommit connection.
Writes on a database file go through :class:`~satchel.catalog.groupcommit.GroupCommitWriter`:
serialised in-process, ``BEGIN IMMEDIATE`` against other processes, and committed in groups so
concurrent writers share one fsync. An in-memory database has a single connection, so every
transaction takes one lock. Other databases (PostgreSQL) use their async driver. Driver errors
are mapped to ProviderError here.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sqlite3
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.exc import (
    ArgumentError,
    DBAPIError,
    NoSuchModuleError,
    OperationalError,
    SQLAlchemyError,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from satchel._threads import in_thread
from satchel.catalog.blobbytes import BlobBytes
from satchel.catalog.connection import AsyncDriverConnection, InlineConnection
from satchel.catalog.engine import (
    create_driver_engine,
    create_sqlite_engine,
    driver_url,
    is_memory_sqlite,
    is_sqlite,
    refresh_statistics,
)
from satchel.catalog.groupcommit import GroupCommitWriter
from satchel.catalog.migrate import upgrade_to_head
from satchel.catalog.reader import CatalogReader
from satchel.catalog.recordcache import RecordCache
from satchel.catalog.writer import CatalogWriter
from satchel.core.errors import (
    ArtifactStoreError,
    InsufficientStorageError,
    NotSupportedError,
    ProviderError,
    ProviderUnavailableError,
    is_disk_full,
)
from satchel.core.models import ArtifactRecord

__all__ = ["Catalog"]

_AUTOCOMMIT = {"satchel_autocommit": True}
# PostgreSQL advisory lock key held while migrating (any fixed 64-bit number: "satchel" in ASCII).
_MIGRATION_LOCK = {"key": 0x736174636865_6C}


def _private_file(path: Path) -> None:
    """Create the database file (and its directory) readable by this user only, before SQLite
    does with the process's umask; its -wal and -shm files take the file's permissions."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


class Catalog:
    """Async access to the catalog database at *url*."""

    def __init__(self, url: str, *, before_write: Callable[[], None] | None = None) -> None:
        """*before_write* runs before each write transaction (the store makes room on a full
        disk there)."""
        self._before_write = before_write
        url = driver_url(url)
        self.url = url
        self.dialect = "sqlite" if is_sqlite(url) else url.split(":", 1)[0].split("+", 1)[0]
        if is_sqlite(url) and not is_memory_sqlite(url):
            path = url.split("///", 1)[1] if "///" in url else ""
            if path:
                _private_file(Path(path))
        try:
            if is_sqlite(url):
                self._sqlite = create_sqlite_engine(url)
            else:
                self._driver = create_driver_engine(url)
        except (ArgumentError, NoSuchModuleError, ImportError) as exc:
            raise NotSupportedError(f"cannot use catalog URL {url!r}: {exc}") from exc
        self._memory = is_memory_sqlite(url)
        self._lock = asyncio.Lock() if self._memory else None
        file_sqlite = self.dialect == "sqlite" and not self._memory
        self._writer = GroupCommitWriter(self._sqlite) if file_sqlite else None
        self._reader: InlineConnection | None = None
        self._records = RecordCache() if file_sqlite else None  # read on self._reader only
        self._new_events: asyncio.Event | None = None  # set when this process commits events

    @property
    def redacted_url(self) -> str:
        engine = self._sqlite if self.dialect == "sqlite" else self._driver
        return engine.url.render_as_string(hide_password=True)

    @property
    def group_commit(self) -> GroupCommitWriter | None:
        """The group committer (file SQLite only; memory databases commit each write)."""
        return self._writer

    async def migrate(self) -> None:
        """Apply pending Alembic migrations (idempotent; safe with concurrent processes)."""
        async with self._guard():
            if self.dialect == "sqlite":
                await in_thread(self._migrate_sqlite)
                return
            async with self._connect() as conn:
                # Replicas starting together queue here; each then sees the others' revisions.
                await conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), _MIGRATION_LOCK)
                await conn.run_sync(upgrade_to_head)
                await conn.commit()

    def _migrate_sqlite(self) -> None:
        with self._sqlite.connect() as conn:
            conn = conn.execution_options(satchel_write=True)
            upgrade_to_head(conn)
            conn.commit()
            refresh_statistics(conn)

    @contextlib.asynccontextmanager
    async def _connect(self) -> AsyncIterator[AsyncConnection]:
        """A connection of the driver engine; failing to reach the server is "unavailable"
        (asyncpg raises OSError / TimeoutError for that, not a DBAPI error)."""
        try:
            conn = await self._driver.connect().start()
        except (OSError, TimeoutError) as exc:
            raise ProviderUnavailableError(f"catalog unavailable: {exc}") from exc
        try:
            yield conn
        finally:
            await conn.close()

    @contextlib.asynccontextmanager
    async def _guard(self) -> AsyncIterator[None]:
        try:
            if self._lock is not None:
                async with self._lock:
                    yield
            else:
                yield
        except ArtifactStoreError:
            raise
        except (SQLAlchemyError, sqlite3.Error) as exc:
            raise _catalog_error(exc) from exc

    @contextlib.asynccontextmanager
    async def read(self) -> AsyncIterator[CatalogReader]:
        """A reader. On SQLite each statement is its own atomic snapshot (no BEGIN)."""
        async with self._guard():
            if self.dialect != "sqlite":
                async with self._connect() as conn, conn.begin():
                    yield CatalogReader(AsyncDriverConnection(conn))
                return
            if self._memory:
                with self._sqlite.connect() as sync:
                    yield CatalogReader(InlineConnection(sync.execution_options(**_AUTOCOMMIT)))
                return
            yield CatalogReader(self._shared_reader(), self._records)

    async def get_artifact(self, artifact_id: str, sandbox_id: str) -> ArtifactRecord | None:
        """One artifact's record: what every read, download and ``metadata()`` looks up first,
        so on a SQLite file it skips setting up a reader (and may come from the record cache)."""
        if self._records is None:
            async with self.read() as reader:
                return await reader.get_artifact(artifact_id, sandbox_id)
        try:
            reader = CatalogReader(self._shared_reader(), self._records)
            return await reader.get_artifact(artifact_id, sandbox_id)
        except (SQLAlchemyError, sqlite3.Error) as exc:
            raise _catalog_error(exc) from exc

    async def kept_bytes(self, digest: str, backend: str) -> bytes | None:
        """The bytes of a small blob kept in the catalog (``blob_bytes``), or None: read for
        every small content read, so on a SQLite file it skips setting up a reader too, and
        comes from the record cache while nothing was committed."""
        if self._records is None:
            async with self.read() as reader:
                return await reader.blob_bytes.data(digest, backend)
        conn = self._shared_reader()
        kept = self._records.blobs(conn)
        key = (digest, backend)
        if key in kept:
            return kept[key]
        try:
            data = await BlobBytes(conn).data(digest, backend)
        except (SQLAlchemyError, sqlite3.Error) as exc:
            raise _catalog_error(exc) from exc
        self._records.keep_bytes(key, data)
        return data

    def _shared_reader(self) -> InlineConnection:
        """The connection inline reads share. Without BEGIN each read statement is atomic on its
        own (SQLite runs it in an implicit transaction) and is fully fetched before the next
        one can start (nothing yields in between), so concurrent readers can share it; that
        saves two statements and a pool checkout on the hottest path there is."""
        if self._reader is None:
            self._reader = InlineConnection(self._sqlite.connect().execution_options(**_AUTOCOMMIT))
        return self._reader

    @contextlib.asynccontextmanager
    async def write(self, *, bulk: bool = False) -> AsyncIterator[CatalogWriter]:
        """A writer on a write transaction, committed (durably) when the block exits cleanly.
        A *bulk* writer may change much of the catalog (replay, garbage collection): on a SQLite
        file it is not grouped with the writers before it (see ``groupcommit``)."""
        if self._before_write is not None:
            self._before_write()
        async with self._guard():
            if self.dialect != "sqlite":
                async with self._connect() as conn:
                    conn = await conn.execution_options(satchel_write=True)
                    async with conn.begin():
                        writer = CatalogWriter(AsyncDriverConnection(conn))
                        yield writer
                        await writer.flush_events()
                if writer.appended:
                    self.events_committed()
                return
            if self._memory:
                with self._sqlite.connect() as sync:
                    sync = sync.execution_options(satchel_write=True)
                    with sync.begin():
                        writer = CatalogWriter(InlineConnection(sync))
                        yield writer
                        await writer.flush_events()
            else:
                assert self._writer is not None
                async with self._writer.transaction(bulk=bulk) as sync:
                    writer = CatalogWriter(InlineConnection(sync))
                    yield writer
                    await writer.flush_events()
        if writer.appended:
            self.events_committed()

    def events_committed(self) -> None:
        """Wake this process's feed readers waiting for new events (other processes' readers
        find them by polling)."""
        waking, self._new_events = self._new_events, None
        if waking is not None:
            waking.set()

    async def wait_for_events(self, seconds: float) -> None:
        """Return when this process commits events, or after *seconds*."""
        if self._new_events is None:
            self._new_events = asyncio.Event()
        event = self._new_events
        # asyncio.timeout, not wait_for: on Python 3.11 wait_for loses a cancellation that
        # arrives as the event is set (then a server's shutdown waits forever for this task).
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await event.wait()

    async def check(self) -> dict[str, Any]:
        try:
            async with self.read() as reader:
                await reader.check()
        except ArtifactStoreError as exc:
            return {"status": "error", "dialect": self.dialect, "error": exc.message}
        return {"status": "ok", "dialect": self.dialect, "url": self.redacted_url}

    async def close(self) -> None:
        if self.dialect != "sqlite":
            await self._driver.dispose()
            return
        if self._writer is not None:
            await self._writer.close()
        if self._reader is not None:
            self._reader.sync.close()
            self._reader = None
        self._sqlite.dispose()


def _catalog_error(exc: SQLAlchemyError | sqlite3.Error) -> ArtifactStoreError:
    """The error of the tree a failed catalog call is: a full disk, an unreachable or busy
    catalog (the server went away mid-transaction; SQLite locked or failing I/O), or else a
    catalog error."""
    if is_disk_full(exc):
        return InsufficientStorageError("catalog: the disk is full")
    if isinstance(exc, OperationalError):
        return ProviderUnavailableError(f"catalog unavailable: {exc.orig}")
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return ProviderUnavailableError(f"catalog unavailable: {exc.orig}")
    if isinstance(exc, sqlite3.OperationalError):  # raw cursor calls (HotQuery)
        return ProviderUnavailableError(f"catalog unavailable: {exc}")
    return ProviderError(f"catalog error: {exc}")
