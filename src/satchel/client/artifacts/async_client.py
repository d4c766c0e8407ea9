"""``AsyncSatchel``: seed 002's IVCAP client (``upload_artifact``, ``get_artifact``,
``list_artifacts``, aspects) over any face of the Satchel contract, with ``await``.

Platform mode is a server (``SATCHEL_URL`` or ``url=``, token from ``SATCHEL_TOKEN`` or
``token=``); local mode is the embedded store under ``SATCHEL_DATA_DIR`` (``./var``). Every call
acts as the client's caller: its ``user_id`` / ``session_id`` (or the token's principal), so it
reaches only what that caller may.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from types import TracebackType
from typing import IO, TYPE_CHECKING, Any

from satchel.client.artifacts.aspect import Aspect
from satchel.client.artifacts.async_artifact import AsyncArtifact
from satchel.client.artifacts.local_artifact import AsyncLocalFileArtifact
from satchel.client.artifacts.references import parse_reference
from satchel.client.artifacts.sources import UploadSource
from satchel.client.artifacts.uploading import Caller, Uploader, UploadOptions
from satchel.client.connect import connect
from satchel.client.localfiles import file_sha256
from satchel.core.api import ArtifactStoreAPI
from satchel.core.errors import ArtifactNotFoundError, InvalidRequestError
from satchel.core.models import ArtifactMetadata
from satchel.core.policies import check_collection, check_policy
from satchel.core.scopes import parse_scope
from satchel.core.validation import check_optional_id

if TYPE_CHECKING:
    from satchel.client.remote import RemoteArtifactStore
    from satchel.store import ArtifactStore

__all__ = ["AsyncSatchel", "local_store"]

_PAGE = 100


class AsyncSatchel:
    """The IVCAP-style artifact client, async.

    Args:
        url: a server (platform mode); default ``SATCHEL_URL``. Without one: local mode, the
            embedded store under ``SATCHEL_DATA_DIR`` (``./var``).
        token: the server's bearer token; default ``SATCHEL_TOKEN``. A token without a URL is
            an InvalidRequestError (it names no server).
        store: an existing store to use instead (an ArtifactStore or RemoteArtifactStore);
            the client closes it with :meth:`close`.
        user_id, session_id: whom every call acts as (a user token acts as its user anyway).
        scope: the scope of uploads: default ``user`` when the client acts as a user (a
            ``user_id``, or a user's token), else ``sandbox`` (the application itself:
            readable by the whole sandbox, as IVCAP's local mode shares its directory).
        **options: more options of :func:`satchel.connect` (``timeout``, ``data_dir``…).
    """

    def __init__(
        self,
        url: str | None = None,
        token: str | None = None,
        *,
        store: ArtifactStore | RemoteArtifactStore | ArtifactStoreAPI | None = None,
        user_id: str | None = None,
        session_id: str | None = None,
        scope: str | None = None,
        **options: Any,
    ) -> None:
        self.user_id = check_optional_id("user_id", user_id)
        self.session_id = check_optional_id("session_id", session_id)
        self._scope = None if scope is None else str(parse_scope(scope))
        if store is None:
            store = connect(url, token, **options)
        elif url is not None or token is not None or options:
            raise InvalidRequestError("pass either store= or the options of a new store")
        if hasattr(store, "wrapped") and not asyncio.iscoroutinefunction(store.close):
            raise InvalidRequestError(
                "AsyncSatchel needs an async store (use Satchel for a sync one)"
            )
        self.store: ArtifactStoreAPI = store
        self._caller: Caller | None = None

    @classmethod
    def local(cls, base_dir: str | os.PathLike[str] | None = None, **options: Any) -> AsyncSatchel:
        """Local mode whatever the environment says: the embedded store with its data under
        *base_dir* (default ``SATCHEL_DATA_DIR``, ``./var``)."""
        identity = {k: options.pop(k) for k in ("user_id", "session_id", "scope") if k in options}
        return cls(store=local_store(base_dir, **options), **identity)

    @property
    def ids(self) -> dict[str, str | None]:
        """The ``user_id`` and ``session_id`` every call passes."""
        return {"user_id": self.user_id, "session_id": self.session_id}

    @property
    def platform(self) -> bool:
        """Whether this client talks to a server (platform mode)."""
        from satchel.client.remote import RemoteArtifactStore

        return isinstance(self.store, RemoteArtifactStore)

    def __repr__(self) -> str:
        return f"AsyncSatchel({'platform' if self.platform else 'local'}, {self.store!r})"

    async def caller(self) -> Caller:
        """Whom uploads act as and the scope they get (asks the store who it is, once)."""
        if self._caller is None:
            scope = self._scope
            if scope is None:
                acting = self.user_id or (await self.store.whoami()).get("user_id")
                scope = "user" if acting else "sandbox"
            self._caller = Caller(self.user_id, self.session_id, scope)
        return self._caller

    # -- lifecycle ---------------------------------------------------------------------------

    async def close(self) -> None:
        await self.store.close()

    async def __aenter__(self) -> AsyncSatchel:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    # -- artifacts ---------------------------------------------------------------------------

    async def upload_artifact(
        self,
        name: str | None = None,
        file_path: str | os.PathLike[str] | None = None,
        io_stream: IO[Any] | None = None,
        content_type: str | None = None,
        content_size: int = -1,
        collection: str | None = None,
        policy: str | None = None,
        chunk_size: int | None = None,
        retries: int = 3,
        retry_delay: float = 1,
        force_upload: bool = False,
    ) -> AsyncArtifact:
        """Upload a file (*file_path*) or a stream (*io_stream*, binary or text: text is sent
        UTF-8 encoded) and return the artifact. See docs/client.md for every parameter.

        A file whose content the caller can already read as exactly this artifact (same name,
        type, scope and owner, no expiry: :mod:`satchel.core.dedup`) is not sent again: that
        artifact is returned (``force_upload=True`` always uploads). Sources of a known size
        above ``min(chunk_size, 8 MiB)`` go through tus in *chunk_size* pieces, resumed from
        the store's offset after a failure, *retries* times, *retry_delay* seconds apart.

        Raises:
            InvalidRequestError: not exactly one source, a stream without a type, bad sizes.
        """
        options = UploadOptions.checked(chunk_size, retries, retry_delay)
        self._check_extras(collection, policy)
        source = await asyncio.to_thread(
            UploadSource,
            name=name,
            file_path=file_path,
            io_stream=io_stream,
            content_type=content_type,
            content_size=content_size,
        )
        uploader = Uploader(self.store, await self.caller())
        found: ArtifactMetadata | None = None
        if source.path is not None and not force_upload:
            digest, _ = await asyncio.to_thread(file_sha256, source.path)
            found = await uploader.find_reusable(source, digest)
        artifact_id = found.artifact_id if found else await uploader.upload(source, options)
        await self._apply_extras(artifact_id, collection, policy)
        return await self._artifact(artifact_id)

    async def artifact_for_file(
        self,
        file_path: str | os.PathLike[str],
        *,
        name: str | None = None,
        content_type: str | None = None,
    ) -> AsyncArtifact | None:
        """The artifact ``upload_artifact(name, file_path, content_type=…)`` would return
        without uploading (the same file content already stored as that artifact), or None."""
        source = await asyncio.to_thread(
            UploadSource,
            name=name,
            file_path=file_path,
            io_stream=None,
            content_type=content_type,
            content_size=-1,
        )
        assert source.path is not None
        digest, _ = await asyncio.to_thread(file_sha256, source.path)
        found = await Uploader(self.store, await self.caller()).find_reusable(source, digest)
        return None if found is None else AsyncArtifact(self, found)

    async def get_artifact(self, reference: str) -> AsyncArtifact | AsyncLocalFileArtifact:
        """The artifact a bare id, ``urn:satchel:artifact:<id>``, ``file:///abs/path`` or
        ``urn:file:///abs/path`` names (a file: read in place, never copied into the store).

        Raises:
            ArtifactNotFoundError: no such artifact the caller may read, or no such local file.
            InvalidRequestError: not a reference.
        """
        parsed = parse_reference(reference)
        if parsed.path is not None:
            if not await asyncio.to_thread(parsed.path.is_file):
                raise ArtifactNotFoundError(f"no local file {parsed.path}")
            return AsyncLocalFileArtifact(self, parsed.path)
        assert parsed.artifact_id is not None
        return await self._artifact(parsed.artifact_id)

    async def list_artifacts(self, limit: int = 100) -> list[AsyncArtifact]:
        """Up to *limit* artifacts the caller can read, newest first."""
        wanted = _check_count(limit)
        found: list[AsyncArtifact] = []
        cursor: str | None = None
        while len(found) < wanted:
            page = await self.store.search(
                user_id=self.user_id,
                session_id=self.session_id,
                limit=min(_PAGE, wanted - len(found)),
                cursor=cursor,
                order="-stored_at",
            )
            found.extend(AsyncArtifact(self, item) for item in page)
            cursor = page.next_cursor
            if cursor is None:
                break
        return found[:wanted]

    async def _artifact(self, artifact_id: str) -> AsyncArtifact:
        return AsyncArtifact(self, await self.store.metadata(artifact_id, **self.ids))

    def _check_extras(self, collection: object, policy: object) -> None:
        """Refuse a bad collection or policy before anything is uploaded (as the store would
        after: nothing is stored for a call that fails)."""
        if collection is not None:
            check_collection(collection)
        check_policy(policy)

    async def _apply_extras(
        self, artifact_id: str, collection: str | None, policy: str | None
    ) -> None:
        if collection is not None:
            await self.store.add_to_collection(collection, [artifact_id], **self.ids)
        if policy is not None:
            await self.store.set_policy(artifact_id, policy, **self.ids)

    # -- aspects -----------------------------------------------------------------------------

    async def add_aspect(
        self,
        entity: str,
        aspect: dict[str, Any],
        *,
        schema: str | None = None,
        policy: str | None = None,
    ) -> Aspect:
        """Record an aspect about *entity* (schema from ``aspect["$schema"]`` when omitted)."""
        record = await self.store.add_aspect(
            _entity(entity), aspect, schema=schema, policy=policy, user_id=self.user_id
        )
        return Aspect.from_record(record)

    async def update_aspect(
        self,
        entity: str,
        aspect: dict[str, Any],
        *,
        schema: str | None = None,
        policy: str | None = None,
    ) -> Aspect:
        """Replace *entity*'s active aspects of the schema with this one."""
        record = await self.store.update_aspect(
            _entity(entity), aspect, schema=schema, policy=policy, user_id=self.user_id
        )
        return Aspect.from_record(record)

    async def get_aspect(self, aspect_id: str) -> Aspect:
        """One aspect by its URN (``urn:satchel:aspect:…``) or bare id."""
        return Aspect.from_record(await self.store.get_aspect(aspect_id, user_id=self.user_id))

    async def list_aspects(
        self, entity: str | None = None, schema: str | None = None, limit: int = 100
    ) -> list[Aspect]:
        """Up to *limit* active aspects the caller can read, of *entity* and/or *schema*."""
        _check_count(limit)
        found: list[Aspect] = []
        cursor: str | None = None
        while len(found) < limit:
            page = await self.store.list_aspects(
                None if entity is None else _entity(entity),
                schema,
                limit=min(_PAGE, limit - len(found)),
                cursor=cursor,
                user_id=self.user_id,
            )
            found.extend(Aspect.from_record(item) for item in page["items"])
            cursor = page.get("next_cursor")
            if cursor is None:
                break
        return found[:limit]


def _entity(entity: object) -> str:
    """An entity as the store takes it: a string, or an artifact object's URN."""
    urn = getattr(entity, "id", entity)
    if not isinstance(urn, str):
        raise InvalidRequestError("an aspect's entity is a URN or an id")
    return urn


def _check_count(limit: object) -> int:
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise InvalidRequestError("limit is a whole number, 1 or more")
    return limit


def local_store(base_dir: str | os.PathLike[str] | None = None, **options: Any) -> ArtifactStore:
    """The embedded store of local mode: files under *base_dir* (default ``SATCHEL_DATA_DIR``,
    ``./var``), whatever ``SATCHEL_URL`` says."""
    from satchel.store import ArtifactStore

    if base_dir is not None:
        options["data_dir"] = Path(base_dir)
    options.setdefault("default_backend", "filesystem")
    return ArtifactStore(**options)
