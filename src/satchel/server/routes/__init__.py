"""The v1 routes, one module per resource."""

from fastapi import APIRouter

from satchel.server.routes import admin, artifacts, health, sessions, signed, tus, uploads

ROUTERS: list[APIRouter] = [
    health.router,
    artifacts.router,
    signed.router,
    uploads.router,
    tus.router,
    sessions.router,
    admin.router,
]

__all__ = ["ROUTERS"]
