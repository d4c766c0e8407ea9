"""The contract of aspects and provenance (seed 002's ``add_aspect`` … ``list_aspects``, and
``lineage``). Aspects are described as plain dictionaries (what the HTTP service answers):
``{aspect_id, urn, entity, entity_kind, schema, content, policy, state, created_at,
retracted_at, actor}``; see docs/aspects.md."""

from __future__ import annotations

from typing import Any, Protocol

__all__ = ["AspectsAPI"]


class AspectsAPI(Protocol):
    async def add_aspect(
        self,
        entity: str,
        aspect: dict[str, Any],
        *,
        schema: str | None = None,
        policy: str | None = None,
        user_id: str | None = None,
    ) -> dict[str, Any]:
        """Record a typed metadata record about *entity* (an artifact or package id, its
        ``urn:satchel:…`` URN, or any URN such as a job's) and return it.

        *schema* (or the aspect's ``$schema`` key) names a registered metadata schema
        (``slug`` or ``slug@N``) or a built-in provenance schema
        (``urn:satchel:schema:produced-by.1``, ``urn:satchel:schema:used-by.1``, whose content
        is ``{"job": <urn>}``); the content must match it. Adding an aspect to an artifact or
        package needs write access to it; *policy* is recorded.
        """

    async def update_aspect(
        self,
        entity: str,
        aspect: dict[str, Any],
        *,
        schema: str | None = None,
        policy: str | None = None,
        user_id: str | None = None,
    ) -> dict[str, Any]:
        """Retract *entity*'s active aspects of the schema (every version of its slug) and add
        this one, at once; return the new aspect."""

    async def retract_aspect(self, aspect_id: str, *, user_id: str | None = None) -> dict[str, Any]:
        """Retract an aspect (it stays, marked retracted, in listings that ask for it)."""

    async def get_aspect(self, aspect_id: str, *, user_id: str | None = None) -> dict[str, Any]:
        """One aspect, by id or ``urn:satchel:aspect:…`` URN (404 when the caller may not read
        what it describes)."""

    async def list_aspects(
        self,
        entity: str | None = None,
        schema: str | None = None,
        *,
        include_retracted: bool = False,
        limit: int = 100,
        cursor: str | None = None,
        user_id: str | None = None,
    ) -> dict[str, Any]:
        """``{"items": [aspect…], "next_cursor"}``, oldest first: the caller's visible aspects,
        of one *entity* and/or *schema* (a slug matches all its versions)."""

    async def lineage(
        self,
        entity: str,
        direction: str = "up",
        depth: int = 3,
        *,
        user_id: str | None = None,
    ) -> dict[str, Any]:
        """Walk provenance from *entity*: ``up`` to the jobs that produced it and the inputs
        they used, ``down`` to the jobs that used it and what they produced, *depth* job hops
        (1-20). ``{"entity", "direction", "depth", "nodes": [{id, kind, level}], "edges":
        [{entity, job, relation}], "truncated"}``; links the caller may not see are left out."""
