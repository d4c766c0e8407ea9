"""What ``Satchel.get_artifact`` accepts, told apart without I/O: a bare artifact id, its
``urn:satchel:artifact:`` URN, or a local file as ``file:///abs/path`` / ``urn:file:///abs/path``."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from urllib.parse import unquote, urlsplit

from satchel.core.errors import InvalidRequestError
from satchel.core.validation import check_id

__all__ = [
    "ARTIFACT_URN",
    "ASPECT_URN",
    "ArtifactReference",
    "artifact_urn",
    "file_urn",
    "parse_reference",
]

ARTIFACT_URN = "urn:satchel:artifact:"
ASPECT_URN = "urn:satchel:aspect:"
_FILE_URN = "urn:file://"


@dataclasses.dataclass(frozen=True, slots=True)
class ArtifactReference:
    """An artifact id (stored) or a local file's absolute path (exactly one is set)."""

    artifact_id: str | None = None
    path: Path | None = None


def artifact_urn(artifact_id: str) -> str:
    return ARTIFACT_URN + artifact_id


def file_urn(path: Path) -> str:
    """``urn:file:///abs/path`` of a local file (seed 002's local-file artifact URN)."""
    return "urn:" + path.absolute().as_uri()


def parse_reference(reference: object) -> ArtifactReference:
    """Which artifact *reference* names.

    Raises:
        InvalidRequestError: not a string, another URN (``urn:ivcap:…``, an aspect's), or a
            file URL that is not a plain absolute local path.
    """
    if not isinstance(reference, str):
        raise InvalidRequestError(
            f"an artifact reference is a string, got {type(reference).__name__}"
        )
    if reference.startswith(ARTIFACT_URN):
        return ArtifactReference(
            artifact_id=check_id("artifact id", reference[len(ARTIFACT_URN) :])
        )
    if reference.startswith(_FILE_URN):
        return ArtifactReference(path=_file_path(reference[len("urn:") :]))
    if reference.startswith("file:"):
        return ArtifactReference(path=_file_path(reference))
    if reference.startswith("urn:"):
        raise InvalidRequestError(
            f"{reference!r} is not an artifact URN: use {ARTIFACT_URN}<id>, a bare id, "
            "or file:///absolute/path"
        )
    return ArtifactReference(artifact_id=check_id("artifact id", reference))


def _file_path(url: str) -> Path:
    parts = urlsplit(url)
    if parts.netloc not in ("", "localhost") or parts.query or parts.fragment:
        raise InvalidRequestError(f"{url!r} is not a local file URL (file:///absolute/path)")
    path = unquote(parts.path)
    if not path.startswith("/") or "\x00" in path:
        raise InvalidRequestError(f"{url!r} does not name an absolute path")
    return Path(path)
