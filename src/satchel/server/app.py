"""The ASGI application: ``create_app()`` wires the store, auth, error mapping and routes.

Thin by design: every rule lives in :class:`satchel.ArtifactStore`; routes translate HTTP to
store calls and back.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from fastapi import FastAPI
from starlette.routing import Route
from starlette.types import ASGIApp

from satchel._version import __version__
from satchel.config import Settings
from satchel.server.auth import (
    Principal,
    TokenTable,
    ensure_admin_token,
    parse_shared_tokens,
    parse_token_spec,
)
from satchel.server.errors import RequestIdMiddleware, install_error_handlers
from satchel.server.fastpath import ContentFastPath
from satchel.server.fastupload import UploadFastPath
from satchel.server.metrics import Metrics
from satchel.server.openapi import install_openapi
from satchel.server.recovery import RunMarker, recover
from satchel.server.routes import ROUTERS
from satchel.server.routes.docs import mount_docs_assets
from satchel.server.routes.ui import mount_ui_assets
from satchel.store import ArtifactStore

if TYPE_CHECKING:
    from satchel.server.mcp_http import McpEndpoint

__all__ = ["create_app"]

logger = logging.getLogger("satchel.server")


async def _purge_periodically(store: ArtifactStore, interval: float) -> None:
    while True:
        await asyncio.sleep(interval)
        try:
            result = await store.purge_expired()
            logger.info("purged expired items: %s", result)
        except Exception:  # keep the loop alive; the next round retries
            logger.exception("periodic purge failed")


class _SatchelApp(FastAPI):
    """FastAPI with the fast paths for content GETs and uploads ahead of its whole middleware
    stack (Starlette's error layers included): the requests they answer skip them all
    (server/fastpath.py, server/fastupload.py)."""

    def build_middleware_stack(self) -> ASGIApp:
        return ContentFastPath(UploadFastPath(super().build_middleware_stack()))


def _token_table(settings: Settings, store: ArtifactStore) -> TokenTable:
    """Static tokens, plus the bootstrap admin token a persistent store keeps in its data
    directory (an ephemeral one has nowhere to keep it)."""
    table = TokenTable(parse_token_spec(settings.auth_tokens))
    for number, token in enumerate(parse_shared_tokens(settings.shared_tokens), 1):
        table.add(token, Principal(user_id=None, is_admin=True, name=f"shared-token-{number}"))
    if store.persistent and settings.data_dir is not None:
        admin = ensure_admin_token(settings.data_dir)
        table.add(admin, Principal(user_id=None, is_admin=True, name="admin"))
    return table


def create_app(
    settings: Settings | None = None,
    *,
    store: ArtifactStore | None = None,
    purge_interval: float | None = None,
) -> FastAPI:
    """The Satchel HTTP service over *store* (default: the embedded default of *settings*).

    Expired items are purged every *purge_interval* seconds (default
    ``SATCHEL_PURGE_INTERVAL_SECONDS``; 0 turns the timer off).
    """
    settings = settings or Settings()
    store = store or ArtifactStore(settings=settings, default_backend="filesystem")
    interval = store.settings.purge_interval_seconds if purge_interval is None else purge_interval

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await store.open()
        tasks = []
        if interval:
            tasks.append(asyncio.create_task(_purge_periodically(store, interval)))
        data_dir = store.settings.data_dir
        marker = RunMarker(data_dir) if store.persistent and data_dir is not None else None
        if marker is not None and (crashed := marker.start()):
            tasks.append(asyncio.create_task(recover(store, crashed)))
        if store.settings.webhook_deliver:
            tasks.append(asyncio.create_task(store.run_webhook_delivery()))
        try:
            async with contextlib.AsyncExitStack() as stack:
                if mcp is not None:
                    await stack.enter_async_context(mcp.running())
                yield
        finally:
            for task in tasks:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await store.close()
            if marker is not None:
                marker.stop()

    app = _SatchelApp(
        title="Satchel",
        version=__version__,
        description="Self-hosted artifact store: content-addressed blobs, typed metadata, "
        "scoped access control, presigned URLs, multipart and resumable uploads.",
        lifespan=lifespan,
        docs_url=None,  # served from the installed swagger-ui-bundle, never a CDN (routes/docs)
        redoc_url=None,
        # FastAPI's own OpenTelemetry hooks ask the global providers on every request; Satchel
        # reports through its Prometheus metrics (docs/operations.md) and leaves them off
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    mount_docs_assets(app)
    mount_ui_assets(app)
    app.state.settings = store.settings
    app.state.store = store
    app.state.tokens = _token_table(store.settings, store)
    app.state.metrics = Metrics()
    install_error_handlers(app)
    install_openapi(app)
    app.add_middleware(RequestIdMiddleware)
    app.state.metrics.install(app)
    for router in ROUTERS:
        app.include_router(router)
    mcp = _mount_mcp(app) if store.settings.mcp_enabled else None
    return app


def _mount_mcp(app: FastAPI) -> McpEndpoint:
    """``/mcp`` (GET, POST, DELETE): MCP over streamable HTTP; it authenticates each request
    itself (server/mcp_http.py)."""
    from satchel.server.mcp_http import McpEndpoint  # the MCP SDK loads only when served

    endpoint = McpEndpoint(app.state.store, app.state.settings, app.state.tokens)
    app.router.routes.append(Route("/mcp", endpoint, methods=["GET", "POST", "DELETE"]))
    return endpoint
