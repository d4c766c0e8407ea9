"""A runnable tour of the embedded library on the embedded default (``make run``).

Stores artifacts in ``./var`` (SQLite catalog + content-addressed files), so running it twice
shows the first run's artifacts surviving the restart.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator

from satchel import ArtifactStore, Settings, StreamDownloadRequest, StreamUploadRequest


async def _tour(store: ArtifactStore) -> None:
    earlier = await store.search(user_id="demo", scope="user", meta_filter={"kind": "note"})
    print(f"notes kept from earlier runs: {len(earlier)}")

    note_id = await store.store(
        b"Remember: artifacts are content-addressed.\n",
        mime="text/plain",
        summary="a persistent note",
        filename="notes/remember.txt",
        user_id="demo",
        scope="user",
        meta={"kind": "note"},
    )
    meta = await store.metadata(note_id, user_id="demo")
    print(f"stored {meta.filename}: {meta.bytes} bytes, {meta.sha256}")
    print(f"  grid key {meta.key}")

    async def chunks() -> AsyncIterator[bytes]:
        for index in range(16):
            yield bytes([index]) * 65536

    def progress(done: int, total: int | None) -> None:
        print(f"\r  streaming upload: {done}/{total} bytes", end="", file=sys.stderr)

    big_id = await store.stream_upload(
        StreamUploadRequest(
            data_stream=chunks(),
            mime="application/octet-stream",
            summary="one MiB, streamed",
            filename="data/stream.bin",
            user_id="demo",
            content_length=16 * 65536,
            progress_callback=progress,
        )
    )
    print(file=sys.stderr)
    received = 0
    async for chunk in store.stream_download(StreamDownloadRequest(artifact_id=big_id)):
        received += len(chunk)
    print(f"streamed {received} bytes back from {big_id}")

    updated = await store.update_metadata(note_id, meta={"reviewed": True}, user_id="demo")
    print(f"metadata merged: {updated.meta} (etag {updated.etag})")

    stats = await store.get_stats()
    print(
        f"catalog: {stats['total_artifacts']} artifacts, {stats['total_bytes']} bytes "
        f"({stats['stored_bytes']} stored after dedup) on {stats['storage_provider']}"
    )


def main() -> None:
    """Entry point of ``python -m satchel.demo``."""
    settings = Settings()
    backend = settings.blob_backend or "filesystem"
    where = "memory" if settings.data_dir is None else os.fspath(settings.data_dir)
    print(f"Satchel demo: {backend} blobs + SQLite catalog under {where}")
    store = ArtifactStore(settings=settings, storage_provider=backend)

    async def run() -> None:
        async with store:
            await _tour(store)

    asyncio.run(run())


if __name__ == "__main__":
    main()
