"""The contract of sharing: an artifact's read policy (public or private) and named collections
(seed 002's ``policy=`` and ``collection=``). Rules: :mod:`satchel.core.policies`."""

from __future__ import annotations

from typing import Any, Protocol

from satchel.core.models import ArtifactMetadata

__all__ = ["SharingAPI"]


class SharingAPI(Protocol):
    async def set_policy(
        self,
        artifact_id: str,
        policy: str | None,
        *,
        user_id: str | None = None,
        session_id: str | None = None,
    ) -> ArtifactMetadata:
        """Make an artifact ``public`` (readable by anyone who names it, without a token; also
        ``open`` and the policy URNs of docs/sharing.md) or private again (``private`` or
        None). Needs write access; a new version (etag) and a ``v1.artifact.policy_changed``
        event. Public artifacts do not join other callers' listings."""

    async def add_to_collection(
        self,
        collection: str,
        artifact_ids: list[str],
        *,
        user_id: str | None = None,
        session_id: str | None = None,
    ) -> int:
        """Add artifacts (ids or URNs, at most 1,000) to *collection* (a name, or
        ``urn:satchel:collection:<name>``) and return how many joined (members already in it
        are left as they are). Needs write access to every one: if any is refused or missing,
        none joins."""

    async def remove_from_collection(
        self,
        collection: str,
        artifact_ids: list[str],
        *,
        user_id: str | None = None,
        session_id: str | None = None,
    ) -> int:
        """Remove artifacts from *collection*; return how many left it (all or none, as
        :meth:`add_to_collection`)."""

    async def list_collections(
        self,
        *,
        limit: int = 100,
        cursor: str | None = None,
        user_id: str | None = None,
        session_id: str | None = None,
    ) -> dict[str, Any]:
        """The collections holding live artifacts the caller can list, by name:
        ``{"collections": [{"collection", "urn", "artifacts"}…], "next_cursor"}`` (``artifacts``
        counts the members the caller can list; pass ``next_cursor`` for more)."""

    async def get_collections(
        self,
        artifact_id: str,
        *,
        user_id: str | None = None,
        session_id: str | None = None,
    ) -> list[str]:
        """The names of the collections an artifact (that the caller may read) belongs to."""
