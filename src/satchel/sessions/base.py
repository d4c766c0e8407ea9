"""The SessionProvider port: a TTL cache of session records in front of the catalog.

The catalog's ``sessions`` table is the durable record; a provider (memory now, Redis for
several replicas) answers hot lookups without a database round trip.
"""

from __future__ import annotations

from typing import Any, Protocol

from satchel.core.models import SessionRecord

__all__ = ["SessionProvider"]


class SessionProvider(Protocol):
    name: str

    async def get(self, session_id: str) -> SessionRecord | None: ...

    async def put(self, record: SessionRecord) -> None: ...

    async def delete(self, session_id: str) -> None: ...

    async def check(self) -> dict[str, Any]: ...

    async def close(self) -> None: ...
