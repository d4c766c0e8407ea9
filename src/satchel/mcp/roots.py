"""The directories MCP tools may read and write, used without races: every file is opened once,
checked where it really is (``/proc/self/fd``) and read from that descriptor; exports are
created beside their target through a descriptor of its directory and never follow a link."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import os
import secrets
import stat
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

from satchel.core.errors import (
    AccessDeniedError,
    ArtifactStoreError,
    ConflictError,
    InsufficientStorageError,
    InvalidRequestError,
)

__all__ = ["Roots", "fd_chunks", "os_error"]

_CHUNK = 1024 * 1024
_READ = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
_DIRECTORY = os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC
_CREATE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC


def os_error(exc: OSError, path: object) -> ArtifactStoreError:
    """A local file failure as the error tree has it."""
    reason = exc.strerror or str(exc)
    if exc.errno in (errno.EACCES, errno.EPERM):
        return AccessDeniedError(f"{path}: {reason}")
    if exc.errno == errno.EEXIST:
        return ConflictError(f"{path} exists (pass overwrite to replace it)")
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return InsufficientStorageError(f"{path}: {reason}")
    if exc.errno == errno.ELOOP:
        return AccessDeniedError(f"{path} is a symbolic link")
    return InvalidRequestError(f"{path}: {reason}")


def _where(fd: int) -> Path:
    return Path(os.readlink(f"/proc/self/fd/{fd}"))


class Roots:
    """The allowed directories of one call (absolute, resolved)."""

    def __init__(self, dirs: tuple[Path, ...], *, strict: bool = False) -> None:
        self.dirs = dirs
        self.strict = strict
        """Refuse files with other hard links (on a shared server a link may lead into
        another user's directory or Satchel's data, and where it leads cannot be told)."""

    def _inside(self, path: Path) -> bool:
        return any(path == root or path.is_relative_to(root) for root in self.dirs)

    def resolve(self, raw: str) -> Path:
        """*raw* (absolute, or relative to the first directory) with links followed;
        AccessDeniedError outside the directories."""
        if not self.dirs:
            raise AccessDeniedError("this MCP server was started without --allow-dir")
        if not isinstance(raw, str) or not raw or "\x00" in raw:
            raise InvalidRequestError("path must be a non-empty path")
        try:
            path = Path(os.path.expanduser(raw))
            resolved = (path if path.is_absolute() else self.dirs[0] / path).resolve()
        except (OSError, RuntimeError) as exc:  # a link loop, a name too long
            raise InvalidRequestError(f"{raw} cannot be resolved: {exc}") from None
        if not self._inside(resolved):
            allowed = ", ".join(str(root) for root in self.dirs)
            raise AccessDeniedError(f"{raw} is outside the allowed directories ({allowed})")
        return resolved

    def _check(self, fd: int, raw: object) -> None:
        if not self._inside(_where(fd)):
            os.close(fd)
            raise AccessDeniedError(f"{raw} is outside the allowed directories")

    def open_file(self, raw: str) -> tuple[int, Path, int]:
        """A regular file's descriptor, its path and size (a FIFO, device or socket is
        refused; nothing blocks)."""
        path = self.resolve(raw)
        try:
            fd = os.open(path, _READ)
        except OSError as exc:
            raise os_error(exc, raw) from None
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            os.close(fd)
            raise InvalidRequestError(f"{raw} is not a regular file")
        if self.strict and info.st_nlink > 1:
            os.close(fd)
            raise AccessDeniedError(f"{raw} has other hard links: copy it instead of linking")
        self._check(fd, raw)
        os.set_blocking(fd, True)
        return fd, path, info.st_size

    def walk(self, raw: str) -> Iterator[tuple[str, str]]:
        """(relative path, path) of every file under the directory *raw*, links not followed
        into directories (a linked file is opened, and checked, like any other)."""
        root = self.resolve(raw)
        if not root.is_dir():
            raise InvalidRequestError(f"{raw} is not a directory")
        for dirpath, dirnames, names in os.walk(root):
            dirnames.sort()
            for name in sorted(names):
                path = Path(dirpath) / name
                yield path.relative_to(root).as_posix(), str(path)

    @contextlib.asynccontextmanager
    async def new_file(self, target: Path, *, overwrite: bool) -> AsyncIterator[int]:
        """A descriptor to write *target*'s new content to: a fresh file (mode 0600) beside it
        that takes its name when the block ends without error (replacing what was there only
        with *overwrite*; a link there is replaced, never followed)."""
        try:
            parent = await asyncio.to_thread(os.open, target.parent, _DIRECTORY)
        except OSError as exc:
            raise os_error(exc, target.parent) from None
        temp = f".{target.name}.{secrets.token_hex(6)}.part"
        try:
            if not self._inside(_where(parent)):
                raise AccessDeniedError(f"{target} is outside the allowed directories")
            fd = await asyncio.to_thread(os.open, temp, _CREATE, 0o600, dir_fd=parent)
            try:
                yield fd
                await asyncio.to_thread(os.fsync, fd)
            finally:
                os.close(fd)
            await asyncio.to_thread(_publish, parent, temp, target.name, overwrite)
        except OSError as exc:
            raise os_error(exc, target) from None
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temp, dir_fd=parent)
            os.close(parent)


def _publish(parent: int, temp: str, name: str, overwrite: bool) -> None:
    if overwrite:
        os.replace(temp, name, src_dir_fd=parent, dst_dir_fd=parent)
    else:  # a link never replaces a file, not even one that appeared meanwhile
        os.link(temp, name, src_dir_fd=parent, dst_dir_fd=parent, follow_symlinks=False)
    os.fsync(parent)


async def fd_chunks(fd: int) -> AsyncIterator[bytes]:
    """The rest of *fd*'s bytes, read in a thread (the caller closes it)."""
    while chunk := await asyncio.to_thread(os.read, fd, _CHUNK):
        yield chunk
