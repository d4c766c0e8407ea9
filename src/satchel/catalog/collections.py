"""Catalog operations on collections: which artifacts belong to which named collection.

``reader.collections`` / ``writer.collections`` hand out :class:`CollectionRows` bound to the
caller's connection. Membership rows go with their artifact (``delete_artifact`` removes them in
the same transaction), and listings count only live artifacts the caller may read.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, func, insert, select

from satchel.catalog.connection import CatalogConnection
from satchel.catalog.tables import artifacts, collection_members

__all__ = ["CollectionRows", "member_clause"]


def member_clause(sandbox_id: str, collection: str) -> Any:
    """A WHERE clause on ``artifacts``: the artifact belongs to *collection*."""
    members = select(collection_members.c.artifact_id).where(
        collection_members.c.sandbox_id == sandbox_id,
        collection_members.c.collection == collection,
    )
    return artifacts.c.artifact_id.in_(members)


class CollectionRows:
    def __init__(self, conn: CatalogConnection) -> None:
        self.conn = conn

    async def members_among(
        self, sandbox_id: str, collection: str, artifact_ids: list[str]
    ) -> set[str]:
        """Which of *artifact_ids* already belong to *collection*."""
        query = select(collection_members.c.artifact_id).where(
            collection_members.c.sandbox_id == sandbox_id,
            collection_members.c.collection == collection,
            collection_members.c.artifact_id.in_(artifact_ids),
        )
        return {row.artifact_id for row in await self.conn.execute(query)}

    async def add(
        self, sandbox_id: str, collection: str, artifact_ids: list[str], now: float
    ) -> None:
        for artifact_id in artifact_ids:  # (a batch is at most 1,000: one statement each)
            values = {
                "sandbox_id": sandbox_id,
                "collection": collection,
                "artifact_id": artifact_id,
                "added_at": now,
            }
            await self.conn.execute(insert(collection_members), values)

    async def remove(self, sandbox_id: str, collection: str, artifact_ids: list[str]) -> None:
        if artifact_ids:
            await self.conn.execute(
                delete(collection_members).where(
                    collection_members.c.sandbox_id == sandbox_id,
                    collection_members.c.collection == collection,
                    collection_members.c.artifact_id.in_(artifact_ids),
                )
            )

    async def of_artifact(self, sandbox_id: str, artifact_id: str) -> list[str]:
        query = (
            select(collection_members.c.collection)
            .where(
                collection_members.c.sandbox_id == sandbox_id,
                collection_members.c.artifact_id == artifact_id,
            )
            .order_by(collection_members.c.collection)
        )
        return [row.collection for row in await self.conn.execute(query)]

    async def counts(
        self, sandbox_id: str, clauses: list[Any], *, after: str | None, limit: int
    ) -> list[tuple[str, int]]:
        """Collection names (after *after*, in order) with how many of their members match
        *clauses* (on ``artifacts``: live, readable by the caller); empty ones are left out."""
        query = (
            select(collection_members.c.collection, func.count().label("members"))
            .select_from(
                collection_members.join(
                    artifacts, artifacts.c.artifact_id == collection_members.c.artifact_id
                )
            )
            .where(collection_members.c.sandbox_id == sandbox_id, *clauses)
            .group_by(collection_members.c.collection)
            .order_by(collection_members.c.collection)
            .limit(limit)
        )
        if after is not None:
            query = query.where(collection_members.c.collection > after)
        return [(row.collection, int(row.members)) for row in await self.conn.execute(query)]
