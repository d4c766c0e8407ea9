"""Byte ranges and entity-tag conditions of reads (RFC 9110 §13, §14). Pure.

The HTTP service parses headers into these values; the store decides with them, so every face
(``open_content`` embedded or remote, the routed GET, the fast path, presigned GETs) answers a
conditional or ranged read the same way.
"""

from __future__ import annotations

import dataclasses

from satchel.core.errors import (
    InvalidRequestError,
    PreconditionFailedError,
    RangeNotSatisfiableError,
)

__all__ = [
    "ByteRange",
    "ReadPlan",
    "etag_matches",
    "if_match_allows",
    "if_range_allows",
    "plan_read",
]


@dataclasses.dataclass(frozen=True, slots=True)
class ByteRange:
    """One byte range as HTTP states it: ``first``-``last`` inclusive, ``last=None`` to the end;
    ``first=None`` asks for the last ``last`` bytes (a suffix)."""

    first: int | None
    last: int | None = None

    def __post_init__(self) -> None:
        for value in (self.first, self.last):
            if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
                raise TypeError("ByteRange bounds are whole numbers or None")
        if self.first is None and self.last is None:
            raise ValueError("a ByteRange needs a first byte or a suffix length")
        if (self.first is not None and self.first < 0) or (self.last is not None and self.last < 0):
            raise ValueError("ByteRange bounds are not negative")
        if self.first is not None and self.last is not None and self.last < self.first:
            raise ValueError("a ByteRange ends before it starts")

    @classmethod
    def parse(cls, header: str | None) -> ByteRange | None:
        """The range a ``Range`` header asks for; None for one to ignore (absent, another unit,
        malformed, several ranges: the whole content is the answer)."""
        if header is None:
            return None
        unit, sep, spec = header.strip().partition("=")
        if not sep or unit.strip().lower() != "bytes":
            return None
        spec = spec.strip()
        if "," in spec:
            return None
        first, dash, last = (part.strip() for part in spec.partition("-"))
        if not dash or not _digits(first, empty=True) or not _digits(last, empty=True):
            return None
        if first == "" and last == "":
            return None
        start = int(first) if first else None
        end = int(last) if last else None
        if start is not None and end is not None and end < start:
            return None  # syntactically invalid: ignored
        return cls(start, end)

    def resolve(self, size: int) -> tuple[int, int]:
        """``(start, end_exclusive)`` of this range in content of *size* bytes.

        Raises:
            RangeNotSatisfiableError: the range lies wholly beyond the content (any range of
                empty content, a zero-length suffix).
        """
        if self.first is None:
            assert self.last is not None
            if self.last == 0 or size == 0:
                raise RangeNotSatisfiableError(size=size)
            return max(0, size - self.last), size
        if self.first >= size:
            raise RangeNotSatisfiableError(size=size)
        end = size if self.last is None else min(self.last + 1, size)
        return self.first, end


def _digits(text: str, *, empty: bool) -> bool:
    if text == "":
        return empty
    return text.isascii() and text.isdigit() and len(text) <= 19  # fits 64 bits


def _opaque(tag: str) -> tuple[bool, str]:
    """(weak, opaque value) of one entity tag."""
    tag = tag.strip()
    weak = tag.startswith("W/")
    return weak, tag.removeprefix("W/").strip().strip('"')


def etag_matches(header: str | None, etag: str) -> bool:
    """True when an ``If-None-Match`` *header* matches *etag* (weak comparison, ``*`` matches)."""
    if header is None:
        return False
    if header.strip() == "*":
        return True
    wanted = _opaque(etag)[1]
    return any(_opaque(item)[1] == wanted for item in header.split(",") if item.strip())


def if_match_allows(header: str | None, etag: str) -> bool:
    """True when an ``If-Match`` *header* admits *etag* (strong comparison, ``*`` matches any)."""
    if header is None or header.strip() == "*":
        return True
    wanted = _opaque(etag)[1]
    for item in header.split(","):
        if not item.strip():
            continue
        weak, value = _opaque(item)
        if not weak and value == wanted:
            return True
    return False


def if_range_allows(header: str | None, etag: str) -> bool:
    """True when a range may be honoured given ``If-Range`` *header* (strong comparison).

    A date (Satchel sends no Last-Modified) or any other validator means "the whole content".
    """
    if header is None:
        return True
    weak, value = _opaque(header)
    if weak or not header.strip().startswith(('"', "W/")):
        return False
    return value == _opaque(etag)[1]


@dataclasses.dataclass(frozen=True, slots=True)
class ReadPlan:
    """Which bytes ``[start, end)`` a read of one version serves, and how: ``partial`` (206)
    when a range was honoured, ``not_modified`` (304) when the reader has that version."""

    start: int
    end: int
    partial: bool = False
    not_modified: bool = False


def plan_read(
    etag: str,
    size: int,
    *,
    byte_range: ByteRange | None = None,
    if_range: str | None = None,
    if_match: str | None = None,
    if_none_match: str | None = None,
) -> ReadPlan:
    """What a read of the version *etag* (*size* bytes) answers, given the reader's range and
    conditions, in RFC 9110's order: If-Match, If-None-Match, then the range (If-Range).

    Raises:
        PreconditionFailedError: *if_match* names another version.
        RangeNotSatisfiableError: the range lies beyond the content.
        InvalidRequestError: *byte_range* is not a ByteRange.
    """
    if byte_range is not None and not isinstance(byte_range, ByteRange):
        raise InvalidRequestError("byte_range must be a ByteRange")
    if not if_match_allows(if_match, etag):
        raise PreconditionFailedError(f"the content is at etag {etag}, not {if_match}")
    if etag_matches(if_none_match, etag):
        return ReadPlan(0, size, not_modified=True)
    if byte_range is not None and if_range_allows(if_range, etag):
        start, end = byte_range.resolve(size)
        return ReadPlan(start, end, partial=True)
    return ReadPlan(0, size)
