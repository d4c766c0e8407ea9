"""Disk space: new content is refused before the disk is full, and a reserve keeps deletes,
metadata changes and garbage collection working when it is full anyway.

A store on local disks watches each file system it writes to (the data directory, the catalog
file, the filesystem and SQLite blob backends, upload staging):

- new content (a store, an upload body, a part) is refused with
  :class:`~satchel.core.errors.InsufficientStorageError` (507) while any of them has less than
  ``disk_reserve_bytes`` free, so Satchel never fills a disk itself;
- once free space falls below four times ``disk_reserve_bytes``, a reserve file of that size is
  made in the data directory (a roomy disk carries none). When something else fills the disk
  (or a stream in flight ate the margin), the reserve is released before the next catalog
  write, which then has room; it is made again once deletes free twice the reserve. Nothing
  needs a restart.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import AsyncIterable, AsyncIterator
from pathlib import Path
from typing import Any

from satchel.blobs.base import DEFAULT_CHUNK_SIZE
from satchel.blobs.staging import ListableStaging, StagedEntry, Staging
from satchel.core.errors import InsufficientStorageError

__all__ = ["DiskSpace", "SpaceCheckedStaging", "watched_paths"]

log = logging.getLogger("satchel.store.space")

RESERVE_FILE = "space.reserve"


def _mib(size: int) -> str:
    return f"{size / 1048576:.1f} MiB"


def watched_paths(settings: Any, backends: list[str], catalog_url: str) -> list[Path]:
    """The local directories a store writes to (those that exist or will)."""
    paths: list[Path] = []
    if settings.data_dir is not None:
        paths.append(settings.data_dir)
    if catalog_url.startswith("sqlite:///"):
        paths.append(Path(catalog_url.split("///", 1)[1]).parent)
    if "filesystem" in backends:
        paths.append(settings.resolved_fs_root())
    if "sqlite" in backends:
        paths.append(settings.resolved_sqlite_blob_path().parent)
    return paths


class DiskSpace:
    """Free space of the file systems a store writes to, and its reserve file."""

    def __init__(self, paths: list[Path], *, reserve_bytes: int, reserve_dir: Path | None) -> None:
        self.reserve_bytes = reserve_bytes
        self._reserve = reserve_dir / RESERVE_FILE if reserve_dir is not None else None
        self._paths: dict[int, Path] = {}  # one path per file system (st_dev)
        for path in paths:
            with contextlib.suppress(OSError):
                self._paths.setdefault(os.stat(path).st_dev, path)
        self.enabled = reserve_bytes > 0 and bool(self._paths)

    def open(self) -> None:
        """Make the reserve file if the disk is short of room already (blocking)."""
        self.restore()

    def free(self) -> dict[Path, int]:
        """Bytes available to this process on each watched file system."""
        free: dict[Path, int] = {}
        for path in self._paths.values():
            try:
                stat = os.statvfs(path)
            except OSError:
                continue
            free[path] = stat.f_bavail * stat.f_frsize
        return free

    def shortage(self) -> tuple[Path, int] | None:
        """The watched file system with less than the reserve free (and how much it has)."""
        if not self.enabled:
            return None
        for path, available in self.free().items():
            if available < self.reserve_bytes:
                return path, available
        return None

    def admit(self) -> None:
        """Raise InsufficientStorageError when new content must be refused."""
        self.restore()
        short = self.shortage()
        if short is not None:
            raise InsufficientStorageError(
                f"the disk is full ({_mib(short[1])} free, {_mib(self.reserve_bytes)} kept in "
                "reserve): new content is refused until space is freed (delete artifacts, "
                "collect garbage or grow the disk); reads, deletes and updates still work"
            )

    def headroom(self) -> None:
        """Before a catalog write: give up the reserve if the disk is (nearly) full."""
        if not self.enabled or self._reserve is None or not self._reserve_held():
            return
        short = self.shortage()
        if short is not None and short[1] < self.reserve_bytes // 2:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self._reserve)
            log.warning(
                "disk nearly full (%s free at %s): reserve of %s released so deletes and "
                "garbage collection keep working",
                _mib(short[1]),
                short[0],
                _mib(self.reserve_bytes),
            )

    def restore(self) -> None:
        """Make the reserve file while there is room for it, once free space runs low.

        A disk with four times the reserve free needs none (so a roomy disk carries no dead
        weight); below that the file is made while at least twice the reserve is free, and
        after a release it is made again once deletes have freed that much.
        """
        if not self.enabled or self._reserve is None or self._reserve_held():
            return
        free = min(self.free().values(), default=0)
        if free >= 4 * self.reserve_bytes or free < 2 * self.reserve_bytes:
            return
        try:
            fd = os.open(self._reserve, os.O_WRONLY | os.O_CREAT, 0o600)
            try:
                os.posix_fallocate(fd, 0, self.reserve_bytes)
            finally:
                os.close(fd)
        except OSError as exc:
            with contextlib.suppress(OSError):
                os.unlink(self._reserve)
            log.warning("cannot make the disk reserve %s: %s", self._reserve, exc)
            return
        log.info("disk reserve of %s made at %s", _mib(self.reserve_bytes), self._reserve)

    def _reserve_held(self) -> bool:
        try:
            return self._reserve is not None and (
                os.stat(self._reserve).st_size >= self.reserve_bytes
            )
        except OSError:
            return False

    def reserve_state(self) -> str:
        """``held``, ``not needed`` (plenty of room), ``released`` (short of room), ``none``."""
        if not self.enabled or self._reserve is None:
            return "none"
        if self._reserve_held():
            return "held"
        free = min(self.free().values(), default=0)
        return "not needed" if free >= 4 * self.reserve_bytes else "released"

    def check(self) -> dict[str, Any]:
        """The health check: ``full`` with the reason while new content is refused."""
        if not self.enabled:
            return {"status": "ok", "reserve_bytes": 0}
        self.restore()
        check: dict[str, Any] = {
            "status": "ok",
            "reserve_bytes": self.reserve_bytes,
            "reserve": self.reserve_state(),
            "free_bytes": {str(path): available for path, available in self.free().items()},
        }
        if self.shortage() is not None:
            check["status"] = "full"
            check["reason"] = "disk full: new content is refused until space is freed"
        elif check["reserve"] == "released":
            check["reason"] = "disk nearly full: its reserve is made again once space is freed"
        return check


class SpaceCheckedStaging:
    """Upload staging that refuses new bytes while the disk is short of space."""

    def __init__(self, inner: Staging, space: DiskSpace) -> None:
        self.inner = inner
        self.space = space

    async def write(
        self, key: str, offset: int, chunks: AsyncIterable[bytes], *, max_bytes: int
    ) -> int:
        self.space.admit()
        return await self.inner.write(key, offset, chunks, max_bytes=max_bytes)

    async def size(self, key: str) -> int | None:
        return await self.inner.size(key)

    async def truncate(self, key: str, size: int) -> None:
        await self.inner.truncate(key, size)

    def read(self, key: str, chunk_size: int = DEFAULT_CHUNK_SIZE) -> AsyncIterator[bytes]:
        return self.inner.read(key, chunk_size)

    async def delete(self, key: str) -> None:
        await self.inner.delete(key)

    async def entries(self) -> list[StagedEntry]:
        if isinstance(self.inner, ListableStaging):
            return await self.inner.entries()
        return []
