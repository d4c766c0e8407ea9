"""Input validation: ids, filenames, metadata, TTLs, payloads. Pure; raises InvalidRequestError."""

from __future__ import annotations

import json
import re
import unicodedata
from typing import Any

from satchel.core.errors import InvalidRequestError, TooLargeError
from satchel.core.metadata import check_meta, encode_meta
from satchel.core.mime import DEFAULT_MIME

__all__ = [
    "ID_PATTERN",
    "MAX_FILENAME_BYTES",
    "MAX_ID_LENGTH",
    "MAX_SUMMARY_CHARS",
    "MAX_TTL_SECONDS",
    "MIME_PATTERN",
    "check_data",
    "check_directory_prefix",
    "check_expiry",
    "check_filename",
    "check_id",
    "check_meta",
    "check_mime",
    "check_optional_id",
    "check_relative_path",
    "check_summary",
    "check_text",
    "check_ttl",
    "check_ttl_hours",
    "decode_text",
    "encode_meta",
    "parse_json",
    "readable_mime",
    "readable_text",
]

MAX_TTL_SECONDS = 100 * 365 * 86400
"""The longest lifetime anything may be given (beyond it: ``ttl=None``, never expires)."""

MAX_ID_LENGTH = 128
MAX_FILENAME_BYTES = 1024
MAX_SEGMENT_BYTES = 255
MAX_SUMMARY_CHARS = 4096
MAX_MIME_CHARS = 255

_ID_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@+=:-]*")
# RFC 9110 media-type: type "/" subtype *( OWS ";" OWS parameter ), parameter = token "="
# ( token / quoted-string ), ASCII only (it becomes a Content-Type header).
_TOKEN = r"[!#$%&'*+.^_`|~0-9A-Za-z-]+"
_QUOTED = r'"(?:[\t !#-\[\]-~]|\\[\t -~])*"'
_MIME_RE = re.compile(rf"{_TOKEN}/{_TOKEN}(?:[ \t]*;[ \t]*{_TOKEN}=(?:{_TOKEN}|{_QUOTED}))*")
# the same rules as JSON Schema patterns (the OpenAPI document states them)
ID_PATTERN = f"^{_ID_RE.pattern}$"
MIME_PATTERN = f"^{_MIME_RE.pattern}$"


def check_id(kind: str, value: object) -> str:
    """Validate a session, user, sandbox, artifact or upload id and return it.

    An id is 1-128 characters of letters, digits and ``. _ @ + = : -``, starting with a letter
    or digit, with no ``..``: it is safe as one grid path segment.
    """
    if not isinstance(value, str):
        raise InvalidRequestError(f"{kind} must be a string, got {type(value).__name__}")
    if not value:
        raise InvalidRequestError(f"{kind} must not be empty")
    if len(value) > MAX_ID_LENGTH:
        raise InvalidRequestError(f"{kind} is longer than {MAX_ID_LENGTH} characters")
    if "\x00" in value:
        raise InvalidRequestError(f"{kind} contains a NUL byte")
    if "/" in value or "\\" in value or ".." in value:
        raise InvalidRequestError(f"{kind} {value!r} contains a path separator or '..'")
    if not _ID_RE.fullmatch(value):
        raise InvalidRequestError(
            f"{kind} {value!r} may hold only letters, digits and . _ @ + = : - "
            "and must start with a letter or digit"
        )
    return value


def check_optional_id(kind: str, value: object) -> str | None:
    return None if value is None else check_id(kind, value)


def check_text(kind: str, value: object, *, max_chars: int, multiline: bool = False) -> str:
    """Validate free text: a string of at most *max_chars* characters, valid UTF-8 (no lone
    surrogate), without NUL or other control characters (tab and line breaks too when
    *multiline*)."""
    if not isinstance(value, str):
        raise InvalidRequestError(f"{kind} must be a string, got {type(value).__name__}")
    if len(value) > max_chars:
        raise InvalidRequestError(f"{kind} is longer than {max_chars} characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidRequestError(f"{kind} contains a lone surrogate (not UTF-8)") from None
    allowed = "\t\n\r" if multiline else ""
    if any(unicodedata.category(ch) == "Cc" and ch not in allowed for ch in value):
        raise InvalidRequestError(f"{kind} contains a control character")
    return value


def readable_text(value: str) -> str:
    """Stored text as something every reader can write out (lone surrogates replaced)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return value.encode("utf-8", "replace").decode("utf-8")
    return value


def _check_relative_path(kind: str, value: object, *, allow_trailing_slash: bool) -> str:
    check_text(kind, value, max_chars=MAX_FILENAME_BYTES)
    assert isinstance(value, str)
    if len(value.encode("utf-8")) > MAX_FILENAME_BYTES:
        raise InvalidRequestError(f"{kind} is longer than {MAX_FILENAME_BYTES} bytes")
    if value.startswith("/") or "\\" in value or re.match(r"^[A-Za-z]:", value):
        raise InvalidRequestError(f"{kind} {value!r} must be a relative path with '/' separators")
    body = value[:-1] if allow_trailing_slash and value.endswith("/") else value
    for segment in body.split("/"):
        if segment in ("", ".", ".."):
            raise InvalidRequestError(f"{kind} {value!r} has an empty, '.' or '..' segment")
        if len(segment.encode("utf-8")) > MAX_SEGMENT_BYTES:
            raise InvalidRequestError(f"{kind} has a segment longer than {MAX_SEGMENT_BYTES} bytes")
    return value


def check_relative_path(value: object) -> str:
    """A file's path inside a package, NFC-normalised, by the filename rules: relative,
    ``/``-separated, no empty, ``.`` or ``..`` segment, no control character or backslash,
    at most 1024 bytes (255 a segment)."""
    if isinstance(value, str):
        value = unicodedata.normalize("NFC", value)
    if value == "":
        raise InvalidRequestError("relative_path must not be empty")
    return _check_relative_path("relative_path", value, allow_trailing_slash=False)


def check_filename(value: object) -> str:
    """Validate a filename: a relative path like ``docs/readme.md``, never absolute or ``..``."""
    if value == "":
        raise InvalidRequestError("filename must not be empty")
    return _check_relative_path("filename", value, allow_trailing_slash=False)


def check_directory_prefix(value: object) -> str:
    """Validate a directory prefix for listings (``""`` or ``docs/``)."""
    if value == "":
        return ""
    return _check_relative_path("directory prefix", value, allow_trailing_slash=True)


def check_mime(value: object) -> str:
    if not isinstance(value, str) or not value:
        raise InvalidRequestError("mime must be a non-empty string like 'text/plain'")
    if len(value) > MAX_MIME_CHARS or not _MIME_RE.fullmatch(value):
        raise InvalidRequestError(f"mime {value!r} is not a media type like 'text/plain'")
    return value


def readable_mime(value: str) -> str:
    """A stored media type as a header may carry it (one stored before the rules were strict
    reads as ``application/octet-stream``)."""
    return value if len(value) <= MAX_MIME_CHARS and _MIME_RE.fullmatch(value) else DEFAULT_MIME


def check_summary(value: object) -> str:
    """Validate a summary: free text (line breaks allowed) of at most 4096 characters."""
    if value is None:
        return ""
    return check_text("summary", value, max_chars=MAX_SUMMARY_CHARS, multiline=True)


MAX_PAGE = 1000
"""The largest page a listing returns."""


def check_limit(value: object) -> int:
    """A page size: a whole number from 1 to :data:`MAX_PAGE`."""
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_PAGE:
        raise InvalidRequestError(f"limit must be a whole number from 1 to {MAX_PAGE}")
    return value


def check_ttl(value: object) -> int | None:
    """``None`` (no expiry) or a positive whole number of seconds."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidRequestError(f"ttl must be a number of seconds or None, got {value!r}")
    if value != value or value < 1:  # NaN, non-positive, or a fraction that truncates to 0
        raise InvalidRequestError(f"ttl must be a positive number of seconds, got {value!r}")
    if value > MAX_TTL_SECONDS:
        raise InvalidRequestError("ttl is longer than 100 years; use ttl=None for no expiry")
    return int(value)


def check_ttl_hours(value: object) -> float | None:
    """``None`` (the default) or a positive, finite number of hours of at most 100 years."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidRequestError(f"ttl_hours must be a number of hours, got {value!r}")
    if not 0 < value <= MAX_TTL_SECONDS / 3600:  # NaN and infinity fail this too
        raise InvalidRequestError("ttl_hours must be a positive number of hours, at most 100 years")
    return float(value)


def check_expiry(expires_at: float, now: float) -> float:
    """An expiry at most :data:`MAX_TTL_SECONDS` from *now* (an extended TTL may not run off
    the calendar)."""
    if expires_at - now > MAX_TTL_SECONDS:
        raise InvalidRequestError("the expiry would be more than 100 years away; use ttl=None")
    return expires_at


def parse_json(text: str | bytes, what: str) -> Any:
    """*text* parsed as JSON; InvalidRequestError (never a RecursionError) when it is not."""
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise InvalidRequestError(f"{what} is not valid JSON ({type(exc).__name__})") from None


def decode_text(data: bytes, encoding: str, artifact_id: str) -> str:
    """An artifact's bytes as text (``read_file(as_text=True)``); InvalidRequestError for an
    unknown encoding or bytes that are not text in it."""
    try:
        return data.decode(encoding)
    except LookupError as exc:
        raise InvalidRequestError(f"unknown text encoding {encoding!r}") from exc
    except UnicodeError as exc:
        raise InvalidRequestError(f"artifact {artifact_id} is not {encoding} text") from exc


def check_data(value: object, *, max_bytes: int | None = None) -> bytes:
    """Validate an in-memory payload: bytes-like (empty is fine) of at most *max_bytes*."""
    if isinstance(value, bytearray | memoryview):
        value = bytes(value)
    if not isinstance(value, bytes):
        raise InvalidRequestError(
            f"data must be bytes, bytearray or memoryview, got {type(value).__name__}"
        )
    if max_bytes is not None and len(value) > max_bytes:
        raise TooLargeError(f"data is {len(value)} bytes; the limit is {max_bytes}")
    return value
