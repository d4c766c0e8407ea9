"""Retention and legal holds mirrored onto the blobs themselves, where a backend can lock them
(an S3 bucket with Object Lock): then not even the bucket's admin deletes them early.

The catalog stays the authority (holds and retention are decided there); the bucket's lock
is a second line. Locks only ever grow here: a blob shared by several packages keeps the
latest retention any of them asks for, and the stronger mode (compliance over governance);
shortening retention in the catalog does not shorten a lock already in the bucket. A legal
hold is released on a blob only once no other hold in force covers it. Backends that cannot
lock (or buckets without Object Lock) are skipped, once found out.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable

from satchel.blobs.base import LocksBlobs
from satchel.core.errors import NotSupportedError, ProviderError
from satchel.core.retention import RetentionMode
from satchel.store.context import StoreContext

__all__ = ["BlobLocks", "BlobRef"]

logger = logging.getLogger("satchel.store")

BlobRef = tuple[str, str]
"""``(backend, digest)``."""

FOREVER = dt.timedelta(days=100 * 365)
"""How far a lock reaches for retention without end (S3 needs a date)."""

MIN_LOCK = dt.timedelta(seconds=5)
"""Retention ending sooner than this is not mirrored: the end could pass during the round
trips to the bucket (which then refuses a date in the past), and the catalog guards it."""


class BlobLocks:
    def __init__(self, context: StoreContext) -> None:
        self.context = context
        self._unsupported: set[str] = set()

    def _lockable(self, backend: str) -> LocksBlobs | None:
        if backend in self._unsupported:
            return None
        blobs = self.context.blob_backend(backend)
        return blobs if isinstance(blobs, LocksBlobs) else None

    async def retain(
        self, refs: Iterable[BlobRef], mode: RetentionMode, until: float | None
    ) -> int:
        """Lock each blob until *until* (None: far ahead) unless a longer lock is on it;
        return how many were locked now."""
        now = dt.datetime.fromtimestamp(self.context.now(), dt.UTC)
        end = now + FOREVER if until is None else dt.datetime.fromtimestamp(until, dt.UTC)
        end = end.replace(microsecond=0) + dt.timedelta(seconds=1)
        if end <= now + MIN_LOCK:
            return 0
        locked = 0
        for backend, digest in sorted(set(refs)):
            blobs = self._lockable(backend)
            if blobs is None:
                continue
            try:
                state = await blobs.object_lock(digest)
                wanted = "COMPLIANCE" if mode is RetentionMode.COMPLIANCE else "GOVERNANCE"
                if state.mode == "COMPLIANCE":
                    wanted = "COMPLIANCE"  # never weakened
                blob_end = end  # this blob's: a longer lock already on it stays
                if state.retain_until is not None and state.retain_until >= end:
                    if state.mode == wanted:
                        continue
                    blob_end = state.retain_until
                if blob_end <= dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1):
                    continue  # ended while we asked the bucket
                await blobs.put_retention(digest, wanted, blob_end)
                locked += 1
            except NotSupportedError:
                self._unsupported.add(backend)
        return locked

    async def hold(self, refs: Iterable[BlobRef], on: bool) -> None:
        """Put legal holds on (or take them off) the blobs."""
        for backend, digest in sorted(set(refs)):
            blobs = self._lockable(backend)
            if blobs is None:
                continue
            try:
                await blobs.set_legal_hold(digest, on)
            except NotSupportedError:
                self._unsupported.add(backend)

    @staticmethod
    def failed(what: str, error: ProviderError) -> ProviderError:
        """The error to raise when the catalog changed but the bucket's lock did not."""
        logger.warning("object lock: %s: %s", what, error.message)
        return ProviderError(f"{what}, but locking its bytes in the bucket failed: {error.message}")
