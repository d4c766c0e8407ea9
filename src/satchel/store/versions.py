"""New versions of an existing artifact: validated changes, written with compare-and-swap.

Every change of an artifact (new content, metadata, TTL, a rename) is one new version (a new
etag) written by :meth:`Versions.apply`, which retries a lost race unless the caller made the
change conditional with ``if_match``.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from satchel.catalog.rows import artifact_values
from satchel.core.access import Caller
from satchel.core.digests import make_etag
from satchel.core.errors import InvalidRequestError, PreconditionFailedError
from satchel.core.events import Audience
from satchel.core.models import ArtifactRecord, BlobInfo
from satchel.core.unset import UNSET
from satchel.core.validation import (
    check_expiry,
    check_filename,
    check_id,
    check_meta,
    check_mime,
    check_summary,
    check_ttl,
)
from satchel.store.context import StoreContext
from satchel.store.gate import AccessGate
from satchel.store.ledger import BlobLedger

__all__ = ["Versions"]

_MAX_CAS_ATTEMPTS = 20


class Versions:
    def __init__(self, context: StoreContext, gate: AccessGate, ledger: BlobLedger) -> None:
        self.context = context
        self.gate = gate
        self.ledger = ledger

    def changes(self, **fields: Any) -> dict[str, Any]:
        """The validated changes among ``meta``, ``filename``, ``summary``, ``mime`` (None: no
        change) and ``ttl`` (UNSET: no change; None: never expires)."""
        changes: dict[str, Any] = {}
        if fields["meta"] is not None:
            limit = self.context.settings.max_meta_bytes
            changes["meta"] = check_meta(fields["meta"], max_bytes=limit)
        if fields["filename"] is not None:
            changes["filename"] = check_filename(fields["filename"])
        if fields["summary"] is not None:
            changes["summary"] = check_summary(fields["summary"])
        if fields["mime"] is not None:
            changes["mime"] = check_mime(fields["mime"])
        if fields["ttl"] is not UNSET:
            changes["ttl"] = check_ttl(fields["ttl"])
        return changes

    def route_update(self, current: ArtifactRecord, changes: dict[str, Any]) -> str:
        """Where new content of *current* goes: routed like the version it is about to become
        (``meta`` given with new content replaces the old)."""
        meta = changes.get("meta", current.meta)
        return self.ledger.route(
            meta, current.owner_id, current.session_id, current.retention_class
        )

    async def apply(
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
        context = self.context
        backend = backend or context.default_backend
        check_id("artifact_id", artifact_id)
        conditional = if_match is not None and if_match.strip() != "*"
        for _ in range(_MAX_CAS_ATTEMPTS):
            now = context.now()
            async with context.catalog.write() as writer:
                current = await self.gate.load_for_update(writer, artifact_id, caller, if_match)
                if blob is not None or "filename" in changes:  # the bytes or the name go
                    what = "replacement" if blob is not None else "rename"
                    await self.gate.guard_removal(writer, current, what=what)
                updated = _next_version(
                    current, changes, merge=merge, blob=blob, backend=backend, now=now
                )
                if merge and "meta" in changes:  # the merged document must respect the bound too
                    check_meta(updated.meta, max_bytes=context.settings.max_meta_bytes)
                if not await writer.replace_artifact(updated, current.version):
                    if conditional:
                        raise PreconditionFailedError(f"artifact {artifact_id} changed meanwhile")
                    continue
                if blob is not None:
                    await self.ledger.reference(writer, blob, now, backend)
                    if (current.sha256, current.storage_provider) != (blob.digest, backend):
                        await self.ledger.release(
                            writer, current.sha256, now, current.storage_provider
                        )
                await writer.append_event(
                    type=event_type,
                    subject=artifact_id,
                    payload={"record": artifact_values(updated), "changes": sorted(changes)},
                    actor=caller.user_id,
                    time=now,
                    audience=Audience.of(updated),
                )
            if blob is not None:
                await self.ledger.collect_if_eager()
            return updated
        raise PreconditionFailedError(f"artifact {artifact_id} is changing too fast; retry")


def _keep_retention_class(
    current: ArtifactRecord, asked: dict[str, Any], meta: dict[str, Any]
) -> dict[str, Any]:
    """The new *meta* with the retention class the artifact was created with: the reserved
    key is set at creation only (``set_retention`` moves an artifact's retention)."""
    if "retention_class" in asked and asked["retention_class"] != current.retention_class:
        raise InvalidRequestError(
            "meta.retention_class is set when an artifact is created "
            f"(it is {current.retention_class!r}); use set_retention to change its retention"
        )
    if current.retention_class is None:
        return meta
    return {**meta, "retention_class": current.retention_class}


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
    if "meta" in changes:
        values["meta"] = _keep_retention_class(current, changes["meta"], values["meta"])
    if "ttl" in changes:
        values["ttl"] = changes["ttl"]
        values["expires_at"] = None if changes["ttl"] is None else now + changes["ttl"]
    if "extend" in changes and current.expires_at is not None:
        values["expires_at"] = check_expiry(current.expires_at + changes["extend"], now)
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
