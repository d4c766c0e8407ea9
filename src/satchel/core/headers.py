"""HTTP header values Satchel writes and reads about content: ``ETag``, ``Content-Disposition``
(RFC 6266 with RFC 5987 names) and ``Repr-Digest`` (RFC 9530). Pure; shared by the service
and the remote client."""

from __future__ import annotations

import base64
import binascii
import unicodedata
from urllib.parse import quote, unquote

__all__ = [
    "content_disposition",
    "disposition_filename",
    "parse_repr_digest",
    "quote_etag",
    "repr_digest",
    "unquote_etag",
]


def quote_etag(etag: str) -> str:
    return f'"{unquote_etag(etag)}"'


def unquote_etag(value: str) -> str:
    return value.strip().removeprefix("W/").strip().strip('"')


def repr_digest(sha256: str) -> str:
    """``Repr-Digest`` of content whose digest is ``sha256:<hex>``: ``sha-256=:<base64>:``."""
    raw = bytes.fromhex(sha256.split(":", 1)[1])
    return f"sha-256=:{base64.b64encode(raw).decode()}:"


def parse_repr_digest(value: str | None) -> str | None:
    """``sha256:<hex>`` from a ``Repr-Digest`` header's sha-256 entry, or None."""
    for item in (value or "").split(","):
        name, _, encoded = item.strip().partition("=")
        if name.strip().lower() != "sha-256":
            continue
        try:
            raw = base64.b64decode(encoded.strip().strip(":"), validate=True)
        except (binascii.Error, ValueError):
            return None
        return f"sha256:{raw.hex()}" if len(raw) == 32 else None
    return None


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


def disposition_filename(value: str | None) -> str | None:
    """The download name a ``Content-Disposition`` gives (``filename*`` preferred), or None."""
    plain = None
    for item in (value or "").split(";")[1:]:
        name, _, raw = item.strip().partition("=")
        name = name.strip().lower()
        if name == "filename*" and raw.lower().startswith("utf-8''"):
            return unquote(raw[7:], errors="strict")
        if name == "filename":
            plain = raw.strip().strip('"')
    return plain
