"""``Satchel``: seed 002's IVCAP client, blocking. It runs :class:`AsyncSatchel` on the event
loop of a :class:`~satchel.client.sync.SyncArtifactStore` (a thread of its own), so it works
from plain scripts and from code that runs a loop of its own."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Coroutine, Iterator
from types import TracebackType
from typing import IO, TYPE_CHECKING, Any, TypeVar

from satchel.client.artifacts.aspect import Aspect
from satchel.client.artifacts.async_artifact import AsyncArtifact
from satchel.client.artifacts.async_client import AsyncSatchel, local_store
from satchel.client.artifacts.local_artifact import LocalFileArtifact
from satchel.client.artifacts.sync_artifact import Artifact
from satchel.client.sync import SyncArtifactStore

if TYPE_CHECKING:
    from satchel.client.remote import RemoteArtifactStore
    from satchel.store import ArtifactStore

__all__ = ["Satchel"]

_T = TypeVar("_T")


class Satchel:
    """The IVCAP-style artifact client: ``Satchel()`` is platform mode when ``SATCHEL_URL``
    (or *url*) names a server, else local mode (the embedded store under
    ``SATCHEL_DATA_DIR``); ``Satchel.local(base_dir)`` forces local mode;
    ``Satchel(store=…)`` wraps a store (an ArtifactStore, RemoteArtifactStore or
    SyncArtifactStore, closed by :meth:`close`). The arguments are :class:`AsyncSatchel`'s;
    every method is its blocking twin. Use it in a ``with`` or call :meth:`close`.
    """

    def __init__(
        self,
        url: str | None = None,
        token: str | None = None,
        *,
        store: ArtifactStore | RemoteArtifactStore | SyncArtifactStore | None = None,
        user_id: str | None = None,
        session_id: str | None = None,
        scope: str | None = None,
        **options: Any,
    ) -> None:
        identity = {"user_id": user_id, "session_id": session_id, "scope": scope}
        if isinstance(store, SyncArtifactStore):
            self._runner = store
        else:
            self._runner = SyncArtifactStore(store, url=url, token=token, **options)
        try:
            self.client = AsyncSatchel(store=self._runner.wrapped, **identity)
        except BaseException:
            self._runner.close()
            raise

    @classmethod
    def local(cls, base_dir: str | os.PathLike[str] | None = None, **options: Any) -> Satchel:
        """Local mode whatever the environment says: the embedded store with its data under
        *base_dir* (default ``SATCHEL_DATA_DIR``, ``./var``)."""
        identity = {k: options.pop(k) for k in ("user_id", "session_id", "scope") if k in options}
        return cls(store=local_store(base_dir, **options), **identity)

    @property
    def store(self) -> SyncArtifactStore:
        """The store behind this client, blocking (every contract method)."""
        return self._runner

    @property
    def platform(self) -> bool:
        return self.client.platform

    def __repr__(self) -> str:
        return f"Satchel({'platform' if self.platform else 'local'}, {self._runner.wrapped!r})"

    def run(self, coroutine: Coroutine[Any, Any, _T]) -> _T:
        """Run *coroutine* on the client's loop and return its result."""

        async def wrapper() -> _T:
            return await coroutine

        return self._runner.call(wrapper)

    def iterate(self, stream: AsyncIterator[_T]) -> Iterator[_T]:
        """*stream* as a plain iterator (each step runs on the client's loop)."""
        return self._runner._iterate(stream)  # the facade's own stepping (same package)

    def close(self) -> None:
        """Close the store and stop the client's loop. Idempotent."""
        self._runner.close()

    def __enter__(self) -> Satchel:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    # -- artifacts ---------------------------------------------------------------------------

    def _wrap(self, handle: AsyncArtifact) -> Artifact:
        return Artifact(self, handle)

    def upload_artifact(
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
    ) -> Artifact:
        """:meth:`AsyncSatchel.upload_artifact`, blocking."""
        handle = self.run(
            self.client.upload_artifact(
                name,
                file_path,
                io_stream,
                content_type,
                content_size,
                collection,
                policy,
                chunk_size,
                retries,
                retry_delay,
                force_upload,
            )
        )
        return self._wrap(handle)

    def artifact_for_file(
        self,
        file_path: str | os.PathLike[str],
        *,
        name: str | None = None,
        content_type: str | None = None,
    ) -> Artifact | None:
        """:meth:`AsyncSatchel.artifact_for_file`, blocking."""
        found = self.run(
            self.client.artifact_for_file(file_path, name=name, content_type=content_type)
        )
        return None if found is None else self._wrap(found)

    def get_artifact(self, reference: str) -> Artifact | LocalFileArtifact:
        """:meth:`AsyncSatchel.get_artifact`, blocking."""
        found = self.run(self.client.get_artifact(reference))
        if isinstance(found, AsyncArtifact):
            return self._wrap(found)
        return LocalFileArtifact(self, found.path)

    def list_artifacts(self, limit: int = 100) -> list[Artifact]:
        """:meth:`AsyncSatchel.list_artifacts`, blocking."""
        return [self._wrap(item) for item in self.run(self.client.list_artifacts(limit))]

    # -- aspects -----------------------------------------------------------------------------

    def add_aspect(
        self,
        entity: str,
        aspect: dict[str, Any],
        *,
        schema: str | None = None,
        policy: str | None = None,
    ) -> Aspect:
        """:meth:`AsyncSatchel.add_aspect`, blocking."""
        return self.run(self.client.add_aspect(entity, aspect, schema=schema, policy=policy))

    def update_aspect(
        self,
        entity: str,
        aspect: dict[str, Any],
        *,
        schema: str | None = None,
        policy: str | None = None,
    ) -> Aspect:
        """:meth:`AsyncSatchel.update_aspect`, blocking."""
        return self.run(self.client.update_aspect(entity, aspect, schema=schema, policy=policy))

    def get_aspect(self, aspect_id: str) -> Aspect:
        """:meth:`AsyncSatchel.get_aspect`, blocking."""
        return self.run(self.client.get_aspect(aspect_id))

    def list_aspects(
        self, entity: str | None = None, schema: str | None = None, limit: int = 100
    ) -> list[Aspect]:
        """:meth:`AsyncSatchel.list_aspects`, blocking."""
        return self.run(self.client.list_aspects(entity, schema, limit))
