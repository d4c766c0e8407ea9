"""Local files as the clients read and write them: content addresses with progress, chunked
async reads, and fresh files that downloads are written to before taking their name."""

from __future__ import annotations

import asyncio
import hashlib
import os
import secrets
from collections.abc import AsyncIterator
from pathlib import Path

from satchel.core.requests import ProgressCallback

__all__ = ["file_chunks", "file_sha256", "fresh_file"]

_CHUNK = 1024 * 1024


def fresh_file(target: Path) -> tuple[int, str]:
    """A new file next to *target* under a random name, opened for writing: created, never an
    existing file or a link followed (``O_EXCL``), with the permissions the umask gives new
    files (mkstemp would make it 0600). Returns its descriptor and path."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    while True:
        temp = str(target.parent / f".{target.name}.{secrets.token_hex(6)}.part")
        try:
            return os.open(temp, flags, 0o666), temp
        except FileExistsError:
            continue


def file_sha256(
    path: str | os.PathLike[str], progress: ProgressCallback | None = None
) -> tuple[str, int]:
    """The content address (``sha256:<hex>``) and size of a local file, read in chunks
    (*progress* is told the bytes hashed so far and the file's size)."""
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as handle:
        total = os.fstat(handle.fileno()).st_size
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
            if progress is not None:
                progress(size, total)
    if progress is not None and (size == 0 or size != total):  # the last call is (size, size)
        progress(size, size)
    return f"sha256:{digest.hexdigest()}", size


async def file_chunks(path: Path, chunk_size: int = _CHUNK) -> AsyncIterator[bytes]:
    handle = await asyncio.to_thread(open, path, "rb")
    try:
        while chunk := await asyncio.to_thread(handle.read, chunk_size):
            yield chunk
    finally:
        await asyncio.to_thread(handle.close)
