"""Batch store: many artifacts into one session, validated up front, all or nothing."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

from satchel.core.errors import ArtifactStoreError, InvalidRequestError
from satchel.core.scopes import Scope
from satchel.core.streams import iter_bytes
from satchel.core.unset import UNSET, Unset
from satchel.core.validation import check_data
from satchel.store.artifacts import ArtifactService
from satchel.store.context import StoreContext
from satchel.store.creation import ArtifactCreator
from satchel.store.gate import AccessGate

__all__ = ["BatchService"]

_ITEM_KEYS = {"data", "mime", "summary", "meta", "filename", "ttl", "scope"}
_MAX_BATCH = 1000
_CONCURRENCY = 16


class BatchService:
    def __init__(
        self,
        context: StoreContext,
        gate: AccessGate,
        creator: ArtifactCreator,
        artifacts: ArtifactService,
    ) -> None:
        self.context = context
        self.gate = gate
        self.creator = creator
        self.artifacts = artifacts

    async def store_batch(
        self,
        items: list[dict[str, Any]],
        session_id: str | None = None,
        ttl: int | Unset | None = UNSET,
        *,
        user_id: str | None = None,
        scope: Scope | str = Scope.SESSION,
    ) -> list[str]:
        """All items are validated, and their scopes checked against the caller, before anything
        is written. If storing an item still fails (a backend error), the items already stored
        are deleted again and the error is raised."""
        await self.context.ensure_open()
        if not isinstance(items, list) or not items:
            raise InvalidRequestError("store_batch needs a non-empty list of items")
        if len(items) > _MAX_BATCH:
            raise InvalidRequestError(f"store_batch takes at most {_MAX_BATCH} items")
        limit = self.context.settings.max_upload_bytes
        specs, payloads = [], []
        for index, item in enumerate(items):
            if not isinstance(item, dict) or set(item) - _ITEM_KEYS:
                raise InvalidRequestError(f"batch item {index} must be a dict of {_ITEM_KEYS}")
            try:
                payloads.append(check_data(item.get("data"), max_bytes=limit))
                specs.append(
                    self.creator.spec(
                        mime=item.get("mime"),
                        summary=item.get("summary", ""),
                        meta=item.get("meta"),
                        filename=item.get("filename"),
                        ttl=item.get("ttl", ttl),
                        scope=item.get("scope", scope),
                        user_id=user_id,
                        session_id=session_id,
                    )
                )
            except ArtifactStoreError as exc:
                raise type(exc)(f"batch item {index}: {exc.message}") from exc
        for index, spec in enumerate(specs):  # every item's scope is allowed before any write
            try:
                caller, _ = await self.creator.prepare_owner(spec)
            except ArtifactStoreError as exc:
                raise type(exc)(f"batch item {index}: {exc.message}") from exc
        session = await self.gate.allocate_session(caller, session_id)
        gate = asyncio.Semaphore(_CONCURRENCY)

        async def one(index: int) -> str:
            async with gate:
                pinned = dataclasses.replace(specs[index], session_id=session.session_id)
                record = await self.creator.create(pinned, iter_bytes(payloads[index]))
                return record.artifact_id

        results = await asyncio.gather(*(one(i) for i in range(len(items))), return_exceptions=True)
        stored = [r for r in results if isinstance(r, str)]
        failures = [r for r in results if isinstance(r, BaseException)]
        if failures:
            for artifact_id in stored:
                await self.artifacts.delete(artifact_id)
            raise failures[0]
        return stored
