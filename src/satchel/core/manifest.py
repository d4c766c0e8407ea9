"""Package manifests: what a finalized package holds, encoded so that the same content gives
the same bytes on any backend, catalog and machine.

A manifest states content only (no package id, no times): the package's name, version,
producer, subject, retention class and metadata, and every file with its relative path, size,
media type and digests, files sorted by path. Two encodings of the one value:

- **canonical JSON**, RFC 8785 (JCS): keys sorted by UTF-16 code units, numbers as ECMAScript
  writes them, no insignificant whitespace. Its sha256 is the manifest's **address**
  (``sha256:<hex>``), which anyone can recompute with any JCS implementation;
- **deterministic CBOR**, RFC 8949 §4.2.1: shortest integer and float forms, definite lengths,
  map keys in bytewise order of their encodings.

JSON numbers are IEEE doubles, so metadata integers must lie within ±(2**53 - 1) and floats be
finite; anything else is refused when a manifest is built, never rounded. :func:`decode`
reads either encoding back and checks it as strictly as :func:`build` checks its input.
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
from collections.abc import Iterable, Mapping
from typing import Any

import cbor2
import rfc8785

from satchel.core.digests import SHA256_PREFIX, check_digest
from satchel.core.errors import InvalidRequestError
from satchel.core.validation import check_mime, check_relative_path

__all__ = [
    "FORMAT",
    "Manifest",
    "ManifestFile",
    "address_of",
    "build",
    "check_metadata",
    "check_relative_path",
    "decode",
    "encode",
    "sha256_address",
]

FORMAT = "satchel.manifest/1"
"""The manifest format this module writes and reads."""

_SAFE_INTEGER = 2**53 - 1
_EXPONENT_FROM = 1e21  # from here RFC 8785 (ECMAScript) writes numbers with an exponent


@dataclasses.dataclass(frozen=True, slots=True)
class ManifestFile:
    relative_path: str
    size: int
    media_type: str
    sha256: str
    blake3: str | None = None

    def to_dict(self) -> dict[str, Any]:
        found: dict[str, Any] = {
            "relative_path": self.relative_path,
            "size": self.size,
            "media_type": self.media_type,
            "sha256": self.sha256,
        }
        if self.blake3 is not None:
            found["blake3"] = self.blake3
        return found


@dataclasses.dataclass(frozen=True, slots=True)
class Manifest:
    name: str
    version: str | None
    producer: str
    subject: str
    retention_class: str
    metadata: Mapping[str, Any]
    files: tuple[ManifestFile, ...]
    format: str = FORMAT

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": self.format,
            "name": self.name,
            "version": self.version,
            "producer": self.producer,
            "subject": self.subject,
            "retention_class": self.retention_class,
            "metadata": dict(self.metadata),
            "files": [f.to_dict() for f in self.files],
        }

    @property
    def total_bytes(self) -> int:
        return sum(f.size for f in self.files)


def _text(name: str, value: object, *, optional: bool = False) -> Any:
    if value is None and optional:
        return None
    if not isinstance(value, str) or not value or len(value) > 1024:
        raise InvalidRequestError(f"manifest {name} must be a string of 1 to 1024 characters")
    return value


def _check_value(value: object, where: str) -> None:
    """What JCS and CBOR both carry exactly (iteratively: no recursion limit to hit)."""
    pending: list[tuple[object, str]] = [(value, where)]
    while pending:
        item, path = pending.pop()
        if item is None or isinstance(item, (bool, str)):
            continue
        if isinstance(item, int):
            if abs(item) > _SAFE_INTEGER:
                raise InvalidRequestError(f"{path}: integers in a manifest lie within ±(2**53-1)")
        elif isinstance(item, float):
            if item != item or item in (float("inf"), float("-inf")):
                raise InvalidRequestError(f"{path}: numbers in a manifest are finite")
            if item.is_integer() and _SAFE_INTEGER < abs(item) < _EXPONENT_FROM:
                # canonical JSON writes it in integer digits, which no reader takes exactly
                raise InvalidRequestError(
                    f"{path}: whole numbers below 1e21 in a manifest lie within ±(2**53-1)"
                )
        elif isinstance(item, list):
            pending += [(v, f"{path}[{i}]") for i, v in enumerate(item)]
        elif isinstance(item, dict):
            for key, v in item.items():
                if not isinstance(key, str):
                    raise InvalidRequestError(f"{path}: object keys are strings")
                pending.append((v, f"{path}.{key}"))
        else:
            raise InvalidRequestError(f"{path}: {type(item).__name__} has no manifest form")


def check_metadata(metadata: object) -> dict[str, Any]:
    """*metadata* if a manifest can carry it exactly (an object of JSON values, integers within
    ±(2**53-1), finite numbers); InvalidRequestError naming the failing path otherwise."""
    if metadata is None:
        return {}
    if not isinstance(metadata, dict):
        raise InvalidRequestError("metadata must be an object")
    _check_value(metadata, "metadata")
    return metadata


def _file(entry: Mapping[str, Any], index: int) -> ManifestFile:
    where = f"files[{index}]"
    known = {"relative_path", "size", "media_type", "sha256", "blake3"}
    if not isinstance(entry, Mapping) or set(entry) - known:
        raise InvalidRequestError(f"{where} must be an object with the keys {sorted(known)}")
    size = entry.get("size")
    if isinstance(size, bool) or not isinstance(size, int) or not 0 <= size <= _SAFE_INTEGER:
        raise InvalidRequestError(f"{where}.size must be a byte count")
    blake3 = entry.get("blake3")
    if blake3 is not None and not (
        isinstance(blake3, str)
        and blake3.startswith("blake3:")
        and len(blake3) == 71
        and all(c in "0123456789abcdef" for c in blake3[7:])
    ):
        raise InvalidRequestError(f"{where}.blake3 must be blake3:<64 hex>")
    return ManifestFile(
        relative_path=check_relative_path(entry.get("relative_path")),
        size=size,
        media_type=check_mime(entry.get("media_type")),
        sha256=check_digest(str(entry.get("sha256"))),
        blake3=blake3,
    )


def build(
    *,
    name: str,
    producer: str,
    subject: str,
    retention_class: str,
    files: Iterable[ManifestFile | Mapping[str, Any]],
    metadata: Mapping[str, Any] | None = None,
    version: str | None = None,
) -> Manifest:
    """A checked manifest, files sorted by path; InvalidRequestError (naming the failing
    field) for anything no manifest may hold, and for two files at one path."""
    entries = [
        _file(f.to_dict() if isinstance(f, ManifestFile) else f, i) for i, f in enumerate(files)
    ]
    entries.sort(key=lambda f: f.relative_path)
    for before, after in itertools.pairwise(entries):
        if before.relative_path == after.relative_path:
            raise InvalidRequestError(f"two files at {before.relative_path!r}")
    meta = dict(metadata or {})
    _check_value(meta, "metadata")
    return Manifest(
        name=_text("name", name),
        version=_text("version", version, optional=True),
        producer=_text("producer", producer),
        subject=_text("subject", subject),
        retention_class=_text("retention_class", retention_class),
        metadata=meta,
        files=tuple(entries),
    )


def encode(manifest: Manifest, format: str = "json") -> bytes:
    """The manifest as canonical JSON (``json``) or deterministic CBOR (``cbor``)."""
    value = manifest.to_dict()
    if format == "json":
        return rfc8785.dumps(value)
    if format == "cbor":
        return cbor2.dumps(value, canonical=True)
    raise InvalidRequestError("a manifest's format is json or cbor")


def sha256_address(body: bytes) -> str:
    """``sha256:<hex>`` of *body* (of a manifest's canonical JSON: its address)."""
    return SHA256_PREFIX + hashlib.sha256(body).hexdigest()


def address_of(manifest: Manifest) -> str:
    """``sha256:<hex>`` of the canonical JSON: the manifest's address."""
    return sha256_address(encode(manifest, "json"))


def decode(data: bytes) -> Manifest:
    """A manifest from its canonical JSON or deterministic CBOR (told apart by the first
    byte); InvalidRequestError for anything else, including bytes that are not the canonical
    encoding of what they hold."""
    if not data:
        raise InvalidRequestError("an empty manifest")
    format = "json" if data[:1] == b"{" else "cbor"
    try:
        if format == "json":
            import json

            value = json.loads(data.decode("utf-8"))
        else:
            value = cbor2.loads(data)
    except (ValueError, UnicodeError, cbor2.CBORDecodeError, RecursionError) as error:
        raise InvalidRequestError(f"not a manifest: {error}") from None
    if not isinstance(value, dict) or value.get("format") != FORMAT:
        raise InvalidRequestError(f"not a {FORMAT} manifest")
    known = {"format", "name", "version", "producer", "subject", "retention_class"}
    known |= {"metadata", "files"}
    if set(value) != known:
        raise InvalidRequestError(f"a manifest has exactly the keys {sorted(known)}")
    files, metadata = value["files"], value["metadata"]
    if not isinstance(files, list) or not isinstance(metadata, dict):
        raise InvalidRequestError("a manifest's files are a list and its metadata an object")
    manifest = build(
        name=value["name"],
        version=value["version"],
        producer=value["producer"],
        subject=value["subject"],
        retention_class=value["retention_class"],
        metadata=metadata,
        files=files,
    )
    if encode(manifest, format) != bytes(data):
        raise InvalidRequestError(f"not the canonical {format} encoding of a manifest")
    return manifest
