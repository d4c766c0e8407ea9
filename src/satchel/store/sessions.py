"""Sessions as the API exposes them: create, validate, describe."""

from __future__ import annotations

from typing import Any

from satchel.core.access import Caller
from satchel.core.scopes import iso_utc
from satchel.core.validation import check_id, check_optional_id, check_ttl_hours
from satchel.store.context import StoreContext
from satchel.store.gate import AccessGate

__all__ = ["SessionService"]


class SessionService:
    def __init__(self, context: StoreContext, gate: AccessGate) -> None:
        self.context = context
        self.gate = gate

    async def create_session(
        self, user_id: str | None = None, ttl_hours: float | None = None
    ) -> str:
        check_optional_id("user_id", user_id)
        ttl_hours = check_ttl_hours(ttl_hours)
        await self.context.ensure_open()
        record = await self.gate.allocate_session(
            Caller(user_id=user_id), None, ttl_hours=ttl_hours, counted=True
        )
        return record.session_id

    async def validate_session(self, session_id: str) -> bool:
        check_id("session_id", session_id)
        await self.context.ensure_open()
        record = await self.gate.session_record(session_id)
        return record is not None and not record.is_expired(self.context.now())

    async def get_session_info(self, session_id: str) -> dict[str, Any] | None:
        check_id("session_id", session_id)
        await self.context.ensure_open()
        record = await self.gate.session_record(session_id)
        if record is None:
            return None
        return {
            "session_id": record.session_id,
            "sandbox_id": record.sandbox_id,
            "user_id": record.user_id,
            "created_at": iso_utc(record.created_at),
            "expires_at": iso_utc(record.expires_at),
        }
