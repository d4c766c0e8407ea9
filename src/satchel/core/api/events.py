"""The contract of the event feed: every state change, in order, filtered to what the caller
may read (see :mod:`satchel.core.events` and docs/events.md)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Any, Protocol

from satchel.core.api._derived import derived
from satchel.core.events import MAX_WAIT_SECONDS

__all__ = ["EventsAPI"]


class EventsAPI(Protocol):
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
        """One page of the feed: ``{"events": [...], "next_after": seq}``, oldest first.

        Each event is ``{"seq", "time", "type", "subject", "actor", "payload"}``. Only events
        with a sequence number above *after* come back, of the *types* asked for (names or
        prefixes such as ``v1.package.``), about *subject* when given, and about what the
        caller (*user_id* / *session_id*; neither: the application) may read. With *wait*
        seconds (at most 30) an empty page waits for the first matching event (a long poll).
        Resume with ``after=next_after``: nothing is missed, nothing comes twice.
        """

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
        """Log that an agent called *tool* (an MCP tool) as the caller: a
        ``v1.mcp.tool_called`` event whose actor is the caller's user, so agents' actions are
        attributed. *outcome* is ``ok`` or the error code the call ended with; *subjects* are
        the ids it was about (at most 20); *client* names the agent's software; *principal*
        names the credential it used (an API key's name, an admin acting for the user). Over
        HTTP the server sets *principal* from the request's token, whatever the caller says.
        The event is seen by the caller (its user or session) and by admins."""

    @derived
    async def events(
        self,
        after: int = 0,
        *,
        types: Sequence[str] | None = None,
        subject: str | None = None,
        follow: bool = False,
        page_size: int = 100,
        user_id: str | None = None,
        session_id: str | None = None,
    ) -> AsyncIterator[dict[str, Any]]:
        """Every matching event after *after*, oldest first; with *follow*, keep waiting for new
        ones (until the loop stops). ``async for event in store.events(after=seq): ...``"""
        while True:
            page = await self.list_events(
                after,
                types=types,
                subject=subject,
                limit=page_size,
                wait=MAX_WAIT_SECONDS if follow else 0.0,
                user_id=user_id,
                session_id=session_id,
            )
            for event in page["events"]:
                yield event
            after = page["next_after"]
            if not follow and len(page["events"]) < page_size:
                return
