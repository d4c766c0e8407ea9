"""Streaming is constant-memory end to end: 1 GiB up and down through the filesystem backend,
as an artifact and as a package file.

The measurement runs in a fresh interpreter so nothing the test session allocated counts. A
background thread samples the child's RSS every 10 ms; the kernel's own peak (``VmHWM``, reset
per phase through ``/proc/self/clear_refs``) cross-checks it, so a spike shorter than one
sampling period cannot slip through. (``ru_maxrss`` cannot serve: Linux carries it over from
the parent across fork and exec, so it reports the pytest process's size.)
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

MiB = 1024 * 1024
TOTAL = 1024 * MiB
LIMIT = 64 * MiB

CHILD = textwrap.dedent(
    """
    import asyncio, hashlib, json, re, sys, threading, time

    import psutil

    from satchel import ArtifactStore, StreamDownloadRequest, StreamUploadRequest

    MiB = 1024 * 1024
    CHUNKS = 1024
    TOTAL = CHUNKS * MiB
    PROCESS = psutil.Process()


    class PeakRss:
        # Samples RSS every 10 ms; peak() is the highest value seen since reset().
        def __init__(self):
            self._peak = PROCESS.memory_info().rss
            self._stop = threading.Event()
            self._thread = threading.Thread(target=self._run, daemon=True)
            self._thread.start()

        def _run(self):
            while not self._stop.wait(0.01):
                rss = PROCESS.memory_info().rss
                if rss > self._peak:
                    self._peak = rss

        def reset(self):
            rss = PROCESS.memory_info().rss
            self._peak = rss
            return rss

        def peak(self):
            rss = PROCESS.memory_info().rss
            self._peak = max(self._peak, rss)
            return self._peak

        def stop(self):
            self._stop.set()
            self._thread.join()


    def reset_kernel_peak():
        # Writing 5 to clear_refs resets VmHWM to the current RSS (Linux >= 4.0).
        try:
            with open("/proc/self/clear_refs", "w") as handle:
                handle.write("5")
        except OSError:
            return False
        return True


    def kernel_peak():
        with open("/proc/self/status") as handle:
            return int(re.search(r"VmHWM:\\s+(\\d+) kB", handle.read()).group(1)) * 1024


    async def main():
        sampler = PeakRss()
        async with ArtifactStore(storage_provider="filesystem") as store:
            # Warm up every code path (imports, catalog, worker threads) before the baseline.
            async def small():
                yield b"warm-up " * 1024

            warm = await store.stream_upload(
                StreamUploadRequest(data_stream=small(), mime="application/octet-stream")
            )
            async for _ in store.stream_download(StreamDownloadRequest(artifact_id=warm)):
                pass

            buffer = bytearray(range(256)) * (MiB // 256)
            sent = hashlib.sha256()
            progress = []

            async def chunks():
                for index in range(CHUNKS):
                    buffer[:8] = index.to_bytes(8, "big")  # vary a few bytes per chunk
                    chunk = bytes(buffer)
                    sent.update(chunk)
                    yield chunk

            kernel = reset_kernel_peak()
            base_up = sampler.reset()
            start = time.perf_counter()
            artifact_id = await store.stream_upload(
                StreamUploadRequest(
                    data_stream=chunks(),
                    mime="application/octet-stream",
                    summary="1 GiB stream",
                    filename="big.bin",
                    user_id="alice",
                    content_length=TOTAL,
                    progress_callback=lambda done, total: progress.append(done),
                )
            )
            upload_seconds = time.perf_counter() - start
            peak_up = sampler.peak()
            kernel_up = kernel_peak() if kernel else None
            meta = await store.metadata(artifact_id, user_id="alice")

            kernel = reset_kernel_peak()
            base_down = sampler.reset()
            received = hashlib.sha256()
            size = 0
            start = time.perf_counter()
            request = StreamDownloadRequest(
                artifact_id=artifact_id, user_id="alice", chunk_size=MiB
            )
            async for chunk in store.stream_download(request):
                received.update(chunk)
                size += len(chunk)
            download_seconds = time.perf_counter() - start
            peak_down = sampler.peak()
            kernel_down = kernel_peak() if kernel else None

            # A package file of 1 GiB (other bytes: a new blob), in and out the same way.
            async def other_chunks():
                for index in range(CHUNKS):
                    buffer[:8] = (CHUNKS + index).to_bytes(8, "big")
                    yield bytes(buffer)

            package_id = await store.create_package("big", "ci", "mem", "transient")
            kernel = reset_kernel_peak()
            base_package = sampler.reset()
            entry = await store.ingest_file(package_id, "data/big.bin", None, other_chunks())
            await store.finalize_package(package_id)
            package_size = 0
            async for chunk in await store.open_package_file(package_id, "data/big.bin"):
                package_size += len(chunk)
            peak_package = sampler.peak()
            kernel_package = kernel_peak() if kernel else None
        sampler.stop()
        print(json.dumps({
            "upload_growth": peak_up - base_up,
            "download_growth": peak_down - base_down,
            "kernel_upload_growth": None if kernel_up is None else kernel_up - base_up,
            "kernel_download_growth": None if kernel_down is None else kernel_down - base_down,
            "baseline_rss": base_up,
            "upload_seconds": upload_seconds,
            "download_seconds": download_seconds,
            "sent_sha256": "sha256:" + sent.hexdigest(),
            "received_sha256": "sha256:" + received.hexdigest(),
            "meta_sha256": meta.sha256,
            "meta_bytes": meta.bytes,
            "downloaded_bytes": size,
            "progress_calls": len(progress),
            "progress_last": progress[-1] if progress else None,
            "package_growth": peak_package - base_package,
            "kernel_package_growth": (
                None if kernel_package is None else kernel_package - base_package
            ),
            "package_bytes": entry["size"],
            "package_read_bytes": package_size,
        }))


    asyncio.run(main())
    """
)


def _clean_env(data_dir: Path) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("SATCHEL_", "ARTIFACT_", "SESSION_"))
    }
    env["SATCHEL_DATA_DIR"] = str(data_dir)
    return env


def _mib(value: int | None) -> str:
    return "n/a (no /proc/self/clear_refs)" if value is None else f"{value / MiB:.1f} MiB"


def test_one_gib_streams_in_constant_memory(tmp_path: Path) -> None:
    free = os.statvfs(tmp_path)
    assert free.f_bavail * free.f_frsize > 3 * TOTAL, "needs 3 GiB of free disk in tmp_path"
    started = time.perf_counter()
    try:
        result = subprocess.run(
            [sys.executable, "-c", CHILD],
            env=_clean_env(tmp_path),
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=280,
            check=False,
        )
    finally:
        shutil.rmtree(tmp_path / "blobs", ignore_errors=True)  # pytest keeps tmp dirs around
    wall = time.perf_counter() - started
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout.strip().splitlines()[-1])

    report = (
        f"streaming 1 GiB (filesystem backend, fsync on): "
        f"upload {figures['upload_seconds']:.1f} s, peak RSS growth "
        f"{figures['upload_growth'] / MiB:.1f} MiB; "
        f"download {figures['download_seconds']:.1f} s, peak RSS growth "
        f"{figures['download_growth'] / MiB:.1f} MiB; "
        f"kernel peak (VmHWM) growth: upload {_mib(figures['kernel_upload_growth'])}, "
        f"download {_mib(figures['kernel_download_growth'])}; "
        f"package file in and out: peak RSS growth {figures['package_growth'] / MiB:.1f} MiB "
        f"(kernel {_mib(figures['kernel_package_growth'])}); "
        f"baseline RSS {figures['baseline_rss'] / MiB:.1f} MiB; child wall time {wall:.1f} s"
    )
    print(report)

    assert figures["meta_bytes"] == TOTAL
    assert figures["downloaded_bytes"] == TOTAL
    assert figures["sent_sha256"] == figures["meta_sha256"]
    assert figures["received_sha256"] == figures["meta_sha256"]
    assert figures["progress_calls"] == TOTAL // MiB
    assert figures["progress_last"] == TOTAL
    assert figures["upload_growth"] < LIMIT, report
    assert figures["download_growth"] < LIMIT, report
    assert figures["package_bytes"] == figures["package_read_bytes"] == TOTAL
    assert figures["package_growth"] < LIMIT, report
    kernel_figures = ("kernel_upload_growth", "kernel_download_growth", "kernel_package_growth")
    for kernel_growth in (figures[name] for name in kernel_figures):
        assert kernel_growth is None or kernel_growth < LIMIT, report
