"""Slow and silent clients cannot hold `satchel serve`: legitimate clients keep being served
while hundreds of slow sockets are open, and each slow socket is closed at its deadline
(head, body, send), the connection limit answers 503, and a stopping server does not wait on them.
"""

from __future__ import annotations

import signal
import socket
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

SHORT = {
    "SATCHEL_HEADER_TIMEOUT_SECONDS": "2",
    "SATCHEL_BODY_TIMEOUT_SECONDS": "2",
    "SATCHEL_SEND_TIMEOUT_SECONDS": "2",
}


_OPENED: list[socket.socket] = []


@pytest.fixture(autouse=True)
def _close_sockets() -> Iterator[None]:
    yield
    while _OPENED:
        _OPENED.pop().close()


def _open(port: int, first_bytes: bytes = b"") -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    _OPENED.append(sock)
    if first_bytes:
        sock.sendall(first_bytes)
    return sock


def _drain(sock: socket.socket) -> tuple[bytes, bool]:
    """What the server sent, and whether it has closed the connection (without blocking)."""
    sock.setblocking(False)
    received = b""
    try:
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                return received, True
            received += chunk
    except BlockingIOError:
        return received, False
    except OSError:  # reset: closed too
        return received, True


def _wait_all_closed(socks: list[socket.socket], within: float) -> list[bytes]:
    deadline = time.monotonic() + within
    answers: dict[int, bytes] = {}
    open_ = list(range(len(socks)))
    while open_ and time.monotonic() < deadline:
        still = []
        for i in open_:
            data, closed = _drain(socks[i])
            answers[i] = answers.get(i, b"") + data
            if not closed:
                still.append(i)
        open_ = still
        if open_:
            time.sleep(0.2)
    assert not open_, f"{len(open_)} of {len(socks)} slow sockets still open after {within} s"
    return [answers[i] for i in range(len(socks))]


def _head(server: Any, method: str, path: str, extra: str = "") -> bytes:
    return (
        f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Authorization: Bearer {server.token('alice')}\r\n{extra}"
    ).encode()


def test_legitimate_clients_are_served_while_300_slow_sockets_are_open(
    launch_server: Callable[..., Any],
) -> None:
    server = launch_server(**SHORT)
    silent = [_open(server.port) for _ in range(100)]
    half_head = [_open(server.port, b"GET /health HTTP/1.1\r\nHost: x\r\n") for _ in range(100)]
    unauthenticated_body = (
        b"POST /v1/artifacts HTTP/1.1\r\nHost: x\r\nContent-Length: 99999\r\n\r\n"
    )
    half_body = [_open(server.port, unauthenticated_body + b"abc") for _ in range(50)]
    authenticated_body = _head(server, "POST", "/v1/artifacts?filename=s.bin")
    half_body += [
        _open(server.port, authenticated_body + b"Content-Length: 99999\r\n\r\nabc")
        for _ in range(50)
    ]
    slow = silent + half_head + half_body
    with server.client("admin") as admin:
        before = admin.get("/v1/admin/stats").json()["total_artifacts"]
    with server.client("alice") as alice:
        for i in range(20):
            body = f"legit {i}".encode()
            put = alice.post("/v1/artifacts", params={"filename": f"l{i}.txt"}, content=body)
            assert put.status_code == 201, put.text
            got = alice.get(f"/v1/artifacts/{put.json()['artifact_id']}/content")
            assert got.status_code == 200
            assert got.content == body
    answers = _wait_all_closed(slow, within=15)
    # Half a request head is told why; a silent socket is just closed.
    assert all(a.startswith(b"HTTP/1.1 408 ") for a in answers[100:200]), answers[100]
    assert all(a == b"" for a in answers[:100])
    # An unauthenticated body was answered 401 at once, then closed when the rest never came.
    assert all(a.startswith(b"HTTP/1.1 401 ") for a in answers[200:250]), answers[200]
    with server.client("admin") as admin:  # the 20 legitimate ones, nothing half-sent
        assert admin.get("/v1/admin/stats").json()["total_artifacts"] == before + 20
    assert "Traceback" not in server.log_path.read_text()


def test_a_dribbled_request_head_is_cut_at_the_header_deadline(
    launch_server: Callable[..., Any],
) -> None:
    server = launch_server(**SHORT)
    sock = _open(server.port)
    started = time.monotonic()
    closed_after = None
    received = b""
    for byte in b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Pad: " + b"a" * 200:
        try:
            sock.sendall(bytes([byte]))
        except OSError:
            closed_after = time.monotonic() - started
            break
        data, closed = _drain(sock)
        received += data
        if closed:
            closed_after = time.monotonic() - started
            break
        sock.setblocking(True)
        time.sleep(0.1)
    assert closed_after is not None, "the server kept a dribbling client for 20 s"
    assert received.startswith(b"HTTP/1.1 408 "), received
    assert closed_after < 10


def test_a_slow_but_steady_upload_is_not_cut(launch_server: Callable[..., Any]) -> None:
    """Body pauses shorter than the body timeout are fine, however long the upload takes."""
    server = launch_server(**SHORT)
    chunks = [b"%d" % i * 1000 for i in range(5)]
    size = sum(len(c) for c in chunks)
    sock = _open(server.port, _head(server, "POST", "/v1/artifacts?filename=steady.bin"))
    sock.sendall(f"Content-Length: {size}\r\n\r\n".encode())
    for chunk in chunks:  # 5 s in all, never more than 1 s apart
        sock.sendall(chunk)
        time.sleep(1)
    sock.settimeout(10)
    answer = sock.recv(65536)
    assert answer.startswith(b"HTTP/1.1 201 "), answer


def test_a_client_that_stops_reading_a_download_is_aborted(
    launch_server: Callable[..., Any],
) -> None:
    server = launch_server(**SHORT)
    size = 48 * 1024 * 1024
    with server.client("alice") as alice:
        put = alice.post(
            "/v1/artifacts", params={"filename": "big.bin"}, content=b"\x00" * size, timeout=60
        )
        assert put.status_code == 201, put.text
        path = f"/v1/artifacts/{put.json()['artifact_id']}/content"
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    _OPENED.append(sock)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", server.port))
    sock.sendall(_head(server, "GET", path, "\r\n"))
    time.sleep(6)  # reads nothing: the server's buffer fills and stays full past the deadline
    sock.settimeout(10)
    received = 0
    try:
        while chunk := sock.recv(1 << 20):
            received += len(chunk)
    except OSError:
        pass
    assert 0 < received < size
    with server.client("alice") as alice:  # the server is fine
        assert alice.get("/health").status_code == 200


def test_past_the_connection_limit_new_work_gets_503_until_slow_sockets_time_out(
    launch_server: Callable[..., Any],
) -> None:
    server = launch_server(SATCHEL_MAX_CONNECTIONS="40", **SHORT)
    silent = [_open(server.port) for _ in range(40)]
    time.sleep(0.3)
    refused = httpx.get(f"{server.url}/health", timeout=5)
    assert refused.status_code == 503
    _wait_all_closed(silent, within=15)
    assert httpx.get(f"{server.url}/health", timeout=5).status_code == 200


def test_a_stopping_server_does_not_wait_for_slow_clients(
    launch_server: Callable[..., Any],
) -> None:
    server = launch_server(
        SATCHEL_BODY_TIMEOUT_SECONDS="300",
        SATCHEL_HEADER_TIMEOUT_SECONDS="300",
        SATCHEL_SHUTDOWN_TIMEOUT_SECONDS="2",
    )
    head = _head(server, "POST", "/v1/artifacts?filename=never.bin")
    socks = [_open(server.port, head + b"Content-Length: 99999\r\n\r\nabc") for _ in range(20)]
    socks += [_open(server.port, b"GET /health HTTP/1.1\r\n") for _ in range(20)]
    time.sleep(0.5)
    assert server.process is not None
    started = time.monotonic()
    server.process.send_signal(signal.SIGTERM)
    server.process.wait(timeout=20)
    assert time.monotonic() - started < 10
