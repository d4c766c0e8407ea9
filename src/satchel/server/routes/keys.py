"""``/v1/keys…``: API keys of this sandbox (admin tokens only; the token is returned once, on
creation, and the catalog keeps a digest of its secret), and ``/v1/whoami`` (any token)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict

from satchel.server.deps import Access, GuardedRoute, access, get_principal, get_store

__all__ = ["router"]

router = APIRouter(route_class=GuardedRoute, tags=["keys"])


class KeyBody(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    user_id: str
    admin: bool = False
    name: str = ""
    ttl: int | None = None


@router.post("/v1/keys", status_code=201, summary="Create an API key (the token is shown once)")
@access(Access.ADMIN)
async def create_key(request: Request, body: KeyBody) -> JSONResponse:
    token, key = await get_store(request).create_api_key(
        body.user_id, admin=body.admin, name=body.name, ttl=body.ttl
    )
    return JSONResponse({**key.to_dict(), "token": token}, status_code=201)


@router.get("/v1/keys", summary="List API keys (never their secrets)")
@access(Access.ADMIN)
async def list_keys(request: Request, include_revoked: bool = False) -> JSONResponse:
    keys = await get_store(request).list_api_keys(include_revoked=include_revoked)
    return JSONResponse({"items": [key.to_dict() for key in keys]})


@router.delete("/v1/keys/{key_id}", summary="Revoke an API key")
@access(Access.ADMIN)
async def revoke_key(request: Request, key_id: str) -> JSONResponse:
    key = await get_store(request).revoke_api_key(key_id)
    return JSONResponse(key.to_dict())


@router.get("/v1/whoami", summary="The principal of the presented token")
@access(Access.PRINCIPAL)
async def whoami(request: Request) -> JSONResponse:
    """Who the bearer token acts as: user, sandbox, admin role, and its API key if it is one."""
    principal = get_principal(request)
    return JSONResponse(
        {
            "user_id": principal.user_id,
            "sandbox_id": principal.sandbox_id or get_store(request).sandbox_id,
            "admin": principal.is_admin,
            "name": principal.name,
            "key": None if principal.key is None else principal.key.to_dict(),
        }
    )
