"""A webhook receiver the tests start on 127.0.0.1: records every request, checks signatures,
and can be told to fail (an answer status, particular events) or to go away and come back on
the same port (an outage)."""

from __future__ import annotations

import http.server
import json
import threading
import time
from typing import Any

from tests.harness.threaded import serve, shut

from satchel.core.webhooks import sign

__all__ = ["Receiver"]


class Receiver:
    def __init__(self, secret: str) -> None:
        self.secret = secret
        self.requests: list[dict[str, Any]] = []
        self.status = 204  # what it answers
        self.failing: set[int] = set()  # event sequences it answers 500 for
        self.delay = 0.0  # seconds it takes per request
        self.in_flight = 0
        self.most_in_flight = 0
        self._lock = threading.Lock()
        self._server: http.server.HTTPServer | None = None
        self.port = 0
        self.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def start(self) -> None:
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                with receiver._lock:
                    receiver.in_flight += 1
                    receiver.most_in_flight = max(receiver.most_in_flight, receiver.in_flight)
                try:
                    body = self.rfile.read(int(self.headers["Content-Length"]))
                    time.sleep(receiver.delay)
                    code = receiver._record(dict(self.headers.items()), body)
                finally:
                    with receiver._lock:
                        receiver.in_flight -= 1
                self.send_response(code)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self._server = serve(self.port, Handler)
        self.port = self._server.server_address[1]

    def stop(self) -> None:
        shut(self._server)
        self._server = None

    def _record(self, headers: dict[str, str], body: bytes) -> int:
        event = json.loads(body)
        expected = sign(self.secret, int(headers["Satchel-Timestamp"]), body)
        request = {
            "headers": headers,
            "event": event,
            "signed": headers.get("Satchel-Signature") == expected,
        }
        code = 500 if event["seq"] in self.failing else self.status
        request["code"] = code
        with self._lock:
            self.requests.append(request)
        return code

    def delivered(self) -> list[dict[str, Any]]:
        """The events answered 2xx, in the order they arrived."""
        with self._lock:
            return [r["event"] for r in self.requests if r["code"] < 300]

    def seqs(self) -> list[int]:
        with self._lock:
            return [r["event"]["seq"] for r in self.requests]
