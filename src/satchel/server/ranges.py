"""HTTP conditional and range requests (RFC 9110) and ``Content-Disposition`` (RFC 6266)."""

from __future__ import annotations

import unicodedata
from urllib.parse import quote

__all__ = [
    "RangeNotSatisfiableError",
    "content_disposition",
    "etag_matches",
    "if_range_allows",
    "parse_range",
    "quote_etag",
]


class RangeNotSatisfiableError(Exception):
    """The Range header cannot be satisfied (416 with ``Content-Range: bytes */size``)."""

    def __init__(self, size: int) -> None:
        super().__init__(f"range not satisfiable for {size} bytes")
        self.size = size


def quote_etag(etag: str) -> str:
    return f'"{etag.strip().removeprefix("W/").strip(chr(34))}"'


def _opaque(tag: str) -> tuple[bool, str]:
    """(weak, opaque value) of one entity tag."""
    tag = tag.strip()
    weak = tag.startswith("W/")
    return weak, tag.removeprefix("W/").strip().strip('"')


def etag_matches(header: str | None, etag: str) -> bool:
    """True when ``If-None-Match`` *header* matches *etag* (weak comparison, ``*`` matches)."""
    if header is None:
        return False
    if header.strip() == "*":
        return True
    wanted = _opaque(etag)[1]
    return any(_opaque(item)[1] == wanted for item in header.split(",") if item.strip())


def if_range_allows(header: str | None, etag: str) -> bool:
    """True when a Range may be honoured given ``If-Range`` *header* (strong etag comparison).

    A date (we send no Last-Modified) or any other validator means "send the whole body".
    """
    if header is None:
        return True
    weak, value = _opaque(header)
    if weak or not header.strip().startswith(('"', "W/")):
        return False
    return value == _opaque(etag)[1]


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The ``(start, end_exclusive)`` one byte range asks for, or None for the whole body.

    None also for headers to ignore (other units, malformed, several ranges: answered with the
    full body). Raises RangeNotSatisfiableError when the range lies beyond *size*.
    """
    if header is None:
        return None
    unit, sep, spec = header.strip().partition("=")
    if not sep or unit.strip().lower() != "bytes":
        return None
    spec = spec.strip()
    if "," in spec:
        return None
    first, dash, last = spec.partition("-")
    first, last = first.strip(), last.strip()
    if not dash or not (first.isdigit() or first == "") or not (last.isdigit() or last == ""):
        return None
    if first == "":
        if last == "":
            return None
        suffix = int(last)
        if suffix == 0 or size == 0:
            raise RangeNotSatisfiableError(size)
        return max(0, size - suffix), size
    start = int(first)
    if last != "" and int(last) < start:
        return None  # syntactically invalid: ignored
    if start >= size:
        raise RangeNotSatisfiableError(size)
    end = size if last == "" else min(int(last) + 1, size)
    return start, end


def _clean(name: str) -> str:
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    return "".join(
        ch for ch in name if ch not in '"\\' and unicodedata.category(ch)[0] != "C"
    ).strip()


def _ascii_fallback(name: str) -> str:
    decomposed = unicodedata.normalize("NFKD", name)
    chars = []
    for ch in decomposed:
        if unicodedata.combining(ch):
            continue
        chars.append(ch if " " <= ch <= "~" else "_")
    return "".join(chars) or "download"


def content_disposition(filename: str | None, disposition: str = "attachment") -> str:
    """A ``Content-Disposition`` value per RFC 6266, with an RFC 5987 ``filename*`` when needed.

    Quotes, backslashes and control characters are dropped; only the last path segment names
    the download. Non-ASCII names get an ASCII ``filename`` fallback plus
    ``filename*=UTF-8''<percent-encoded>``.
    """
    name = _clean(filename or "")
    if not name:
        return disposition
    if name.isascii():
        return f'{disposition}; filename="{name}"'
    encoded = quote(name, safe="!#$&+-.^_`|~")
    return f"{disposition}; filename=\"{_ascii_fallback(name)}\"; filename*=UTF-8''{encoded}"
