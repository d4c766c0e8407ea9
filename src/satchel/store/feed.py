"""The event feed (``list_events``; ``events()`` is derived from it in the contract).

A page is read under the caller's audience; an empty page may wait (a long poll): this process's
own commits wake it at once, other processes' are found by polling the log every
:data:`POLL_SECONDS`.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from satchel.catalog.feed import read_events
from satchel.core.errors import InvalidRequestError
from satchel.core.events import MAX_SEQ, MAX_WAIT_SECONDS, EventPage, check_event_types
from satchel.core.validation import check_limit, check_optional_id
from satchel.store.context import StoreContext
from satchel.store.gate import AccessGate

__all__ = ["POLL_SECONDS", "EventFeed", "check_after"]

POLL_SECONDS = 0.25
"""How often a waiting reader looks for events other processes committed."""


def check_after(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_SEQ:
        raise InvalidRequestError(f"after must be a sequence number from 0 to {MAX_SEQ}")
    return value


def _check_wait(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidRequestError("wait must be a number of seconds")
    if not 0 <= value <= MAX_WAIT_SECONDS:  # also refuses NaN
        raise InvalidRequestError(f"wait must be from 0 to {MAX_WAIT_SECONDS:g} seconds")
    return float(value)


class EventFeed:
    def __init__(self, context: StoreContext, gate: AccessGate) -> None:
        self.context = context
        self.gate = gate

    async def list_events(
        self,
        after: int = 0,
        *,
        types: Sequence[str] | None = None,
        subject: str | None = None,
        limit: int = 100,
        wait: float = 0.0,
        user_id: str | None = None,
        session_id: str | None = None,
    ) -> dict[str, Any]:
        after = check_after(after)
        wanted = check_event_types(types)
        subject = check_optional_id("subject", subject)
        limit = check_limit(limit)
        deadline = time.monotonic() + _check_wait(wait)
        context = self.context
        await context.ensure_open()
        caller = await self.gate.caller(user_id, session_id)
        while True:
            async with context.catalog.read() as reader:
                page: EventPage = await read_events(
                    reader.conn,
                    sandbox_id=context.sandbox_id,
                    caller=caller,
                    after=after,
                    limit=limit,
                    types=wanted,
                    subject=subject,
                )
            left = deadline - time.monotonic()
            if page.events or left <= 0:
                return page.to_dict()
            after = page.next_after  # past what this caller may not see
            await context.catalog.wait_for_events(min(left, POLL_SECONDS))
