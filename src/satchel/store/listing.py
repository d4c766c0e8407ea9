"""Listings and search, filtered to what the caller may read, with cursor pagination."""

from __future__ import annotations

from typing import Any

from satchel.catalog import Readable, SearchFilter
from satchel.catalog.ordering import check_order
from satchel.core.access import Caller, check_read
from satchel.core.digests import check_digest
from satchel.core.errors import AccessDeniedError
from satchel.core.models import ArtifactList, ArtifactMetadata, ArtifactRecord
from satchel.core.policies import check_collection
from satchel.core.scopes import Scope, parse_scope
from satchel.core.validation import (
    check_directory_prefix,
    check_id,
    check_limit,
    check_meta,
    check_text,
)
from satchel.store.context import StoreContext
from satchel.store.gate import AccessGate

__all__ = ["ListingService"]


class ListingService:
    def __init__(self, context: StoreContext, gate: AccessGate) -> None:
        self.context = context
        self.gate = gate

    async def _session_caller(self, session_id: str, user_id: str | None) -> Caller | None:
        """A caller listing *session_id* acts in it; None when the session is someone else's,
        which lists as empty, exactly as an unknown session does (no existence oracle)."""
        check_id("session_id", session_id)
        try:
            return await self.gate.caller(user_id, session_id)
        except AccessDeniedError:
            return None

    def _readable(self, records: list[ArtifactRecord], caller: Caller) -> list[ArtifactMetadata]:
        visible = []
        for record in records:
            try:
                check_read(record, caller)
            except AccessDeniedError:
                continue
            visible.append(self.context.to_metadata(record))
        return visible

    async def list_by_session(
        self,
        session_id: str,
        limit: int = 100,
        *,
        cursor: str | None = None,
        user_id: str | None = None,
        order: str = "stored_at",
    ) -> ArtifactList:
        check_limit(limit)
        ordering = check_order(order)
        caller = await self._session_caller(session_id, user_id)
        if caller is None:
            return ArtifactList([], None)
        context = self.context
        async with context.catalog.read() as reader:
            page = await reader.list_by_session(
                session_id,
                context.sandbox_id,
                now=context.now(),
                limit=limit,
                cursor=cursor,
                readable=_readable(caller),
                order=ordering,
            )
        return ArtifactList(self._readable(page.items, caller), page.next_cursor)

    async def get_directory_contents(
        self,
        session_id: str,
        directory_prefix: str = "",
        limit: int = 100,
        *,
        user_id: str | None = None,
    ) -> ArtifactList:
        check_limit(limit)
        prefix = check_directory_prefix(directory_prefix)
        caller = await self._session_caller(session_id, user_id)
        if caller is None:
            return ArtifactList([], None)
        context = self.context
        async with context.catalog.read() as reader:
            records = await reader.list_directory(
                session_id,
                context.sandbox_id,
                prefix,
                now=context.now(),
                limit=limit,
                readable=_readable(caller),
            )
        return ArtifactList(self._readable(records, caller), None)

    async def search(
        self,
        *,
        user_id: str | None = None,
        scope: Scope | str | None = None,
        mime_prefix: str | None = None,
        meta_filter: dict[str, Any] | None = None,
        limit: int = 100,
        session_id: str | None = None,
        cursor: str | None = None,
        sha256: str | None = None,
        filename_glob: str | None = None,
        order: str = "stored_at",
        collection: str | None = None,
    ) -> ArtifactList:
        check_limit(limit)
        ordering = check_order(order)
        if filename_glob is not None:
            check_text("filename_glob", filename_glob, max_chars=1024)
        parsed_scope = None if scope is None else parse_scope(scope)
        if mime_prefix is not None:
            check_text("mime_prefix", mime_prefix, max_chars=255)
        digest = None if sha256 is None else check_digest(sha256)
        member_of = None if collection is None else check_collection(collection)
        limit_bytes = self.context.settings.max_meta_bytes
        wanted = check_meta(meta_filter, max_bytes=limit_bytes) or None
        if session_id is None:
            caller = await self.gate.caller(user_id, None)
        else:  # another's session finds nothing, as an unknown one does (no existence oracle)
            found = await self._session_caller(session_id, user_id)
            if found is None:
                return ArtifactList([], None)
            caller = found
        owner = user_id if parsed_scope is not Scope.SANDBOX else None
        flt = SearchFilter(
            sandbox_id=self.context.sandbox_id,
            now=self.context.now(),
            scope=parsed_scope,
            owner_id=owner,
            session_id=session_id if parsed_scope is Scope.SESSION else None,
            mime_prefix=mime_prefix,
            meta_filter=wanted,
            sha256=digest,
            readable=_readable(caller),
            filename_glob=filename_glob,
            order=ordering,
            collection=member_of,
        )
        async with self.context.catalog.read() as reader:
            page = await reader.search(flt, limit=limit, cursor=cursor)
        return ArtifactList(self._readable(page.items, caller), page.next_cursor)


def _readable(caller: Caller) -> Readable | None:
    """The rows a listing may return to *caller*, as the catalog filters them."""
    return None if caller.trusted else Readable(caller.user_id, caller.session_id)
