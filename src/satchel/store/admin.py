"""Administration: configuration checks, health, statistics, expiry purge, garbage collection."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from satchel._version import __version__
from satchel.catalog.rows import artifact_values
from satchel.core.events import Audience
from satchel.store.context import StoreContext
from satchel.store.ledger import BlobLedger
from satchel.store.uploads import Uploads

__all__ = ["AdminService"]

_PURGE_BATCH = 500


async def _guarded(check: Callable[[], Awaitable[dict[str, Any]]]) -> dict[str, Any]:
    try:
        return await check()
    except Exception as exc:
        return {"status": "error", "error": str(exc)}


class AdminService:
    def __init__(self, context: StoreContext, ledger: BlobLedger, uploads: Uploads) -> None:
        self.context = context
        self.ledger = ledger
        self.uploads = uploads

    async def validate_configuration(self) -> dict[str, Any]:
        """With several storage backends configured, ``storage`` is the default backend's check
        plus ``backends`` (each backend's check); its status is ``error`` when any fails."""
        context = self.context
        await context.ensure_open()
        storage = await _guarded(context.blob_backend().check)
        if len(context.routing.backends) > 1:
            checks = {name: await _guarded(blobs.check) for name, blobs in context.backends.items()}
            storage["backends"] = checks
            if any(check.get("status") != "ok" for check in checks.values()):
                storage["status"] = "error"
        return {
            "storage": {**storage, "provider": context.default_backend},
            "session": await _guarded(context.sessions.check),
            "catalog": await _guarded(context.catalog.check),
            "disk": await asyncio.to_thread(context.space.check),
            "integrity": await _guarded(self._integrity),
        }

    async def _integrity(self) -> dict[str, Any]:
        """Blobs the last storage verification found corrupt or missing (quarantined)."""
        failed = len(await self.context.quarantine.failed())
        return {"status": "failed" if failed else "ok", "failed_blobs": failed}

    async def health(self) -> dict[str, Any]:
        checks = await self.validate_configuration()
        down = [name for name, check in checks.items() if check.get("status") != "ok"]
        return {
            "status": "degraded" if down else "ok",
            "version": __version__,
            "sandbox_id": self.context.sandbox_id,
            "checks": checks,
        }

    async def get_stats(self) -> dict[str, Any]:
        context = self.context
        await context.ensure_open()
        async with context.catalog.read() as reader:
            counts = await reader.stats(context.sandbox_id)
        return {
            "storage_provider": context.default_backend,
            "storage_backends": list(context.routing.backends),
            "session_provider": context.settings.session_provider,
            "bucket": context.settings.bucket,
            "sandbox_id": context.sandbox_id,
            **counts,
        }

    async def purge_expired(self) -> dict[str, int]:
        context = self.context
        await context.ensure_open()
        purged = sessions = 0
        while True:
            now = context.now()
            async with context.catalog.write() as writer:
                batch = await writer.expired_artifacts(context.sandbox_id, now, _PURGE_BATCH)
                for record in batch:  # claimed rows: another replica's purge skips them
                    if not await writer.delete_artifact(record.artifact_id, record.version):
                        continue
                    purged += 1
                    await self.ledger.release(writer, record.sha256, now, record.storage_provider)
                    await writer.append_event(
                        type="v1.artifact.expired",
                        subject=record.artifact_id,
                        payload={"record": artifact_values(record)},
                        actor=None,
                        time=now,
                        audience=Audience.of(record),
                    )
            if len(batch) < _PURGE_BATCH:
                break
        async with context.catalog.write() as writer:
            now = context.now()
            for session_id in await writer.expired_sessions(context.sandbox_id, now, 10_000):
                await writer.delete_session(session_id)
                await writer.append_event(
                    type="v1.session.expired",
                    subject=session_id,
                    payload={},
                    actor=None,
                    time=now,
                    audience=Audience.admins(context.sandbox_id),
                )
                await context.sessions.delete(session_id)
                sessions += 1
        uploads = await self.uploads.purge_expired()
        blobs, freed = await self.ledger.collect_all()
        await asyncio.to_thread(context.space.restore)
        return {
            "artifacts": purged,
            "sessions": sessions,
            "uploads": uploads,
            "blobs": blobs,
            "bytes_freed": freed,
        }

    async def collect_garbage(self) -> tuple[int, int]:
        return await self.ledger.collect_all()
