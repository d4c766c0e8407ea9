"""``/v1/sessions…``: create a session, read its owner and expiry (``valid`` says whether it can
still be used). A user token creates and reads only its own user's sessions."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict

from satchel.core.errors import ArtifactNotFoundError
from satchel.server.deps import Access, GuardedRoute, access, caller_ids, get_principal, get_store

__all__ = ["router"]

router = APIRouter(route_class=GuardedRoute, tags=["sessions"])


class SessionBody(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)  # "2" is not a number of hours

    user_id: str | None = None
    ttl_hours: float | None = None


@router.post("/v1/sessions", status_code=201, summary="Create a session")
@access(Access.PRINCIPAL)
async def create_session(request: Request, body: SessionBody | None = None) -> JSONResponse:
    body = body or SessionBody()
    ids = caller_ids(request, get_principal(request), user_id=body.user_id)
    store = get_store(request)
    session_id = await store.create_session(user_id=ids["user_id"], ttl_hours=body.ttl_hours)
    info = await store.get_session_info(session_id)
    return JSONResponse({**(info or {}), "valid": True}, status_code=201)


@router.get("/v1/sessions/{session_id}", summary="A session's owner and expiry")
@access(Access.PRINCIPAL)
async def get_session(request: Request, session_id: str) -> JSONResponse:
    principal = get_principal(request)
    caller_ids(request, principal)  # anonymous callers are refused here
    store = get_store(request)
    info = await store.get_session_info(session_id)
    if info is None or not (principal.is_admin or info["user_id"] == principal.user_id):
        raise ArtifactNotFoundError(f"no session {session_id}")  # no oracle for others' ids
    return JSONResponse({**info, "valid": await store.validate_session(session_id)})
