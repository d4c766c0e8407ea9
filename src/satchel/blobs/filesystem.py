"""Filesystem blob backend: content-addressed files under a root directory.

Layout: ``{root}/sha256/ab/cd/<hex>``. A put streams into ``{root}/tmp/`` while hashing, fsyncs,
makes the file read-only and renames it into place (then fsyncs the directory), so a blob is
either absent or complete. Identical content is stored once.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import os
import secrets
import stat
import time
from collections.abc import AsyncIterable, AsyncIterator, Callable
from concurrent.futures import Executor, ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from satchel._process import name_owner_is_dead, named_for_this_process
from satchel._threads import in_thread, settled, started_in_thread
from satchel.blobs.base import DEFAULT_CHUNK_SIZE, BlobPage, Digester, Leftover, check_range
from satchel.core.digests import SHA256_PREFIX, blob_path, check_digest
from satchel.core.errors import (
    BlobNotFoundError,
    InsufficientStorageError,
    ProviderError,
    is_disk_full,
)
from satchel.core.models import BlobInfo
from satchel.core.streams import gathered

__all__ = ["FilesystemBlobStore"]

_T = TypeVar("_T")

# A temp file whose writer cannot be told (another host, an older name) is abandoned once
# untouched this long; one whose writer died on this host is abandoned at once.
_QUIET_TEMP_SECONDS = 3600
# File work runs on this backend's own threads: a put spends most of its time in fsync, which
# the disk serves better in parallel than the loop's default pool (cores + 4 threads) allows.
_IO_THREADS = 32
# Reads up to this size are tried on the loop's thread with RWF_NOWAIT (page cache only).
_INLINE_READ = 64 * 1024
_FLUSH_EVERY = 8 * 1024 * 1024  # a streamed blob starts writing back every 8 MiB
_CAN_READ_NOWAIT = hasattr(os, "preadv") and hasattr(os, "RWF_NOWAIT")
_NOWAIT_UNSUPPORTED: set[int] = set()  # devices whose filesystem refuses RWF_NOWAIT
_NO_HARD_LINKS = frozenset({errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP})


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class FilesystemBlobStore:
    """Blobs as read-only files, written durably (temp + fsync + rename)."""

    name = "filesystem"

    def __init__(self, root: str | os.PathLike[str], *, fsync: bool = True) -> None:
        self.root = Path(root).resolve()
        self._root_text = str(self.root)  # reads join strings: a Path join costs more than the read
        self._tmp = self.root / "tmp"
        self._fsync = fsync
        self._pool = ThreadPoolExecutor(_IO_THREADS, thread_name_prefix="satchel-fs")
        try:
            (self.root / "sha256").mkdir(parents=True, exist_ok=True)
            self._tmp.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ProviderError(f"cannot create blob root {self.root}: {exc}") from exc
        self._remove_stale_temps()

    def _remove_stale_temps(self) -> None:
        """At open: remove the temp files of puts whose process is gone (a crash's)."""
        for leftover in self._scan_temps():
            if leftover.abandoned:
                with contextlib.suppress(OSError):
                    os.unlink(self._tmp / leftover.name)

    def _scan_temps(self) -> list[Leftover]:
        quiet_since = time.time() - _QUIET_TEMP_SECONDS
        found = []
        for entry in os.scandir(self._tmp):
            try:
                info = entry.stat()
            except OSError:
                continue
            owner_dead = name_owner_is_dead(entry.name.removesuffix(".part"))
            abandoned = owner_dead is True or (owner_dead is None and info.st_mtime < quiet_since)
            found.append(Leftover(entry.name, info.st_size, abandoned))
        return found

    async def leftovers(self) -> list[Leftover]:
        """Temp files of puts in flight, or of puts whose process died."""
        return await self._io(self._scan_temps, "cannot list temp files")

    async def remove_leftover(self, name: str) -> bool:
        def remove() -> bool:
            for leftover in self._scan_temps():
                if leftover.name == name and leftover.abandoned:
                    with contextlib.suppress(FileNotFoundError):
                        os.unlink(self._tmp / name)
                        return True
            return False

        return await self._io(remove, "cannot remove a temp file")

    def _path(self, digest: str) -> Path:
        return self.root / blob_path(digest)

    # -- writing -----------------------------------------------------------------------------

    async def put_stream(
        self,
        chunks: AsyncIterable[bytes],
        *,
        max_bytes: int | None = None,
        expected_digest: str | None = None,
    ) -> BlobInfo:
        """Stream *chunks* into a temp file while hashing, then fsync and publish it.

        Each chunk is written once the next one has arrived, so the last write, the fsync and
        the publish share one worker-thread call: a one-chunk blob costs a single thread hop.
        """
        digester = Digester(max_bytes=max_bytes, expected_digest=expected_digest)
        temp = self._tmp / f"{named_for_this_process(secrets.token_hex(8))}.part"
        out = _TempFile(temp, digester)
        writer = _StreamWriter(out, self._pool, flush=self._fsync)
        try:
            try:
                pending: bytes | None = None
                async with contextlib.aclosing(gathered(chunks)) as pieces:
                    async for chunk in pieces:
                        if pending is not None:
                            await writer.add(pending)
                        pending = chunk
                await writer.drain()
                digest, created = await self._io(self._finish, "cannot write a blob", out, pending)
            finally:
                await writer.stop()  # their threads may still use the file: let them finish
                out.close()  # no worker holds the file now
        except BaseException:
            _discard_temp(temp)
            raise
        return BlobInfo(digest=digest, size=digester.size, created=created)

    async def _io(self, func: Callable[..., _T], what: str, *args: Any) -> _T:
        """Run one of this backend's file operations on its threads, errors mapped."""
        try:
            return await in_thread(func, *args, executor=self._pool)
        except OSError as exc:
            raise _provider_error(what, exc) from exc

    def _finish(self, out: _TempFile, last: bytes | None) -> tuple[str, bool]:
        """Hash and write the last chunk, fsync, close, check the digest and publish: one
        thread hop."""
        out.open()
        if last is not None:
            out.digester.update(last)
            out.write(last)
        if self._fsync:
            os.fsync(out.fd)
        out.close()
        digest = out.digester.finish()
        return digest, self._publish(out.path, digest)

    def _publish(self, temp: Path, digest: str) -> bool:
        final = self._path(digest)
        try:
            if final.exists():
                os.unlink(temp)
                return False
            new_dirs = _make_fanout_dirs(final.parent)
            os.chmod(temp, stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
            try:
                os.link(temp, final)  # never clobbers: of concurrent equal puts, one creates
            except FileExistsError:
                os.unlink(temp)
                return False
            except OSError as exc:
                if exc.errno not in _NO_HARD_LINKS:
                    raise
                os.replace(temp, final)  # no hard links on this filesystem
            else:
                os.unlink(temp)
            if self._fsync:
                _fsync_dir(final.parent)
                for directory in new_dirs:  # make the new fan-out entries durable too
                    _fsync_dir(directory.parent)
        except OSError as exc:
            raise _provider_error(f"cannot store blob {digest}", exc) from exc
        return True

    # -- reading -----------------------------------------------------------------------------

    async def open_range(
        self,
        digest: str,
        start: int = 0,
        end: int | None = None,
        *,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
    ) -> AsyncIterator[bytes]:
        check_range(start, end)
        reader = _Reader(f"{self._root_text}/{blob_path(digest)}")
        ahead: asyncio.Future[bytes] | None = None  # the next chunk, read while this one is sent
        try:
            position = start
            while end is None or position < end:
                want = chunk_size if end is None else min(chunk_size, end - position)
                try:
                    if ahead is not None:
                        chunk, ahead = await settled(ahead), None
                    else:
                        # Small reads the page cache can serve right now are done on the loop's
                        # thread (no hop); anything else, on an I/O thread.
                        cached = reader.read_cached(position, want)
                        chunk = (
                            cached
                            if cached is not None
                            else await in_thread(reader.read, position, want, executor=self._pool)
                        )
                except FileNotFoundError as exc:
                    raise BlobNotFoundError(f"no blob {digest}") from exc
                except OSError as exc:
                    raise ProviderError(f"cannot read blob {digest}: {exc}") from exc
                if not chunk:
                    break
                position += len(chunk)
                if position >= reader.size:  # blobs never change: no call just to see EOF
                    yield chunk
                    break
                if len(chunk) > _INLINE_READ and (end is None or position < end):
                    # a big read: the next chunk is read on a thread while this one is sent
                    following = chunk_size if end is None else min(chunk_size, end - position)
                    ahead = started_in_thread(reader.read, position, following, executor=self._pool)
                yield chunk
        finally:
            if ahead is not None:  # its thread still reads from the descriptor: let it finish
                await asyncio.wait([ahead])
                if not ahead.cancelled():
                    ahead.exception()  # retrieved: a failure nobody will read is not logged
            reader.close()

    async def head(self, digest: str) -> BlobInfo | None:
        try:
            size = os.stat(self._path(check_digest(digest))).st_size
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise ProviderError(f"cannot stat blob {digest}: {exc}") from exc
        return BlobInfo(digest=digest, size=size)

    async def local_file(self, digest: str) -> str | None:
        """The blob's path under the root (``sha256/ab/cd/<hex>``) when it is a plain file
        there (:class:`~satchel.blobs.base.LocalFiles`); None when it is missing."""
        relative = blob_path(digest)
        try:
            info = os.stat(self.root / relative)
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise ProviderError(f"cannot stat blob {digest}: {exc}") from exc
        return relative if stat.S_ISREG(info.st_mode) else None

    async def delete(self, digest: str) -> bool:
        path = self._path(check_digest(digest))
        try:
            await in_thread(os.unlink, path, executor=self._pool)
        except FileNotFoundError:
            return False
        except OSError as exc:
            raise ProviderError(f"cannot delete blob {digest}: {exc}") from exc
        return True

    async def list_page(self, *, cursor: str | None = None, limit: int = 1000) -> BlobPage:
        return await in_thread(self._list_page, cursor, limit, executor=self._pool)

    def _list_page(self, cursor: str | None, limit: int) -> BlobPage:
        after = "" if cursor is None else check_digest(cursor)[len(SHA256_PREFIX) :]
        found: list[BlobInfo] = []
        base = self.root / "sha256"
        for first in sorted(os.listdir(base)):
            if after and first < after[:2]:
                continue
            for second in sorted(os.listdir(base / first)):
                if after and (first + second) < after[:4]:
                    continue
                for name in sorted(os.listdir(base / first / second)):
                    if name <= after:
                        continue
                    size = os.stat(base / first / second / name).st_size
                    found.append(BlobInfo(digest=SHA256_PREFIX + name, size=size))
                    if len(found) > limit:
                        return BlobPage(blobs=found[:limit], next_cursor=found[limit - 1].digest)
        return BlobPage(blobs=found, next_cursor=None)

    async def check(self) -> dict[str, Any]:
        ok = os.access(self.root, os.W_OK) and os.access(self._tmp, os.W_OK)
        return {
            "status": "ok" if ok else "error",
            "backend": self.name,
            "root": str(self.root),
        }

    async def close(self) -> None:
        self._pool.shutdown(wait=True)


class _Reader:
    """A blob file read at given positions, one call at a time: small page-cache hits on the
    loop's thread, the rest on worker threads (whichever call comes first opens it)."""

    __slots__ = ("fd", "path", "size")

    def __init__(self, path: str) -> None:
        self.path = path
        self.fd = -1
        self.size = -1

    def _open(self) -> os.stat_result:
        self.fd = os.open(self.path, os.O_RDONLY | os.O_CLOEXEC)
        info = os.fstat(self.fd)
        self.size = info.st_size
        return info

    def read(self, position: int, want: int) -> bytes:
        if self.fd < 0:
            self._open()
        return os.pread(self.fd, want, position)

    def read_cached(self, position: int, want: int) -> bytes | None:
        """Read up to ``_INLINE_READ`` bytes without waiting on the disk: the bytes when the
        page cache holds all of them; None when they would have to come from the disk, the OS
        cannot tell, or there are more (those are read on a thread). Opens the file if needed."""
        if not _CAN_READ_NOWAIT:
            return None
        if self.fd < 0 and self._open().st_dev in _NOWAIT_UNSUPPORTED:
            return None
        length = min(want, max(self.size - position, 0))
        if length > _INLINE_READ:
            return None
        if not length:
            return b""
        buffer = bytearray(length)
        try:
            count = os.preadv(self.fd, [buffer], position, os.RWF_NOWAIT)
        except BlockingIOError:
            return None  # not (all) in the page cache
        except OSError as exc:
            if exc.errno in (errno.EOPNOTSUPP, errno.EINVAL):
                _NOWAIT_UNSUPPORTED.add(os.fstat(self.fd).st_dev)
            return None
        if count < len(buffer):
            return None  # partly cached: the rest is read the ordinary way
        return bytes(buffer)

    def close(self) -> None:
        fd, self.fd = self.fd, -1
        if fd >= 0:
            os.close(fd)


class _StreamWriter:
    """Hashes and writes a stream's chunks into *out*: a chunk is hashed on one I/O thread and
    written on another at the same time, while the next one arrives (one chunk in flight, so
    memory stays bounded). With *flush*, a big blob's pages start going to the disk every
    ``_FLUSH_EVERY`` bytes (one ``fdatasync`` in flight at a time), so the fsync before
    publishing has only the tail left to write."""

    __slots__ = ("_flight", "_flush", "_flushing", "_pool", "_unflushed", "out")

    def __init__(self, out: _TempFile, pool: Executor, *, flush: bool) -> None:
        self.out = out
        self._pool = pool
        self._flush = flush
        self._flight: list[asyncio.Future[None]] = []
        self._flushing: asyncio.Future[None] | None = None
        self._unflushed = 0

    async def add(self, chunk: bytes) -> None:
        await _landed(self._flight)
        if self._flush and self._unflushed >= _FLUSH_EVERY and self.out.fd >= 0:
            flushing = self._flushing
            if flushing is None or flushing.done():
                if flushing is not None:
                    await _landed([flushing])  # its failure, if any, is this write's
                self._flushing = started_in_thread(os.fdatasync, self.out.fd, executor=self._pool)
                self._unflushed = 0
        self._flight = [
            started_in_thread(self.out.digester.update, chunk, executor=self._pool),
            started_in_thread(self.out.write, chunk, executor=self._pool),
        ]
        self._unflushed += len(chunk)

    def _pending(self) -> list[asyncio.Future[None]]:
        return [*self._flight, *([self._flushing] if self._flushing is not None else [])]

    async def drain(self) -> None:
        """Wait for everything started (its first failure raised)."""
        await _landed(self._pending())

    async def stop(self) -> None:
        """Wait for every thread still at work, whatever happened (failures already raised
        or no longer wanted are retrieved, so nothing is logged as unhandled)."""
        pending = self._pending()
        if pending:
            await asyncio.wait(pending)
            for future in pending:
                if not future.cancelled():
                    future.exception()


async def _landed(flight: list[asyncio.Future[None]]) -> None:
    """Wait for *flight* in order (its first failure raised, OSError mapped)."""
    try:
        for future in flight:
            await settled(future)
    except OSError as exc:
        raise _provider_error("cannot write a blob", exc) from exc


class _TempFile:
    """A blob's temporary file, written (and hashed) from worker threads one call at a time."""

    __slots__ = ("digester", "fd", "path")

    def __init__(self, path: Path, digester: Digester) -> None:
        self.path = path
        self.digester = digester
        self.fd = -1

    def open(self) -> None:
        if self.fd < 0:
            self.fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)

    def write(self, data: bytes) -> None:
        """Append *data* (opening the file on first use; its hashing is the caller's)."""
        self.open()
        view = memoryview(data)
        while view:
            written = os.write(self.fd, view)
            view = view[written:]

    def close(self) -> None:
        if self.fd >= 0:
            fd, self.fd = self.fd, -1
            os.close(fd)


def _make_fanout_dirs(parent: Path) -> list[Path]:
    """Create ``sha256/ab/cd`` as needed; return the directories this call created."""
    created = []
    for directory in (parent.parent, parent):
        try:
            os.mkdir(directory)
        except FileExistsError:
            continue
        created.append(directory)
    return created


def _discard_temp(temp: Path) -> None:
    with contextlib.suppress(OSError):
        os.unlink(temp)


def _provider_error(what: str, exc: OSError) -> ProviderError:
    if is_disk_full(exc):
        return InsufficientStorageError(f"{what}: the disk is full ({exc.strerror})")
    return ProviderError(f"{what}: {exc}")
