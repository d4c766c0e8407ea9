"""Filesystem blob backend: content-addressed files under a root directory.

Layout: ``{root}/sha256/ab/cd/<hex>``. A put streams into ``{root}/tmp/`` while hashing, fsyncs,
makes the file read-only and renames it into place (then fsyncs the directory), so a blob is
either absent or complete. Identical content is stored once.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import io
import os
import secrets
import stat
import time
from collections.abc import AsyncIterable, AsyncIterator, Callable
from pathlib import Path
from typing import Any, TypeVar

from satchel.blobs._threads import in_thread as _in_thread
from satchel.blobs.base import DEFAULT_CHUNK_SIZE, BlobPage, Digester, check_range
from satchel.core.digests import SHA256_PREFIX, blob_path, check_digest
from satchel.core.errors import BlobNotFoundError, ProviderError, ProviderUnavailableError
from satchel.core.models import BlobInfo

__all__ = ["FilesystemBlobStore"]

_T = TypeVar("_T")

_STALE_TEMP_SECONDS = 24 * 3600
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
        self._tmp = self.root / "tmp"
        self._fsync = fsync
        try:
            (self.root / "sha256").mkdir(parents=True, exist_ok=True)
            self._tmp.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ProviderError(f"cannot create blob root {self.root}: {exc}") from exc
        self._remove_stale_temps()

    def _remove_stale_temps(self) -> None:
        cutoff = time.time() - _STALE_TEMP_SECONDS
        for entry in os.scandir(self._tmp):
            with contextlib.suppress(OSError):
                if entry.stat().st_mtime < cutoff:
                    os.unlink(entry.path)

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
        digester = Digester(max_bytes=max_bytes, expected_digest=expected_digest)
        temp = self._tmp / f"{secrets.token_hex(12)}.part"
        try:
            fd = await _in_thread(os.open, temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except OSError as exc:
            raise _provider_error("cannot create a temporary blob file", exc) from exc
        try:
            try:
                async for chunk in chunks:
                    # Hash and write in the worker thread: both release the GIL.
                    await _io(_hash_and_write, "cannot write a blob", digester, fd, chunk)
                if self._fsync:
                    await _io(os.fsync, "cannot flush a blob", fd)
            finally:
                os.close(fd)  # no worker holds fd now: _in_thread waits for its thread
            digest = digester.finish()
            created = await _in_thread(self._publish, temp, digest)
        except BaseException:
            _discard_temp(temp)
            raise
        return BlobInfo(digest=digest, size=digester.size, created=created)

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
        path = self._path(check_digest(digest))
        try:
            handle = await _in_thread(_open_for_read, path)
        except FileNotFoundError as exc:
            raise BlobNotFoundError(f"no blob {digest}") from exc
        except OSError as exc:
            raise ProviderError(f"cannot open blob {digest}: {exc}") from exc
        try:
            position = start
            if start:
                handle.seek(start)
            while end is None or position < end:
                want = chunk_size if end is None else min(chunk_size, end - position)
                try:
                    chunk = await _in_thread(handle.read, want)
                except OSError as exc:
                    raise ProviderError(f"cannot read blob {digest}: {exc}") from exc
                if not chunk:
                    break
                position += len(chunk)
                yield chunk
        finally:
            handle.close()

    async def head(self, digest: str) -> BlobInfo | None:
        try:
            size = os.stat(self._path(check_digest(digest))).st_size
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise ProviderError(f"cannot stat blob {digest}: {exc}") from exc
        return BlobInfo(digest=digest, size=size)

    async def delete(self, digest: str) -> bool:
        path = self._path(check_digest(digest))
        try:
            await asyncio.to_thread(os.unlink, path)
        except FileNotFoundError:
            return False
        except OSError as exc:
            raise ProviderError(f"cannot delete blob {digest}: {exc}") from exc
        return True

    async def list_page(self, *, cursor: str | None = None, limit: int = 1000) -> BlobPage:
        return await asyncio.to_thread(self._list_page, cursor, limit)

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
        return None


async def _io(func: Callable[..., _T], what: str, *args: Any) -> _T:
    """:func:`_in_thread` for one of this backend's own file operations, errors mapped."""
    try:
        return await _in_thread(func, *args)
    except OSError as exc:
        raise _provider_error(what, exc) from exc


def _open_for_read(path: Path) -> io.FileIO:
    return io.FileIO(path, "r")


def _hash_and_write(digester: Digester, fd: int, data: bytes) -> None:
    digester.update(data)
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


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
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return ProviderUnavailableError(f"{what}: the disk is full ({exc.strerror})")
    return ProviderError(f"{what}: {exc}")
