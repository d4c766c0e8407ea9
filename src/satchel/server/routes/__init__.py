"""The v1 routes, one module per resource."""

from fastapi import APIRouter

from satchel.server.routes import (
    admin,
    artifacts,
    aspects,
    batch,
    bucket,
    docs,
    events,
    health,
    keys,
    packages,
    proxy,
    retention,
    sessions,
    sharing,
    signed,
    tus,
    ui,
    uploads,
    webhooks,
)

ROUTERS: list[APIRouter] = [
    health.router,
    docs.router,
    artifacts.router,
    sharing.router,
    batch.router,
    signed.router,
    uploads.router,
    tus.router,
    sessions.router,
    admin.router,
    bucket.router,
    keys.router,
    packages.router,
    retention.router,
    events.router,
    aspects.router,
    webhooks.router,
    proxy.router,
    ui.router,
]

__all__ = ["ROUTERS"]
