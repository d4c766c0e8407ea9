"""``GET /v1/events``: the event feed, a long poll. CBOR by default (seed 001), JSON with
``Accept: application/json`` (or ``format=json``). One store call per request."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import cbor2
from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from satchel.core.events import MAX_SEQ, MAX_WAIT_SECONDS
from satchel.core.validation import MAX_PAGE
from satchel.server.deps import Access, GuardedRoute, access, caller_ids, get_principal, get_store
from satchel.server.negotiation import CBOR, wants_cbor

__all__ = ["router"]

router = APIRouter(route_class=GuardedRoute, tags=["events"])


class Event(BaseModel):
    seq: int
    time: float
    type: str
    subject: str
    actor: str | None
    payload: dict[str, Any]


class EventPage(BaseModel):
    events: list[Event]
    next_after: int


@router.get(
    "/v1/events",
    summary="The event feed after a sequence number (long poll; CBOR, or JSON by Accept)",
    response_description="A page of events and the sequence number to resume after",
    responses={
        200: {
            "model": EventPage,
            "content": {CBOR: {"schema": {"type": "string", "format": "binary"}}},
        }
    },
)
@access(Access.READ)
async def list_events(
    request: Request,
    after: Annotated[int, Query(ge=0, le=MAX_SEQ)] = 0,
    type: Annotated[list[str] | None, Query(description="a type, or a prefix ending in .")] = None,
    subject: str | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100,
    wait: Annotated[float, Query(ge=0, le=MAX_WAIT_SECONDS, description="seconds")] = 0.0,
    format: Literal["cbor", "json"] | None = None,
    user_id: str | None = None,
    session_id: str | None = None,
) -> Response:
    cbor = wants_cbor(request, format, default="cbor")
    ids = caller_ids(
        request, get_principal(request), user_id=user_id, session_id=session_id, read=True
    )
    page = await get_store(request).list_events(
        after, types=type, subject=subject, limit=limit, wait=wait, **ids
    )
    headers = {
        "Vary": "Accept",
        "Cache-Control": "no-store",
        "X-Next-After": str(page["next_after"]),
    }
    if cbor:
        return Response(cbor2.dumps(page, canonical=True), media_type=CBOR, headers=headers)
    return JSONResponse(page, headers=headers)


class ToolCallBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tool: str = Field(description="the tool's name")
    outcome: str = Field("ok", description="ok, or the error code the call ended with")
    subjects: list[str] = Field(default_factory=list, description="the ids it was about")
    client: str | None = Field(None, description="the agent's software")
    user_id: str | None = None
    session_id: str | None = None


@router.post(
    "/v1/events/tool-calls",
    summary="Log an agent's MCP tool call as the caller (a v1.mcp.tool_called event; "
    "self-reported, with the token's principal)",
    status_code=204,
)
@access(Access.PRINCIPAL)
async def record_tool_call(request: Request, body: ToolCallBody) -> Response:
    ids = caller_ids(
        request, get_principal(request), user_id=body.user_id, session_id=body.session_id
    )
    principal = get_principal(request)
    await get_store(request).record_tool_call(
        body.tool,
        outcome=body.outcome,
        subjects=body.subjects,
        client=body.client,
        principal=principal.name or None,
        **ids,
    )
    return Response(status_code=204)
