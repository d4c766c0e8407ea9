"""Byte ranges, entity-tag conditions and content headers: the pure rules every face uses."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

from satchel.core.errors import RangeNotSatisfiableError
from satchel.core.headers import (
    content_disposition,
    disposition_filename,
    parse_repr_digest,
    quote_etag,
    repr_digest,
    unquote_etag,
)
from satchel.core.ranges import ByteRange, etag_matches, if_match_allows, if_range_allows


def _resolve(header: str | None, size: int) -> tuple[int, int] | None:
    wanted = ByteRange.parse(header)
    return None if wanted is None else wanted.resolve(size)


def test_range_headers_resolve_against_the_size() -> None:
    assert _resolve(None, 10) is None
    assert _resolve("bytes=2-4", 10) == (2, 5)
    assert _resolve("bytes=-3", 10) == (7, 10)
    assert _resolve("bytes=-30", 10) == (0, 10)
    assert _resolve("bytes=8-", 10) == (8, 10)
    assert _resolve("bytes=8-99", 10) == (8, 10)


@pytest.mark.parametrize(
    "header",
    [
        "bytes=5-2",
        "items=0-1",
        "bytes=0-1,3-4",
        "bytes=",
        "bytes=-",
        "bytes=a-b",
        "bytes=²-3",
        "bytes=" + "9" * 30 + "-",
    ],
)
def test_ranges_to_ignore_are_none(header: str) -> None:
    assert ByteRange.parse(header) is None


@pytest.mark.parametrize(("header", "size"), [("bytes=10-", 10), ("bytes=-0", 10), ("bytes=0-", 0)])
def test_ranges_beyond_the_content_are_unsatisfiable(header: str, size: int) -> None:
    with pytest.raises(RangeNotSatisfiableError) as caught:
        _resolve(header, size)
    assert caught.value.status_code == 416
    assert caught.value.headers["Content-Range"] == f"bytes */{size}"


def test_a_byte_range_checks_its_bounds() -> None:
    for first, last in ((None, None), (-1, 2), (3, 1)):
        with pytest.raises(ValueError, match="ByteRange"):
            ByteRange(first, last)
    with pytest.raises(TypeError):
        ByteRange(True, None)


def test_entity_tag_conditions() -> None:
    assert etag_matches('"a", W/"b"', "b")
    assert etag_matches("*", "b")
    assert not etag_matches('"a"', "b")
    assert not etag_matches(None, "b")
    assert if_range_allows(None, "b")
    assert if_range_allows('"b"', "b")
    assert not if_range_allows('W/"b"', "b")
    assert not if_range_allows("Wed, 21 Oct 2015 07:28:00 GMT", "b")
    assert if_match_allows(None, "b")
    assert if_match_allows("*", "b")
    assert if_match_allows('"a", "b"', "b")
    assert if_match_allows("b", "b")  # a bare etag, as library callers pass it
    assert not if_match_allows('W/"b"', "b")  # If-Match compares strongly
    assert not if_match_allows('"a"', "b")


def test_content_disposition_names_the_download_safely() -> None:
    assert content_disposition('a\\b"c\x00\x1f.txt') == 'attachment; filename="bc.txt"'
    assert content_disposition(None) == "attachment"
    assert content_disposition("docs/report.pdf") == 'attachment; filename="report.pdf"'
    assert content_disposition("naïve.txt", "inline") == (
        "inline; filename=\"naive.txt\"; filename*=UTF-8''na%C3%AFve.txt"
    )


@pytest.mark.parametrize("name", ["report.pdf", "naïve résumé.txt", "データ.csv"])
def test_a_download_name_reads_back(name: str) -> None:
    assert disposition_filename(content_disposition(name)) == name
    assert disposition_filename("attachment") is None
    assert disposition_filename(None) is None


def test_repr_digest_round_trips_sha256() -> None:
    digest = "sha256:" + hashlib.sha256(b"hello").hexdigest()
    header = repr_digest(digest)
    assert header.startswith("sha-256=:")
    assert header.endswith(":")
    assert parse_repr_digest(header) == digest
    assert parse_repr_digest("sha-512=:AAAA:, " + header) == digest
    assert parse_repr_digest("sha-256=:not base64!:") is None
    assert parse_repr_digest(None) is None


def test_etag_quoting() -> None:
    assert quote_etag("abc") == '"abc"'
    assert quote_etag('W/"abc"') == '"abc"'
    assert unquote_etag(' "abc" ') == "abc"


class _Rest:
    """A stream that records being closed (started or not)."""

    def __init__(self) -> None:
        self.closed = False
        self.sent = False

    def __aiter__(self) -> _Rest:
        return self

    async def __anext__(self) -> bytes:
        if self.sent:
            raise StopAsyncIteration
        self.sent = True
        return b"second"

    async def aclose(self) -> None:
        self.closed = True


@pytest.mark.parametrize("read", [1, 2, 3])
async def test_an_opened_content_closes_its_stream_however_its_reader_stops(read: int) -> None:
    from satchel.core.content import ArtifactContent

    rest = _Rest()
    content = ArtifactContent(
        artifact_id="a", etag="e", sha256="sha256:" + "0" * 64, size=11, mime="x/y",
        filename=None, start=0, end=11, first_chunk=b"first", rest=rest,  # type: ignore[arg-type]
    )  # fmt: skip
    chunks = content.__aiter__()
    got = [chunk async for _, chunk in _first(read, chunks)]
    await chunks.aclose()  # type: ignore[attr-defined]
    assert got == [b"first", b"second"][: min(read, 2)]
    assert rest.closed
    assert content.rest is None


async def _first(count: int, chunks: Any) -> Any:
    for index in range(count):
        try:
            yield index, await anext(chunks)
        except StopAsyncIteration:
            return
