"""``Aspect``: one typed metadata record as the IVCAP-style client returns it."""

from __future__ import annotations

import dataclasses
from typing import Any

from satchel.client.artifacts.references import ASPECT_URN

__all__ = ["Aspect"]


@dataclasses.dataclass(frozen=True, slots=True)
class Aspect:
    """An aspect: ``id`` is its URN (``urn:satchel:aspect:<id>``), ``entity`` what it describes,
    ``schema`` the schema its content passed, ``content`` the record itself (``$schema``
    included when it was given), ``policy`` as recorded, ``state`` ``active`` or ``retracted``."""

    id: str
    aspect_id: str
    entity: str
    schema: str
    content: dict[str, Any]
    policy: str | None
    state: str
    created_at: Any = None

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> Aspect:
        """The aspect a store answered (see docs/aspects.md for the record's fields)."""
        aspect_id = str(record["aspect_id"])
        return cls(
            id=str(record.get("urn") or ASPECT_URN + aspect_id),
            aspect_id=aspect_id,
            entity=str(record["entity"]),
            schema=str(record["schema"]),
            content=dict(record.get("content") or {}),
            policy=record.get("policy"),
            state=str(record.get("state", "active")),
            created_at=record.get("created_at"),
        )

    def __repr__(self) -> str:
        return f"<Aspect id={self.id}, entity={self.entity}, schema={self.schema}>"
