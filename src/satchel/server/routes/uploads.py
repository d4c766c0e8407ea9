"""Multipart uploads: ``POST /v1/uploads``, part URLs, part PUTs, complete and abort."""

from __future__ import annotations

from typing import Any, TypeVar

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from satchel.core.errors import InvalidRequestError
from satchel.core.requests import (
    MultipartUploadCompleteRequest,
    MultipartUploadInitRequest,
    MultipartUploadPart,
)
from satchel.core.scopes import DEFAULT_PRESIGN_EXPIRES
from satchel.core.validation import parse_json
from satchel.server.bodies import request_body
from satchel.server.deps import Access, GuardedRoute, access, caller_ids, get_principal, get_store

router = APIRouter(route_class=GuardedRoute, tags=["uploads"])


class PartUrlRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    expires: int = DEFAULT_PRESIGN_EXPIRES


class CompleteRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    parts: list[MultipartUploadPart] = Field(min_length=1)
    summary: str = "Multipart upload"


MAX_JSON_BYTES = 1024 * 1024
"""The largest JSON body of these routes (an init request, a list of 10,000 parts)."""


async def _json(request: Request) -> Any:
    body = b"".join([c async for c in request_body(request, max_bytes=MAX_JSON_BYTES)])
    if not body.strip():
        return {}
    return parse_json(body, "the request body")


_M = TypeVar("_M", bound=BaseModel)


def _model(model: type[_M], data: Any) -> _M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'body'}: {err['msg']}"
            for err in exc.errors()
        )
        raise InvalidRequestError(problems) from exc


@router.post("/v1/uploads", status_code=201, summary="Start a multipart upload")
@access(Access.PRINCIPAL)
async def initiate_upload(
    request: Request, session_id: str | None = None, user_id: str | None = None
) -> JSONResponse:
    principal = get_principal(request)
    init = _model(MultipartUploadInitRequest, await _json(request))
    ids = caller_ids(
        request,
        principal,
        user_id=init.user_id if init.user_id is not None else user_id,
        session_id=init.session_id if init.session_id is not None else session_id,
    )
    init = init.model_copy(update=ids)
    result = await get_store(request).initiate_multipart_upload(init)
    return JSONResponse(result, status_code=201)


@router.post("/v1/uploads/{upload_id}/parts/{part_number}/url", summary="Presign a part URL")
@access(Access.PRINCIPAL)
async def part_url(
    request: Request,
    upload_id: str,
    part_number: int,
    session_id: str | None = None,
    user_id: str | None = None,
) -> JSONResponse:
    ids = caller_ids(request, get_principal(request), user_id=user_id, session_id=session_id)
    body = _model(PartUrlRequest, await _json(request))
    url = await get_store(request).get_part_upload_url(upload_id, part_number, body.expires, **ids)
    return JSONResponse({"url": url.url, "expires_at": url.expires_at})


@router.put("/v1/uploads/{upload_id}/parts/{part_number}", summary="Upload one part")
@access(Access.PRINCIPAL)
async def upload_part(
    request: Request,
    upload_id: str,
    part_number: int,
    session_id: str | None = None,
    user_id: str | None = None,
) -> JSONResponse:
    ids = caller_ids(request, get_principal(request), user_id=user_id, session_id=session_id)
    etag = await get_store(request).upload_part(
        upload_id,
        part_number,
        request.stream(),
        user_id=ids["user_id"],
        session_id=ids["session_id"],
    )
    return JSONResponse({"etag": etag, "part_number": part_number}, headers={"ETag": f'"{etag}"'})


@router.post("/v1/uploads/{upload_id}/complete", status_code=201, summary="Complete an upload")
@access(Access.PRINCIPAL)
async def complete_upload(
    request: Request,
    upload_id: str,
    session_id: str | None = None,
    user_id: str | None = None,
) -> JSONResponse:
    ids = caller_ids(request, get_principal(request), user_id=user_id, session_id=session_id)
    body = _model(CompleteRequest, await _json(request))
    store = get_store(request)
    complete = _model(
        MultipartUploadCompleteRequest,
        {"upload_id": upload_id, "parts": body.parts, "summary": body.summary},
    )
    artifact_id = await store.complete_multipart_upload(complete, **ids)
    metadata = await store.metadata(artifact_id, **ids)
    return JSONResponse(metadata.to_dict(), status_code=201, headers={"ETag": f'"{metadata.etag}"'})


@router.delete("/v1/uploads/{upload_id}", status_code=204, summary="Abort a multipart upload")
@access(Access.PRINCIPAL)
async def abort_upload(
    request: Request,
    upload_id: str,
    session_id: str | None = None,
    user_id: str | None = None,
) -> Response:
    ids = caller_ids(request, get_principal(request), user_id=user_id, session_id=session_id)
    await get_store(request).abort_multipart_upload(upload_id, **ids)
    return Response(status_code=204)
