"""The BlobStore conformance suite: one set of tests every blob backend must pass.

Use it by mixing :class:`BlobStoreConformance` into a ``Test…`` class that provides an async
``blob_store`` fixture (a fresh, empty store, closed afterwards)::

    class TestMyBlobStore(BlobStoreConformance):
        @pytest.fixture
        async def blob_store(self, tmp_path):
            store = MyBlobStore(tmp_path)
            yield store
            await store.close()

A backend that can tell which partial uploads it still holds (temporary files, staged rows)
overrides :meth:`BlobStoreConformance.leftovers`, so failed puts are checked to leave none.
The tests run with pytest-asyncio (``asyncio_mode = "auto"``).
"""

from __future__ import annotations

import asyncio
import hashlib
import random
from collections.abc import AsyncIterator, Callable, Iterable

import pytest

from satchel.blobs.base import BlobStore
from satchel.core.errors import (
    ArtifactNotFoundError,
    BlobNotFoundError,
    InvalidRequestError,
    TooLargeError,
)
from satchel.core.models import BlobInfo

__all__ = ["BlobStoreConformance", "MiB", "digest_of", "make_data", "read_all", "stream"]

MiB = 1024 * 1024
EMPTY_DIGEST = "sha256:" + hashlib.sha256(b"").hexdigest()
MISSING_DIGEST = "sha256:" + "0" * 64


def make_data(size: int, seed: int = 0) -> bytes:
    """*size* deterministic pseudo-random bytes; different seeds give different content."""
    return random.Random(seed).randbytes(size)


def digest_of(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def split(data: bytes, size: int) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


async def stream(parts: Iterable[bytes]) -> AsyncIterator[bytes]:
    """An async stream over *parts* that yields to the event loop between parts."""
    for part in parts:
        yield part
        await asyncio.sleep(0)


async def read_all(
    store: BlobStore, digest: str, start: int = 0, end: int | None = None, **kwargs: int
) -> bytes:
    return b"".join([piece async for piece in store.open_range(digest, start, end, **kwargs)])


class StreamBrokenError(Exception):
    """What a deliberately failing input stream raises."""


async def _failing_stream(parts: Iterable[bytes]) -> AsyncIterator[bytes]:
    async for part in stream(parts):
        yield part
    raise StreamBrokenError("the client went away")


def _interleaved_empty(data: bytes) -> list[bytes]:
    parts: list[bytes] = [b""]
    for part in split(data, 70_001):
        parts += [part, b"", b""]
    return parts


_SHAPES: dict[str, tuple[int, Callable[[bytes], list[bytes]]]] = {
    "one-small-chunk": (1000, lambda data: [data]),
    "many-tiny-chunks": (20_000, lambda data: split(data, 3)),
    "odd-chunks-across-mib": (2 * MiB + 777, lambda data: split(data, 333_331)),
    "mib-aligned-chunks": (3 * MiB, lambda data: split(data, MiB)),
    "empty-chunks-between": (300_000, _interleaved_empty),
    "one-big-chunk": (8 * MiB + 5, lambda data: [data]),
}

_RANGE_SIZE = 3 * MiB
_RANGES: dict[str, tuple[int, int | None]] = {
    "whole": (0, None),
    "start-only": (12_345, None),
    "start-and-end": (100, 5_000),
    "end-beyond-size": (_RANGE_SIZE - 10, _RANGE_SIZE + 1_000),
    "empty-range": (777, 777),
    "start-at-size": (_RANGE_SIZE, None),
    "start-beyond-size": (_RANGE_SIZE + 5, _RANGE_SIZE + 50),
    "across-chunk-boundaries": (MiB - 3, 2 * MiB + 5),
    "exact-mib": (MiB, 2 * MiB),
}


class BlobStoreConformance:
    """Tests of the BlobStore contract; the subclass provides an async ``blob_store`` fixture."""

    async def leftovers(self, store: BlobStore) -> list[str]:
        """Partial uploads the backend still holds; override where the backend can tell."""
        return []

    async def _assert_empty(self, store: BlobStore) -> None:
        page = await store.list_page()
        assert page.blobs == []
        assert page.next_cursor is None
        assert await self.leftovers(store) == []

    # -- shape of the backend ----------------------------------------------------------------

    async def test_implements_protocol(self, blob_store: BlobStore) -> None:
        assert isinstance(blob_store, BlobStore)
        assert isinstance(blob_store.name, str)
        assert blob_store.name

    async def test_check_is_ok(self, blob_store: BlobStore) -> None:
        report = await blob_store.check()
        assert report["status"] == "ok"

    # -- put / get ---------------------------------------------------------------------------

    @pytest.mark.parametrize("shape", list(_SHAPES))
    async def test_round_trip(self, blob_store: BlobStore, shape: str) -> None:
        size, splitter = _SHAPES[shape]
        data = make_data(size, seed=size)
        info = await blob_store.put_stream(stream(splitter(data)))
        assert info.digest == digest_of(data)
        assert info.size == len(data)
        assert info.created is True
        assert await read_all(blob_store, info.digest) == data
        assert await blob_store.head(info.digest) == BlobInfo(digest=info.digest, size=len(data))

    async def test_read_pieces_respect_chunk_size(self, blob_store: BlobStore) -> None:
        data = make_data(MiB + 10_000, seed=3)
        info = await blob_store.put_stream(stream(split(data, 65_536)))
        pieces = [p async for p in blob_store.open_range(info.digest, 5, None, chunk_size=1000)]
        assert all(0 < len(piece) <= 1000 for piece in pieces)
        assert b"".join(pieces) == data[5:]

    async def test_empty_blob(self, blob_store: BlobStore) -> None:
        info = await blob_store.put_stream(stream([]))
        assert (info.digest, info.size, info.created) == (EMPTY_DIGEST, 0, True)
        again = await blob_store.put_stream(stream([b"", b""]))
        assert (again.digest, again.size, again.created) == (EMPTY_DIGEST, 0, False)
        assert await blob_store.head(EMPTY_DIGEST) == BlobInfo(digest=EMPTY_DIGEST, size=0)
        assert await read_all(blob_store, EMPTY_DIGEST) == b""
        assert await read_all(blob_store, EMPTY_DIGEST, 0, 10) == b""
        assert (await blob_store.list_page()).blobs == [BlobInfo(digest=EMPTY_DIGEST, size=0)]

    async def test_identical_content_is_stored_once(self, blob_store: BlobStore) -> None:
        data = make_data(50_000, seed=1)
        first = await blob_store.put_stream(stream(split(data, 4096)))
        second = await blob_store.put_stream(stream([data]))
        assert first.created is True
        assert second.created is False
        assert (second.digest, second.size) == (first.digest, first.size)
        page = await blob_store.list_page()
        assert page.blobs == [BlobInfo(digest=first.digest, size=len(data))]
        assert await read_all(blob_store, first.digest) == data

    async def test_head(self, blob_store: BlobStore) -> None:
        data = make_data(1234, seed=2)
        info = await blob_store.put_stream(stream([data]))
        assert await blob_store.head(info.digest) == BlobInfo(digest=info.digest, size=1234)
        assert await blob_store.head(MISSING_DIGEST) is None

    # -- ranged reads ------------------------------------------------------------------------

    @pytest.mark.parametrize("name", list(_RANGES))
    async def test_ranged_read(self, blob_store: BlobStore, name: str) -> None:
        start, end = _RANGES[name]
        data = make_data(_RANGE_SIZE, seed=4)
        info = await blob_store.put_stream(stream(split(data, 200_000)))
        expected = data[start:] if end is None else data[start:end]
        assert await read_all(blob_store, info.digest, start, end) == expected

    @pytest.mark.parametrize(("start", "end"), [(5, 2), (-1, None), (-3, 10)])
    async def test_invalid_range(self, blob_store: BlobStore, start: int, end: int | None) -> None:
        info = await blob_store.put_stream(stream([b"0123456789"]))
        with pytest.raises(InvalidRequestError):
            await read_all(blob_store, info.digest, start, end)

    async def test_open_missing_blob(self, blob_store: BlobStore) -> None:
        with pytest.raises(BlobNotFoundError) as caught:
            await read_all(blob_store, MISSING_DIGEST)
        assert isinstance(caught.value, ArtifactNotFoundError)

    @pytest.mark.parametrize(
        "digest",
        ["", "sha256:xyz", "md5:" + "0" * 32, "sha256:" + "A" * 64, "0" * 64, "sha256:" + "0" * 65],
    )
    async def test_malformed_digest(self, blob_store: BlobStore, digest: str) -> None:
        with pytest.raises(InvalidRequestError):
            await read_all(blob_store, digest)
        with pytest.raises(InvalidRequestError):
            await blob_store.head(digest)
        with pytest.raises(InvalidRequestError):
            await blob_store.delete(digest)
        with pytest.raises(InvalidRequestError):
            await blob_store.put_stream(stream([b"data"]), expected_digest=digest)
        await self._assert_empty(blob_store)

    async def test_abandoned_read(self, blob_store: BlobStore) -> None:
        data = make_data(3 * MiB, seed=5)
        info = await blob_store.put_stream(stream([data]))
        reader = blob_store.open_range(info.digest, chunk_size=1000)
        assert await anext(reader) == data[:1000]
        await reader.aclose()  # type: ignore[attr-defined]
        assert await blob_store.delete(info.digest) is True
        assert await blob_store.head(info.digest) is None

    # -- delete and listing ------------------------------------------------------------------

    async def test_delete(self, blob_store: BlobStore) -> None:
        data = make_data(2 * MiB + 1, seed=6)
        info = await blob_store.put_stream(stream(split(data, 500_000)))
        assert await blob_store.delete(info.digest) is True
        assert await blob_store.delete(info.digest) is False
        assert await blob_store.head(info.digest) is None
        with pytest.raises(BlobNotFoundError):
            await read_all(blob_store, info.digest)
        await self._assert_empty(blob_store)
        again = await blob_store.put_stream(stream([data]))
        assert again.created is True
        assert await read_all(blob_store, again.digest) == data

    async def test_delete_keeps_other_blobs(self, blob_store: BlobStore) -> None:
        kept, gone = make_data(3000, seed=7), make_data(3000, seed=8)
        kept_info = await blob_store.put_stream(stream([kept]))
        gone_info = await blob_store.put_stream(stream([gone]))
        assert await blob_store.delete(gone_info.digest) is True
        assert await read_all(blob_store, kept_info.digest) == kept
        assert (await blob_store.list_page()).blobs == [BlobInfo(kept_info.digest, 3000)]

    @pytest.mark.parametrize("limit", [1, 3, 6, 7, 100])
    async def test_list_pagination(self, blob_store: BlobStore, limit: int) -> None:
        expected = {}
        for seed in range(7):
            data = make_data(100 + seed, seed=100 + seed)
            info = await blob_store.put_stream(stream([data]))
            expected[info.digest] = len(data)
        seen: list[BlobInfo] = []
        cursor: str | None = None
        for _ in range(10):
            page = await blob_store.list_page(cursor=cursor, limit=limit)
            assert len(page.blobs) <= limit
            seen += page.blobs
            if page.next_cursor is None:
                break
            assert page.next_cursor == page.blobs[-1].digest
            cursor = page.next_cursor
        else:
            pytest.fail("list_page never returned next_cursor=None")
        assert [b.digest for b in seen] == sorted(expected)
        assert {b.digest: b.size for b in seen} == expected

    # -- failed puts store nothing -----------------------------------------------------------

    async def test_max_bytes_exceeded(self, blob_store: BlobStore) -> None:
        data = make_data(3 * MiB, seed=9)
        with pytest.raises(TooLargeError):
            await blob_store.put_stream(stream(split(data, 256 * 1024)), max_bytes=len(data) - 1)
        await self._assert_empty(blob_store)
        assert await blob_store.head(digest_of(data)) is None
        info = await blob_store.put_stream(stream([data]), max_bytes=len(data))
        assert info.size == len(data)

    async def test_expected_digest(self, blob_store: BlobStore) -> None:
        data, other = make_data(3000, seed=10), make_data(3000, seed=11)
        with pytest.raises(InvalidRequestError):
            await blob_store.put_stream(stream([data]), expected_digest=digest_of(other))
        await self._assert_empty(blob_store)
        assert await blob_store.head(digest_of(data)) is None
        info = await blob_store.put_stream(stream([data]), expected_digest=digest_of(data))
        assert info.digest == digest_of(data)

    async def test_failing_stream(self, blob_store: BlobStore) -> None:
        part = make_data(MiB, seed=12)
        with pytest.raises(StreamBrokenError):
            await blob_store.put_stream(_failing_stream([part] * 5))
        await self._assert_empty(blob_store)
        assert await blob_store.head(digest_of(part * 5)) is None

    async def test_cancelled_put(self, blob_store: BlobStore) -> None:
        reached = asyncio.Event()

        async def stalls() -> AsyncIterator[bytes]:
            for _ in range(5):
                yield make_data(MiB, seed=13)
            reached.set()
            await asyncio.Event().wait()
            yield b"never"

        task = asyncio.create_task(blob_store.put_stream(stalls()))
        await asyncio.wait_for(reached.wait(), timeout=30)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await self._assert_empty(blob_store)

    # -- concurrency -------------------------------------------------------------------------

    async def test_concurrent_identical_puts(self, blob_store: BlobStore) -> None:
        data = make_data(256 * 1024, seed=14)
        results = await asyncio.gather(
            *(blob_store.put_stream(stream(split(data, 16_384))) for _ in range(16))
        )
        assert {(r.digest, r.size) for r in results} == {(digest_of(data), len(data))}
        assert sum(r.created for r in results) == 1
        assert (await blob_store.list_page()).blobs == [BlobInfo(digest_of(data), len(data))]
        assert await read_all(blob_store, digest_of(data)) == data
        assert await self.leftovers(blob_store) == []

    async def test_concurrent_different_puts(self, blob_store: BlobStore) -> None:
        contents = [make_data(40_000 + i, seed=200 + i) for i in range(16)]
        results = await asyncio.gather(
            *(blob_store.put_stream(stream(split(data, 8192))) for data in contents)
        )
        assert [r.digest for r in results] == [digest_of(data) for data in contents]
        assert all(r.created for r in results)
        listed = (await blob_store.list_page()).blobs
        assert {b.digest: b.size for b in listed} == {digest_of(d): len(d) for d in contents}
        for data in contents:
            assert await read_all(blob_store, digest_of(data)) == data

    async def test_concurrent_reads_during_writes(self, blob_store: BlobStore) -> None:
        base = make_data(2 * MiB + 3, seed=15)
        info = await blob_store.put_stream(stream([base]))
        extra = [make_data(100_000, seed=300 + i) for i in range(4)]

        async def read() -> bytes:
            return await read_all(blob_store, info.digest, chunk_size=65_536)

        results = await asyncio.gather(
            *(read() for _ in range(4)),
            *(blob_store.put_stream(stream(split(data, 10_000))) for data in extra),
        )
        assert results[:4] == [base] * 4
        assert len((await blob_store.list_page()).blobs) == 5
