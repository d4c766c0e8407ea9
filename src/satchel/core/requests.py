"""Request models of the seed API: streaming and multipart uploads.

A ``ttl`` left out means "the scope's default" (session scope: the session default TTL;
user and sandbox scopes: no expiry); ``ttl=None`` given explicitly means no expiry. A ``mime``
left out is guessed from the filename. Invalid values raise pydantic's ``ValidationError``
(a ``ValueError``) when the model is built, as seed 000's models do.
"""

from __future__ import annotations

from collections.abc import AsyncIterable
from typing import Any, TypeVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from satchel.core.errors import InvalidRequestError
from satchel.core.policies import artifact_ref
from satchel.core.progress import ProgressCallback
from satchel.core.scopes import DEFAULT_TTL, Scope, parse_scope
from satchel.core.validation import check_filename, check_id

__all__ = [
    "MAX_PARTS",
    "MultipartUploadCompleteRequest",
    "MultipartUploadInitRequest",
    "MultipartUploadPart",
    "ProgressCallback",
    "StreamDownloadRequest",
    "StreamUploadRequest",
    "build_request",
]

MAX_PARTS = 10_000
"""Part numbers of a multipart upload run from 1 to this (as on S3)."""

# ProgressCallback: ``callback(bytes_done, total_bytes_or_None)``, by the contract stated in
# satchel.core.progress.


class StreamUploadRequest(BaseModel):
    """Everything ``stream_upload`` needs: an async byte stream plus the artifact's metadata."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    data_stream: AsyncIterable[bytes]
    mime: str | None = None
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

    @field_validator("artifact_id")
    @classmethod
    def _bare_id(cls, value: str) -> str:
        return artifact_ref(value)  # its URN names it too


class MultipartUploadInitRequest(BaseModel):
    """Start of a multipart upload (seed 000).

    ``ttl`` left out reads as seed 000 documents it: 900 s (15 minutes) for session scope, no
    expiry for user and sandbox scopes (the store then applies its configured default).
    """

    filename: str
    mime_type: str | None = None
    user_id: str | None = None
    session_id: str | None = None
    scope: Scope = Scope.SESSION
    ttl: int | None = None
    meta: dict[str, Any] | None = None

    @field_validator("filename")
    @classmethod
    def _filename(cls, value: str) -> str:
        return check_filename(value)

    @field_validator("scope", mode="before")
    @classmethod
    def _scope(cls, value: object) -> Scope:
        return parse_scope(value)

    @model_validator(mode="after")
    def _scope_default_ttl(self) -> MultipartUploadInitRequest:
        if "ttl" not in self.model_fields_set and self.scope is Scope.SESSION:
            object.__setattr__(self, "ttl", DEFAULT_TTL)  # a default: not marked as given
        return self

    def ttl_given(self) -> bool:
        return "ttl" in self.model_fields_set


class MultipartUploadPart(BaseModel):
    """One uploaded part, named as S3 names it: a part number (1-10,000) and a non-empty ETag."""

    model_config = ConfigDict(populate_by_name=True, frozen=True)

    PartNumber: int = Field(ge=1, le=MAX_PARTS)
    ETag: str = Field(min_length=1)

    @field_validator("ETag")
    @classmethod
    def _etag(cls, value: str) -> str:
        if not value.strip().strip('"'):
            raise ValueError("ETag must not be empty")
        return value


class MultipartUploadCompleteRequest(BaseModel):
    """End of a multipart upload: the parts (at least one, in order) and the artifact's summary."""

    upload_id: str
    parts: list[MultipartUploadPart] = Field(min_length=1)
    summary: str = "Multipart upload"

    @field_validator("upload_id")
    @classmethod
    def _upload_id(cls, value: str) -> str:
        return check_id("upload_id", value)


_M = TypeVar("_M", bound=BaseModel)


def build_request(model: type[_M], **fields: Any) -> _M:
    """*model* built from keyword arguments a method received: what pydantic refuses is an
    InvalidRequestError, as any other bad argument of the store's methods."""
    try:
        return model(**fields)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc']) or 'value'}: {error['msg']}"
            for error in exc.errors()
        )
        raise InvalidRequestError(problems) from None
