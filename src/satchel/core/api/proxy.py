"""The contract of the pull-through cache (seed 003; docs/proxy.md): remotes configured in
``remotes.yaml``, their files read through the cache, prefetched, listed and evicted, and the
uploads of ``local`` remotes."""

from __future__ import annotations

from collections.abc import AsyncIterable
from typing import Any, Protocol

from satchel.core.proxy import ProxyAnswer
from satchel.core.ranges import ByteRange

__all__ = ["ProxyAPI"]


class ProxyAPI(Protocol):
    async def list_remotes(self) -> list[dict[str, Any]]:
        """The configured remotes: ``name``, ``type``, ``package``, ``description``,
        ``base_url``, ``offline`` and ``blocked_for`` (seconds a failing remote is left alone,
        or None)."""

    async def proxy_config(self) -> dict[str, Any]:
        """The cache's configuration: each remote as configured, and the cache's settings
        (credentials never appear)."""

    async def open_remote_file(
        self,
        remote: str,
        path: str,
        *,
        byte_range: ByteRange | None = None,
        if_range: str | None = None,
        if_none_match: str | None = None,
        head: bool = False,
    ) -> ProxyAnswer:
        """Read *path* of *remote* through the cache (``GET /api/{remote}/{path}``).

        A fresh cached copy answers at once (``source == "cache"``; ranges, conditions and
        *head* as for any artifact). Otherwise the file is fetched, or revalidated, once for
        every concurrent reader, and a download streams to each as it arrives
        (``source == "remote"``; the whole file). While upstream fails, an expired copy is
        served with ``stale_age`` set. Close the answer when you stop reading early.

        Raises:
            AccessDeniedError: *path* matches none of the remote's include patterns.
            ArtifactNotFoundError: no such remote, or upstream has no such file.
            UpstreamError: upstream failed (UpstreamTimeoutError: too slow) and no copy is
                cached; RemoteUnavailableError: the remote is offline or blocked.
        """

    async def prefetch_remote_files(
        self, remote: str, paths: list[str], *, patterns: list[str] | None = None
    ) -> list[dict[str, Any]]:
        """Cache each of *paths* (only those matching one of the glob *patterns* as well, when
        given: ``*.tar.gz``; ``*`` crosses ``/``); per path its ``status``: ``cached``,
        ``fetched``, ``revalidated``, ``missing``, ``skipped`` or ``failed`` (with ``error``),
        and the ``sha256`` and ``bytes`` cached."""

    async def list_cached_files(
        self, remote: str, *, after: str | None = None, prefix: str | None = None, limit: int = 100
    ) -> dict[str, Any]:
        """Cached files of *remote* in path order (``items``; ``next``: the *after* of the next
        page, None at the end)."""

    async def evict_cached_files(
        self, remote: str, *, path: str | None = None, prefix: str | None = None
    ) -> dict[str, Any]:
        """Drop the cached copy of *path*, or of every path under *prefix* (``""``: all):
        ``evicted`` paths, the paths ``kept`` by a legal hold or retention, and the remembered
        upstream 404s ``forgotten``."""

    async def proxy_stats(self) -> dict[str, Any]:
        """Per remote: hits, misses, stale answers, revalidations, upstream 404s and errors,
        bytes served from the cache and fetched (this process), files and bytes cached."""

    async def put_remote_file(
        self,
        remote: str,
        path: str,
        data: bytes | AsyncIterable[bytes],
        *,
        mime: str | None = None,
    ) -> dict[str, Any]:
        """Store *data* at *path* of a ``local`` remote (replacing what was there)."""
