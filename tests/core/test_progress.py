"""The progress contract (satchel.core.progress): done never decreases, the last call of a
complete transfer is (total, total), and parts sent in parallel threads add up through one
callback whose calls never overlap."""

from __future__ import annotations

import random
import threading
from collections.abc import AsyncIterator

import pytest

from satchel import InvalidRequestError, TransferProgress
from satchel.core.streams import checked_stream, reported_stream


async def _chunks(*parts: bytes) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


async def _drain(stream: AsyncIterator[bytes]) -> bytes:
    return b"".join([chunk async for chunk in stream])


def _check_contract(calls: list[tuple[int, int | None]], total: int) -> None:
    done = [call[0] for call in calls]
    assert done == sorted(done), calls  # never decreases
    assert calls[-1] == (total, total), calls
    assert (total, total) not in calls[:-1], calls  # one final call


@pytest.mark.parametrize("declared", [True, False])
async def test_a_stream_reports_each_chunk_and_ends_at_its_total(declared: bool) -> None:
    calls: list[tuple[int, int | None]] = []
    total = 6 if declared else None
    body = checked_stream(
        _chunks(b"ab", b"", b"cd", b"ef"), total, lambda d, t: calls.append((d, t))
    )
    assert await _drain(body) == b"abcdef"
    _check_contract(calls, 6)
    assert calls[0] == (2, total)


@pytest.mark.parametrize("stream", [checked_stream, reported_stream])
async def test_an_empty_transfer_reports_zero_of_zero_once(stream: object) -> None:
    calls: list[tuple[int, int | None]] = []
    for total in (0, None):
        calls.clear()
        await _drain(stream(_chunks(), total, lambda d, t: calls.append((d, t))))  # type: ignore[operator]
        assert calls == [(0, 0)]


async def test_an_async_callback_is_awaited() -> None:
    calls: list[tuple[int, int | None]] = []

    async def record(done: int, total: int | None) -> None:
        calls.append((done, total))

    await _drain(reported_stream(_chunks(b"abc", b"d"), 4, record))
    assert calls == [(3, 4), (4, 4)]


async def test_a_callback_that_raises_ends_the_stream_with_its_error() -> None:
    class Stop(Exception):
        pass

    def stop(done: int, total: int | None) -> None:
        raise Stop

    with pytest.raises(Stop):
        await _drain(checked_stream(_chunks(b"ab", b"cd"), 4, stop))


def test_parallel_parts_in_threads_add_up_monotonically_to_the_total() -> None:
    calls: list[tuple[int, int | None]] = []
    inside = threading.Lock()
    overlapping = []

    def record(done: int, total: int | None) -> None:
        if not inside.acquire(blocking=False):  # another call is running: they overlap
            overlapping.append(done)
            return
        try:
            calls.append((done, total))
        finally:
            inside.release()

    sizes = [random.randint(1, 50_000) for _ in range(16)]
    progress = TransferProgress(record, sum(sizes))
    start = threading.Barrier(len(sizes))

    def send(size: int) -> None:
        report = progress.part()
        start.wait()
        done = 0
        while done < size:
            done = min(size, done + random.randint(1, 4096))
            report(done, size)
            report(done, size)  # a repeated report adds nothing

    threads = [threading.Thread(target=send, args=(size,)) for size in sizes]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    progress.finish()  # the total was reached: nothing more is said

    assert not overlapping
    assert [call[0] for call in calls] == sorted({call[0] for call in calls})  # strictly up
    assert calls[-1] == (sum(sizes), sum(sizes))
    assert progress.done == sum(sizes)


def test_a_transfer_of_unknown_size_ends_with_done_of_done() -> None:
    calls: list[tuple[int, int | None]] = []
    progress = TransferProgress(lambda d, t: calls.append((d, t)), None)
    first, second = progress.part(), progress.part()
    first(3, None)
    second(2, 2)
    first(5, 5)
    progress.finish()
    assert calls == [(3, None), (5, None), (7, None), (7, 7)]
    with pytest.raises(InvalidRequestError):
        TransferProgress(print, -1)
