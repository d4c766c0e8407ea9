"""``/mcp``: the MCP server over streamable HTTP, inside ``satchel serve``.

Every request authenticates by its own bearer token (a static token or an API key), as every
other route does; an admin token may act for a user named in ``X-Satchel-User``. Requests are
stateless (no MCP session is kept between them), so any worker or replica answers any request.
A browser's request is accepted only from the public origin or a loopback host.

The MCP SDK loads at the first ``/mcp`` request, not when the service starts (it would add
most of a second to every start); the options are checked at start.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from starlette.datastructures import Headers
from starlette.types import Receive, Scope, Send

from satchel.config import Settings
from satchel.core.api import ArtifactStoreAPI
from satchel.core.errors import AccessDeniedError, ProviderUnavailableError, UnauthorizedError
from satchel.mcp.limits import clip
from satchel.mcp.options import Actor, McpOptions
from satchel.server.auth import TokenTable
from satchel.server.deps import ids_for, principal_for

if TYPE_CHECKING:
    from mcp.server.streamable_http_manager import StreamableHTTPSessionManager

__all__ = ["ACT_AS_HEADER", "McpEndpoint"]

ACT_AS_HEADER = "x-satchel-user"
_LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
_ACTOR = "satchel_mcp_actor"


def _identify(ctx: Any) -> Actor:
    actor = getattr(getattr(ctx.request, "state", None), _ACTOR, None)
    if not isinstance(actor, Actor):  # never: __call__ sets it before the SDK runs
        raise UnauthorizedError("this request carries no principal")
    return actor


class McpEndpoint:
    """The ASGI app answering ``/mcp``, for as long as :meth:`running` lasts."""

    def __init__(self, store: ArtifactStoreAPI, settings: Settings, tokens: TokenTable) -> None:
        self.store = store
        self.tokens = tokens
        public = urlsplit(settings.resolved_public_url())
        self.public = f"{public.scheme}://{public.netloc}"
        self.options = McpOptions.from_settings(settings, per_principal=True)
        self.live = False
        self.manager: StreamableHTTPSessionManager | None = None
        self.task: asyncio.Task[None] | None = None
        self.stop = asyncio.Event()
        self.lock = asyncio.Lock()

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        self.live = True
        try:
            yield
        finally:
            self.live = False
            await self._halt()

    async def _start(self) -> StreamableHTTPSessionManager:
        """Build the SDK's request manager and run it in a task of its own (its task group
        must end in the task that began it; requests come from many)."""
        from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
        from mcp.server.transport_security import (
            DEFAULT_MAX_REQUEST_BODY_SIZE,
            TransportSecuritySettings,
        )

        from satchel.mcp.server import build_server

        manager = StreamableHTTPSessionManager(
            app=build_server(self.store, self.options, _identify),
            json_response=True,
            stateless=True,
            # (Origin is checked here, and every request needs its own bearer token)
            security_settings=TransportSecuritySettings(enable_dns_rebinding_protection=False),
            # a write_artifact of result_limit bytes, as base64 in JSON
            max_request_body_size=max(DEFAULT_MAX_REQUEST_BODY_SIZE, self.options.result_limit * 2),
        )
        ready, stop = asyncio.Event(), asyncio.Event()

        async def hold() -> None:
            async with manager.run():
                ready.set()
                await stop.wait()

        task = asyncio.create_task(hold(), name="satchel-mcp")
        started = asyncio.create_task(ready.wait())
        await asyncio.wait({task, started}, return_when=asyncio.FIRST_COMPLETED)
        started.cancel()
        if task.done():  # it failed to start
            task.result()
        self.manager, self.task, self.stop = manager, task, stop
        return manager

    async def _halt(self) -> None:
        task, self.manager, self.task = self.task, None, None
        if task is None:
            return
        self.stop.set()
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(asyncio.shield(task), 5)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    async def _manager(self) -> StreamableHTTPSessionManager:
        if not self.live:
            raise ProviderUnavailableError("MCP is not running in this process")
        async with self.lock:
            if self.manager is None or self.task is None or self.task.done():
                await self._halt()
                return await self._start()
            return self.manager

    def _check_origin(self, headers: Headers) -> None:
        """A browser's request comes from this server's public origin or from software on
        this machine (loopback); anything else, a rebound DNS name included, is refused."""
        origin = headers.get("origin")
        if origin is None:
            return
        parts = urlsplit(origin)
        if f"{parts.scheme}://{parts.netloc}" == self.public:
            return
        if parts.hostname in _LOOPBACK and parts.scheme in ("http", "https"):
            return
        raise AccessDeniedError(f"requests from {clip(origin, 200)} are not accepted here")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = Headers(scope=scope)
        self._check_origin(headers)
        values = headers.getlist("authorization")
        if len(values) > 1:
            raise UnauthorizedError("send one Authorization header, not several")
        principal = await principal_for(values[0] if values else "", self.store, self.tokens)
        if principal.anonymous:
            raise UnauthorizedError("MCP needs a bearer token (a static token or an API key)")
        act_as = headers.get(ACT_AS_HEADER) or None
        ids = ids_for(principal, anon_read=False, user_id=act_as)
        actor = Actor(
            user_id=ids["user_id"],
            is_admin=principal.is_admin and act_as is None,
            name=principal.name,
        )
        manager = await self._manager()
        scope.setdefault("state", {})[_ACTOR] = actor
        await manager.handle_request(scope, receive, send)
