"""Resumable uploads over tus 1.0 at ``/v1/tus/``: core, creation, creation-with-upload,
termination, expiration and checksum. Every rule (access, offsets, lengths, checksums) lives in
the store; these routes translate tus headers to store calls and back."""

from __future__ import annotations

import base64
import binascii
import email.utils
import re
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import APIRouter, Request, Response

from satchel.core.errors import (
    ArtifactStoreError,
    InvalidRequestError,
    PreconditionFailedError,
    UnsupportedMediaTypeError,
)
from satchel.core.uploads import TUS_CHECKSUM_ALGORITHMS, UploadStatus
from satchel.server.deps import Access, GuardedRoute, access, caller_ids, get_principal, get_store
from satchel.server.errors import error_response

__all__ = ["TUS_EXTENSIONS", "TUS_VERSION", "router"]

TUS_VERSION = "1.0.0"
TUS_EXTENSIONS = "creation,creation-with-upload,termination,expiration,checksum"
OFFSET_CONTENT_TYPE = "application/offset+octet-stream"
ARTIFACT_HEADER = "Satchel-Artifact-Id"
STATE_HEADER = "Satchel-Upload-State"


_VERSION = re.compile(r"[0-9]{1,4}\.[0-9]{1,4}\.[0-9]{1,4}")


class TusRoute(GuardedRoute):
    """Enforces the access rule (see GuardedRoute), adds ``Tus-Resumable`` to every response
    (errors included: they are answered by the service's one error mapping) and refuses a
    request that speaks another protocol version with 412 (one that is not a version at all
    with 400; a request without the header is taken as 1.0.0)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def tus_handler(request: Request) -> Response:
            version = request.headers.get("tus-resumable")
            if request.method != "OPTIONS" and version is not None and version != TUS_VERSION:
                refused: ArtifactStoreError = PreconditionFailedError(
                    f"unsupported Tus-Resumable {version!r}"
                )
                if not _VERSION.fullmatch(version):
                    refused = InvalidRequestError(f"Tus-Resumable {version!r} is not a version")
                response: Response = error_response(request, refused)
                response.headers["Tus-Version"] = TUS_VERSION
            else:
                try:
                    response = await handler(request)
                except ArtifactStoreError as exc:
                    response = error_response(request, exc)
            response.headers["Tus-Resumable"] = TUS_VERSION
            return response

        return tus_handler


router = APIRouter(tags=["tus"], route_class=TusRoute)


def _http_date(timestamp: float) -> str:
    return email.utils.formatdate(timestamp, usegmt=True)


def parse_metadata(header: str | None) -> dict[str, str]:
    """``Upload-Metadata``: ``key base64value,key2 base64value2`` (a key may have no value)."""
    result: dict[str, str] = {}
    if not header or not header.strip():
        return result
    for item in header.split(","):
        pair = item.strip().split(" ")
        pair = [part for part in pair if part]
        if not pair or len(pair) > 2:
            raise InvalidRequestError(f"malformed Upload-Metadata entry {item.strip()!r}")
        key = pair[0]
        if key in result:
            raise InvalidRequestError(f"Upload-Metadata repeats the key {key!r}")
        value = ""
        if len(pair) == 2:
            try:
                value = base64.b64decode(pair[1], validate=True).decode("utf-8")
            except (binascii.Error, UnicodeDecodeError) as exc:
                raise InvalidRequestError(
                    f"Upload-Metadata value of {key!r} is not base64 UTF-8"
                ) from exc
        result[key] = value
    return result


def _parse_checksum(header: str | None) -> tuple[str, bytes] | None:
    if header is None:
        return None
    algorithm, _, encoded = header.strip().partition(" ")
    algorithm = algorithm.lower()
    if algorithm not in TUS_CHECKSUM_ALGORITHMS:
        raise InvalidRequestError(f"unsupported Upload-Checksum algorithm {algorithm!r}")
    try:
        digest = base64.b64decode(encoded.strip(), validate=True)
    except binascii.Error as exc:
        raise InvalidRequestError("Upload-Checksum digest is not base64") from exc
    return algorithm, digest


def _non_negative(name: str, value: str | None) -> int:
    if value is None:
        raise InvalidRequestError(f"the {name} header is required")
    text = value.strip()
    if not (text.isascii() and text.isdigit()) or len(text) > 19:  # at most 64 bits
        raise InvalidRequestError(f"{name} must be a non-negative whole number")
    return int(text)


def _progress_headers(upload: UploadStatus) -> dict[str, str]:
    """Upload-Offset (the length once complete), Upload-Length, Upload-Expires, the artifact id
    the upload becomes and whether it is complete."""
    headers = {
        "Upload-Offset": str(upload.offset),
        "Upload-Expires": _http_date(upload.expires_at),
        ARTIFACT_HEADER: upload.artifact_id,
        STATE_HEADER: upload.state.value,
    }
    if upload.length is not None:
        headers["Upload-Length"] = str(upload.length)
    return headers


def _has_body(request: Request) -> bool:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != OFFSET_CONTENT_TYPE:
        return False
    length = request.headers.get("content-length")
    if length is not None:
        return length.strip() not in ("", "0")
    return "chunked" in request.headers.get("transfer-encoding", "").lower()


@router.options("/v1/tus/", summary="tus capabilities", status_code=204)
@access(Access.PUBLIC)
async def tus_options(request: Request) -> Response:
    settings = request.app.state.settings
    return Response(
        status_code=204,
        headers={
            "Tus-Version": TUS_VERSION,
            "Tus-Extension": TUS_EXTENSIONS,
            "Tus-Checksum-Algorithm": ",".join(TUS_CHECKSUM_ALGORITHMS),
            "Tus-Max-Size": str(settings.max_upload_bytes),
        },
    )


@router.post("/v1/tus/", summary="tus creation (with optional upload)", status_code=201)
@access(Access.PRINCIPAL)
async def tus_create(
    request: Request, session_id: str | None = None, user_id: str | None = None
) -> Response:
    ids = caller_ids(request, get_principal(request), user_id=user_id, session_id=session_id)
    if request.headers.get("upload-defer-length") is not None:
        raise InvalidRequestError("Upload-Defer-Length is not supported; send Upload-Length")
    length = _non_negative("Upload-Length", request.headers.get("upload-length"))
    metadata = parse_metadata(request.headers.get("upload-metadata"))
    checksum = _parse_checksum(request.headers.get("upload-checksum"))
    store = get_store(request)
    upload = await store.tus_create(length=length, metadata=metadata, **ids)
    if _has_body(request) and not upload.complete:
        upload = await store.tus_append(
            upload.upload_id,
            0,
            request.stream(),
            checksum=checksum,
            user_id=ids["user_id"],
            session_id=ids["session_id"],
        )
    location = f"{str(request.base_url).rstrip('/')}/v1/tus/{upload.upload_id}"
    return Response(status_code=201, headers={"Location": location, **_progress_headers(upload)})


@router.head("/v1/tus/{upload_id}", summary="tus upload offset")
@access(Access.PRINCIPAL)
async def tus_head(
    request: Request,
    upload_id: str,
    session_id: str | None = None,
    user_id: str | None = None,
) -> Response:
    ids = caller_ids(request, get_principal(request), user_id=user_id, session_id=session_id)
    upload = await get_store(request).tus_info(upload_id, **ids)
    headers = _progress_headers(upload)
    headers["Cache-Control"] = "no-store"
    return Response(status_code=200, headers=headers)


@router.patch("/v1/tus/{upload_id}", summary="tus append", status_code=204)
@access(Access.PRINCIPAL)
async def tus_patch(
    request: Request,
    upload_id: str,
    session_id: str | None = None,
    user_id: str | None = None,
) -> Response:
    ids = caller_ids(request, get_principal(request), user_id=user_id, session_id=session_id)
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != OFFSET_CONTENT_TYPE:
        raise UnsupportedMediaTypeError(f"PATCH needs Content-Type {OFFSET_CONTENT_TYPE}")
    offset = _non_negative("Upload-Offset", request.headers.get("upload-offset"))
    checksum = _parse_checksum(request.headers.get("upload-checksum"))
    upload = await get_store(request).tus_append(
        upload_id,
        offset,
        request.stream(),
        checksum=checksum,
        user_id=ids["user_id"],
        session_id=ids["session_id"],
    )
    return Response(status_code=204, headers=_progress_headers(upload))


@router.delete("/v1/tus/{upload_id}", summary="tus termination", status_code=204)
@access(Access.PRINCIPAL)
async def tus_delete(
    request: Request,
    upload_id: str,
    session_id: str | None = None,
    user_id: str | None = None,
) -> Response:
    ids = caller_ids(request, get_principal(request), user_id=user_id, session_id=session_id)
    await get_store(request).tus_terminate(upload_id, **ids)
    return Response(status_code=204)
