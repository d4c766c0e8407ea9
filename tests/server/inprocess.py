"""The service in this process: ``create_app`` over a filesystem store and a SQLite catalog
under a temporary directory, spoken to through httpx's ASGI transport (no socket)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx

from satchel.config import Settings
from satchel.server import create_app

ADMIN = "admin-token-0001"
ALICE = "alice-token-0001"
BOB = "bob-token-000001"


@contextlib.asynccontextmanager
async def running_app(data_dir: Path, **overrides: Any) -> AsyncIterator[Any]:
    """The app with tokens for ``ops`` (admin), ``alice`` and ``bob``, started and stopped
    (*overrides*: more Settings fields)."""
    settings = Settings(
        data_dir=data_dir,
        auth_tokens=f"{ADMIN}=ops:admin,{ALICE}=alice,{BOB}=bob",
        purge_interval_seconds=0,
        **overrides,
    )
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


def client(app: Any, token: str | None = ALICE) -> httpx.AsyncClient:
    """An HTTP client of *app* presenting *token* (None: anonymous)."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    transport = httpx.ASGITransport(app=app)
    return httpx.AsyncClient(transport=transport, base_url="http://test", headers=headers)
