"""In-memory blob backend: development and tests. Nothing survives the process."""

from __future__ import annotations

import asyncio
import bisect
from collections.abc import AsyncIterable, AsyncIterator
from typing import Any

from satchel.blobs.base import DEFAULT_CHUNK_SIZE, BlobPage, Digester, check_range
from satchel.core.digests import check_digest
from satchel.core.errors import BlobNotFoundError
from satchel.core.models import BlobInfo

__all__ = ["MemoryBlobStore"]


class MemoryBlobStore:
    """Blobs held as bytes in a dict, keyed by digest."""

    name = "memory"

    def __init__(self) -> None:
        self._blobs: dict[str, bytes] = {}

    async def put_stream(
        self,
        chunks: AsyncIterable[bytes],
        *,
        max_bytes: int | None = None,
        expected_digest: str | None = None,
    ) -> BlobInfo:
        digester = Digester(max_bytes=max_bytes, expected_digest=expected_digest)
        parts: list[bytes] = []
        async for chunk in chunks:
            digester.update(chunk)
            parts.append(bytes(chunk))
        digest = digester.finish()
        created = digest not in self._blobs
        if created:
            self._blobs[digest] = b"".join(parts)
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
        data = self._blobs.get(check_digest(digest))
        if data is None:
            raise BlobNotFoundError(f"no blob {digest}")
        stop = len(data) if end is None else min(end, len(data))
        view = memoryview(data)
        for offset in range(start, stop, chunk_size):
            yield bytes(view[offset : min(offset + chunk_size, stop)])
            await asyncio.sleep(0)

    async def head(self, digest: str) -> BlobInfo | None:
        data = self._blobs.get(check_digest(digest))
        return None if data is None else BlobInfo(digest=digest, size=len(data))

    async def delete(self, digest: str) -> bool:
        return self._blobs.pop(check_digest(digest), None) is not None

    async def list_page(self, *, cursor: str | None = None, limit: int = 1000) -> BlobPage:
        digests = sorted(self._blobs)
        index = 0 if cursor is None else bisect.bisect_right(digests, cursor)
        page = digests[index : index + limit]
        infos = [BlobInfo(digest=d, size=len(self._blobs[d])) for d in page]
        more = index + limit < len(digests)
        return BlobPage(blobs=infos, next_cursor=page[-1] if more and page else None)

    async def check(self) -> dict[str, Any]:
        return {"status": "ok", "backend": self.name, "blobs": len(self._blobs)}

    async def close(self) -> None:
        return None
