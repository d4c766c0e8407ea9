"""Upload sessions: the state of a presigned, multipart or tus upload. Pure data."""

from __future__ import annotations

import dataclasses
import enum
from typing import Any

from satchel.core.scopes import Scope

__all__ = [
    "TUS_CHECKSUM_ALGORITHMS",
    "SignedUpload",
    "UploadKind",
    "UploadRecord",
    "UploadState",
    "UploadStatus",
]

TUS_CHECKSUM_ALGORITHMS = ("sha1", "sha256", "md5")
"""Digests a tus PATCH may declare in ``Upload-Checksum``."""


class UploadKind(enum.StrEnum):
    PRESIGNED = "presigned"
    MULTIPART = "multipart"
    TUS = "tus"


class UploadState(enum.StrEnum):
    OPEN = "open"
    UPLOADED = "uploaded"
    COMPLETED = "completed"
    ABORTED = "aborted"


@dataclasses.dataclass(frozen=True, slots=True)
class UploadRecord:
    """One upload in progress; ``artifact_id`` is reserved for the artifact it becomes."""

    upload_id: str
    kind: UploadKind
    state: UploadState
    sandbox_id: str
    artifact_id: str
    session_id: str
    owner_id: str | None
    actor_id: str | None
    scope: Scope
    filename: str | None
    mime: str
    summary: str
    meta: dict[str, Any]
    ttl: int | None
    length: int | None
    offset: int
    parts: dict[str, Any]
    created_at: float
    expires_at: float

    def is_expired(self, now: float) -> bool:
        return self.expires_at <= now


@dataclasses.dataclass(frozen=True, slots=True)
class UploadStatus:
    """Where an upload stands, as every face reports it (tus HEAD, PATCH and POST answers).

    ``artifact_id`` is the artifact the upload becomes; it exists once ``state`` is
    ``completed``. ``offset`` is the number of bytes received (of ``length`` when declared).
    """

    upload_id: str
    kind: UploadKind
    state: UploadState
    artifact_id: str
    offset: int
    length: int | None
    expires_at: float

    @property
    def complete(self) -> bool:
        return self.state is UploadState.COMPLETED

    @classmethod
    def of(cls, record: UploadRecord) -> UploadStatus:
        offset = record.offset
        if record.state is UploadState.COMPLETED and record.length is not None:
            offset = record.length
        return cls(
            upload_id=record.upload_id,
            kind=record.kind,
            state=record.state,
            artifact_id=record.artifact_id,
            offset=offset,
            length=record.length,
            expires_at=record.expires_at,
        )


@dataclasses.dataclass(frozen=True, slots=True)
class SignedUpload:
    """What a PUT to a presigned upload URL stored: a whole file or one part of a multipart
    upload (then with its ``etag`` and ``part_number``)."""

    kind: str
    """``upload`` (a presign_upload URL) or ``part`` (a get_part_upload_url URL)."""
    size: int
    etag: str | None = None
    part_number: int | None = None
