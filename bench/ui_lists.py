"""The web UI's artifact list at 100,000 items: is page 1,000 as fast as page 1?

    .venv/bin/python bench/ui_lists.py [--items 100000] [--calls 50] [--depths 1,10,100,1000]

The UI lists a user's artifacts 50 at a time with ``GET /v1/artifacts?view=search&order=…``
and keyset cursors. One user owns *items* artifacts (rows bulk-inserted through the catalog's
insert statement; a fill through the API would measure the disk). Against `satchel serve` on a
loopback port, the bench times the first page, then pages 10, 100 and 1,000 (reached by
following ``next_cursor``, as the UI's Next button does) for each order the UI offers. Each
depth's median is printed next to the first page's, measured in the same run: the baseline.
A quick run on fewer items measures fewer depths (``--items 20000 --depths 1,10,100``).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, insert

from satchel import ArtifactStore, Settings
from satchel.catalog.tables import artifacts, sessions

TOKEN = "bench-ui-token-01"
USER = "lister"
DEPTHS = (1, 10, 100, 1000)
ORDERS = ("-stored_at", "filename", "-bytes")
PAGE = 50


def _rows(count: int, now: float) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    found = []
    for n in range(count):
        ident = f"a{n:012d}"
        found.append(
            {
                "artifact_id": ident,
                "sandbox_id": "default",
                "scope": "user",
                "session_id": "ui-bench",
                "owner_id": USER,
                "filename": f"runs/{n % 997:03d}/file-{n}.bin",
                "mime": "application/octet-stream",
                "summary": "",
                "meta": {"n": n},
                "bytes": 1000 + (n * 7919) % 100_000,
                "sha256": "sha256:" + "0" * 64,
                "etag": f"e{n}",
                "version": 1,
                "key": f"grid/default/ui-bench/{ident}",
                "stored_at": now - (count - n) * 0.001,
                "updated_at": now,
                "expires_at": None,
                "ttl": None,
                "storage_provider": "filesystem",
            }
        )
    session = {
        "session_id": "ui-bench",
        "sandbox_id": "default",
        "user_id": USER,
        "created_at": now,
        "expires_at": now + 86_400,
    }
    return found, [session]


async def _fill(data: Path, count: int) -> None:
    async with ArtifactStore(storage_provider="filesystem", settings=Settings(data_dir=data)):
        pass  # the schema
    engine = create_engine(f"sqlite:///{data / 'satchel.db'}")
    rows, new_sessions = _rows(count, time.time())
    with engine.begin() as conn:
        conn.execute(insert(sessions), new_sessions)
        for low in range(0, count, 50_000):
            conn.execute(insert(artifacts), rows[low : low + 50_000])
    engine.dispose()


def _serve(data: Path) -> tuple[subprocess.Popen[bytes], str]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("SATCHEL_")}
    env.update(
        SATCHEL_DATA_DIR=str(data),
        SATCHEL_PORT=str(port),
        SATCHEL_AUTH_TOKENS=f"{TOKEN}={USER}",
        SATCHEL_PURGE_INTERVAL_SECONDS="0",
    )
    command = [sys.executable, "-m", "satchel", "serve", "--log-level", "warning"]
    server = subprocess.Popen(command, env=env)
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            if httpx.get(url + "/health", timeout=1).status_code == 200:
                return server, url
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    server.terminate()
    raise SystemExit("satchel serve did not start")


def _page(http: httpx.Client, order: str, cursor: str | None) -> tuple[float, str | None]:
    params = {"view": "search", "order": order, "limit": PAGE}
    if cursor:
        params["cursor"] = cursor
    began = time.perf_counter()
    answer = http.get("/v1/artifacts", params=params)
    elapsed = time.perf_counter() - began
    answer.raise_for_status()
    body = answer.json()
    assert len(body["items"]) == PAGE, len(body["items"])
    return elapsed, body["next_cursor"]


def measure(url: str, calls: int, depths: tuple[int, ...]) -> dict[str, dict[int, float]]:
    results: dict[str, dict[int, float]] = {}
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {TOKEN}"}) as http:
        for order in ORDERS:
            cursors: dict[int, str | None] = {1: None}
            cursor = None
            for depth in range(1, max(depths)):
                _, cursor = _page(http, order, cursor)
                if depth + 1 in depths:
                    cursors[depth + 1] = cursor
            results[order] = {
                depth: statistics.median(
                    _page(http, order, cursors[depth])[0] for _ in range(calls)
                )
                for depth in depths
            }
    return results


def _depths(text: str) -> tuple[int, ...]:
    depths = tuple(sorted({int(part) for part in text.split(",")}))
    if not depths or depths[0] != 1:
        raise argparse.ArgumentTypeError("depths start at page 1 (the baseline)")
    return depths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--calls", type=int, default=50)
    parser.add_argument("--depths", type=_depths, default=DEPTHS, help="pages timed: 1,10,…")
    args = parser.parse_args()
    depths: tuple[int, ...] = args.depths
    if args.items < PAGE * max(depths):
        raise SystemExit(f"--items must be at least {PAGE * max(depths)} for page {max(depths)}")
    with tempfile.TemporaryDirectory() as scratch:
        data = Path(scratch)
        asyncio.run(_fill(data, args.items))
        server, url = _serve(data)
        try:
            results = measure(url, args.calls, depths)
        finally:
            server.terminate()
            server.wait(timeout=30)
    print(f"{args.items} artifacts of one user, {PAGE} per page, median of {args.calls} calls")
    last = depths[-1]
    header = "".join(f"{f'page {d}':>12}" for d in depths)
    print(f"{'order':<12}{header}{f'{last}/1':>9}")
    for order, by_depth in results.items():
        cells = "".join(f"{by_depth[d] * 1000:>10.1f}ms" for d in depths)
        print(f"{order:<12}{cells}{by_depth[last] / by_depth[1]:>9.2f}")


if __name__ == "__main__":
    main()
