"""Blobs that failed storage verification are quarantined: a read of one answers an
IntegrityError, never bytes that are wrong or gone.

The catalog is the authority (``blobs.failure``, set by ``verify_storage``); each process keeps
the failed set in memory and refreshes it every :data:`REFRESH_SECONDS`, so a verification run
by another replica takes effect here within that time (at once in the process that ran it).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from satchel.catalog import Catalog
from satchel.core.errors import IntegrityError

__all__ = ["REFRESH_SECONDS", "Quarantine"]

REFRESH_SECONDS = 5.0


class Quarantine:
    def __init__(self, catalog: Callable[[], Catalog]) -> None:
        self._catalog = catalog
        self._failed: dict[tuple[str, str], str] = {}
        self._loaded_at = -REFRESH_SECONDS

    async def failed(self) -> dict[tuple[str, str], str]:
        """``(backend, digest) -> why`` of every failed blob (refreshed when stale)."""
        if time.monotonic() - self._loaded_at >= REFRESH_SECONDS:
            async with self._catalog().read() as reader:
                self._failed = await reader.blob_checks.failed()
            self._loaded_at = time.monotonic()
        return self._failed

    def forget(self) -> None:
        """Reload at the next check (after this process verified blobs)."""
        self._loaded_at = -REFRESH_SECONDS

    async def check(self, backend: str, digest: str, what: str) -> None:
        """Raise IntegrityError when *digest* in *backend* failed verification."""
        failed = await self.failed()
        if not failed:
            return
        why = failed.get((backend, digest))
        if why is not None:
            raise IntegrityError(
                f"{what}: the stored bytes failed verification ({why}); restore them from a "
                "backup, then run storage verify again"
            )
