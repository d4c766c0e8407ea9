"""``/v1/signed/{token}``: what a presigned URL grants (the signature is the capability)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from satchel.core.errors import AccessDeniedError
from satchel.server.bodies import request_body
from satchel.server.content import content_response
from satchel.server.deps import Access, GuardedRoute, access, get_store
from satchel.server.ranges import quote_etag

__all__ = ["router"]

router = APIRouter(route_class=GuardedRoute, tags=["signed"])


@router.get(
    "/v1/signed/{token}",
    summary="Download through a presigned URL",
    response_class=Response,
)
@router.head(
    "/v1/signed/{token}",
    summary="Headers of a presigned download",
    response_class=Response,
)
@access(Access.SIGNED)
async def signed_download(request: Request, token: str) -> Response:
    store = get_store(request)
    record = await store.signed_download(token)
    return await content_response(request, store, record)


@router.put("/v1/signed/{token}", summary="Upload through a presigned URL (file or part)")
@access(Access.SIGNED)
async def signed_put(request: Request, token: str) -> JSONResponse:
    store = get_store(request)
    grant = store.verify_signed(token, "PUT")
    if grant.kind == "upload":
        size = await store.signed_upload(token, request_body(request))
        return JSONResponse({"size": size})
    if grant.kind == "part":
        etag = await store.signed_part_upload(token, request_body(request))
        return JSONResponse(
            {"etag": etag, "part_number": grant.part_number},
            headers={"ETag": quote_etag(etag)},
        )
    raise AccessDeniedError("this signed URL does not allow uploads")
