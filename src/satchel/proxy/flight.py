"""Single flight that streams: one download per remote path at a time, written to a spool file
that every waiting client reads as it grows.

The download belongs to no client: it runs as its own task, so a client that goes away stops
nobody else and the file is still cached. A reader is always one byte behind the download
until the download is judged complete (size and digest as upstream declared them, stored and
committed): a download that breaks off or lies never reaches a client as a complete body.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import os
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

from satchel.core.errors import (
    ArtifactStoreError,
    InsufficientStorageError,
    ProviderError,
    UpstreamError,
    is_disk_full,
)

__all__ = ["Flight", "Flights"]

_READ_BYTES = 1024 * 1024
_QUEUE_BYTES = 8 * 1024 * 1024


class _Spool:
    """An unnamed file (gone from the directory from the start) read and written by offset."""

    def __init__(self, directory: Path | None) -> None:
        if directory is not None:
            directory.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=directory, buffering=0) as handle:
            self.fd = os.dup(handle.fileno())

    def write(self, offset: int, data: bytes) -> None:
        view = memoryview(data)
        while view:
            written = os.pwrite(self.fd, view, offset)
            view, offset = view[written:], offset + written

    def read(self, offset: int, size: int) -> bytes:
        return os.pread(self.fd, size, offset)

    def __del__(self) -> None:
        with contextlib.suppress(OSError):
            os.close(self.fd)


def _again(error: BaseException) -> BaseException:
    """A fresh exception like *error* for one more reader (one object raised in many tasks
    would collect all their tracebacks)."""
    if isinstance(error, ArtifactStoreError):
        copy = type(error).__new__(type(error))
        copy.__dict__.update(error.__dict__)
        copy.args = error.args
        return copy
    return UpstreamError(f"the download failed: {error}")


class Flight:
    """One download. The fetching task calls :meth:`start` once upstream's headers are in
    (with what the answer will say: media type, declared size…), :meth:`append` per chunk,
    then :meth:`succeed` or :meth:`fail`; readers wait on :attr:`started` and iterate
    :meth:`read`."""

    def __init__(self, key: Any, spool_dir: Path | None) -> None:
        self.key = key
        self._spool_dir = spool_dir
        self._spool: _Spool | None = None
        self.written = 0  # bytes in the spool, readable
        self._queued: collections.deque[bytes] = collections.deque()
        self._queued_bytes = 0
        self._writer: asyncio.Task[None] | None = None
        self._room = asyncio.Event()
        self._work = asyncio.Event()
        self.info: dict[str, Any] = {}
        self.result: Any = None
        self.error: BaseException | None = None
        self.started = asyncio.Event()
        self.finished = asyncio.Event()
        self._more = asyncio.Event()
        self.task: asyncio.Task[None] | None = None

    @property
    def streaming(self) -> bool:
        """Whether bytes come (or came) through the spool (not a 304, a 404 or a failure)."""
        return self._spool is not None

    def start(self, **info: Any) -> None:
        self.info = info
        self._spool = _Spool(self._spool_dir)
        self._writer = asyncio.create_task(self._write_out(self._spool))
        self.started.set()

    async def append(self, chunk: bytes) -> None:
        """Queue *chunk* for the spool (written by a thread, so the download and the blob's
        own writes go on meanwhile); waits while more than a few MiB are queued."""
        while self._queued_bytes >= _QUEUE_BYTES and not self.finished.is_set():
            self._room.clear()
            await self._room.wait()
        if self.finished.is_set():  # the spool could not be written: the flight has failed
            self.raise_error()
        self._queued.append(chunk)
        self._queued_bytes += len(chunk)
        self._work.set()

    async def _write_out(self, spool: _Spool) -> None:
        try:
            await self._write_all(spool)
        except Exception as exc:  # a full disk, say: every reader hears of it
            why = f"the download could not be spooled: {exc}"
            self.fail(InsufficientStorageError(why) if is_disk_full(exc) else ProviderError(why))

    async def _write_all(self, spool: _Spool) -> None:
        while True:
            await self._work.wait()
            self._work.clear()
            while self._queued:
                batch = b"".join(self._queued)
                count = len(self._queued)
                await asyncio.to_thread(spool.write, self.written, batch)
                for _ in range(count):
                    self._queued.popleft()
                self._queued_bytes -= len(batch)
                self.written += len(batch)
                self._room.set()
                self._wake()
            if self.finished.is_set():
                return

    async def drain(self) -> None:
        """Wait until every queued chunk is in the spool."""
        while self._queued and self._writer is not None and not self._writer.done():
            self._room.clear()
            await self._room.wait()

    def succeed(self, result: Any = None) -> None:
        """The verdict: complete (call :meth:`drain` first when bytes were appended)."""
        self.result = result
        self._finish()

    def fail(self, error: BaseException) -> None:
        self.error = error
        self._finish()

    def _finish(self) -> None:
        self.started.set()
        self.finished.set()
        self._work.set()  # the writer sees the end
        self._room.set()
        self._wake()

    def _wake(self) -> None:
        self._more.set()
        self._more = asyncio.Event()

    def raise_error(self) -> None:
        if self.error is not None:
            raise _again(self.error)

    def error_copy(self) -> BaseException:
        """The download's error, as a fresh exception for one more reader."""
        assert self.error is not None
        return _again(self.error)

    async def read(self) -> AsyncIterator[bytes]:
        """The downloaded bytes as they arrive; raises the download's error instead of its
        last byte when it fails."""
        spool = self._spool
        assert spool is not None, "read() is for a flight that started streaming"
        offset = 0
        while True:
            more = self._more
            done = self.finished.is_set()
            if done:
                self.raise_error()
            limit = self.written if done else self.written - 1
            while offset < limit:
                data = spool.read(offset, min(limit - offset, _READ_BYTES))
                if not data:
                    raise UpstreamError("the cached download is shorter than written")
                offset += len(data)
                yield data
            if done:
                return
            await more.wait()


class Flights:
    """The downloads under way in this process, by key: :meth:`join` starts one or joins the
    one already running."""

    def __init__(self, spool_dir: Path | None) -> None:
        self.spool_dir = spool_dir
        self._running: dict[Any, Flight] = {}

    def __len__(self) -> int:
        return len(self._running)

    def get(self, key: Any) -> Flight | None:
        """The flight of *key* under way, if any (one that has its verdict is over, even if
        its task is still closing the connection)."""
        flight = self._running.get(key)
        return None if flight is None or flight.finished.is_set() else flight

    def join(self, key: Any, fetch: Callable[[Flight], Awaitable[None]]) -> Flight:
        """The flight of *key*; when none runs, a new one whose task runs ``fetch(flight)``
        (which must end it with ``succeed`` or ``fail``)."""
        flight = self.get(key)
        if flight is not None:
            return flight
        flight = Flight(key, self.spool_dir)
        self._running[key] = flight

        async def run() -> None:
            try:
                await fetch(flight)
            except BaseException as exc:
                flight.fail(exc)
                if not isinstance(exc, Exception):
                    raise
            finally:
                if not flight.finished.is_set():
                    flight.fail(UpstreamError("the download ended without a verdict"))
                if self._running.get(key) is flight:
                    del self._running[key]

        flight.task = asyncio.create_task(run(), name=f"satchel-proxy-fetch:{key}")
        return flight

    async def close(self) -> None:
        """Cancel every download under way (the store is closing)."""
        tasks = [flight.task for flight in self._running.values() if flight.task is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(BaseException):
                await task
