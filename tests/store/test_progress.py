"""Progress callbacks on every transfer path, on every backend and over the remote client: done
never decreases, a complete transfer ends with one (total, total) call, parts sent in parallel
add up through a TransferProgress, and a callback that raises aborts the transfer, which then
leaves nothing behind (satchel.core.progress states the contract)."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest

from satchel import (
    ArtifactStore,
    InvalidRequestError,
    MultipartUploadCompleteRequest,
    MultipartUploadInitRequest,
    MultipartUploadPart,
    StreamDownloadRequest,
    StreamUploadRequest,
    TransferProgress,
)

Calls = list[tuple[int, int | None]]


class Abort(Exception):
    """What a caller's callback raises to stop a transfer."""


async def _chunked(data: bytes, size: int) -> AsyncIterator[bytes]:
    for offset in range(0, len(data), size):
        yield data[offset : offset + size]
        await asyncio.sleep(0)


def _check(calls: Calls, total: int) -> None:
    done = [call[0] for call in calls]
    assert done == sorted(done), calls
    assert calls[-1] == (total, total), calls
    assert (total, total) not in calls[:-1], calls


def _recorder() -> tuple[Calls, Any]:
    calls: Calls = []
    return calls, lambda done, total: calls.append((done, total))


def _raising_after(count: int) -> Any:
    seen = 0

    def callback(done: int, total: int | None) -> None:
        nonlocal seen
        seen += 1
        if seen > count:
            raise Abort(f"stopped at {done}")

    return callback


@pytest.mark.parametrize("size", [0, 1, 200_001])
async def test_upload_and_download_end_at_their_total(store: ArtifactStore, size: int) -> None:
    data = os.urandom(size)
    uploaded, on_upload = _recorder()
    request = StreamUploadRequest(
        data_stream=_chunked(data, 65_536),
        session_id="progress",
        content_length=size,
        progress_callback=on_upload,
    )
    artifact_id = await store.stream_upload(request)
    _check(uploaded, size)

    downloaded, on_download = _recorder()
    read = StreamDownloadRequest(
        artifact_id=artifact_id, chunk_size=50_000, progress_callback=on_download
    )
    assert b"".join([chunk async for chunk in store.stream_download(read)]) == data
    _check(downloaded, size)


async def test_a_callback_that_raises_stores_nothing(store: ArtifactStore) -> None:
    session = f"abort-{uuid.uuid4().hex[:12]}"
    for count in (0, 1, 2):  # on the first report, midway, and on the very last one
        request = StreamUploadRequest(
            data_stream=_chunked(b"x" * 30_000, 10_000),
            session_id=session,
            content_length=30_000,
            progress_callback=_raising_after(count),
        )
        with pytest.raises(Abort):
            await store.stream_upload(request)
    assert list(await store.list_by_session(session)) == []

    artifact_id = await store.store(b"y" * 30_000, session_id=session)
    read = StreamDownloadRequest(
        artifact_id=artifact_id, chunk_size=10_000, progress_callback=_raising_after(1)
    )
    received: list[bytes] = []

    async def read_all() -> None:
        async for chunk in store.stream_download(read):
            received.append(chunk)

    with pytest.raises(Abort):
        await read_all()
    assert len(received) == 2  # the transfer stopped where the callback raised


@pytest.mark.satchel_urls("parts below S3's 5 MiB minimum")
async def test_parallel_parts_add_up_to_the_total(make_store: Any) -> None:
    store = await make_store(multipart_min_part_bytes=1024)
    parts = {n: os.urandom(20_000 + n * 777) for n in range(1, 7)}
    total = sum(len(part) for part in parts.values())
    calls: Calls = []
    progress = TransferProgress(lambda done, all_of: calls.append((done, all_of)), total)
    started = await store.initiate_multipart_upload(
        MultipartUploadInitRequest(filename="big.bin", user_id="alice")
    )

    async def send(n: int) -> MultipartUploadPart:
        etag = await store.upload_part(
            started["upload_id"],
            n,
            _chunked(parts[n], 4096),
            user_id="alice",
            progress_callback=progress.part(),
        )
        return MultipartUploadPart(PartNumber=n, ETag=etag)

    sent = await asyncio.gather(*(send(n) for n in (4, 2, 6, 1, 5, 3)))
    progress.finish()
    _check(calls, total)
    assert len(set(calls)) == len(calls)  # strictly increasing

    artifact_id = await store.complete_multipart_upload(
        MultipartUploadCompleteRequest(
            upload_id=started["upload_id"], parts=sorted(sent, key=lambda p: p.PartNumber)
        )
    )
    expected = b"".join(parts[n] for n in range(1, 7))
    assert await store.retrieve(artifact_id, user_id="alice") == expected


@pytest.mark.satchel_urls("parts below S3's 5 MiB minimum")
async def test_a_part_whose_callback_raises_is_not_stored(make_store: Any) -> None:
    store = await make_store(multipart_min_part_bytes=1024)
    started = await store.initiate_multipart_upload(
        MultipartUploadInitRequest(filename="big.bin", user_id="alice")
    )
    with pytest.raises(Abort):
        await store.upload_part(
            started["upload_id"],
            1,
            _chunked(b"p" * 10_000, 1000),
            user_id="alice",
            progress_callback=_raising_after(3),
        )
    request = MultipartUploadCompleteRequest(
        upload_id=started["upload_id"], parts=[MultipartUploadPart(PartNumber=1, ETag="x" * 32)]
    )
    with pytest.raises(InvalidRequestError, match="part"):  # never stored: nothing to assemble
        await store.complete_multipart_upload(request, user_id="alice")
    assert not await store.exists(started["artifact_id"], user_id="alice")


async def test_tus_appends_report_their_bytes(store: ArtifactStore) -> None:
    upload = await store.tus_create(length=9000, user_id="alice")
    first, on_first = _recorder()
    status = await store.tus_append(
        upload.upload_id, 0, b"a" * 4000, user_id="alice", progress_callback=on_first
    )
    _check(first, 4000)
    with pytest.raises(Abort):
        await store.tus_append(
            upload.upload_id,
            status.offset,
            _chunked(b"b" * 5000, 1000),
            user_id="alice",
            progress_callback=_raising_after(0),
        )
    current = await store.tus_info(upload.upload_id, user_id="alice")
    assert not current.complete  # no artifact from a body cut short
    rest, on_rest = _recorder()
    done = await store.tus_append(
        upload.upload_id,
        current.offset,
        _chunked(b"c" * (9000 - current.offset), 1000),
        user_id="alice",
        progress_callback=on_rest,
    )
    _check(rest, 9000 - current.offset)
    assert done.complete
