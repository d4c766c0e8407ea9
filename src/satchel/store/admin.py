"""Administration: configuration checks, statistics, expiry purge, garbage collection,
sessions and grid-key helpers."""

from __future__ import annotations

from typing import Any

from satchel.catalog.rows import artifact_values
from satchel.core.access import Caller
from satchel.core.errors import InvalidRequestError
from satchel.core.grid import build_grid_key, parse_grid_key
from satchel.core.models import GridKeyComponents
from satchel.core.scopes import Scope, iso_utc
from satchel.core.validation import check_id, check_optional_id
from satchel.store.uploads import UploadsMixin

__all__ = ["AdminMixin"]

_PURGE_BATCH = 500


class AdminMixin(UploadsMixin):
    async def validate_configuration(self) -> dict[str, Any]:
        """Check that the catalog, blob backend and session provider answer.

        Returns ``{"storage": {...}, "session": {...}, "catalog": {...}}`` with a ``status`` of
        ``ok`` or ``error`` in each. With several storage backends configured, ``storage`` is
        the default backend's check plus ``backends`` (each backend's check); its status is
        ``error`` when any backend fails.
        """
        await self._ensure_open()
        storage = await _guarded(self.blobs.check)
        if len(self.routing.backends) > 1:
            checks = {
                name: await _guarded(blobs.check) for name, blobs in self.blob_backends.items()
            }
            storage["backends"] = checks
            if any(check.get("status") != "ok" for check in checks.values()):
                storage["status"] = "error"
        return {
            "storage": {**storage, "provider": self.storage_provider},
            "session": await _guarded(self.sessions.check),
            "catalog": await _guarded(self.catalog.check),
        }

    async def get_stats(self) -> dict[str, Any]:
        """Counts and sizes: artifacts, logical and stored bytes, sessions, providers."""
        await self._ensure_open()
        async with self.catalog.read() as reader:
            counts = await reader.stats(self.sandbox_id)
        return {
            "storage_provider": self.storage_provider,
            "storage_backends": list(self.routing.backends),
            "session_provider": self.session_provider_name,
            "bucket": self.bucket,
            "sandbox_id": self.sandbox_id,
            **counts,
        }

    async def purge_expired(self) -> dict[str, int]:
        """Delete expired artifacts, idle expired sessions and expired uploads; reclaim bytes."""
        await self._ensure_open()
        purged = sessions = 0
        while True:
            now = self._now()
            async with self.catalog.write() as writer:
                batch = await writer.expired_artifacts(self.sandbox_id, now, _PURGE_BATCH)
                for record in batch:  # claimed rows: another replica's purge skips them
                    if not await writer.delete_artifact(record.artifact_id, record.version):
                        continue
                    purged += 1
                    await self._release(writer, record.sha256, now, record.storage_provider)
                    await writer.append_event(
                        type="artifact.expired",
                        subject=record.artifact_id,
                        payload={"record": artifact_values(record)},
                        actor=None,
                        time=now,
                    )
            if len(batch) < _PURGE_BATCH:
                break
        async with self.catalog.write() as writer:
            for session_id in await writer.expired_sessions(self.sandbox_id, self._now(), 10_000):
                await writer.delete_session(session_id)
                await writer.append_event(
                    type="session.expired", subject=session_id, payload={}, actor=None, time=now
                )
                await self.sessions.delete(session_id)
                sessions += 1
        uploads = await self.purge_expired_uploads()
        blobs, freed = await self.collect_garbage()
        return {
            "artifacts": purged,
            "sessions": sessions,
            "uploads": uploads,
            "blobs": blobs,
            "bytes_freed": freed,
        }

    async def cleanup_expired_sessions(self) -> int:
        """Purge expired artifacts and sessions (see :meth:`purge_expired`); return how many."""
        result = await self.purge_expired()
        return result["artifacts"] + result["sessions"]

    async def collect_garbage(self) -> tuple[int, int]:
        """Delete blobs no artifact refers to; return (blobs removed, bytes freed)."""
        await self._ensure_open()
        total_blobs = total_bytes = 0
        while True:
            removed, freed = await self._collect_blob_garbage()
            total_blobs += removed
            total_bytes += freed
            if removed == 0:
                return total_blobs, total_bytes

    # -- sessions ----------------------------------------------------------------------------

    async def create_session(
        self, user_id: str | None = None, ttl_hours: float | None = None
    ) -> str:
        """Create a session owned by *user_id* and return its id."""
        check_optional_id("user_id", user_id)
        if ttl_hours is not None and (isinstance(ttl_hours, bool) or not ttl_hours > 0):
            raise InvalidRequestError("ttl_hours must be a positive number")
        await self._ensure_open()
        record = await self._allocate_session(Caller(user_id=user_id), None, ttl_hours=ttl_hours)
        return record.session_id

    async def validate_session(self, session_id: str) -> bool:
        """True when the session exists and has not expired."""
        check_id("session_id", session_id)
        await self._ensure_open()
        record = await self._session_record(session_id)
        return record is not None and not record.is_expired(self._now())

    async def get_session_info(self, session_id: str) -> dict[str, Any] | None:
        """The session's owner, sandbox and times, or None."""
        check_id("session_id", session_id)
        await self._ensure_open()
        record = await self._session_record(session_id)
        if record is None:
            return None
        return {
            "session_id": record.session_id,
            "sandbox_id": record.sandbox_id,
            "user_id": record.user_id,
            "created_at": iso_utc(record.created_at),
            "expires_at": iso_utc(record.expires_at),
        }

    # -- grid --------------------------------------------------------------------------------

    def parse_grid_key(self, grid_key: str) -> GridKeyComponents | None:
        """Split a grid key into sandbox, scope, session/user and artifact id (None if not one)."""
        return parse_grid_key(grid_key)

    def get_canonical_prefix(self, session_id: str) -> str:
        """The grid prefix of a session's artifacts."""
        return f"grid/{self.sandbox_id}/sessions/{check_id('session_id', session_id)}/"

    def generate_artifact_key(self, session_id: str, artifact_id: str) -> str:
        """The grid key a session-scoped artifact gets."""
        return build_grid_key(
            sandbox_id=self.sandbox_id,
            scope=Scope.SESSION,
            session_id=check_id("session_id", session_id),
            owner_id=None,
            artifact_id=check_id("artifact_id", artifact_id),
        )


async def _guarded(check: Any) -> dict[str, Any]:
    try:
        result: dict[str, Any] = await check()
    except Exception as exc:
        return {"status": "error", "error": str(exc)}
    return result
