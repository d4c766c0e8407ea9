"""SQLite blob backend: blobs as fixed-size chunk rows in one database file, streamed in and out.

Layout (WAL journal, ``synchronous=FULL``)::

    blobs   (digest TEXT PRIMARY KEY, content INTEGER UNIQUE, size INTEGER, stored_at REAL)
    staging (content INTEGER PRIMARY KEY, pid INTEGER, token TEXT, touched_at REAL)
    chunks  (content INTEGER, seq INTEGER, data BLOB, PRIMARY KEY (content, seq))

A blob's bytes are the ``chunks`` rows of its ``content`` id in ``seq`` order, every row
``CHUNK_SIZE`` bytes except the last, so byte ``n`` lives in row ``n // CHUNK_SIZE``. A put picks
a random content id, re-chunks and hashes the stream and commits rows a few MiB at a time under a
``staging`` row. Then one transaction either drops them (the digest is already stored) or
publishes them by inserting the ``blobs`` row and removing the staging row: chunk data is never
rewritten. A failed put deletes its staged rows; on open, staged uploads whose process is gone
(or idle for a day) are removed, while live uploads of other processes are left alone. Every
SQL call runs on one dedicated thread with one connection, each call its own transaction.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import secrets
import sqlite3
import time
from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

from satchel._sqlite import enable_wal
from satchel.blobs.base import DEFAULT_CHUNK_SIZE, BlobPage, Digester, Leftover, check_range
from satchel.core.digests import check_digest
from satchel.core.errors import (
    BlobNotFoundError,
    InsufficientStorageError,
    ProviderError,
    ProviderUnavailableError,
    is_disk_full,
)
from satchel.core.models import BlobInfo

__all__ = ["CHUNK_SIZE", "SQLiteBlobStore"]

CHUNK_SIZE = 1024 * 1024
_BATCH_ROWS = 4  # chunk rows per staging commit
_QUIET_STAGING_SECONDS = 3600  # staged by a process that cannot be told alive or dead
_BUSY_TIMEOUT_MS = 30_000
_PROCESS_TOKEN = secrets.token_hex(8)  # tells this process from an earlier one with the same pid

_SCHEMA = """
CREATE TABLE IF NOT EXISTS blobs (
    digest TEXT PRIMARY KEY, content INTEGER NOT NULL UNIQUE,
    size INTEGER NOT NULL, stored_at REAL NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS staging (
    content INTEGER PRIMARY KEY, pid INTEGER NOT NULL, token TEXT NOT NULL,
    touched_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS chunks (
    content INTEGER NOT NULL, seq INTEGER NOT NULL, data BLOB NOT NULL,
    PRIMARY KEY (content, seq)
);
"""

_LOCATE = "SELECT content, size FROM blobs WHERE digest = ?"
_READ = "SELECT substr(data, ?, ?) FROM chunks WHERE content = ? AND seq = ?"
_LIST = "SELECT digest, size FROM blobs WHERE digest > ? ORDER BY digest LIMIT ?"

_P = ParamSpec("_P")
_T = TypeVar("_T")


class SQLiteBlobStore:
    """Blobs chunked into a single SQLite file; one worker thread owns the connection."""

    name = "sqlite"
    _conn: sqlite3.Connection

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._closed = False
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="satchel-sqlite")
        try:
            self._executor.submit(self._open).result()
        except BaseException:
            self._executor.shutdown(wait=False)
            raise

    # -- worker-thread side ------------------------------------------------------------------

    def _open(self) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, isolation_level=None, timeout=_BUSY_TIMEOUT_MS / 1000)
        except (OSError, sqlite3.Error) as exc:
            raise ProviderError(f"cannot open blob database {self.path}: {exc}") from exc
        self._conn = conn
        try:
            conn.execute(f"PRAGMA busy_timeout = {_BUSY_TIMEOUT_MS}")
            conn.execute("PRAGMA page_size = 65536")  # only takes effect on a new file
            enable_wal(conn, _BUSY_TIMEOUT_MS / 1000)
            conn.execute("PRAGMA synchronous = FULL")
            conn.executescript(_SCHEMA)
            self._sweep_staging()
        except sqlite3.Error as exc:
            conn.close()
            raise ProviderError(f"cannot open blob database {self.path}: {exc}") from exc

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        conn = self._conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise

    def _sweep_staging(self) -> None:
        cutoff = time.time() - _QUIET_STAGING_SECONDS
        with self._transaction() as conn:
            rows = conn.execute("SELECT content, pid, token, touched_at FROM staging").fetchall()
            dead = [(c,) for c, pid, tok, at in rows if at < cutoff or not _alive(pid, tok)]
            conn.executemany("DELETE FROM chunks WHERE content = ?", dead)
            conn.executemany("DELETE FROM staging WHERE content = ?", dead)

    def _stage(self, content: int, seq: int, rows: list[bytes]) -> None:
        with self._transaction() as conn:
            if seq == 0:
                conn.execute(
                    "INSERT INTO staging VALUES (?, ?, ?, ?)",
                    (content, os.getpid(), _PROCESS_TOKEN, time.time()),
                )
            else:
                touch = "UPDATE staging SET touched_at = ? WHERE content = ?"
                if conn.execute(touch, (time.time(), content)).rowcount != 1:
                    raise ProviderError("the staged upload was removed while it was being written")
            _insert_rows(conn, content, seq, rows)

    def _publish(self, content: int, seq: int, rows: list[bytes], digest: str, size: int) -> bool:
        with self._transaction() as conn:
            staged = "SELECT 1 FROM staging WHERE content = ?"
            if seq and conn.execute(staged, (content,)).fetchone() is None:
                raise ProviderError("the staged upload was removed before it could be stored")
            exists = conn.execute("SELECT 1 FROM blobs WHERE digest = ?", (digest,)).fetchone()
            if exists:
                conn.execute("DELETE FROM chunks WHERE content = ?", (content,))
            else:
                _insert_rows(conn, content, seq, rows)
                conn.execute(
                    "INSERT INTO blobs VALUES (?, ?, ?, ?)", (digest, content, size, time.time())
                )
            conn.execute("DELETE FROM staging WHERE content = ?", (content,))
            return exists is None

    def _discard(self, content: int) -> None:
        # A no-op once the upload is published (or was never staged): only staged rows go.
        with self._transaction() as conn:
            if conn.execute("DELETE FROM staging WHERE content = ?", (content,)).rowcount:
                conn.execute("DELETE FROM chunks WHERE content = ?", (content,))

    def _fetch(self, sql: str, *params: object) -> list[Any]:
        return self._conn.execute(sql, params).fetchall()

    def _delete(self, digest: str) -> bool:
        with self._transaction() as conn:
            row = conn.execute("SELECT content FROM blobs WHERE digest = ?", (digest,)).fetchone()
            if row is None:
                return False
            conn.execute("DELETE FROM blobs WHERE digest = ?", (digest,))
            conn.execute("DELETE FROM chunks WHERE content = ?", (row[0],))
            return True

    def _close_connection(self) -> None:
        self._conn.close()

    # -- event-loop side ---------------------------------------------------------------------

    async def _call(self, fn: Callable[_P, _T], /, *args: _P.args, **kwargs: _P.kwargs) -> _T:
        if self._closed:
            raise ProviderError("the sqlite blob store is closed")
        loop = asyncio.get_running_loop()
        try:
            future = loop.run_in_executor(self._executor, functools.partial(fn, *args, **kwargs))
        except RuntimeError as exc:  # executor shut down by a concurrent close()
            raise ProviderError("the sqlite blob store is closed") from exc
        try:
            return await future
        except sqlite3.Error as exc:
            busy = getattr(exc, "sqlite_errorname", "") in ("SQLITE_BUSY", "SQLITE_LOCKED")
            error = ProviderUnavailableError if busy else ProviderError
            if is_disk_full(exc):
                error = InsufficientStorageError
            raise error(f"sqlite blob store {self.path}: {exc}") from exc

    async def _fetch_async(self, sql: str, *params: object) -> list[Any]:
        return await self._call(self._fetch, sql, *params)

    async def put_stream(
        self,
        chunks: AsyncIterable[bytes],
        *,
        max_bytes: int | None = None,
        expected_digest: str | None = None,
    ) -> BlobInfo:
        digester = Digester(max_bytes=max_bytes, expected_digest=expected_digest)
        content = secrets.randbits(62)
        pending = bytearray()
        batch: list[bytes] = []
        seq = 0
        try:
            async for chunk in chunks:
                digester.update(chunk)
                for row in _rechunk(pending, chunk):
                    batch.append(row)
                    if len(batch) == _BATCH_ROWS:
                        await self._call(self._stage, content, seq, batch)  # drains batch
                        seq += _BATCH_ROWS
            if pending:
                batch.append(bytes(pending))
            digest = digester.finish()
            created = await self._call(self._publish, content, seq, batch, digest, digester.size)
        except BaseException as exc:
            with contextlib.suppress(RuntimeError):  # RuntimeError: executor already shut down
                cleanup = self._executor.submit(self._discard, content)  # queued after our writes
                if isinstance(exc, Exception):  # on cancellation, do not wait for it
                    with contextlib.suppress(Exception):
                        await asyncio.wrap_future(cleanup)
            raise
        return BlobInfo(digest=digest, size=digester.size, created=created)

    async def open_range(
        self,
        digest: str,
        start: int = 0,
        end: int | None = None,
        *,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
    ) -> AsyncIterator[bytes]:
        check_range(start, end)
        found = await self._fetch_async(_LOCATE, check_digest(digest))
        if not found:
            raise BlobNotFoundError(f"no blob {digest}")
        content, size = found[0]
        stop = size if end is None else min(end, size)
        position = start
        while position < stop:
            seq, offset = divmod(position, CHUNK_SIZE)
            want = min(CHUNK_SIZE - offset, stop - position)
            rows = await self._fetch_async(_READ, offset + 1, want, content, seq)
            if not rows:
                raise BlobNotFoundError(f"blob {digest} was deleted while it was being read")
            data: bytes = rows[0][0]
            if len(data) != want:
                raise ProviderError(f"blob {digest} is corrupt: chunk {seq} is too short")
            if want <= chunk_size:
                yield data
            else:
                view = memoryview(data)
                for index in range(0, want, chunk_size):
                    yield bytes(view[index : index + chunk_size])
            position += want

    async def head(self, digest: str) -> BlobInfo | None:
        found = await self._fetch_async(_LOCATE, check_digest(digest))
        return BlobInfo(digest=digest, size=found[0][1]) if found else None

    async def delete(self, digest: str) -> bool:
        return await self._call(self._delete, check_digest(digest))

    async def list_page(self, *, cursor: str | None = None, limit: int = 1000) -> BlobPage:
        after = "" if cursor is None else check_digest(cursor)
        rows = await self._fetch_async(_LIST, after, limit + 1)
        infos = [BlobInfo(digest=digest, size=size) for digest, size in rows[:limit]]
        more = len(rows) > limit and bool(infos)
        return BlobPage(blobs=infos, next_cursor=infos[-1].digest if more else None)

    async def leftovers(self) -> list[Leftover]:
        """Staged chunks of puts in flight, or of puts whose process died."""
        return await self._call(self._leftovers)

    def _leftovers(self) -> list[Leftover]:
        quiet_since = time.time() - _QUIET_STAGING_SECONDS
        rows = self._conn.execute(
            "SELECT s.content, s.pid, s.token, s.touched_at, COALESCE(SUM(LENGTH(c.data)), 0) "
            "FROM staging s LEFT JOIN chunks c ON c.content = s.content GROUP BY s.content"
        ).fetchall()
        return [
            Leftover(str(content), size, at < quiet_since or not _alive(pid, token))
            for content, pid, token, at, size in rows
        ]

    async def remove_leftover(self, name: str) -> bool:
        if not name.isdigit():
            return False

        def remove() -> bool:
            if not any(item.name == name and item.abandoned for item in self._leftovers()):
                return False
            self._discard(int(name))
            return True

        return await self._call(remove)

    async def check(self) -> dict[str, Any]:
        report: dict[str, Any] = {"backend": self.name, "path": str(self.path)}
        try:
            report["blobs"] = (await self._fetch_async("SELECT count(*) FROM blobs"))[0][0]
        except ProviderError as exc:
            return {**report, "status": "error", "error": str(exc)}
        return {**report, "status": "ok"}

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            await asyncio.get_running_loop().run_in_executor(self._executor, self._close_connection)
        finally:
            self._executor.shutdown(wait=False)


def _insert_rows(conn: sqlite3.Connection, content: int, seq: int, rows: list[bytes]) -> None:
    """Insert *rows* as chunks ``seq, seq + 1, …``, emptying the list so each row is freed early."""
    rows.reverse()
    params = ((content, seq + i, rows.pop()) for i in range(len(rows)))
    conn.executemany("INSERT INTO chunks (content, seq, data) VALUES (?, ?, ?)", params)


def _rechunk(pending: bytearray, data: bytes) -> Iterator[bytes]:
    """Yield full ``CHUNK_SIZE`` rows of *pending* + *data*; keep the remainder in *pending*."""
    view = memoryview(data)
    if pending:
        take = min(CHUNK_SIZE - len(pending), len(view))
        pending += view[:take]
        view = view[take:]
        if len(pending) < CHUNK_SIZE:
            return
        yield bytes(pending)
        pending.clear()
    while len(view) >= CHUNK_SIZE:
        yield bytes(view[:CHUNK_SIZE])
        view = view[CHUNK_SIZE:]
    pending += view


def _alive(pid: int, token: str) -> bool:
    """Whether the process that staged an upload may still be writing it (same host: WAL)."""
    if pid == os.getpid():
        return token == _PROCESS_TOKEN
    if os.name != "posix":
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # exists, but belongs to another user
    return True
