"""``POST /v1/batch``: store several small artifacts in one session, all or none;
``POST /v1/batch/delete``: delete several artifacts, each as ``DELETE /v1/artifacts/{id}`` would.

The body is JSON (bounded by :data:`MAX_BATCH_BODY_BYTES`): ``{"items": [{"data": <base64>,
"mime", "summary", "meta", "filename", "ttl", "scope"}, …], "ttl"?, "scope"?}``; the caller's
``user_id`` / ``session_id`` go in the query as on every route. A ``ttl`` left out takes the
default; ``null`` means no expiry.

A bulk delete's body is ``{"ids": [...]}`` (at most 1000 ids, 413 beyond; a malformed id is 400
and nothing is deleted); it answers 200 with a result per distinct id, in order, whatever each
item's fate (see :mod:`satchel.core.bulk`).
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict

from satchel.core.errors import InvalidRequestError
from satchel.core.unset import UNSET
from satchel.core.validation import parse_json
from satchel.server.bodies import request_body
from satchel.server.deps import Access, GuardedRoute, access, caller_ids, get_principal, get_store

__all__ = ["MAX_BATCH_BODY_BYTES", "router"]

MAX_BATCH_BODY_BYTES = 64 * 1024 * 1024
"""The largest batch body (base64 data included); larger sets go as separate uploads."""

router = APIRouter(route_class=GuardedRoute, tags=["artifacts"])


def _item(index: int, raw: Any) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise InvalidRequestError(f"batch item {index} must be an object")
    item = dict(raw)
    encoded = item.get("data")
    if not isinstance(encoded, str):
        raise InvalidRequestError(f"batch item {index}: data must be base64 text")
    try:
        item["data"] = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidRequestError(f"batch item {index}: data is not base64 ({exc})") from exc
    return item


@router.post("/v1/batch", status_code=201, summary="Store several artifacts, all or none")
@access(Access.PRINCIPAL)
async def store_batch(
    request: Request, user_id: str | None = None, session_id: str | None = None
) -> JSONResponse:
    ids = caller_ids(request, get_principal(request), user_id=user_id, session_id=session_id)
    raw = b"".join([c async for c in request_body(request, max_bytes=MAX_BATCH_BODY_BYTES)])
    body = parse_json(raw, "the batch body")
    if not isinstance(body, dict) or not isinstance(body.get("items"), list):
        raise InvalidRequestError('the batch body is {"items": [...], ...}')
    unknown = set(body) - {"items", "ttl", "scope"}
    if unknown:
        raise InvalidRequestError(f"unknown batch fields: {', '.join(sorted(unknown))}")
    items = [_item(index, raw_item) for index, raw_item in enumerate(body["items"])]
    stored = await get_store(request).store_batch(
        items,
        ids["session_id"],
        body.get("ttl", UNSET),
        user_id=ids["user_id"],
        scope=body.get("scope", "session"),
    )
    return JSONResponse({"artifact_ids": stored}, status_code=201)


class DeleteManyBody(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    ids: list[str]


@router.post("/v1/batch/delete", summary="Delete several artifacts, each as a single delete")
@access(Access.PRINCIPAL)
async def delete_many(
    request: Request,
    body: DeleteManyBody,
    user_id: str | None = None,
    session_id: str | None = None,
) -> JSONResponse:
    ids = caller_ids(request, get_principal(request), user_id=user_id, session_id=session_id)
    results = await get_store(request).delete_many(body.ids, **ids)
    deleted = sum(1 for result in results if result.deleted)
    return JSONResponse(
        {
            "results": [result.to_dict() for result in results],
            "deleted": deleted,
            "failed": len(results) - deleted,
        }
    )
