"""In-process session cache with expiry and a size bound."""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from satchel.core.clock import Clock, system_clock
from satchel.core.models import SessionRecord

__all__ = ["MemorySessionProvider"]


class MemorySessionProvider:
    """An LRU of session records; expired records are dropped on read."""

    name = "memory"

    def __init__(self, max_entries: int = 100_000, *, clock: Clock = system_clock) -> None:
        self._records: OrderedDict[str, SessionRecord] = OrderedDict()
        self._max = max_entries
        self._clock = clock

    async def get(self, session_id: str) -> SessionRecord | None:
        record = self._records.get(session_id)
        if record is None:
            return None
        if record.is_expired(self._clock()):
            del self._records[session_id]
            return None
        self._records.move_to_end(session_id)
        return record

    async def put(self, record: SessionRecord) -> None:
        self._records[record.session_id] = record
        self._records.move_to_end(record.session_id)
        while len(self._records) > self._max:
            self._records.popitem(last=False)

    async def delete(self, session_id: str) -> None:
        self._records.pop(session_id, None)

    async def check(self) -> dict[str, Any]:
        return {"status": "ok", "provider": self.name, "cached": len(self._records)}

    async def close(self) -> None:
        self._records.clear()
