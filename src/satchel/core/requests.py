"""Request models of the seed API: streaming and multipart uploads.

A ``ttl`` left out means "the scope's default" (session scope: the session default TTL;
user and sandbox scopes: no expiry); ``ttl=None`` given explicitly means no expiry.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, Callable
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from satchel.core.scopes import Scope

__all__ = [
    "MultipartUploadCompleteRequest",
    "MultipartUploadInitRequest",
    "MultipartUploadPart",
    "ProgressCallback",
    "StreamDownloadRequest",
    "StreamUploadRequest",
]

ProgressCallback = Callable[[int, int | None], Any]
"""Called as ``callback(bytes_done, total_bytes_or_None)`` after every chunk."""


class StreamUploadRequest(BaseModel):
    """Everything ``stream_upload`` needs: an async byte stream plus the artifact's metadata."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    data_stream: AsyncIterable[bytes]
    mime: str = "application/octet-stream"
    summary: str = ""
    filename: str | None = None
    meta: dict[str, Any] | None = None
    session_id: str | None = None
    user_id: str | None = None
    scope: Scope | str = Scope.SESSION
    ttl: int | None = None
    content_length: int | None = None
    progress_callback: ProgressCallback | None = None

    def ttl_given(self) -> bool:
        return "ttl" in self.model_fields_set


class StreamDownloadRequest(BaseModel):
    """Which artifact ``stream_download`` reads, as whom, in what chunk size."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    artifact_id: str
    user_id: str | None = None
    session_id: str | None = None
    chunk_size: int = Field(default=65536, gt=0, le=64 * 1024 * 1024)
    progress_callback: ProgressCallback | None = None


class MultipartUploadInitRequest(BaseModel):
    """Start of a multipart upload (seed 000)."""

    filename: str
    mime_type: str = "application/octet-stream"
    user_id: str | None = None
    session_id: str | None = None
    scope: Scope | str = Scope.SESSION
    ttl: int | None = None
    meta: dict[str, Any] | None = None

    def ttl_given(self) -> bool:
        return "ttl" in self.model_fields_set


class MultipartUploadPart(BaseModel):
    """One uploaded part, named as S3 names it."""

    model_config = ConfigDict(populate_by_name=True)

    PartNumber: int = Field(ge=1, le=10_000)
    ETag: str


class MultipartUploadCompleteRequest(BaseModel):
    """End of a multipart upload: the parts in order and the artifact's summary."""

    upload_id: str
    parts: list[MultipartUploadPart]
    summary: str = "Multipart upload"
