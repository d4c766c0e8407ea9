"""Uploads that go straight to the blob backend (S3 presigned PUTs and part URLs).

When the backend can hand out its own URLs (:class:`~satchel.blobs.direct.DirectTransfers`,
S3 without SSE-C), ``presign_upload`` and ``get_part_upload_url`` answer with them, and the
backend's direct upload is remembered in the upload row (``parts["direct"]``), so whichever
replica completes the upload finds it. Completing never trusts the client: the backend reads
the bytes back through sha256 before the artifact is created.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

from satchel.blobs.direct import DirectTransfers
from satchel.core.uploads import UploadRecord

if TYPE_CHECKING:
    from satchel.blobs.s3_uploads import DirectUpload

__all__ = [
    "DIRECT_PART_KEY",
    "direct_transfers",
    "direct_upload_of",
    "staged_part_numbers",
    "with_direct_upload",
    "without_direct",
]

DIRECT_PART_KEY = "direct"
"""The entry of an upload's ``parts`` map that names its direct upload (not a part number)."""


def direct_transfers(blobs: object) -> DirectTransfers | None:
    """*blobs* if it can hand clients URLs of its own right now, else None."""
    if isinstance(blobs, DirectTransfers) and blobs.direct_urls:
        return blobs
    return None


def direct_upload_of(blobs: object, upload: UploadRecord) -> DirectUpload | None:
    """The backend's direct upload attached to *upload*, if any."""
    entry: Any = upload.parts.get(DIRECT_PART_KEY)
    if not isinstance(entry, dict) or not isinstance(blobs, DirectTransfers):
        return None
    return blobs.direct_upload(str(entry["upload_id"]), entry.get("multipart_id"))


def with_direct_upload(upload: UploadRecord, direct: DirectUpload) -> UploadRecord:
    """*upload* with *direct* attached (the offset, the row's version, moves on)."""
    entry = {"upload_id": direct.upload_id, "multipart_id": direct.multipart_id}
    return dataclasses.replace(
        upload, parts={**upload.parts, DIRECT_PART_KEY: entry}, offset=upload.offset + 1
    )


def staged_part_numbers(upload: UploadRecord) -> list[int]:
    """Numbers of the parts staged through Satchel (the ``parts`` entries that are numbers)."""
    return sorted(int(name) for name in upload.parts if name.isdigit())


def without_direct(upload: UploadRecord) -> UploadRecord:
    """*upload* with its direct upload forgotten (used up by a failed completion)."""
    if DIRECT_PART_KEY not in upload.parts:
        return upload
    parts = {name: part for name, part in upload.parts.items() if name != DIRECT_PART_KEY}
    return dataclasses.replace(upload, parts=parts, offset=upload.offset + 1)
