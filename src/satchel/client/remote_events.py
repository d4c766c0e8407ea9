"""The remote event feed (``GET /v1/events``, asked for as JSON)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from satchel.client.transport import RemoteBase, _params
from satchel.core.events import MAX_WAIT_SECONDS

__all__ = ["RemoteEventsMixin"]

_LONG_POLL_SLACK = 15.0
"""How much longer than the server's wait a long poll may take before it times out here."""


class RemoteEventsMixin(RemoteBase):
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
        """One page of the feed (see the contract)."""
        params = _params(
            after=after,
            subject=subject,
            limit=limit,
            wait=wait,
            user_id=user_id,
            session_id=session_id,
            format="json",
        )
        asked = [types] if isinstance(types, str) else list(types or ())
        query: list[tuple[str, Any]] = [*params.items(), *(("type", t) for t in asked)]
        timeout = float(wait if isinstance(wait, (int, float)) else MAX_WAIT_SECONDS)
        response = await self._request(
            "GET", "/v1/events", params=query, at_least=timeout + _LONG_POLL_SLACK
        )
        page: dict[str, Any] = response.json()
        return page

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
        """Log an agent's tool call (see the contract; the server records the principal of
        this client's token, so *principal* is not sent)."""
        body = {
            "tool": tool,
            "outcome": outcome,
            "subjects": list(subjects),
            "client": client,
            "user_id": user_id,
            "session_id": session_id,
        }
        await self._request("POST", "/v1/events/tool-calls", json_body=body)
