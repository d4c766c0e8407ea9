"""The ceiling of the ASGI server itself on this machine: a raw ASGI app that answers every
request with the same 4 KiB body, no framework, no storage. bench/service.py runs it under the
same uvicorn flags as Satchel, so a GET figure can be read against what one Python process can
serve at all."""

from __future__ import annotations

import os
from typing import Any

BODY = os.urandom(4096)
HEADERS = [
    (b"content-type", b"application/octet-stream"),
    (b"content-length", str(len(BODY)).encode()),
]


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
    await send({"type": "http.response.body", "body": BODY})
