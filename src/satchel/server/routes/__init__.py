"""The v1 routes, one module per resource."""

from fastapi import APIRouter

from satchel.server.routes import artifacts, health, signed, tus, uploads

ROUTERS: list[APIRouter] = [
    health.router,
    artifacts.router,
    signed.router,
    uploads.router,
    tus.router,
]

__all__ = ["ROUTERS"]
