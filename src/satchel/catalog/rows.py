"""Conversions between catalog rows and domain records, and opaque page cursors."""

from __future__ import annotations

import base64
import json
from typing import Any

from satchel.core.errors import InvalidRequestError
from satchel.core.metadata import readable_meta
from satchel.core.models import ArtifactRecord, SessionRecord
from satchel.core.policies import PUBLIC
from satchel.core.scopes import Scope
from satchel.core.validation import readable_mime, readable_text

__all__ = ["artifact_values", "decode_cursor", "encode_cursor", "to_artifact", "to_session"]


def to_artifact(row: Any) -> ArtifactRecord:
    meta = readable_meta(row.meta, artifact_id=row.artifact_id)
    return ArtifactRecord(
        artifact_id=row.artifact_id,
        sandbox_id=row.sandbox_id,
        scope=Scope(row.scope),
        session_id=row.session_id,
        owner_id=row.owner_id,
        filename=None if row.filename is None else readable_text(row.filename),
        mime=readable_mime(row.mime),
        summary=readable_text(row.summary),
        meta=meta,
        bytes=row.bytes,
        sha256=row.sha256,
        etag=row.etag,
        version=row.version,
        key=row.key,
        stored_at=row.stored_at,
        updated_at=row.updated_at,
        expires_at=row.expires_at,
        ttl=row.ttl,
        storage_provider=row.storage_provider,
        retention_class=row.retention_class,
        retain_until=row.retain_until,
        policy=row.policy if row.policy == PUBLIC else None,
    )


def artifact_values(record: ArtifactRecord) -> dict[str, Any]:
    return {
        "artifact_id": record.artifact_id,
        "sandbox_id": record.sandbox_id,
        "scope": record.scope.value,
        "session_id": record.session_id,
        "owner_id": record.owner_id,
        "filename": record.filename,
        "mime": record.mime,
        "summary": record.summary,
        "meta": record.meta,
        "bytes": record.bytes,
        "sha256": record.sha256,
        "etag": record.etag,
        "version": record.version,
        "key": record.key,
        "stored_at": record.stored_at,
        "updated_at": record.updated_at,
        "expires_at": record.expires_at,
        "ttl": record.ttl,
        "storage_provider": record.storage_provider,
        "retention_class": record.retention_class,
        "retain_until": record.retain_until,
        "policy": record.policy,
    }


def to_session(row: Any) -> SessionRecord:
    return SessionRecord(
        session_id=row.session_id,
        sandbox_id=row.sandbox_id,
        user_id=row.user_id,
        created_at=row.created_at,
        expires_at=row.expires_at,
    )


def encode_cursor(*parts: Any) -> str:
    raw = json.dumps(list(parts), separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, arity: int) -> list[Any]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        parts = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, TypeError, RecursionError) as exc:
        raise InvalidRequestError("malformed page cursor") from exc
    if not isinstance(parts, list) or len(parts) != arity:
        raise InvalidRequestError("malformed page cursor")
    return parts
