"""Media types: the one rule for a type the caller did not give."""

from __future__ import annotations

import mimetypes

__all__ = ["DEFAULT_MIME", "FORM_MIMES", "guess_mime"]

_COMPRESSED = {
    "gzip": "application/gzip",
    "bzip2": "application/x-bzip2",
    "xz": "application/x-xz",
    "compress": "application/x-compress",
    "br": "application/x-brotli",
}
"""What a compressed file is (``data.csv.gz`` is gzip, not CSV: served as CSV, clients would
take the compressed bytes for text)."""

DEFAULT_MIME = "application/octet-stream"

FORM_MIMES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})
"""Content-Types HTTP clients send by default for a form body (curl's ``--data-binary``):
they say nothing about the bytes, so they never become an artifact's type."""


def guess_mime(filename: str | None) -> str:
    """The media type a *filename*'s extension suggests, else ``application/octet-stream``."""
    if filename:
        guessed, encoding = mimetypes.guess_type(filename.rsplit("/", 1)[-1], strict=False)
        if encoding is not None:
            return _COMPRESSED.get(encoding, DEFAULT_MIME)
        if guessed:
            return guessed
    return DEFAULT_MIME
