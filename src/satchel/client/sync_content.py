"""Opened content for synchronous code: what ``SyncArtifactStore.open_content`` answers."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from types import TracebackType
from typing import Any

from satchel.core.content import ArtifactContent
from satchel.core.models import ArtifactMetadata

__all__ = ["SyncArtifactContent"]


class SyncArtifactContent:
    """:class:`~satchel.core.content.ArtifactContent` for blocking code: the same fields, and
    iteration, :meth:`read` and :meth:`close` without ``await`` (the stream runs on the
    facade's event loop)."""

    def __init__(
        self,
        content: ArtifactContent,
        run: Callable[[Coroutine[Any, Any, Any]], Any],
        iterate: Callable[[AsyncIterator[bytes]], Iterator[bytes]],
    ) -> None:
        self._content = content
        self._run = run
        self._iterate = iterate

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self._content, name)

    @property
    def metadata(self) -> ArtifactMetadata | None:
        return self._content.metadata

    def __iter__(self) -> Iterator[bytes]:
        return self._iterate(self._content.__aiter__())

    def read(self) -> bytes:
        """All the bytes of this answer at once (for small content)."""
        result: bytes = self._run(self._content.read())
        return result

    def close(self) -> None:
        self._run(self._content.aclose())

    def __enter__(self) -> SyncArtifactContent:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
