"""The BlobStore port: content-addressed bytes, streamed in and out.

Every backend is one module implementing this small Protocol and passes the conformance suite
in :mod:`satchel.testing.blobstore`. Digests are ``sha256:<hex>``; a backend computes the digest
of what it is given while it writes, stores identical content once, and never exposes a blob
until all of its bytes are durable. Native errors (OSError, sqlite3, botocore) are mapped to the
error tree inside the backend.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
from collections.abc import AsyncIterable, AsyncIterator
from typing import Any, Protocol, runtime_checkable

from satchel.core.digests import check_digest, sha256_digest
from satchel.core.errors import InvalidRequestError, TooLargeError
from satchel.core.models import BlobInfo
from satchel.core.streams import DEFAULT_CHUNK_SIZE, iter_bytes

__all__ = [
    "DEFAULT_CHUNK_SIZE",
    "BlobPage",
    "BlobStore",
    "Digester",
    "LeavesLeftovers",
    "Leftover",
    "LocalFiles",
    "LocksBlobs",
    "PublicURLs",
    "check_range",
    "iter_bytes",
    "rehash",
]


@dataclasses.dataclass(frozen=True, slots=True)
class BlobPage:
    """One page of a blob listing, in digest order; ``next_cursor`` is None on the last page."""

    blobs: list[BlobInfo]
    next_cursor: str | None


@dataclasses.dataclass(frozen=True, slots=True)
class Leftover:
    """What a write left behind in a backend (a temp file, staged chunks): ``abandoned`` when
    its writer is gone (or it has been untouched for an hour), else the write is in flight."""

    name: str
    size: int
    abandoned: bool


@runtime_checkable
class LeavesLeftovers(Protocol):
    """A backend whose puts stage bytes first, and can list what crashed puts left."""

    async def leftovers(self) -> list[Leftover]:
        """Everything staged by puts not (yet) finished."""

    async def remove_leftover(self, name: str) -> bool:
        """Remove *name* if it is still abandoned; True when it was removed."""


@runtime_checkable
class PublicURLs(Protocol):
    """A backend whose blobs may be readable at a public URL (S3 with ``public_url_base``)."""

    def public_url(self, digest: str) -> str | None:
        """The URL anyone can GET the blob *digest* at, or None when none is configured.

        Says nothing of whether the blob exists, nor of whether the URL is really public.
        """


@runtime_checkable
class LocalFiles(Protocol):
    """A backend whose blobs are plain files on this host, stored byte for byte (the
    filesystem backend): a web server in front of the service may send them itself."""

    async def local_file(self, digest: str) -> str | None:
        """The blob's file relative to the backend's root, derived from the digest alone
        (``sha256/ab/cd/<hex>``, never from anything a client said); None when it is not
        there."""


@runtime_checkable
class LocksBlobs(Protocol):
    """A backend that can lock blobs against deletion (S3 Object Lock): retention until a
    date, and legal holds. Raises NotSupportedError where the bucket has no lock."""

    async def put_retention(
        self, digest: str, mode: str, until: dt.datetime, *, bypass_governance: bool = False
    ) -> None: ...

    async def set_legal_hold(self, digest: str, on: bool) -> None: ...

    async def object_lock(self, digest: str) -> Any: ...


@runtime_checkable
class BlobStore(Protocol):
    """Content-addressed blob storage."""

    name: str

    async def put_stream(
        self,
        chunks: AsyncIterable[bytes],
        *,
        max_bytes: int | None = None,
        expected_digest: str | None = None,
    ) -> BlobInfo:
        """Store the bytes of *chunks*; return their digest and size.

        Raises TooLargeError past *max_bytes* and InvalidRequestError when the content does not
        hash to *expected_digest*; in both cases, and when *chunks* raises, nothing is stored.
        """

    def open_range(
        self, digest: str, start: int = 0, end: int | None = None, *, chunk_size: int = ...
    ) -> AsyncIterator[bytes]:
        """Yield bytes ``[start, end)`` of a blob (``end=None``: to the end). BlobNotFoundError."""

    async def head(self, digest: str) -> BlobInfo | None:
        """Digest and size of a stored blob, or None."""

    async def delete(self, digest: str) -> bool:
        """Remove a blob; False when it was not there."""

    async def list_page(self, *, cursor: str | None = None, limit: int = 1000) -> BlobPage:
        """List blobs in digest order, after *cursor*."""

    async def check(self) -> dict[str, Any]:
        """Health of the backend: ``{"status": "ok" | "error", ...}``."""

    async def close(self) -> None:
        """Release connections and files."""


class Digester:
    """Counts and hashes bytes as they stream past, enforcing a size bound."""

    __slots__ = ("_hash", "expected_digest", "max_bytes", "size")

    def __init__(self, *, max_bytes: int | None, expected_digest: str | None) -> None:
        self._hash = hashlib.sha256()
        self.size = 0
        self.max_bytes = max_bytes
        self.expected_digest = None if expected_digest is None else check_digest(expected_digest)

    def update(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self.max_bytes is not None and self.size > self.max_bytes:
            raise TooLargeError(f"content exceeds the limit of {self.max_bytes} bytes")
        self._hash.update(chunk)

    def finish(self) -> str:
        digest = sha256_digest(self._hash.hexdigest())
        if self.expected_digest is not None and digest != self.expected_digest:
            raise InvalidRequestError(
                f"content hashes to {digest}, not the expected {self.expected_digest}"
            )
        return digest


async def rehash(blobs: BlobStore, digest: str) -> BlobInfo:
    """Read the stored bytes of *digest* back: what they hash to now, and how many there are
    (BlobNotFoundError when they are gone)."""
    digester = Digester(max_bytes=None, expected_digest=None)
    async for chunk in blobs.open_range(digest):
        digester.update(chunk)
    return BlobInfo(digest=digester.finish(), size=digester.size)


def check_range(start: int, end: int | None) -> None:
    if start < 0 or (end is not None and end < start):
        raise InvalidRequestError(f"invalid byte range [{start}, {end})")
