"""The service streams: a 512 MiB upload and download through `satchel serve` grow the server's
peak RSS by far less than the body (issue target: < 150 MiB for 1 GiB transfers). Measured on
the real server process from /proc (VmHWM reset before each transfer), not with timers."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

SIZE = 512 * 2**20
CHUNK = 2**20
LIMIT_MIB = 64  # well under the 150 MiB target; buffering the body would show as ≥ 512 MiB


def _kib(pid: int, field: str) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    match = re.search(rf"^{field}:\s+(\d+) kB", status, re.M)
    assert match is not None
    return int(match.group(1))


def _reset_peak(pid: int) -> int:
    Path(f"/proc/{pid}/clear_refs").write_text("5")
    return _kib(pid, "VmRSS")


def _body(digest: Any) -> Iterator[bytes]:
    block = bytes(range(256)) * (CHUNK // 256)
    for index in range(SIZE // CHUNK):
        chunk = index.to_bytes(8, "big") + block[8:]
        digest.update(chunk)
        yield chunk


def test_large_transfers_keep_the_server_small(fresh_server: Any) -> None:
    pid = fresh_server.process.pid
    sent = hashlib.sha256()
    with fresh_server.client("alice") as http:
        http.timeout = httpx.Timeout(300)
        before = _reset_peak(pid)
        created = http.post(
            "/v1/artifacts",
            params={"filename": "big.bin", "mime": "application/octet-stream"},
            content=_body(sent),
        )
        assert created.status_code == 201, created.text
        upload_growth = (_kib(pid, "VmHWM") - before) / 1024
        meta = created.json()
        assert meta["bytes"] == SIZE
        assert meta["sha256"] == "sha256:" + sent.hexdigest()

        before = _reset_peak(pid)
        received = hashlib.sha256()
        total = 0
        with http.stream("GET", f"/v1/artifacts/{meta['artifact_id']}/content") as response:
            assert response.status_code == 200
            for chunk in response.iter_bytes(CHUNK):
                received.update(chunk)
                total += len(chunk)
        download_growth = (_kib(pid, "VmHWM") - before) / 1024
    assert total == SIZE
    assert received.hexdigest() == sent.hexdigest()
    assert upload_growth < LIMIT_MIB, f"upload grew the server by {upload_growth:.1f} MiB"
    assert download_growth < LIMIT_MIB, f"download grew the server by {download_growth:.1f} MiB"
