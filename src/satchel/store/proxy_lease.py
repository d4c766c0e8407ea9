"""One download of a remote path across replicas: the process that takes the path's lease
(``proxy_fetches``) asks upstream and renews the lease while bytes arrive; another replica waits
until the entry changes (then serves the copy from the shared cache) or the lease lapses or is
let go without a change (then it tries itself). Inside one process, flights already share one
download (``satchel.proxy.flight``)."""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from typing import Any

from satchel.catalog.proxy import ProxyRows
from satchel.core.proxy import ProxyEntry
from satchel.store.context import StoreContext

__all__ = ["FetchLease"]

_FIRST_POLL = 0.05
_MAX_POLL = 0.5


class FetchLease:
    def __init__(self, context: StoreContext) -> None:
        self.context = context
        self.owner = uuid.uuid4().hex
        self._renewed: dict[str, float] = {}

    @property
    def seconds(self) -> float:
        """How long a lease lasts unless renewed (renewed a third of the way through)."""
        return max(30.0, 2 * self.context.settings.proxy_timeout_seconds)

    async def claim(self, key: str) -> bool:
        now = self.context.now()
        async with self.context.catalog.write() as writer:
            taken = await ProxyRows(writer.conn).claim(key, self.owner, now, now + self.seconds)
        if taken:
            self._renewed[key] = time.monotonic()
        return taken

    async def keep(self, key: str) -> None:
        """Renew the lease of *key* if a third of it has passed (call it as bytes arrive)."""
        if time.monotonic() - self._renewed.get(key, 0.0) < self.seconds / 3:
            return
        self._renewed[key] = time.monotonic()
        until = self.context.now() + self.seconds
        async with self.context.catalog.write() as writer:
            await ProxyRows(writer.conn).renew(key, self.owner, until)

    async def release(self, key: str) -> None:
        self._renewed.pop(key, None)
        with contextlib.suppress(Exception):  # a lease not let go lapses on its own
            async with self.context.catalog.write() as writer:
                await ProxyRows(writer.conn).release(key, self.owner)

    async def wait_for_peer(self, key: str, before: ProxyEntry | None) -> Any:
        """Wait while another process holds *key*'s lease. The outcome its download left —
        ``("revalidated", entry)`` for a copy to serve, ``("missing", None)`` for an upstream
        404 — or None when it let go without one (then try to take the lease)."""
        pause = _FIRST_POLL
        while True:
            await asyncio.sleep(pause)
            pause = min(_MAX_POLL, pause * 2)
            now = self.context.now()
            async with self.context.catalog.read() as reader:
                rows = ProxyRows(reader.conn)
                entry = await rows.get(key)
                holder = await rows.holder(key, now)
            if entry is not None and _changed(before, entry):
                if entry.cached:
                    return ("revalidated", entry)
                if entry.is_missing(now):
                    return ("missing", None)
            if holder is None:
                return None


def _changed(before: ProxyEntry | None, after: ProxyEntry) -> bool:
    if before is None:
        return True
    return (after.artifact_id, after.checked_at) != (before.artifact_id, before.checked_at)
