"""The event feed (``list_events``; ``events()`` is derived from it in the contract).

A page is read under the caller's audience; an empty page may wait (a long poll): this process's
own commits wake it at once, other processes' are found by polling the log every
:data:`POLL_SECONDS`.
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from typing import Any

from satchel.catalog.feed import read_events
from satchel.core.access import Caller
from satchel.core.errors import InvalidRequestError
from satchel.core.events import (
    MAX_SEQ,
    MAX_WAIT_SECONDS,
    Audience,
    EventPage,
    check_event_types,
)
from satchel.core.validation import check_id, check_limit, check_optional_id
from satchel.store.context import StoreContext
from satchel.store.gate import AccessGate

__all__ = ["MAX_CALL_SUBJECTS", "POLL_SECONDS", "EventFeed", "check_after"]

POLL_SECONDS = 0.25
"""How often a waiting reader looks for events other processes committed."""


MAX_CALL_SUBJECTS = 20
"""The most ids one recorded tool call names."""

_NAME_RE = re.compile(r"[a-z][a-z0-9_]{0,63}")
_MAX_CLIENT = 200


def _check_name(kind: str, value: object) -> str:
    if not isinstance(value, str) or not _NAME_RE.fullmatch(value):
        raise InvalidRequestError(
            f"{kind} must be 1-64 lowercase letters, digits and _, starting with a letter"
        )
    return value


def _check_client(kind: str, value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > _MAX_CLIENT or not value.isprintable():
        raise InvalidRequestError(f"{kind} must be printable text of at most {_MAX_CLIENT} chars")
    return value


def _check_subjects(value: object) -> list[str]:
    if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple)):
        raise InvalidRequestError("subjects must be a list of ids")
    if len(value) > MAX_CALL_SUBJECTS:
        raise InvalidRequestError(f"subjects may name at most {MAX_CALL_SUBJECTS} ids")
    return [check_id("subject", item) for item in value]


def _audience_of(caller: Caller, sandbox_id: str) -> Audience:
    """A tool call is seen by whoever made it (and admins): its user, else its session."""
    if caller.user_id is not None:
        return Audience(sandbox_id=sandbox_id, scope="user", owner_id=caller.user_id)
    if caller.session_id is not None:
        owner = caller.session_owner
        return Audience(sandbox_id, "session", owner_id=owner, session_id=caller.session_id)
    return Audience.admins(sandbox_id)


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

    async def record_tool_call(
        self,
        tool: str,
        *,
        outcome: str = "ok",
        subjects: Sequence[str] = (),
        client: str | None = None,
        principal: str | None = None,
        user_id: str | None = None,
        session_id: str | None = None,
    ) -> None:
        tool = _check_name("tool", tool)
        outcome = _check_name("outcome", outcome)
        ids = _check_subjects(subjects)
        client = _check_client("client", client)
        principal = _check_client("principal", principal)
        context = self.context
        caller = await self.gate.caller(user_id, session_id)
        async with context.catalog.write() as writer:
            await writer.append_event(
                type="v1.mcp.tool_called",
                subject=ids[0] if ids else tool,
                payload={
                    "tool": tool,
                    "outcome": outcome,
                    "subjects": ids,
                    "client": client,
                    "principal": principal,
                },
                actor=caller.user_id,
                time=context.now(),
                audience=_audience_of(caller, context.sandbox_id),
            )
