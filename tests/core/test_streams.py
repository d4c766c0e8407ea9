"""core.streams.gathered: socket-sized pieces regrouped for the blob writers, bytes unchanged."""

from __future__ import annotations

from collections.abc import AsyncIterator

from satchel.core.streams import gathered


async def _pieces(*parts: bytes) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


async def _collect(stream: AsyncIterator[bytes]) -> list[bytes]:
    return [piece async for piece in stream]


async def test_small_pieces_are_gathered_to_the_size_and_the_rest_follows() -> None:
    parts = [bytes([n]) * 3 for n in range(10)]  # 30 bytes in pieces of 3
    out = await _collect(gathered(_pieces(*parts), size=7))
    assert b"".join(out) == b"".join(parts)
    assert [len(piece) for piece in out] == [9, 9, 9, 3]


async def test_a_big_chunk_passes_uncopied_and_nothing_is_lost_around_it() -> None:
    big = b"x" * 100
    out = await _collect(gathered(_pieces(b"ab", big, b"cd", b"", big), size=50))
    assert b"".join(out) == b"ab" + big + b"cd" + big
    assert [len(piece) for piece in out] == [102, 102]
    first, rest = await _collect(gathered(_pieces(big, b"cd"), size=50))
    assert first is big  # already big enough: handed on as it came
    assert rest == b"cd"


async def test_an_empty_stream_yields_nothing() -> None:
    assert await _collect(gathered(_pieces(), size=4)) == []
    assert await _collect(gathered(_pieces(b""), size=4)) == [b""]
