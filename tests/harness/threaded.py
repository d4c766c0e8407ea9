"""An HTTP server the tests run in a thread on 127.0.0.1 (webhook receivers, upstreams)."""

from __future__ import annotations

import http.server
import threading

__all__ = ["serve", "shut"]


def serve(port: int, handler: type[http.server.BaseHTTPRequestHandler]) -> http.server.HTTPServer:
    """A server on *port* (0: any free one; the same again after :func:`shut`), serving."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def shut(server: http.server.HTTPServer | None) -> None:
    """Stop *server* and free its port."""
    if server is not None:
        server.shutdown()
        server.server_close()
