"""Upload sessions: the state of a presigned, multipart or tus upload. Pure data."""

from __future__ import annotations

import dataclasses
import enum
from typing import Any

from satchel.core.scopes import Scope

__all__ = ["UploadKind", "UploadRecord", "UploadState"]


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
