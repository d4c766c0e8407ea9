"""ArtifactStore: the policy layer every face of Satchel calls."""

from __future__ import annotations

from types import TracebackType

from satchel.store.admin import AdminMixin
from satchel.store.batch import BatchMixin
from satchel.store.files import FilesMixin
from satchel.store.keys import KeysMixin
from satchel.store.listing import ListingMixin
from satchel.store.multipart import MultipartMixin
from satchel.store.streaming import StreamingMixin
from satchel.store.tus import TusMixin

__all__ = ["ArtifactStore"]


class ArtifactStore(
    FilesMixin,
    BatchMixin,
    StreamingMixin,
    ListingMixin,
    MultipartMixin,
    TusMixin,
    AdminMixin,
    KeysMixin,
):
    """Scoped, access-controlled artifact storage over a blob backend and a catalog.

    ``ArtifactStore()`` with nothing configured keeps everything in memory. Configuration comes
    from :class:`satchel.config.Settings` (``SATCHEL_*`` and seed 000's ``ARTIFACT_*`` variables)
    or from the keyword arguments ``storage_provider``, ``session_provider``, ``sandbox_id``,
    ``bucket``, ``session_ttl_hours``, ``database_url``, ``fs_root``, ``settings`` and
    ``blob_store``. Use it as an async context manager, or call :meth:`close` when done; it
    connects lazily on first use.
    """

    async def __aenter__(self) -> ArtifactStore:
        await self.open()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    def __repr__(self) -> str:
        return (
            f"ArtifactStore(storage_provider={self.storage_provider!r}, "
            f"sandbox_id={self.sandbox_id!r})"
        )
