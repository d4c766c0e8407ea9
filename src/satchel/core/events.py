"""The event log's vocabulary: versioned event types, who may see an event, and the feed's page.

Every state change writes one event in the same transaction as the change. An event names its
type (a stable, versioned name: ``v1.artifact.stored``), its subject (the id of what changed),
the acting user, a JSON payload, and its *audience*: the scope and owner of what it is about,
so the feed shows each principal only events about what it may read. docs/events.md documents
every type and its payload; a test keeps that table and :data:`EVENT_TYPES` the same.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from satchel.core.access import Caller
from satchel.core.errors import InvalidRequestError

__all__ = [
    "EVENT_TYPES",
    "MAX_SEQ",
    "MAX_WAIT_SECONDS",
    "Audience",
    "EventPage",
    "check_event_types",
]

MAX_WAIT_SECONDS = 30.0
"""The longest a long-poll waits for an event."""

MAX_SEQ = 2**63 - 1
"""The largest sequence number (64-bit on every catalog)."""

EVENT_TYPES: dict[str, str] = {
    # artifacts
    "v1.artifact.stored": "An artifact was stored (by any upload path). Payload: record.",
    "v1.artifact.copied": "An artifact was stored as a copy. Payload: record, copied_from.",
    "v1.artifact.updated": "An artifact's content or fields were replaced. Payload: record, "
    "changes.",
    "v1.artifact.metadata_updated": "An artifact's metadata changed. Payload: record, changes.",
    "v1.artifact.moved": "An artifact was renamed or moved. Payload: record, changes.",
    "v1.artifact.policy_changed": "An artifact was made public or private. Payload: record, "
    "changes.",
    "v1.artifact.collections_changed": "An artifact joined or left a collection. Payload: "
    "collection, joined (true or false).",
    "v1.artifact.ttl_extended": "An artifact's expiry moved later. Payload: record, changes.",
    "v1.artifact.deleted": "An artifact was deleted. Payload: sha256 (and reason, when the "
    "pull-through cache let its copy go: replacement or eviction).",
    "v1.artifact.expired": "An artifact's TTL ran out and it was purged. Payload: record.",
    # sessions
    "v1.session.created": "A session was created. Payload: user_id, expires_at.",
    "v1.session.expired": "A session expired and was removed. Payload: (empty).",
    # uploads
    "v1.upload.started": "A multipart, tus or presigned upload began. Payload: kind, artifact_id.",
    "v1.upload.received": "A presigned upload's body arrived. Payload: state, offset.",
    "v1.upload.aborted": "A multipart upload was aborted. Payload: state, offset.",
    "v1.upload.terminated": "A tus upload was terminated. Payload: state, offset.",
    "v1.upload.expired": "An unfinished upload expired. Payload: state, offset.",
    "v1.upload.progressed": "An upload moved on: a part or a tus chunk was received, a PATCH "
    "began or ended, its backend upload was attached. Payload: state, offset.",
    # blobs
    "v1.blob.collected": "Unreferenced bytes were deleted from a backend. Payload: bytes, backend.",
    "v1.blob.mended": "The storage check repaired the ledger row of a blob (satchel storage "
    "check --repair). Payload: backend, repair (referenced, orphaned or forgotten).",
    "v1.blob.orphaned": "Bytes stored for a write that then failed were handed to garbage "
    "collection. Payload: bytes, backend.",
    # packages
    "v1.package.created": "A package was created (open). Payload: name, version, producer, "
    "subject, retention_class, schema, sandbox_id, actor_label, metadata.",
    "v1.package.file_added": "A file was ingested into an open package. Payload: "
    "relative_path, size, media_type, sha256, blake3, actor_label.",
    "v1.package.finalized": "A package was finalized and its manifest written. Payload: "
    "manifest_address, files, bytes, retention_class, mode, retain_until, actor_label.",
    "v1.package.eligible": "A sweep found a package past its retention. Payload: rule.",
    "v1.package.retained": "A sweep or gc found a package not eligible for deletion, now or "
    "for a new reason (a hold, an extension). Payload: rule.",
    "v1.package.deleted": "A package and its files were deleted. Payload: files, bytes, and "
    "why (reason or swept).",
    # retention and holds
    "v1.retention.extended": "Retention moved later. Payload: kind, from, to, mode, "
    "bypass_governance, reason.",
    "v1.retention.shortened": "Governance retention moved earlier. Payload: as extended.",
    "v1.hold.applied": "A legal hold was applied. Payload: kind, hold_id, name, reason.",
    "v1.hold.released": "A legal hold was released. Payload: kind, hold_id, reason.",
    # schemas and keys
    "v1.schema.registered": "A metadata schema version was registered. Payload: slug, "
    "version, actor_label.",
    # agents
    "v1.mcp.tool_called": "An agent called an MCP tool (the subject is the first id it was "
    "about, else the tool's name). Payload: tool, outcome (ok or an error code), subjects, "
    "client, principal (the credential used).",
    "v1.api_key.created": "An API key was created. Payload: user_id, admin, name.",
    "v1.api_key.revoked": "An API key was revoked. Payload: (empty).",
    # storage verification
    "v1.storage.location_verified": "A stored blob was re-read and hashed (storage verify); "
    "the subject is its digest. Payload: backend, ok, failure (why it failed, or null).",
    # aspects (docs/aspects.md)
    "v1.aspect.added": "An aspect was added (or added by an update). Payload: aspect (its "
    "row: aspect_id, entity, entity_kind, schema, content, policy, link, …).",
    "v1.aspect.retracted": "An aspect was retracted (or replaced by an update). Payload: "
    "entity, schema, retracted_at.",
    # webhooks (docs/webhooks.md)
    "v1.webhook.created": "A webhook subscription was created. Payload: url, types, "
    "subject_prefix, description, active, max_attempts.",
    "v1.webhook.updated": "A webhook subscription changed. Payload: changes (a new secret shows "
    "as secret_replaced).",
    "v1.webhook.deleted": "A webhook subscription was deleted. Payload: url.",
    # the pull-through cache (docs/proxy.md); the subject is the entry's id
    "v1.proxy.fetched": "A remote's file was downloaded and cached (the artifact's own "
    "v1.artifact.stored comes with it). Payload: remote, path, artifact_id, sha256, bytes, url, "
    "replaced (the artifact of the copy it replaced, deleted with it, or null).",
    "v1.proxy.uploaded": "A file was uploaded to a local remote. Payload: as v1.proxy.fetched.",
    "v1.proxy.revalidated": "Upstream confirmed a cached copy is current (304): fresh again. "
    "Payload: remote, path, artifact_id, sha256, bytes.",
    "v1.proxy.missing": "Upstream answered 404: remembered for not_found_ttl; a copy cached "
    "before is let go, and remembered 404s that lapsed are forgotten. Payload: remote, path, "
    "replaced.",
    "v1.proxy.evicted": "A cached file was evicted (its artifact deleted). Payload: remote, "
    "path, artifact_id, reason (asked, or budget).",
    # the log itself (docs/events.md: replay)
    "v1.catalog.rows": "More rows changed by the transaction of the event before it (one event "
    "carries at most 500; the subject is that event's). Payload: of (its type), rows.",
    "v1.catalog.snapshot": "The views as they were when the log began carrying row images "
    "(migration 0010), in pages; the subject is a table. It belongs to no sandbox, so the feed "
    "serves it to nobody; replay applies it. Payload: table, rows.",
}
"""Every event type and what it means (its payload keys)."""


def check_event_types(value: object) -> tuple[str, ...]:
    """The event types a caller filters on: names of :data:`EVENT_TYPES`, or prefixes of them
    ending in ``.`` or ``*`` (``v1.package.`` or ``v1.package.*`` for every package event)."""
    if value is None:
        return ()
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, (list, tuple)):
        raise InvalidRequestError("types must be a list of event types")
    wanted: list[str] = []
    for item in items:
        if not isinstance(item, str):
            raise InvalidRequestError("event types are strings")
        for name in filter(None, (part.strip() for part in item.split(","))):
            prefix = name[:-1] if name.endswith("*") else name
            if name in EVENT_TYPES or (
                prefix.endswith(".") and any(t.startswith(prefix) for t in EVENT_TYPES)
            ):
                wanted.append(name)
                continue
            raise InvalidRequestError(
                f"unknown event type {name!r} (see docs/events.md; a prefix ends in '.' or '*')"
            )
    if len(wanted) > 50:
        raise InvalidRequestError("at most 50 event types per request")
    return tuple(wanted)


@dataclasses.dataclass(frozen=True, slots=True)
class Audience:
    """Who may see an event: those who may read what it is about.

    ``scope`` is an artifact's or package's scope (``session``, ``user``, ``sandbox``) or
    ``admin`` for events only the trusted application and admins see (keys, collected blobs).
    """

    sandbox_id: str
    scope: str
    owner_id: str | None = None
    session_id: str | None = None

    @classmethod
    def of(cls, record: Any) -> Audience:
        """The audience of an artifact, package or upload record (by its scope and owner)."""
        scope = getattr(record, "scope", None)
        return cls(
            sandbox_id=record.sandbox_id,
            scope=str(getattr(scope, "value", scope) or "admin"),
            owner_id=getattr(record, "owner_id", None),
            session_id=getattr(record, "session_id", None),
        )

    @classmethod
    def admins(cls, sandbox_id: str) -> Audience:
        return cls(sandbox_id=sandbox_id, scope="admin")

    @classmethod
    def everyone(cls, sandbox_id: str) -> Audience:
        return cls(sandbox_id=sandbox_id, scope="sandbox")

    def allows(self, caller: Caller) -> bool:
        """The rule the catalog's feed query applies in SQL (kept here for the tests)."""
        if caller.trusted or self.scope == "sandbox":
            return True
        if self.scope == "user":
            return caller.user_id is not None and caller.user_id == self.owner_id
        if self.scope != "session":
            return False
        if caller.session_id is not None and caller.session_id != self.session_id:
            return False
        if caller.user_id is not None:
            return self.owner_id == caller.user_id
        return caller.session_id is not None


@dataclasses.dataclass(frozen=True, slots=True)
class EventPage:
    """One page of the feed: the events, and the sequence to resume after (it moves past
    events the caller may not see, so a resumed read never rescans them)."""

    events: list[dict[str, Any]]
    next_after: int

    def to_dict(self) -> dict[str, Any]:
        return {"events": self.events, "next_after": self.next_after}
