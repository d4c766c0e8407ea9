"""One benchmark workload in this process, against Satchel or chuk-artifacts (same public API),
or the raw-disk baselines of (a). Prints one JSON line. Run by bench/library.py in the right
venv.

    python bench/workloads.py {satchel,chuk,raw} {a,b,c} DIR [--objects N] [--mib N]
        [--threads 32]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import re
import secrets
import stat
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

CONCURRENCY = 32
USER = "bench"  # the session's owner: Satchel stores into a user's session only for that user


def _kib(field: str) -> int:
    match = re.search(rf"^{field}:\s+(\d+) kB", Path("/proc/self/status").read_text(), re.M)
    return int(match.group(1)) if match else 0


def _reset_peak() -> int:
    Path("/proc/self/clear_refs").write_text("5")
    return _kib("VmRSS")


def open_store(impl: str, root: Path) -> Any:
    if impl == "satchel":
        from satchel import ArtifactStore, Settings

        return ArtifactStore(storage_provider="filesystem", settings=Settings(data_dir=root))
    os.environ["ARTIFACT_FS_ROOT"] = str(root / "blobs")
    from chuk_artifacts import ArtifactStore as ChukStore

    # chuk-artifacts 0.11.4's plain "filesystem" provider fails on the first store() (it writes
    # a record where the session's directory is: IsADirectoryError); "vfs-filesystem" is its
    # working filesystem backend.
    return ChukStore(storage_provider="vfs-filesystem", session_provider="memory")


async def new_session(store: Any) -> str:
    """A session for the run. chuk-artifacts' filesystem provider cannot create one up front
    (it writes the session record where the session's directory goes), so there the first
    store() makes it, as its README shows."""
    if hasattr(store, "settings"):  # Satchel
        session: str = await store.create_session(user_id=USER)
        return session
    first = await store.store(b"warm-up", mime="text/plain", summary="warm-up", user_id=USER)
    meta = await store.metadata(first)
    return str(meta["session_id"])


def requests_module(impl: str) -> Any:
    if impl == "satchel":
        import satchel

        return satchel
    import chuk_artifacts.models

    return chuk_artifacts.models


async def gather_limited(calls: list[Any]) -> list[Any]:
    gate = asyncio.Semaphore(CONCURRENCY)

    async def one(call: Any) -> Any:
        async with gate:
            return await call()

    return await asyncio.gather(*(one(call) for call in calls))


def payloads(count: int, size: int) -> list[bytes]:
    seed = os.urandom(size)
    return [index.to_bytes(8, "big") + seed[8:] for index in range(count)]


async def workload_a(impl: str, root: Path, objects: int) -> dict[str, float]:
    """Store N objects of 1 MiB at concurrency 32, then read them all back: files/s."""
    data = payloads(objects, 2**20)
    async with open_store(impl, root) as store:
        session = await new_session(store)
        began = time.perf_counter()
        ids = await gather_limited(
            [
                lambda d=d: store.store(
                    d,
                    mime="application/octet-stream",
                    summary="a",
                    session_id=session,
                    user_id=USER,
                )
                for d in data
            ]
        )
        stored = time.perf_counter() - began
        began = time.perf_counter()
        back = await gather_limited([lambda i=i: store.retrieve(i) for i in ids])
        read = time.perf_counter() - began
    assert all(x == y for x, y in zip(back, data, strict=True))
    return {"store_files_per_s": objects / stored, "read_files_per_s": objects / read}


async def workload_b(impl: str, root: Path, objects: int) -> dict[str, float]:
    """Store N objects of 4 KiB at concurrency 32, then metadata() of each: ops/s."""
    data = payloads(objects, 4096)
    async with open_store(impl, root) as store:
        session = await new_session(store)
        began = time.perf_counter()
        ids = await gather_limited(
            [
                lambda d=d: store.store(
                    d, mime="text/plain", summary="b", session_id=session, user_id=USER
                )
                for d in data
            ]
        )
        stored = time.perf_counter() - began
        began = time.perf_counter()
        metas = await gather_limited([lambda i=i: store.metadata(i) for i in ids])
        meta_time = time.perf_counter() - began
    assert len(metas) == objects
    return {"store_ops_per_s": objects / stored, "metadata_ops_per_s": objects / meta_time}


async def workload_c(impl: str, root: Path, mib: int) -> dict[str, float]:
    """stream_upload of N MiB in 1 MiB chunks, then stream_download: MiB/s and RSS growth."""
    models = requests_module(impl)
    block = os.urandom(2**20)
    sent = hashlib.sha256()

    async def chunks() -> Any:
        for index in range(mib):
            chunk = index.to_bytes(8, "big") + block[8:]
            sent.update(chunk)
            yield chunk

    async with open_store(impl, root) as store:
        session = await new_session(store)
        base = _reset_peak()
        began = time.perf_counter()
        artifact_id = await store.stream_upload(
            models.StreamUploadRequest(
                data_stream=chunks(),
                mime="application/octet-stream",
                summary="c",
                filename="big.bin",
                session_id=session,
                user_id=USER,
                content_length=mib * 2**20,
            )
        )
        up = time.perf_counter() - began
        up_growth = (_kib("VmHWM") - base) / 1024
        base = _reset_peak()
        got = hashlib.sha256()
        began = time.perf_counter()
        request = models.StreamDownloadRequest(artifact_id=artifact_id, chunk_size=2**20)
        async for chunk in store.stream_download(request):
            got.update(chunk)
        down = time.perf_counter() - began
        down_growth = (_kib("VmHWM") - base) / 1024
    assert got.hexdigest() == sent.hexdigest()
    return {
        "upload_mib_per_s": mib / up,
        "download_mib_per_s": mib / down,
        "upload_rss_growth_mib": up_growth,
        "download_rss_growth_mib": down_growth,
    }


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def raw_store(root: Path, blob: bytes) -> Path:
    """Store *blob* the way Satchel's filesystem backend does, with nothing around it: hash it
    into a temp file, fsync, make it read-only, rename it to ``sha256/ab/cd/<hex>`` and fsync
    the directory (and the parents of fan-out directories it had to create)."""
    temp = root / "tmp" / f"{secrets.token_hex(8)}.part"
    digest = hashlib.sha256()
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        digest.update(blob)
        view = memoryview(blob)
        while view:
            view = view[os.write(fd, view) :]
        os.fsync(fd)
    finally:
        os.close(fd)
    hexdigest = digest.hexdigest()
    final = root / "sha256" / hexdigest[:2] / hexdigest[2:4] / hexdigest
    created = []
    for directory in (final.parent.parent, final.parent):
        try:
            os.mkdir(directory)
        except FileExistsError:
            continue
        created.append(directory)
    os.chmod(temp, stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
    os.rename(temp, final)
    _fsync_dir(final.parent)
    for directory in created:
        _fsync_dir(directory.parent)
    return final


def raw_read(path: Path) -> bytes:
    with open(path, "rb") as source:
        return source.read()


def raw_a(root: Path, objects: int, threads: int) -> dict[str, float]:
    """The raw baselines of (a): the same 1 MiB payloads stored by raw_store() from a pool of
    *threads* threads, then read back whole by as many threads (from the page cache: they were
    just written); and stored one after another, into a directory of their own."""
    data = payloads(objects, 2**20)
    result: dict[str, float] = {}
    threaded = root / "threaded"
    for directory in (threaded / "sha256", threaded / "tmp"):
        directory.mkdir(parents=True)
    with ThreadPoolExecutor(threads) as pool:
        began = time.perf_counter()
        paths = list(pool.map(lambda blob: raw_store(threaded, blob), data))
        result["store_files_per_s"] = objects / (time.perf_counter() - began)
        began = time.perf_counter()
        back = list(pool.map(raw_read, paths))
        result["read_files_per_s"] = objects / (time.perf_counter() - began)
    assert all(x == y for x, y in zip(back, data, strict=True))
    del back
    serial = root / "serial"
    for directory in (serial / "sha256", serial / "tmp"):
        directory.mkdir(parents=True)
    began = time.perf_counter()
    for blob in data:
        raw_store(serial, blob)
    result["serial_store_files_per_s"] = objects / (time.perf_counter() - began)
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("impl", choices=["satchel", "chuk", "raw"])
    parser.add_argument("workload", choices=["a", "b", "c"])
    parser.add_argument("dir", type=Path)
    parser.add_argument("--objects", type=int, default=0)
    parser.add_argument("--mib", type=int, default=256)
    parser.add_argument("--threads", type=int, default=CONCURRENCY, help="raw (a): pool size")
    args = parser.parse_args()
    if args.impl == "raw":
        if args.workload != "a":
            parser.error("the raw baseline is of workload a")
        result = raw_a(args.dir, args.objects or 2000, args.threads)
    elif args.workload == "a":
        result = asyncio.run(workload_a(args.impl, args.dir, args.objects or 2000))
    elif args.workload == "b":
        result = asyncio.run(workload_b(args.impl, args.dir, args.objects or 200))
    else:
        result = asyncio.run(workload_c(args.impl, args.dir, args.mib))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
