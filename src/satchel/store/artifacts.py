"""Artifact operations of seed 000: store, retrieve, read, update, metadata, exists, delete."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterable
from typing import Any

from satchel.blobs.base import iter_bytes
from satchel.catalog.rows import artifact_values
from satchel.core.access import Caller
from satchel.core.digests import make_etag
from satchel.core.errors import (
    ArtifactExpiredError,
    ArtifactNotFoundError,
    InvalidRequestError,
    PreconditionFailedError,
)
from satchel.core.models import ArtifactMetadata, ArtifactRecord, BlobInfo
from satchel.core.scopes import Scope
from satchel.core.validation import (
    check_data,
    check_filename,
    check_id,
    check_meta,
    check_mime,
    check_summary,
    check_ttl,
    decode_text,
)
from satchel.store.base import UNSET
from satchel.store.creating import CreatingMixin

__all__ = ["ArtifactsMixin"]

_MAX_CAS_ATTEMPTS = 20


class ArtifactsMixin(CreatingMixin):
    async def store(
        self,
        data: bytes,
        *,
        mime: str,
        summary: str = "",
        meta: dict[str, Any] | None = None,
        filename: str | None = None,
        session_id: str | None = None,
        user_id: str | None = None,
        ttl: int | None = UNSET,
        scope: Scope | str = Scope.SESSION,
    ) -> str:
        """Store *data* as a new artifact and return its id.

        Args:
            data: the content (non-empty bytes).
            mime: its media type. summary, meta, filename: descriptive metadata.
            session_id: the session to store into (created if new); user_id: the acting user,
                owner of user-scoped artifacts and of auto-created sessions.
            ttl: seconds to live; left out, session scope gets the default (900 s) and user and
                sandbox scopes never expire; ``None`` means no expiry.
            scope: ``session`` (default), ``user`` or ``sandbox`` (admin/application only).

        Raises:
            InvalidRequestError, TooLargeError, AccessDeniedError, ProviderError.
        """
        await self._ensure_open()
        payload = check_data(data, max_bytes=self.settings.max_upload_bytes)
        spec = self._new_artifact(
            mime=mime,
            summary=summary,
            meta=meta,
            filename=filename,
            ttl=ttl,
            scope=scope,
            user_id=user_id,
            session_id=session_id,
        )
        record = await self._create(spec, iter_bytes(payload))
        return record.artifact_id

    async def retrieve(
        self, artifact_id: str, *, user_id: str | None = None, session_id: str | None = None
    ) -> bytes:
        """Return the whole content of an artifact the caller may read.

        Raises:
            ArtifactNotFoundError, ArtifactExpiredError, AccessDeniedError, ProviderError.
        """
        record = await self._load(artifact_id, await self._caller(user_id, session_id))
        parts = [chunk async for chunk in self.blobs_for(record).open_range(record.sha256)]
        return b"".join(parts)

    async def read_file(
        self,
        artifact_id: str,
        *,
        encoding: str = "utf-8",
        as_text: bool = False,
        user_id: str | None = None,
        session_id: str | None = None,
    ) -> str | bytes:
        """Return an artifact's content as bytes, or decoded text with ``as_text=True``."""
        data = await self.retrieve(artifact_id, user_id=user_id, session_id=session_id)
        return decode_text(data, encoding, artifact_id) if as_text else data

    async def metadata(
        self, artifact_id: str, *, user_id: str | None = None, session_id: str | None = None
    ) -> ArtifactMetadata:
        """Return an artifact's metadata (size, sha256, etag, grid key, …)."""
        record = await self._load(artifact_id, await self._caller(user_id, session_id))
        return self._to_metadata(record)

    async def exists(
        self, artifact_id: str, *, user_id: str | None = None, session_id: str | None = None
    ) -> bool:
        """True when the artifact exists and has not expired (AccessDeniedError if not yours)."""
        try:
            await self._load(artifact_id, await self._caller(user_id, session_id))
        except (ArtifactNotFoundError, ArtifactExpiredError):
            return False
        return True

    async def update_file(
        self,
        artifact_id: str,
        *,
        data: bytes | None = None,
        meta: dict[str, Any] | None = None,
        filename: str | None = None,
        summary: str | None = None,
        mime: str | None = None,
        ttl: int | None = UNSET,
        user_id: str | None = None,
        session_id: str | None = None,
        if_match: str | None = None,
    ) -> ArtifactMetadata:
        """Replace an artifact's content and/or metadata; a new version (and etag) results.

        ``meta`` replaces the custom metadata (use update_metadata to merge). With ``if_match``,
        a stale etag raises PreconditionFailedError and changes nothing.
        """
        changes = self._changes(meta=meta, filename=filename, summary=summary, mime=mime, ttl=ttl)
        if data is None and not changes:
            raise InvalidRequestError("update_file needs data or at least one field to change")
        caller = await self._caller(user_id, session_id)
        info: BlobInfo | None = None
        backend: str | None = None
        if data is not None:
            payload = check_data(data, max_bytes=self.settings.max_upload_bytes)
            current = await self._load(artifact_id, caller, write=True)  # fail fast, then route
            backend = self._route_update(current, changes)
            info = await self._put_blob(iter_bytes(payload), backend=backend)
        return await self._replace(artifact_id, caller, if_match, changes, info, backend)

    async def update_file_stream(
        self,
        artifact_id: str,
        chunks: AsyncIterable[bytes],
        *,
        meta: dict[str, Any] | None = None,
        filename: str | None = None,
        summary: str | None = None,
        mime: str | None = None,
        ttl: int | None = UNSET,
        user_id: str | None = None,
        session_id: str | None = None,
        if_match: str | None = None,
    ) -> ArtifactMetadata:
        """Replace an artifact's content from an async byte stream, in constant memory.

        Like :meth:`update_file` with ``data`` (plus any metadata fields, changed in the same
        version); an empty stream is refused and nothing changes.
        """
        changes = self._changes(meta=meta, filename=filename, summary=summary, mime=mime, ttl=ttl)
        caller = await self._caller(user_id, session_id)
        current = await self._load(artifact_id, caller, write=True)  # fail fast, then route
        backend = self._route_update(current, changes)
        info = await self._put_blob(chunks, backend=backend)
        if info.size == 0:
            await self._discard(info, backend)
            raise InvalidRequestError("the new content is empty")
        return await self._replace(artifact_id, caller, if_match, changes, info, backend)

    async def _replace(
        self,
        artifact_id: str,
        caller: Caller,
        if_match: str | None,
        changes: dict[str, Any],
        info: BlobInfo | None,
        backend: str | None,
    ) -> ArtifactMetadata:
        """Apply an update that may bring new content (*info*, stored on *backend*); if the
        update fails (e.g. a stale *if_match*) the new bytes must not linger untracked."""
        try:
            record = await self._apply(
                artifact_id,
                caller,
                if_match,
                "artifact.updated",
                changes,
                merge=False,
                blob=info,
                backend=backend,
            )
        except BaseException:
            if info is not None:
                await self._discard(info, backend)
            raise
        return self._to_metadata(record)

    async def update_metadata(
        self,
        artifact_id: str,
        *,
        summary: str | None = None,
        meta: dict[str, Any] | None = None,
        merge: bool = True,
        filename: str | None = None,
        mime: str | None = None,
        ttl: int | None = UNSET,
        user_id: str | None = None,
        session_id: str | None = None,
        if_match: str | None = None,
        **unknown: Any,
    ) -> ArtifactMetadata:
        """Change metadata without touching content; ``merge=True`` merges ``meta`` key by key.

        Concurrent merges never lose an update; ``if_match`` makes the change conditional.
        """
        if unknown:
            raise InvalidRequestError(f"unknown metadata fields: {', '.join(sorted(unknown))}")
        changes = self._changes(meta=meta, filename=filename, summary=summary, mime=mime, ttl=ttl)
        if not changes:
            raise InvalidRequestError("update_metadata needs at least one field to change")
        caller = await self._caller(user_id, session_id)
        record = await self._apply(
            artifact_id, caller, if_match, "artifact.metadata_updated", changes, merge=merge
        )
        return self._to_metadata(record)

    async def extend_ttl(
        self,
        artifact_id: str,
        additional_seconds: int,
        *,
        user_id: str | None = None,
        session_id: str | None = None,
    ) -> ArtifactMetadata:
        """Push an expiring artifact's expiry *additional_seconds* further out."""
        extra = check_ttl(additional_seconds)
        caller = await self._caller(user_id, session_id)
        current = await self._load(artifact_id, caller, write=True)
        if current.expires_at is None:
            return self._to_metadata(current)  # never expires: nothing to extend
        record = await self._apply(
            artifact_id, caller, None, "artifact.ttl_extended", {"extend": extra}, merge=False
        )
        return self._to_metadata(record)

    async def delete(
        self,
        artifact_id: str,
        *,
        user_id: str | None = None,
        session_id: str | None = None,
        if_match: str | None = None,
    ) -> bool:
        """Delete an artifact the caller may write; its bytes are reclaimed when unreferenced."""
        caller = await self._caller(user_id, session_id)
        check_id("artifact_id", artifact_id)
        now = self._now()
        async with self.catalog.write() as writer:
            record = await self._load_for_update(
                writer, artifact_id, caller, if_match, allow_expired=True
            )
            await writer.delete_artifact(artifact_id)
            await self._release(writer, record.sha256, now, record.storage_provider)
            await writer.append_event(
                type="artifact.deleted",
                subject=artifact_id,
                payload={"sha256": record.sha256},
                actor=caller.user_id,
                time=now,
            )
        if self.settings.gc_grace_seconds == 0:
            await self._collect_blob_garbage()
        return True

    # -- helpers -----------------------------------------------------------------------------

    def _route_update(self, current: ArtifactRecord, changes: dict[str, Any]) -> str:
        """Where new content of *current* goes: routed like the version it is about to become
        (``meta`` given with new content replaces the old)."""
        meta = changes.get("meta", current.meta)
        return self._route(meta, current.owner_id, current.session_id, current.retention_class)

    def _changes(self, **fields: Any) -> dict[str, Any]:
        changes: dict[str, Any] = {}
        if fields["meta"] is not None:
            changes["meta"] = check_meta(fields["meta"], max_bytes=self.settings.max_meta_bytes)
        if fields["filename"] is not None:
            changes["filename"] = check_filename(fields["filename"])
        if fields["summary"] is not None:
            changes["summary"] = check_summary(fields["summary"])
        if fields["mime"] is not None:
            changes["mime"] = check_mime(fields["mime"])
        if fields["ttl"] is not UNSET:
            changes["ttl"] = check_ttl(fields["ttl"])
        return changes

    async def _apply(
        self,
        artifact_id: str,
        caller: Caller,
        if_match: str | None,
        event_type: str,
        changes: dict[str, Any],
        *,
        merge: bool,
        blob: BlobInfo | None = None,
        backend: str | None = None,
    ) -> ArtifactRecord:
        """Write a new version of an artifact with compare-and-swap, retrying lost races.

        With ``if_match`` a lost race is a precondition failure (the etag moved on). New
        content (*blob*) is stored in *backend* (None: the default backend).
        """
        backend = backend or self.storage_provider
        check_id("artifact_id", artifact_id)
        for _ in range(_MAX_CAS_ATTEMPTS):
            now = self._now()
            async with self.catalog.write() as writer:
                current = await self._load_for_update(writer, artifact_id, caller, if_match)
                updated = _next_version(
                    current, changes, merge=merge, blob=blob, backend=backend, now=now
                )
                if merge and "meta" in changes:  # the merged document must respect the bound too
                    check_meta(updated.meta, max_bytes=self.settings.max_meta_bytes)
                if not await writer.replace_artifact(updated, current.version):
                    if if_match is not None:
                        raise PreconditionFailedError(f"artifact {artifact_id} changed meanwhile")
                    continue
                if blob is not None:
                    await self._reference(writer, blob, now, backend)
                    if (current.sha256, current.storage_provider) != (blob.digest, backend):
                        await self._release(writer, current.sha256, now, current.storage_provider)
                await writer.append_event(
                    type=event_type,
                    subject=artifact_id,
                    payload={"record": artifact_values(updated), "changes": sorted(changes)},
                    actor=caller.user_id,
                    time=now,
                )
            if blob is not None and self.settings.gc_grace_seconds == 0:
                await self._collect_blob_garbage()
            return updated
        raise PreconditionFailedError(f"artifact {artifact_id} is changing too fast; retry")


def _next_version(
    current: ArtifactRecord,
    changes: dict[str, Any],
    *,
    merge: bool,
    blob: BlobInfo | None,
    backend: str,
    now: float,
) -> ArtifactRecord:
    values: dict[str, Any] = {k: v for k, v in changes.items() if k not in ("ttl", "extend")}
    if "meta" in changes and merge:
        values["meta"] = {**current.meta, **changes["meta"]}
    if "ttl" in changes:
        values["ttl"] = changes["ttl"]
        values["expires_at"] = None if changes["ttl"] is None else now + changes["ttl"]
    if "extend" in changes and current.expires_at is not None:
        values["expires_at"] = current.expires_at + changes["extend"]
    if blob is not None:
        values["sha256"] = blob.digest
        values["bytes"] = blob.size
        values["storage_provider"] = backend
    version = current.version + 1
    digest = values.get("sha256", current.sha256)
    values.update(
        version=version, updated_at=now, etag=make_etag(current.artifact_id, version, digest)
    )
    return dataclasses.replace(current, **values)
