"""Sharing: an artifact's read policy and collection membership (rules in
:mod:`satchel.core.policies`; who may read a public artifact in :mod:`satchel.core.access`)."""

from __future__ import annotations

from typing import Any

from satchel.catalog import Readable
from satchel.core.errors import InvalidRequestError
from satchel.core.events import Audience
from satchel.core.models import ArtifactMetadata
from satchel.core.policies import COLLECTION_URN, artifact_ref, check_collection, check_policy
from satchel.core.validation import check_id, check_limit
from satchel.store.context import StoreContext
from satchel.store.gate import AccessGate
from satchel.store.versions import Versions

__all__ = ["MAX_COLLECTION_BATCH", "SharingService"]

MAX_COLLECTION_BATCH = 1000
"""The most artifacts one call adds to or removes from a collection."""


def _artifact_ids(artifact_ids: object) -> list[str]:
    """The distinct artifact ids of a batch, in order (URNs accepted), checked."""
    if isinstance(artifact_ids, str) or not isinstance(artifact_ids, (list, tuple)):
        raise InvalidRequestError("artifact_ids must be a list of artifact ids")
    if not artifact_ids:
        raise InvalidRequestError("artifact_ids must not be empty")
    if len(artifact_ids) > MAX_COLLECTION_BATCH:
        raise InvalidRequestError(
            f"at most {MAX_COLLECTION_BATCH} artifacts per call, got {len(artifact_ids)}"
        )
    found: dict[str, None] = {}
    for value in artifact_ids:
        if not isinstance(value, str):
            raise InvalidRequestError("artifact_ids must be a list of artifact ids")
        found[check_id("artifact_id", artifact_ref(value))] = None
    return list(found)


class SharingService:
    def __init__(self, context: StoreContext, gate: AccessGate, versions: Versions) -> None:
        self.context = context
        self.gate = gate
        self.versions = versions

    async def set_policy(
        self,
        artifact_id: str,
        policy: str | None,
        *,
        user_id: str | None = None,
        session_id: str | None = None,
    ) -> ArtifactMetadata:
        wanted = check_policy(policy)
        caller = await self.gate.caller(user_id, session_id)
        record = await self.versions.apply(
            artifact_ref(artifact_id),
            caller,
            None,
            "v1.artifact.policy_changed",
            {"policy": wanted},
            merge=False,
        )
        return self.context.to_metadata(record)

    async def add_to_collection(
        self,
        collection: str,
        artifact_ids: list[str],
        *,
        user_id: str | None = None,
        session_id: str | None = None,
    ) -> int:
        return await self._change(collection, artifact_ids, user_id, session_id, join=True)

    async def remove_from_collection(
        self,
        collection: str,
        artifact_ids: list[str],
        *,
        user_id: str | None = None,
        session_id: str | None = None,
    ) -> int:
        return await self._change(collection, artifact_ids, user_id, session_id, join=False)

    async def _change(
        self,
        collection: str,
        artifact_ids: list[str],
        user_id: str | None,
        session_id: str | None,
        *,
        join: bool,
    ) -> int:
        name = check_collection(collection)
        ids = _artifact_ids(artifact_ids)
        caller = await self.gate.caller(user_id, session_id)
        sandbox = self.context.sandbox_id
        now = self.context.now()
        async with self.context.catalog.write() as writer:
            records = [await self.gate.load_for_update(writer, i, caller, None) for i in ids]
            members = await writer.collections.members_among(sandbox, name, ids)
            changing = [r for r in records if (r.artifact_id in members) != join]
            changed = [record.artifact_id for record in changing]
            if join:
                await writer.collections.add(sandbox, name, changed, now)
            else:
                await writer.collections.remove(sandbox, name, changed)
            for record in changing:
                await writer.append_event(
                    type="v1.artifact.collections_changed",
                    subject=record.artifact_id,
                    payload={"collection": name, "joined": join},
                    actor=caller.user_id,
                    time=now,
                    audience=Audience.of(record),
                )
        return len(changed)

    async def list_collections(
        self,
        *,
        limit: int = 100,
        cursor: str | None = None,
        user_id: str | None = None,
        session_id: str | None = None,
    ) -> dict[str, Any]:
        check_limit(limit)
        after = None if cursor is None else check_collection(cursor)
        caller = await self.gate.caller(user_id, session_id)
        readable = None if caller.trusted else Readable(caller.user_id, caller.session_id)
        if caller.public_only:
            return {"collections": [], "next_cursor": None}
        async with self.context.catalog.read() as reader:
            rows = await reader.collection_counts(
                self.context.sandbox_id,
                now=self.context.now(),
                readable=readable,
                after=after,
                limit=limit + 1,
            )
        more = len(rows) > limit
        rows = rows[:limit]
        return {
            "collections": [
                {"collection": name, "urn": COLLECTION_URN + name, "artifacts": count}
                for name, count in rows
            ],
            "next_cursor": rows[-1][0] if more else None,
        }

    async def get_collections(
        self,
        artifact_id: str,
        *,
        user_id: str | None = None,
        session_id: str | None = None,
    ) -> list[str]:
        caller = await self.gate.caller(user_id, session_id)
        record = await self.gate.load(artifact_ref(artifact_id), caller)
        async with self.context.catalog.read() as reader:
            return await reader.collections.of_artifact(self.context.sandbox_id, record.artifact_id)
