"""Value objects of the domain: artifact records, public metadata, grid key parts, sessions."""

from __future__ import annotations

import dataclasses
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from satchel.core.scopes import Scope, iso_utc

__all__ = [
    "ArtifactList",
    "ArtifactMetadata",
    "ArtifactRecord",
    "BlobInfo",
    "GridKeyComponents",
    "SessionRecord",
]


@dataclasses.dataclass(frozen=True, slots=True)
class BlobInfo:
    """What a blob backend knows of one blob."""

    digest: str
    """``sha256:<hex>``."""
    size: int
    created: bool = False
    """True when this put wrote new bytes; False when identical content was already stored."""

    @property
    def hex(self) -> str:
        return self.digest.split(":", 1)[1]


RETAINED_FOREVER = 253402300799.0
"""9999-12-31T23:59:59Z: the retention end of an artifact kept forever."""


@dataclasses.dataclass(frozen=True, slots=True)
class ArtifactRecord:
    """One catalog row: a scoped, named pointer to a blob plus metadata."""

    artifact_id: str
    sandbox_id: str
    scope: Scope
    session_id: str
    owner_id: str | None
    filename: str | None
    mime: str
    summary: str
    meta: dict[str, Any]
    bytes: int
    sha256: str
    etag: str
    version: int
    key: str
    stored_at: float
    updated_at: float
    expires_at: float | None
    ttl: int | None
    storage_provider: str
    retention_class: str | None = None
    retain_until: float | None = None
    """No delete, replacement or rename before this (its retention class, or set_retention;
    :data:`RETAINED_FOREVER` for a class without end). Retention suspends expiry."""
    policy: str | None = None
    """``public``: readable by anyone who names it (:mod:`satchel.core.policies`); None: private."""

    def is_expired(self, now: float) -> bool:
        expired = self.expires_at is not None and self.expires_at <= now
        return expired and not self.is_retained(now)

    def is_retained(self, now: float) -> bool:
        return self.retain_until is not None and now < self.retain_until


@dataclasses.dataclass(frozen=True, slots=True)
class SessionRecord:
    """A session: a security boundary owned by (at most) one user, with an expiry."""

    session_id: str
    sandbox_id: str
    user_id: str | None
    created_at: float
    expires_at: float | None

    def is_expired(self, now: float) -> bool:
        return self.expires_at is not None and self.expires_at <= now


class ArtifactMetadata(BaseModel):
    """The public view of an artifact, as ``metadata()``, ``search()`` and listings return it.

    Also readable like a mapping (``meta["bytes"]``, ``meta.get("mime")``) for code written
    against dict-returning versions of the seed API.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    artifact_id: str
    session_id: str
    sandbox_id: str
    scope: Scope
    owner_id: str | None = None
    filename: str | None = None
    mime: str
    summary: str = ""
    meta: dict[str, Any] = Field(default_factory=dict)
    bytes: int
    sha256: str
    etag: str
    version: int
    key: str
    stored_at: str
    updated_at: str
    expires_at: str | None = None
    ttl: int | None = None
    storage_provider: str
    session_provider: str = "memory"
    retention_class: str | None = None
    retain_until: str | None = None
    """When retention ends (ISO 8601; None: not retained): no delete before then."""
    policy: str | None = None
    """``public``: readable by anyone who names it, without a token; None: private."""

    @property
    def size(self) -> int:
        return self.bytes

    def __getitem__(self, name: str) -> Any:
        if name not in type(self).model_fields:
            raise KeyError(name)
        return getattr(self, name)

    def get(self, name: str, default: Any = None) -> Any:
        return getattr(self, name) if name in type(self).model_fields else default

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json")

    @classmethod
    def from_record(cls, record: ArtifactRecord, *, session_provider: str) -> ArtifactMetadata:
        return cls(
            artifact_id=record.artifact_id,
            session_id=record.session_id,
            sandbox_id=record.sandbox_id,
            scope=record.scope,
            owner_id=record.owner_id,
            filename=record.filename,
            mime=record.mime,
            summary=record.summary,
            meta=dict(record.meta),
            bytes=record.bytes,
            sha256=record.sha256,
            etag=record.etag,
            version=record.version,
            key=record.key,
            stored_at=iso_utc(record.stored_at) or "",
            updated_at=iso_utc(record.updated_at) or "",
            expires_at=iso_utc(record.expires_at),
            ttl=record.ttl,
            storage_provider=record.storage_provider,
            session_provider=session_provider,
            retention_class=record.retention_class,
            retain_until=iso_utc(record.retain_until),
            policy=record.policy,
        )


class ArtifactList(list[ArtifactMetadata]):
    """A page of artifacts; ``next_cursor`` continues the listing (None on the last page)."""

    next_cursor: str | None = None

    def __init__(self, items: list[ArtifactMetadata], next_cursor: str | None = None) -> None:
        super().__init__(items)
        self.next_cursor = next_cursor


class GridKeyComponents(BaseModel):
    """The parts of a grid key, as ``parse_grid_key`` returns them."""

    model_config = ConfigDict(frozen=True)

    sandbox_id: str
    scope: Scope
    artifact_id: str
    session_id: str | None = None
    user_id: str | None = None
    subpath: str | None = None
