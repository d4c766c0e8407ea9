"""The v1 routes, one module per resource."""

from fastapi import APIRouter

from satchel.server.routes import health

ROUTERS: list[APIRouter] = [health.router]

__all__ = ["ROUTERS"]
