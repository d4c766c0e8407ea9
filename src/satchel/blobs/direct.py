"""The optional capability of a blob backend to hand clients URLs of its own (S3 presigning).

A backend that has it (``isinstance(blobs, DirectTransfers)`` and ``blobs.direct_urls``) lets
the store answer presigned downloads with the backend's URL, and lets clients upload straight
to it; the store then verifies the bytes with :meth:`DirectTransfers.complete_direct_upload`
before any artifact points at them. Memory, filesystem and sqlite backends lack it: their
presigned URLs are Satchel's own ``/v1/signed/…`` routes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from satchel.core.models import BlobInfo

if TYPE_CHECKING:
    from satchel.blobs.s3_uploads import DirectUpload

__all__ = ["DirectTransfers"]


@runtime_checkable
class DirectTransfers(Protocol):
    """Presigned downloads and direct uploads (see :mod:`satchel.blobs.s3_uploads`)."""

    @property
    def direct_urls(self) -> bool:
        """False when the backend cannot hand out URLs now (e.g. S3 with an SSE-C key)."""

    async def presign_get(
        self,
        digest: str,
        expires_in: int,
        *,
        filename: str | None = None,
        content_type: str | None = None,
    ) -> str: ...

    def direct_upload(self, upload_id: str, multipart_id: str | None = None) -> DirectUpload: ...

    async def create_direct_upload(self, *, multipart: bool = False) -> DirectUpload: ...

    async def presign_put(
        self, upload: DirectUpload, expires_in: int, *, content_type: str | None = None
    ) -> str: ...

    async def presign_put_part(
        self, upload: DirectUpload, part_number: int, expires_in: int
    ) -> str: ...

    async def complete_direct_upload(
        self,
        upload: DirectUpload,
        *,
        parts: Sequence[tuple[int, str]] | None = None,
        max_bytes: int | None = None,
        expected_digest: str | None = None,
    ) -> BlobInfo: ...

    async def abort_direct_upload(self, upload: DirectUpload) -> None: ...
