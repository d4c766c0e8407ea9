"""A client that goes away mid-upload is not a server error: nothing is stored, nothing is
logged as unhandled, and the request counts as 499 (client closed), not 500."""

from __future__ import annotations

import socket
import time
from typing import Any

import httpx


def test_a_body_cut_off_is_a_499_and_stores_nothing(server: Any) -> None:
    with server.client("admin") as admin:
        before = admin.get("/v1/admin/stats").json()["total_artifacts"]
    head = (
        f"POST /v1/artifacts?filename=cut.bin HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Authorization: Bearer {server.token('alice')}\r\nContent-Length: 1000000\r\n\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as raw:
        raw.sendall(head + b"x" * 10_000)
        time.sleep(0.3)  # the server is reading the body now
    deadline = time.monotonic() + 10
    metrics = ""
    while time.monotonic() < deadline:
        metrics = httpx.get(f"{server.url}/metrics").text
        if 'status="499"' in metrics:
            break
        time.sleep(0.1)
    counted = [line for line in metrics.splitlines() if 'route="/v1/artifacts"' in line]
    assert any('method="POST"' in line and 'status="499"' in line for line in counted), counted
    assert not any('method="POST"' in line and 'status="500"' in line for line in counted)
    with server.client("admin") as admin:
        assert admin.get("/v1/admin/stats").json()["total_artifacts"] == before
    log = server.log_path.read_text()
    assert "Traceback" not in log
    assert "unhandled" not in log
