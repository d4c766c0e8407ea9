"""List-by-session and search latency as the SQLite catalog grows: 10k, 100k and 1M artifacts.

    .venv/bin/python bench/growth.py [--sizes 10000,100000,1000000] [--calls 300]

A fresh embedded store (filesystem blobs + SQLite catalog) is filled with artifact rows through
the catalog's own insert statement, in bulk (storing a million blobs through the API would
measure the disk, not the catalog): 100 artifacts per session, 10 sessions per user (so each
user owns 1,000 artifacts and the number of users grows with the catalog), a mix of MIME types
and a ``kind`` meta field with 10 values. At each size the public API is timed on a warm
process (opened after the fill, as a restart would): ``list_by_session(session, limit=50)`` on
random sessions, and ``search(user_id=…, mime_prefix="image/", meta_filter={"kind": …},
limit=50)`` on random users. Prints p50 and p99
per size and the 1M / 10k ratio of p50.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import shutil
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, insert

from satchel import ArtifactStore, Settings
from satchel.catalog.tables import artifacts, sessions

PER_SESSION = 100
SESSIONS_PER_USER = 10  # so every user owns 1,000 artifacts, at every size
MIMES = ["image/png", "image/jpeg", "text/plain", "application/json", "application/pdf"]
KINDS = [f"kind-{n}" for n in range(10)]
SANDBOX = "default"
SHA = "sha256:" + "0" * 64


def rows(start: int, stop: int, now: float) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Artifact rows start..stop-1 and the sessions they start."""
    found: list[dict[str, Any]] = []
    new_sessions: list[dict[str, Any]] = []
    for n in range(start, stop):
        session = f"s{n // PER_SESSION:07d}"
        user = f"u{n // PER_SESSION // SESSIONS_PER_USER:05d}"
        if n % PER_SESSION == 0:
            new_sessions.append(
                {
                    "session_id": session,
                    "sandbox_id": SANDBOX,
                    "user_id": user,
                    "created_at": now,
                    "expires_at": now + 86_400,
                }
            )
        artifact_id = f"a{n:012d}"
        found.append(
            {
                "artifact_id": artifact_id,
                "sandbox_id": SANDBOX,
                "scope": "user" if n % 2 else "session",
                "session_id": session,
                "owner_id": user,
                "filename": f"dir/{n}.bin",
                "mime": MIMES[n % len(MIMES)],
                "summary": "growth",
                "meta": {"kind": KINDS[n % len(KINDS)], "n": n},
                "bytes": 4096,
                "sha256": SHA,
                "etag": f"e{n}",
                "version": 1,
                "key": f"grid/{SANDBOX}/{session}/{artifact_id}",
                "stored_at": now - (stop - n) * 0.001,
                "updated_at": now,
                "expires_at": None,
                "ttl": None,
                "storage_provider": "filesystem",
            }
        )
    return found, new_sessions


def fill(db: Path, start: int, stop: int) -> None:
    engine = create_engine(f"sqlite:///{db}")
    now = time.time()
    with engine.begin() as conn:
        for low in range(start, stop, 50_000):
            batch, new_sessions = rows(low, min(stop, low + 50_000), now)
            if new_sessions:
                conn.execute(insert(sessions), new_sessions)
            conn.execute(insert(artifacts), batch)
    engine.dispose()


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


async def measure(data_dir: Path, size: int, calls: int) -> dict[str, tuple[float, float]]:
    rng = random.Random(size)
    sessions_count = size // PER_SESSION
    settings = Settings(data_dir=data_dir, purge_interval_seconds=0)
    async with ArtifactStore(storage_provider="filesystem", settings=settings) as store:
        timings: dict[str, list[float]] = {"list_by_session": [], "search": []}
        for _ in range(calls):
            index = rng.randrange(sessions_count)
            session, user = f"s{index:07d}", f"u{index // SESSIONS_PER_USER:05d}"
            began = time.perf_counter()
            listed = await store.list_by_session(session, limit=50, user_id=user)
            timings["list_by_session"].append(time.perf_counter() - began)
            assert len(listed) == 50, len(listed)
            user = f"u{rng.randrange(sessions_count // SESSIONS_PER_USER):05d}"
            began = time.perf_counter()
            found = await store.search(
                user_id=user,
                mime_prefix="image/",
                meta_filter={"kind": rng.choice(KINDS)},
                limit=50,
            )
            timings["search"].append(time.perf_counter() - began)
            assert all(a.mime.startswith("image/") for a in found)
    return {name: percentiles(values) for name, values in timings.items()}


async def create_schema(data_dir: Path) -> None:
    async with ArtifactStore(storage_provider="filesystem", settings=Settings(data_dir=data_dir)):
        pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--calls", type=int, default=300)
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    root = Path(tempfile.mkdtemp(prefix="satchel-bench-growth-"))
    results: dict[int, dict[str, tuple[float, float]]] = {}
    try:
        asyncio.run(create_schema(root))
        db = root / "satchel.db"
        have = 0
        for size in sizes:
            began = time.perf_counter()
            fill(db, have, size)
            have = size
            print(f"filled to {size:,} rows in {time.perf_counter() - began:.1f} s", flush=True)
            results[size] = asyncio.run(measure(root, size, args.calls))
    finally:
        shutil.rmtree(root, ignore_errors=True)
    print(f"{'rows':>10}{'operation':>18}{'p50 ms':>10}{'p99 ms':>10}")
    for size, result in results.items():
        for name, (p50, p99) in result.items():
            print(f"{size:>10,}{name:>18}{p50 * 1e3:10.2f}{p99 * 1e3:10.2f}")
    small, large = results[sizes[0]], results[sizes[-1]]
    for name in small:
        print(f"{name}: p50 {sizes[-1]:,} / {sizes[0]:,} = {large[name][0] / small[name][0]:.2f}")


if __name__ == "__main__":
    main()
