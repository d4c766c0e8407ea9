"""The contract of reads: opened content (ranges, conditions) and listings."""

from __future__ import annotations

from typing import Any, Protocol

from satchel.core.api._derived import derived
from satchel.core.content import ArtifactContent
from satchel.core.models import ArtifactList
from satchel.core.ranges import ByteRange
from satchel.core.scopes import Scope

__all__ = ["ReadingAPI"]


class ReadingAPI(Protocol):
    async def open_content(
        self,
        artifact_id: str,
        *,
        byte_range: ByteRange | None = None,
        if_range: str | None = None,
        if_match: str | None = None,
        if_none_match: str | None = None,
        head: bool = False,
        local_file: bool = False,
        user_id: str | None = None,
        session_id: str | None = None,
    ) -> ArtifactContent:
        """Open an artifact's content for reading: its metadata plus a stream of its bytes.

        Args:
            byte_range: only these bytes (answered as ``partial``); ignored when *if_range*
                names another version.
            if_range: an etag; the range applies only while the artifact is at it.
            if_match: an etag (or ``*``); another current version raises PreconditionFailedError.
            if_none_match: etags (or ``*``); when one matches, the answer is ``not_modified``
                and carries no bytes.
            head: open no stream (the metadata and the range only).
            local_file: when the bytes are a plain file on this host (the filesystem
                backend), name it (``content.local_file``) and open the stream only if it is
                read: the HTTP service hands such files to nginx (X-Accel-Redirect). Elsewhere
                (S3, memory, SQLite, a remote store) nothing changes.

        The first chunk is read before this returns (with *local_file*, the file is looked
        up), so a missing blob raises here, not half way through a response. Close the answer
        (``aclose`` or ``async with``) when you do not read it to the end.

        Raises:
            ArtifactNotFoundError, ArtifactExpiredError, AccessDeniedError,
            PreconditionFailedError, RangeNotSatisfiableError, ProviderError.
        """

    async def list_by_session(
        self,
        session_id: str,
        limit: int = 100,
        *,
        cursor: str | None = None,
        user_id: str | None = None,
        order: str = "stored_at",
    ) -> ArtifactList:
        """The live artifacts of one session, oldest first (or in *order*, as :meth:`search`
        takes it); pass ``next_cursor`` for more."""

    async def get_directory_contents(
        self,
        session_id: str,
        directory_prefix: str = "",
        limit: int = 100,
        *,
        user_id: str | None = None,
    ) -> ArtifactList:
        """Artifacts of a session whose filename starts with *directory_prefix* (``docs/``)."""

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
        """Find live artifacts by owner, scope, MIME prefix, content digest, filename glob,
        collection and exact custom-metadata matches; pass ``next_cursor`` for more.

        ``order`` is ``stored_at`` (oldest first, the default), ``filename`` or ``bytes``; a
        leading ``-`` reverses it (``-stored_at``: newest first). ``filename_glob`` is a shell
        glob the whole filename matches (``*`` spans ``/``; case-sensitive).

        ``user_id`` both filters by owner and identifies the caller; a caller naming no user
        and no session is the trusted application and may search everything in the sandbox.
        ``sha256`` (``sha256:<hex>``) finds artifacts holding exactly that content.
        """

    @derived
    async def list_files(
        self, session_id: str, prefix: str = "", limit: int = 100, *, user_id: str | None = None
    ) -> ArtifactList:
        """Alias of :meth:`get_directory_contents`."""
        return await self.get_directory_contents(session_id, prefix, limit, user_id=user_id)
