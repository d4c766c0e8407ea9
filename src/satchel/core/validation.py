"""Input validation: ids, filenames, metadata, TTLs, payloads. Pure; raises InvalidRequestError."""

from __future__ import annotations

import json
import re
import unicodedata
from typing import Any

from satchel.core.errors import InvalidRequestError, TooLargeError

__all__ = [
    "MAX_FILENAME_BYTES",
    "MAX_ID_LENGTH",
    "MAX_SUMMARY_CHARS",
    "check_data",
    "check_directory_prefix",
    "check_filename",
    "check_id",
    "check_meta",
    "check_mime",
    "check_optional_id",
    "check_summary",
    "check_ttl",
    "decode_text",
    "encode_meta",
]

MAX_ID_LENGTH = 128
MAX_FILENAME_BYTES = 1024
MAX_SEGMENT_BYTES = 255
MAX_SUMMARY_CHARS = 4096
MAX_MIME_CHARS = 255

_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@+=:-]*$")
_MIME_RE = re.compile(
    r"^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*(\s*;.*)?$"
)


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
    if not _ID_RE.match(value):
        raise InvalidRequestError(
            f"{kind} {value!r} may hold only letters, digits and . _ @ + = : - "
            "and must start with a letter or digit"
        )
    return value


def check_optional_id(kind: str, value: object) -> str | None:
    return None if value is None else check_id(kind, value)


def _check_relative_path(kind: str, value: object, *, allow_trailing_slash: bool) -> str:
    if not isinstance(value, str):
        raise InvalidRequestError(f"{kind} must be a string, got {type(value).__name__}")
    if "\x00" in value:
        raise InvalidRequestError(f"{kind} contains a NUL byte")
    if any(unicodedata.category(ch) == "Cc" for ch in value):
        raise InvalidRequestError(f"{kind} contains a control character")
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
    if len(value) > MAX_MIME_CHARS or not _MIME_RE.match(value):
        raise InvalidRequestError(f"mime {value!r} is not a media type like 'text/plain'")
    return value


def check_summary(value: object) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InvalidRequestError("summary must be a string")
    if "\x00" in value:
        raise InvalidRequestError("summary contains a NUL byte")
    if len(value) > MAX_SUMMARY_CHARS:
        raise InvalidRequestError(f"summary is longer than {MAX_SUMMARY_CHARS} characters")
    return value


def encode_meta(meta: dict[str, Any]) -> str:
    """Canonical JSON text of a metadata document."""
    # allow_nan=False: NaN and Infinity are not JSON, and the catalog's JSON functions reject them.
    return json.dumps(
        meta, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )


def check_meta(value: object, *, max_bytes: int) -> dict[str, Any]:
    """Validate custom metadata: a JSON object with string keys of at most *max_bytes*."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InvalidRequestError(f"meta must be a dict, got {type(value).__name__}")
    for key in value:
        if not isinstance(key, str):
            raise InvalidRequestError(f"meta keys must be strings, got {key!r}")
    try:
        text = encode_meta(value)
    except (TypeError, ValueError, RecursionError) as exc:
        raise InvalidRequestError(f"meta must be JSON-serialisable: {exc}") from exc
    if "\\u0000" in text:
        raise InvalidRequestError("meta contains a NUL character")
    size = len(text.encode("utf-8"))
    if size > max_bytes:
        raise TooLargeError(f"meta is {size} bytes as JSON; the limit is {max_bytes}")
    result: dict[str, Any] = json.loads(text)
    return result


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
    if value > 100 * 365 * 86400:
        raise InvalidRequestError("ttl is longer than 100 years; use ttl=None for no expiry")
    return int(value)


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
