"""Listings and search, filtered to what the caller may read, with cursor pagination."""

from __future__ import annotations

from typing import Any

from satchel.catalog import SearchFilter
from satchel.core.access import Caller, check_read
from satchel.core.errors import AccessDeniedError, InvalidRequestError
from satchel.core.models import ArtifactMetadata, ArtifactRecord
from satchel.core.scopes import Scope, parse_scope
from satchel.core.validation import check_directory_prefix, check_id, check_limit, check_meta
from satchel.store.base import StoreBase

__all__ = ["ArtifactList", "ListingMixin"]


class ArtifactList(list[ArtifactMetadata]):
    """A page of artifacts; ``next_cursor`` continues the listing (None on the last page)."""

    next_cursor: str | None = None

    def __init__(self, items: list[ArtifactMetadata], next_cursor: str | None) -> None:
        super().__init__(items)
        self.next_cursor = next_cursor


class ListingMixin(StoreBase):
    async def _session_caller(self, session_id: str, user_id: str | None) -> Caller:
        """A caller listing *session_id* acts in it (``_caller`` refuses a foreign user)."""
        check_id("session_id", session_id)
        return await self._caller(user_id, session_id)

    def _readable(self, records: list[ArtifactRecord], caller: Caller) -> list[ArtifactMetadata]:
        visible = []
        for record in records:
            try:
                check_read(record, caller)
            except AccessDeniedError:
                continue
            visible.append(self._to_metadata(record))
        return visible

    async def list_by_session(
        self,
        session_id: str,
        limit: int = 100,
        *,
        cursor: str | None = None,
        user_id: str | None = None,
    ) -> ArtifactList:
        """The live artifacts of one session, oldest first; pass ``next_cursor`` for more."""
        check_limit(limit)
        caller = await self._session_caller(session_id, user_id)
        async with self.catalog.read() as reader:
            page = await reader.list_by_session(
                session_id, self.sandbox_id, now=self._now(), limit=limit, cursor=cursor
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
        """Artifacts of a session whose filename starts with *directory_prefix* (e.g. ``docs/``)."""
        check_limit(limit)
        prefix = check_directory_prefix(directory_prefix)
        caller = await self._session_caller(session_id, user_id)
        async with self.catalog.read() as reader:
            records = await reader.list_directory(
                session_id, self.sandbox_id, prefix, now=self._now(), limit=limit
            )
        return ArtifactList(self._readable(records, caller), None)

    async def list_files(
        self, session_id: str, prefix: str = "", limit: int = 100, *, user_id: str | None = None
    ) -> ArtifactList:
        """Alias of :meth:`get_directory_contents`."""
        return await self.get_directory_contents(session_id, prefix, limit, user_id=user_id)

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
    ) -> ArtifactList:
        """Find live artifacts by owner, scope, MIME prefix and exact custom-metadata matches.

        ``user_id`` both filters by owner and identifies the caller; a caller naming no user
        and no session is the trusted application and may search everything in the sandbox.
        """
        check_limit(limit)
        parsed_scope = None if scope is None else parse_scope(scope)
        if mime_prefix is not None and not isinstance(mime_prefix, str):
            raise InvalidRequestError("mime_prefix must be a string")
        wanted = check_meta(meta_filter, max_bytes=self.settings.max_meta_bytes) or None
        caller = await self._caller(user_id, session_id)
        owner = user_id if parsed_scope is not Scope.SANDBOX else None
        flt = SearchFilter(
            sandbox_id=self.sandbox_id,
            now=self._now(),
            scope=parsed_scope,
            owner_id=owner,
            session_id=session_id if parsed_scope is Scope.SESSION else None,
            mime_prefix=mime_prefix,
            meta_filter=wanted,
            readable_by_user=None if caller.trusted else (caller.user_id or ""),
            readable_by_session=None if caller.trusted else session_id,
        )
        async with self.catalog.read() as reader:
            page = await reader.search(flt, limit=limit, cursor=cursor)
        return ArtifactList(self._readable(page.items, caller), page.next_cursor)
