"""``storage verify`` (seed 001): re-read stored blobs, recompute their sha256, record a
``v1.storage.location_verified`` event per location, and mark those whose bytes are corrupt or
gone as failed. A failed blob is quarantined (its reads answer IntegrityError) and ``/health``
is degraded until a later verification finds its bytes intact again (after a restore)."""

from __future__ import annotations

from typing import Any

from satchel.blobs.base import rehash
from satchel.core.errors import (
    AccessDeniedError,
    BlobNotFoundError,
    InvalidRequestError,
    ProviderError,
    ProviderUnavailableError,
)
from satchel.core.events import Audience
from satchel.store.context import StoreContext
from satchel.store.gate import AccessGate

__all__ = ["StorageVerifier"]

_PAGE = 500
_LISTED = 1000
MAX_SAMPLE = 1_000_000


class StorageVerifier:
    def __init__(self, context: StoreContext, gate: AccessGate) -> None:
        self.context = context
        self.gate = gate

    def _backends(self, backend: str | None) -> list[str]:
        known = list(self.context.routing.backends)
        if backend is None:
            return known
        if backend not in known:
            raise InvalidRequestError(
                f"unknown backend {backend!r}: this store has {', '.join(known)}"
            )
        return [backend]

    async def verify_storage(
        self,
        backend: str | None = None,
        *,
        sample: int | None = None,
        user_id: str | None = None,
    ) -> dict[str, Any]:
        if sample is not None and (
            isinstance(sample, bool) or not isinstance(sample, int) or not 1 <= sample <= MAX_SAMPLE
        ):
            raise InvalidRequestError(f"sample must be from 1 to {MAX_SAMPLE}")
        caller = await self.gate.caller(user_id, None)
        if not caller.trusted:
            raise AccessDeniedError("only admins verify storage")
        backends = self._backends(backend)
        context = self.context
        report: dict[str, Any] = {
            "backends": backends,
            "checked": 0,
            "intact": 0,
            "failed": 0,
            "unreachable": 0,
            "restored": 0,
            "failures": [],
        }
        if sample is not None:
            async with context.catalog.read() as reader:
                picked = await reader.blob_checks.sample(backends, sample)
            await self._verify(picked, report)
        else:
            after: tuple[str, str] | None = None
            while True:
                async with context.catalog.read() as reader:
                    batch = await reader.blob_checks.page(backends, after, _PAGE)
                await self._verify(batch, report)
                if len(batch) < _PAGE:
                    break
                after = batch[-1][0], batch[-1][1]
        context.quarantine.forget()
        return report

    async def _verify(self, batch: list[tuple[str, str, int]], report: dict[str, Any]) -> None:
        context = self.context
        before = await context.quarantine.failed()
        for backend, digest, size in batch:
            try:
                failure = await self._hash(backend, digest, size)
            except ProviderUnavailableError:  # cannot tell now: neither intact nor failed
                report["unreachable"] += 1
                continue
            now = context.now()
            async with context.catalog.write() as writer:
                await writer.blob_checks.record(backend, digest, now, failure)
                await writer.append_event(
                    type="v1.storage.location_verified",
                    subject=digest,
                    payload={"backend": backend, "ok": failure is None, "failure": failure},
                    actor=None,
                    time=now,
                    audience=Audience.admins(context.sandbox_id),
                )
            report["checked"] += 1
            if failure is None:
                report["intact"] += 1
                report["restored"] += (backend, digest) in before
                continue
            report["failed"] += 1
            if len(report["failures"]) < _LISTED:
                report["failures"].append(
                    {"backend": backend, "digest": digest, "failure": failure}
                )

    async def _hash(self, backend: str, digest: str, size: int) -> str | None:
        """Why the bytes of *digest* in *backend* fail (None: they hash to it, at *size*)."""
        try:
            found = await rehash(self.context.blob_backend(backend), digest)
        except BlobNotFoundError:
            return "missing"
        except ProviderUnavailableError:
            raise
        except ProviderError as error:
            return f"unreadable: {error.message}"
        if found.size != size:
            return f"size {found.size} where {size} was stored"
        if found.digest != digest:
            return f"corrupt: the bytes hash to {found.digest}"
        return None
