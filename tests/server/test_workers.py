"""``satchel serve --workers N`` (SATCHEL_WORKERS): several processes on one port over the same
SQLite catalog and blob directory; what one writes, the others read at once."""

from __future__ import annotations

import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx


def _children(pid: int) -> list[int]:
    """Worker processes of *pid* (multiprocessing's resource tracker is a child too)."""
    path = Path(f"/proc/{pid}/task/{pid}/children")
    children = [int(child) for child in path.read_text().split()]
    return [c for c in children if b"spawn_main" in Path(f"/proc/{c}/cmdline").read_bytes()]


def _workers(pid: int, want: int) -> list[int]:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        children = _children(pid)
        if len(children) >= want:
            return children
        time.sleep(0.1)
    return _children(pid)


def test_two_workers_share_the_port_and_the_store(launch_server: Any) -> None:
    srv = launch_server(SATCHEL_WORKERS="2")
    assert len(_workers(srv.process.pid, 2)) == 2
    headers = srv.headers("alice")

    def round_trip(index: int) -> tuple[str, str, bytes]:
        body = f"artifact {index}".encode()
        # a fresh connection for each request, so the kernel hands them to either worker
        created = httpx.post(
            f"{srv.url}/v1/artifacts",
            params={"mime": "text/plain"},
            content=body,
            headers=headers,
        )
        assert created.status_code == 201, created.text
        artifact_id = created.json()["artifact_id"]
        read = httpx.get(f"{srv.url}/v1/artifacts/{artifact_id}/content", headers=headers)
        assert read.status_code == 200, read.text
        return created.headers["x-request-id"], read.headers["x-request-id"], read.content

    with ThreadPoolExecutor(16) as pool:
        results = list(pool.map(round_trip, range(120)))
    assert [content for _, _, content in results] == [f"artifact {i}".encode() for i in range(120)]
    # request ids start with a per-process random prefix: both workers answer. Under load one
    # worker can take every connection for a while (the kernel gives them to whichever accepts
    # first, and the second may still be starting), so more requests go out, each on a fresh
    # connection, until the other answers too (at most 60 s).
    prefixes = {request_id[:20] for pair in results for request_id in pair[:2]}
    deadline = time.monotonic() + 60
    while len(prefixes) < 2 and time.monotonic() < deadline:
        with ThreadPoolExecutor(8) as pool:
            more = list(pool.map(lambda _: httpx.get(f"{srv.url}/health"), range(32)))
        prefixes |= {answer.headers["x-request-id"][:20] for answer in more}
    assert len(prefixes) == 2


def test_several_workers_refuse_a_memory_store(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "satchel", "serve", "--workers", "2"],
        env={
            "PATH": "/usr/bin:/bin",
            "SATCHEL_DATA_DIR": str(tmp_path),
            "ARTIFACT_PROVIDER": "memory",
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "several workers need a persistent store" in result.stderr
