"""``/v1/signed/{token}``: what a presigned URL grants (the signature is the capability)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from satchel.core.headers import quote_etag
from satchel.server.bodies import declared_length, declared_sha256, request_body
from satchel.server.content import content_response, read_conditions, wants_file
from satchel.server.deps import Access, GuardedRoute, access, get_store

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
    content = await get_store(request).open_signed_content(
        token, **read_conditions(request), local_file=wants_file(request)
    )
    return content_response(request, content)


@router.put("/v1/signed/{token}", summary="Upload through a presigned URL (file or part)")
@access(Access.SIGNED)
async def signed_put(request: Request, token: str) -> JSONResponse:
    stored = await get_store(request).signed_put(
        token,
        request_body(request),
        length=declared_length(request),
        sha256=declared_sha256(request),
    )
    body = {"kind": stored.kind, "size": stored.size}
    if stored.kind == "part":
        body.update(etag=stored.etag, part_number=stored.part_number)
        return JSONResponse(body, headers={"ETag": quote_etag(str(stored.etag))})
    return JSONResponse(body)
