"""What ``upload_artifact`` uploads: a local file or a caller's stream (binary or text), with
the name, media type and size the upload gets. Pure decisions plus blocking reads, which the
async client runs in a worker thread."""

from __future__ import annotations

import io
import mimetypes
import os
import re
import uuid
from pathlib import Path
from typing import IO, Any

from satchel.core.errors import InvalidRequestError
from satchel.core.mime import DEFAULT_MIME, guess_mime
from satchel.core.validation import check_filename, check_mime

__all__ = ["GENERATED_NAME", "UploadSource", "generated_name"]

GENERATED_NAME = re.compile(r"[0-9a-f]{32}(\.[A-Za-z0-9_-]{1,16}){0,2}")
"""A name ``upload_artifact`` made up: 32 hex digits and the source's extension."""

_COMPRESSIONS = {".gz", ".bz2", ".xz", ".zst", ".br", ".z"}


def _extension(name: str | None) -> str:
    """The extension of *name* worth keeping: ``.csv``, ``.tar.gz`` (a compression keeps the
    one before it), or ``""``."""
    if not name:
        return ""
    suffixes = Path(name).suffixes[-2:]
    if not suffixes:
        return ""
    kept = (
        suffixes if len(suffixes) == 2 and suffixes[1].lower() in _COMPRESSIONS else suffixes[-1:]
    )
    extension = "".join(kept)
    return extension if re.fullmatch(r"(\.[A-Za-z0-9_-]{1,16}){1,2}", extension) else ""


def generated_name(source_name: str | None, mime: str | None) -> str:
    """``<uuid hex><ext>``: the extension of *source_name*, else the usual one of *mime*."""
    extension = _extension(source_name)
    if not extension and mime and mime != DEFAULT_MIME:
        extension = mimetypes.guess_extension(mime.split(";")[0].strip(), strict=False) or ""
    return uuid.uuid4().hex + extension


def _known_type(name: str | None) -> str | None:
    guessed = guess_mime(name)
    return None if guessed == DEFAULT_MIME else guessed


class UploadSource:
    """One upload's source and what it becomes: ``filename``, ``mime``, ``size`` (None when
    unknown: a text stream, or a stream that cannot seek and was given no size), whether it can
    be read again from the start (``rereadable``) and blocking :meth:`read`."""

    def __init__(
        self,
        *,
        name: str | None,
        file_path: str | os.PathLike[str] | None,
        io_stream: IO[Any] | None,
        content_type: str | None,
        content_size: int,
    ) -> None:
        if (file_path is None) == (io_stream is None):
            raise InvalidRequestError("upload_artifact needs exactly one of file_path or io_stream")
        if isinstance(content_size, bool) or not isinstance(content_size, int) or content_size < -1:
            raise InvalidRequestError("content_size is a byte count, or -1 when unknown")
        if name is not None:
            check_filename(name)
        self.path: Path | None = None
        self.stream: IO[Any] | None = io_stream
        self._start = 0
        self.text = False
        source_name: str | None
        if file_path is not None:
            self.path = Path(file_path)
            if not self.path.is_file():
                raise InvalidRequestError(f"{self.path} is not a file")
            source_name = self.path.name
            self.size: int | None = self.path.stat().st_size
        else:
            assert io_stream is not None
            if not callable(getattr(io_stream, "read", None)):
                raise InvalidRequestError("io_stream must be a readable file object")
            stream_name = getattr(io_stream, "name", None)
            source_name = stream_name if isinstance(stream_name, str) else None
            self.text = isinstance(io_stream, io.TextIOBase)
            if _seekable(io_stream):
                self._start = io_stream.tell()
            self.size = self._stream_size(io_stream, content_size)
        if content_type is not None:
            self.mime = check_mime(content_type)
        else:
            guessed = _known_type(name) or _known_type(source_name)
            if guessed is None and self.path is None:
                raise InvalidRequestError(
                    "an io_stream needs content_type (or a name whose extension gives one)"
                )
            self.mime = guessed or DEFAULT_MIME
        self.generated = name is None
        self.filename = name if name is not None else generated_name(source_name, self.mime)
        self.extension = _extension(source_name) if self.generated else ""

    def _stream_size(self, stream: IO[Any], content_size: int) -> int | None:
        if self.text:
            return None  # its size in bytes is known once encoded
        if content_size >= 0:
            return content_size
        if _seekable(stream):
            end = stream.seek(0, io.SEEK_END)
            stream.seek(self._start)
            return int(end - self._start)
        return None

    @property
    def rereadable(self) -> bool:
        """Whether a failed upload can start again from the first byte."""
        return self.path is not None or (self.stream is not None and _seekable(self.stream))

    def open(self) -> IO[Any]:
        """The source positioned at its first byte (a file is opened; close it after)."""
        if self.path is not None:
            return open(self.path, "rb")
        assert self.stream is not None
        if _seekable(self.stream):
            self.stream.seek(self._start)
        return self.stream

    def close(self, handle: IO[Any]) -> None:
        if handle is not self.stream:
            handle.close()

    def read(self, handle: IO[Any], size: int) -> bytes:
        """Up to *size* bytes (a text stream's characters UTF-8 encoded: a few more)."""
        chunk = handle.read(size)
        if isinstance(chunk, str):
            return chunk.encode("utf-8")
        if not isinstance(chunk, (bytes, bytearray, memoryview)):
            raise InvalidRequestError("io_stream.read() returned neither bytes nor text")
        return bytes(chunk)


def _seekable(stream: IO[Any]) -> bool:
    try:
        return bool(stream.seekable())
    except (AttributeError, ValueError, OSError):
        return False
