"""An upstream HTTP server for the pull-through cache's tests, started on 127.0.0.1: it serves the
files it is given (with an ETag, Last-Modified and 304s for If-None-Match), counts the GETs of
each path, and on demand answers a status (500, 429, 404…), holds a body half way until released,
trickles it, lies about Content-Length or the digest, redirects, or goes away and comes back on
the same port."""

from __future__ import annotations

import base64
import collections
import hashlib
import http.server
import threading
import time
import urllib.parse
from typing import Any

from tests.harness.threaded import serve, shut

__all__ = ["Origin"]

LAST_MODIFIED = "Wed, 01 Jan 2025 00:00:00 GMT"


def etag_of(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:16] + '"'


class Origin:
    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.gets: collections.Counter[str] = collections.Counter()
        self.requests: list[dict[str, Any]] = []
        self.status: dict[str, int] = {}  # path -> status answered instead of the file
        self.hold: dict[str, threading.Event] = {}  # path -> sent half, then waits for it
        self.half_sent: dict[str, threading.Event] = {}
        self.trickle: dict[str, float] = {}  # path -> seconds between 1 KiB chunks
        self.declared_length: dict[str, int] = {}  # path -> a Content-Length that lies
        self.declared_sha256: dict[str, str] = {}  # path -> hex sent as Repr-Digest
        self.redirects: dict[str, str] = {}  # path -> Location
        self.header_delay: dict[str, float] = {}  # path -> seconds before it answers at all
        self._lock = threading.Lock()
        self._server: http.server.HTTPServer | None = None
        self.port = 0
        self.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        origin = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                origin._answer(self)

            def log_message(self, *args: Any) -> None:
                pass

        self._server = serve(self.port, Handler)
        self.port = self._server.server_address[1]

    def stop(self) -> None:
        shut(self._server)
        self._server = None

    def _answer(self, handler: http.server.BaseHTTPRequestHandler) -> None:
        path = urllib.parse.unquote(urllib.parse.urlsplit(handler.path).path.lstrip("/"))
        with self._lock:
            self.gets[path] += 1
            self.requests.append({"path": path, "headers": dict(handler.headers.items())})
            body = self.files.get(path)
            status = self.status.get(path)
        handler.close_connection = True
        time.sleep(self.header_delay.get(path, 0))
        if path in self.redirects:
            self._send(handler, 302, b"", {"Location": self.redirects[path]})
        elif status is not None:
            self._send(handler, status, b"no", {"Content-Type": "text/plain"})
        elif body is None:
            self._send(handler, 404, b"not here", {"Content-Type": "text/plain"})
        elif handler.headers.get("If-None-Match") == etag_of(body):
            self._send(handler, 304, None, {"ETag": etag_of(body)})
        else:
            self._file(handler, path, body)

    def _file(self, handler: http.server.BaseHTTPRequestHandler, path: str, body: bytes) -> None:
        headers = {
            "Content-Type": "application/x-unknown-origin",
            "ETag": etag_of(body),
            "Last-Modified": LAST_MODIFIED,
            "Content-Length": str(self.declared_length.get(path, len(body))),
        }
        if path in self.declared_sha256:
            raw = bytes.fromhex(self.declared_sha256[path])
            headers["Repr-Digest"] = f"sha-256=:{base64.b64encode(raw).decode()}:"
        handler.send_response(200)
        for name, value in headers.items():
            handler.send_header(name, value)
        handler.end_headers()
        hold, delay = self.hold.get(path), self.trickle.get(path)
        try:
            if hold is not None:
                half = len(body) // 2
                handler.wfile.write(body[:half])
                handler.wfile.flush()
                self.half_sent.setdefault(path, threading.Event()).set()
                hold.wait(30)
                handler.wfile.write(body[half:])
            elif delay is not None:
                for start in range(0, len(body), 1024):
                    handler.wfile.write(body[start : start + 1024])
                    handler.wfile.flush()
                    time.sleep(delay)
            else:
                handler.wfile.write(body)
            handler.wfile.flush()
        except OSError:
            pass  # the client went away

    @staticmethod
    def _send(
        handler: http.server.BaseHTTPRequestHandler,
        status: int,
        body: bytes | None,
        headers: dict[str, str],
    ) -> None:
        handler.send_response(status)
        for name, value in headers.items():
            handler.send_header(name, value)
        if body is not None:
            handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        if body:
            handler.wfile.write(body)

    def half_sent_event(self, path: str) -> threading.Event:
        with self._lock:
            return self.half_sent.setdefault(path, threading.Event())
