"""The pull-through cache's rules: what the cache knows about a remote path (an entry), whether
it is fresh, what upstream declared about a file, and when a failing remote is left alone.

Pure: the store's proxy service (``satchel.store.proxy``) does the fetching and the storing.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import hashlib
import re
from collections.abc import AsyncIterator, Mapping
from typing import Any

from satchel.core.content import ArtifactContent
from satchel.core.headers import parse_repr_digest

__all__ = [
    "Breaker",
    "ProxyAnswer",
    "ProxyEntry",
    "declared_digest",
    "declared_length",
    "entry_id",
    "fresh_until",
]


def entry_id(sandbox_id: str, remote: str, path: str) -> str:
    """The id of the entry for *path* of *remote* (the same on every replica)."""
    key = "\0".join((sandbox_id, remote, path)).encode("utf-8")
    return hashlib.sha256(key).hexdigest()[:32]


def fresh_until(ttl: int, now: float) -> float | None:
    """When a copy fetched (or revalidated) at *now* stops being fresh (None: never)."""
    return None if ttl == 0 else now + ttl


@dataclasses.dataclass(frozen=True, slots=True)
class ProxyEntry:
    """What the cache knows about one path of a remote: the artifact holding its bytes (and
    upstream's validators), or that upstream had no such file until ``missing_until``."""

    entry_id: str
    sandbox_id: str
    remote: str
    path: str
    artifact_id: str | None
    sha256: str | None
    bytes: int | None
    upstream_etag: str | None
    upstream_modified: str | None
    fetched_at: float
    checked_at: float
    fresh_until: float | None
    missing_until: float | None

    @classmethod
    def from_row(cls, row: Any) -> ProxyEntry:
        return cls(**{field.name: getattr(row, field.name) for field in dataclasses.fields(cls)})

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @property
    def cached(self) -> bool:
        return self.artifact_id is not None

    def expires(self, ttl: int) -> float | None:
        """When the copy stops being fresh under a TTL of *ttl* seconds (the remote's, as
        configured now: a changed TTL applies to copies cached before), None: never."""
        return fresh_until(ttl, self.checked_at)

    def is_fresh(self, now: float, ttl: int) -> bool:
        """A cached copy that need not be checked with upstream yet."""
        until = self.expires(ttl)
        return self.cached and (until is None or now < until)

    def is_missing(self, now: float) -> bool:
        """Upstream answered 404 recently enough to answer 404 without asking again."""
        return not self.cached and self.missing_until is not None and now < self.missing_until

    def age(self, now: float) -> float:
        """Seconds since upstream last confirmed this copy."""
        return max(0.0, now - self.checked_at)


def declared_length(headers: Mapping[str, str]) -> int | None:
    """The size upstream declared (``Content-Length``), when it is a plain number."""
    value = (headers.get("content-length") or "").strip()
    return int(value) if value.isdigit() and len(value) <= 19 else None


_DIGEST_ITEM = re.compile(r"\s*([A-Za-z0-9-]+)\s*=\s*(.+?)\s*$")


def declared_digest(headers: Mapping[str, str]) -> str | None:
    """``sha256:<hex>`` of the file as upstream declared it: ``Repr-Digest`` (RFC 9530) or the
    older ``Digest: SHA-256=<base64>`` (RFC 3230); None when it declared no sha-256."""
    found = parse_repr_digest(headers.get("repr-digest"))
    if found is not None:
        return found
    for item in (headers.get("digest") or "").split(","):
        match = _DIGEST_ITEM.match(item)
        if match is None or match.group(1).lower() != "sha-256":
            continue
        try:
            raw = base64.b64decode(match.group(2), validate=True)
        except (binascii.Error, ValueError):
            return None
        return f"sha256:{raw.hex()}" if len(raw) == 32 else None
    return None


@dataclasses.dataclass(slots=True)
class Breaker:
    """A remote's failures in a row. After *threshold* of them the remote is blocked for
    *seconds*; when that ends one request is let through to probe it (the others stay
    blocked meanwhile): success unblocks, failure blocks again."""

    threshold: int
    seconds: float
    failures: int = 0
    blocked_until: float | None = None

    def admits(self, now: float) -> bool:
        """Whether a request may ask upstream now (a probe, when the block has ended)."""
        if self.blocked_until is None:
            return True
        if now < self.blocked_until:
            return False
        self.blocked_until = now + self.seconds  # this one probes; the rest wait for it
        return True

    def retry_after(self, now: float) -> float | None:
        return None if self.blocked_until is None else max(0.0, self.blocked_until - now)

    def failed(self, now: float) -> None:
        self.failures += 1
        if self.failures >= self.threshold:
            self.blocked_until = now + self.seconds

    def succeeded(self) -> None:
        self.failures = 0
        self.blocked_until = None

    @property
    def blocked(self) -> bool:
        return self.blocked_until is not None


@dataclasses.dataclass(slots=True)
class ProxyAnswer:
    """The answer to a read of a remote's file.

    From the cache (``source == "cache"``) it is the cached artifact's opened ``content``
    (ranges, conditions and HEAD as for any artifact); ``stale_age`` is set when the copy was
    served past its freshness because upstream could not be asked. Fetched now (``"remote"``)
    it is the download as it arrives (``chunks``: iterate it, or ``aclose`` it), with the
    media type and the size upstream declared (None: unknown until the end).
    """

    source: str
    remote: str
    path: str
    mime: str
    size: int | None
    content: ArtifactContent | None = None
    chunks: AsyncIterator[bytes] | None = None
    stale_age: float | None = None

    @property
    def filename(self) -> str:
        return self.path.rsplit("/", 1)[-1]

    def __aiter__(self) -> AsyncIterator[bytes]:
        if self.content is not None:
            return self.content.__aiter__()
        assert self.chunks is not None
        return self.chunks.__aiter__()

    async def read(self) -> bytes:
        """Every byte (for small files and tests)."""
        return b"".join([chunk async for chunk in self])

    async def aclose(self) -> None:
        if self.content is not None:
            await self.content.aclose()
        if self.chunks is not None and hasattr(self.chunks, "aclose"):
            await self.chunks.aclose()
