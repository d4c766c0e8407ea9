"""``RangeReader``: an artifact as a seekable binary file whose bytes are fetched on demand,
one byte-range read per buffer refill (``Artifact.open()``)."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from typing import Any

__all__ = ["RangeReader"]


class RangeReader(io.RawIOBase):
    """A raw, seekable binary stream of *size* bytes: ``fetch(start, length)`` answers the
    bytes a read needs, ``stream_from(start)`` the rest of them for ``read()`` to the end.
    ``requests`` and ``bytes_fetched`` count what was asked of the store."""

    def __init__(
        self,
        size: int,
        fetch: Callable[[int, int], bytes],
        stream_from: Callable[[int], Iterator[bytes]],
        *,
        name: str | None = None,
    ) -> None:
        super().__init__()
        self.size = size
        self.name = name
        self._fetch = fetch
        self._stream_from = stream_from
        self._position = 0
        self.requests = 0
        self.bytes_fetched = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        self._check_open()
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        self._check_open()
        if whence == io.SEEK_SET:
            position = offset
        elif whence == io.SEEK_CUR:
            position = self._position + offset
        elif whence == io.SEEK_END:
            position = self.size + offset
        else:
            raise ValueError(f"invalid whence ({whence})")
        if position < 0:
            raise ValueError(f"negative seek position {position}")
        self._position = position
        return position

    def readinto(self, buffer: Any) -> int:
        self._check_open()
        view = memoryview(buffer).cast("B")
        wanted = min(len(view), self.size - self._position)
        if wanted <= 0:
            return 0
        data = self._fetch(self._position, wanted)
        self._count(data)
        view[: len(data)] = data
        self._position += len(data)
        return len(data)

    def readall(self) -> bytes:
        self._check_open()
        if self._position >= self.size:
            return b""
        parts = []
        self.requests += 1
        for chunk in self._stream_from(self._position):
            self.bytes_fetched += len(chunk)
            self._position += len(chunk)
            parts.append(chunk)
        return b"".join(parts)

    def _count(self, data: bytes) -> None:
        self.requests += 1
        self.bytes_fetched += len(data)

    def _check_open(self) -> None:
        if self.closed:
            raise ValueError("I/O operation on closed file")
