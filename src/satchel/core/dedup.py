"""The one rule for reusing an artifact instead of uploading the same content again.

A client that finds its file's content already stored (``search(sha256=…)``) may answer with
that artifact only when it is exactly what the new upload would create: same filename, type,
summary, custom metadata, scope and owner, and neither expires (an expiring artifact would
expire before a new upload's TTL runs out). Anything else needs a new artifact; the blob store
keeps one copy of the bytes either way.
"""

from __future__ import annotations

from typing import Any

from satchel.core.mime import guess_mime
from satchel.core.models import ArtifactMetadata
from satchel.core.scopes import Scope, parse_scope
from satchel.core.unset import UNSET, Unset
from satchel.core.validation import check_meta

__all__ = ["reusable"]


def reusable(
    existing: ArtifactMetadata,
    *,
    filename: str | None,
    mime: str | None,
    summary: str,
    meta: dict[str, Any] | None,
    scope: Scope | str,
    user_id: str | None,
    session_id: str | None,
    ttl: int | Unset | None,
) -> bool:
    """Whether *existing* is what storing the same content with these arguments would create.

    *existing* comes from a search of what the caller may read (a user token's search is its
    own user's), so ``user_id=None`` accepts the owner the search found.
    """
    wanted_scope = parse_scope(scope)
    wanted_ttl = ttl if ttl is not UNSET else (UNSET if wanted_scope is Scope.SESSION else None)
    return (
        existing.expires_at is None
        and wanted_ttl is None
        and existing.scope is wanted_scope
        and existing.filename == filename
        and existing.mime == (mime if mime is not None else guess_mime(filename))
        and existing.summary == summary
        and existing.meta == check_meta(meta, max_bytes=2**62)
        and (wanted_scope is not Scope.USER or user_id in (None, existing.owner_id))
        and (session_id is None or existing.session_id == session_id)
    )
