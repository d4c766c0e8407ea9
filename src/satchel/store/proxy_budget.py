"""The pull-through cache's byte budgets: a remote's ``cache.max_bytes`` and the overall
``proxy_budget_bytes``. After a download or an upload pushes a budget over, the least recently
read files go first, except index files, pinned paths (``cache.pin_patterns``), files this
process is serving and anything a hold or retention keeps. (A reader on another replica keeps
its bytes too: deleted blobs stay for ``gc_grace_seconds``.)

When each file was last read is noted in memory and written to ``proxy_usage`` in batches
(every few seconds, and before any eviction), so every replica evicts by the same order.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable

from satchel.catalog.proxy import ProxyRows
from satchel.core.content import ArtifactContent
from satchel.core.proxy import ProxyEntry
from satchel.core.remotes import Remote, is_index_file
from satchel.store.context import StoreContext

__all__ = ["ProxyBudget"]

_FLUSH_SECONDS = 5.0
_CANDIDATES = 1000

Evict = Callable[[ProxyEntry], Awaitable[bool]]


class ProxyBudget:
    def __init__(self, context: StoreContext, remotes: dict[str, Remote], evict: Evict) -> None:
        self.context = context
        self.remotes = remotes
        self.evict = evict
        self.serving: collections.Counter[str] = collections.Counter()
        self._pending: dict[str, float] = {}
        self._flushed_at = 0.0
        self._flushing: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()

    # -- use -------------------------------------------------------------------------------------

    def used(self, entry_id: str) -> None:
        """Note a read of an entry's file now (written out within a few seconds)."""
        now = self.context.now()
        self._pending[entry_id] = now
        if now - self._flushed_at >= _FLUSH_SECONDS and self._flushing is None:
            self._flushed_at = now
            self._flushing = asyncio.create_task(self._flush_soon())

    async def _flush_soon(self) -> None:
        try:
            await self.flush()
        except Exception:
            pass
        finally:
            self._flushing = None

    async def flush(self) -> None:
        """Write the use times noted so far."""
        if not self._pending:
            return
        pending, self._pending = self._pending, {}
        try:
            async with self.context.catalog.write() as writer:
                await ProxyRows(writer.conn).record_use(pending)
        except BaseException:
            for key, when in pending.items():  # keep them for the next flush
                self._pending[key] = max(when, self._pending.get(key, when))
            raise

    async def close(self) -> None:
        if self._flushing is not None:
            with contextlib.suppress(Exception):
                await self._flushing
        with contextlib.suppress(Exception):
            await self.flush()

    def serve(self, content: ArtifactContent) -> ArtifactContent:
        """*content*, counted as being served by this process until its stream ends."""
        rest = content.rest
        if rest is None:
            return content
        artifact_id = content.artifact_id

        async def counted() -> AsyncIterator[bytes]:
            self.serving[artifact_id] += 1
            try:
                async for chunk in rest:
                    yield chunk
            finally:
                self.serving[artifact_id] -= 1
                if self.serving[artifact_id] <= 0:
                    del self.serving[artifact_id]
                aclose = getattr(rest, "aclose", None)
                if aclose is not None:
                    await aclose()

        content.rest = counted()
        return content

    # -- budgets ---------------------------------------------------------------------------------

    async def enforce(self, remote: Remote, keep: str | None = None) -> list[str]:
        """Evict least recently used files until *remote* and the whole cache are within
        their budgets (never the entry *keep*, just cached); the paths evicted
        (``remote/path``). Uploads to local remotes are neither counted nor evicted: they are
        the only copies."""
        overall = self.context.settings.proxy_budget_bytes
        if remote.kind == "local" or (not remote.cache.max_bytes and not overall):
            return []
        async with self._lock:
            await self.flush()
            evicted: list[str] = []
            if remote.cache.max_bytes:
                evicted += await self._shrink(remote.cache.max_bytes, remote.name, keep)
            if overall:
                evicted += await self._shrink(overall, None, keep)
            return evicted

    async def _shrink(self, budget: int, remote: str | None, keep: str | None) -> list[str]:
        sandbox_id = self.context.sandbox_id
        local = {name for name, config in self.remotes.items() if config.kind == "local"}
        async with self.context.catalog.read() as reader:
            rows = ProxyRows(reader.conn)
            usage = await rows.usage(sandbox_id)
            total = sum(
                one["bytes"]
                for name, one in usage.items()
                if (remote is None or name == remote) and name not in local
            )
            if total <= budget:
                return []
            candidates = await rows.least_recently_used(sandbox_id, remote, _CANDIDATES)
        evicted = []
        for entry in candidates:
            if total <= budget:
                break
            if entry.entry_id == keep or self._protected(entry):
                continue
            if await self.evict(entry):
                total -= entry.bytes or 0
                evicted.append(f"{entry.remote}/{entry.path}")
        return evicted

    def _protected(self, entry: ProxyEntry) -> bool:
        remote = self.remotes.get(entry.remote)
        if remote is None:
            return False  # a remote no longer configured: its files go first
        if remote.kind == "local":
            return True
        if is_index_file(remote.package, entry.path) or remote.cache.pinned(entry.path):
            return True
        return entry.artifact_id is not None and self.serving[entry.artifact_id] > 0
