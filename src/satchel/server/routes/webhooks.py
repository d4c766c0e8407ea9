"""``/v1/admin/webhooks``: subscriptions to the event feed, their dead letters and redelivery
(admin tokens only; docs/webhooks.md). Each route translates HTTP into one store call."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict

from satchel.server.deps import Access, GuardedRoute, access, get_store

__all__ = ["router"]

router = APIRouter(route_class=GuardedRoute, tags=["webhooks"])


class WebhookBody(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    url: str
    types: list[str] | None = None
    subject_prefix: str | None = None
    secret: str | None = None
    description: str = ""
    max_attempts: int | None = None
    active: bool = True
    after: int | None = None


class WebhookChanges(BaseModel):
    """What to change; a field left out stays as it is."""

    model_config = ConfigDict(extra="forbid", strict=True)

    url: str | None = None
    types: list[str] | None = None
    subject_prefix: str | None = None
    secret: str | None = None
    description: str | None = None
    max_attempts: int | None = None
    active: bool | None = None


class RewindBody(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    after: int


@router.post("/v1/admin/webhooks", summary="Subscribe a URL to the event feed")
@access(Access.ADMIN)
async def create_webhook(request: Request, body: WebhookBody) -> JSONResponse:
    created = await get_store(request).create_webhook(**body.model_dump())
    return JSONResponse(created, status_code=201)


@router.get("/v1/admin/webhooks", summary="List webhook subscriptions with delivery status")
@access(Access.ADMIN)
async def list_webhooks(request: Request) -> JSONResponse:
    return JSONResponse({"webhooks": await get_store(request).list_webhooks()})


@router.get("/v1/admin/webhooks/{webhook_id}", summary="One webhook subscription")
@access(Access.ADMIN)
async def get_webhook(request: Request, webhook_id: str) -> JSONResponse:
    return JSONResponse(await get_store(request).get_webhook(webhook_id))


@router.patch("/v1/admin/webhooks/{webhook_id}", summary="Change, pause or resume a webhook")
@access(Access.ADMIN)
async def update_webhook(request: Request, webhook_id: str, body: WebhookChanges) -> JSONResponse:
    changes: dict[str, Any] = {name: getattr(body, name) for name in body.model_fields_set}
    for name in ("url", "secret", "description", "max_attempts", "active"):
        if name in changes and changes[name] is None:
            changes.pop(name)  # null: leave it (only types and subject_prefix can be cleared)
    return JSONResponse(await get_store(request).update_webhook(webhook_id, **changes))


@router.delete("/v1/admin/webhooks/{webhook_id}", summary="Delete a webhook subscription")
@access(Access.ADMIN)
async def delete_webhook(request: Request, webhook_id: str) -> Response:
    await get_store(request).delete_webhook(webhook_id)
    return Response(status_code=204)


@router.post(
    "/v1/admin/webhooks/{webhook_id}/rewind",
    summary="Redeliver every matching event after a sequence number",
)
@access(Access.ADMIN)
async def rewind_webhook(request: Request, webhook_id: str, body: RewindBody) -> JSONResponse:
    return JSONResponse(await get_store(request).rewind_webhook(webhook_id, body.after))


@router.get(
    "/v1/admin/webhooks/{webhook_id}/dead-letters",
    summary="Events a webhook gave up on after its retries",
)
@access(Access.ADMIN)
async def list_dead_letters(
    request: Request, webhook_id: str, after: int = 0, limit: int = 100, pending: bool = True
) -> JSONResponse:
    letters = await get_store(request).list_dead_letters(
        webhook_id, after=after, limit=limit, pending=pending
    )
    return JSONResponse({"dead_letters": letters})


@router.post(
    "/v1/admin/webhooks/{webhook_id}/dead-letters/{seq}/redeliver",
    summary="Send a dead letter again now",
)
@access(Access.ADMIN)
async def redeliver_dead_letter(request: Request, webhook_id: str, seq: int) -> JSONResponse:
    return JSONResponse(await get_store(request).redeliver_dead_letter(webhook_id, seq))


@router.post(
    "/v1/admin/webhooks/{webhook_id}/test",
    summary="Send the webhook a signed test event now (v1.webhook.test, never logged)",
)
@access(Access.ADMIN)
async def test_webhook(request: Request, webhook_id: str) -> JSONResponse:
    return JSONResponse(await get_store(request).test_webhook(webhook_id))


@router.post("/v1/admin/deliver-webhooks", summary="Run one webhook delivery round now")
@access(Access.ADMIN)
async def deliver_webhooks(request: Request) -> JSONResponse:
    return JSONResponse(await get_store(request).deliver_webhooks())
