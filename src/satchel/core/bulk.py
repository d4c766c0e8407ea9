"""Bulk deletes, stated once: the per-item result of ``delete_many``, the rules of its id list,
and what a grid-key prefix of ``delete_prefix`` may name. Pure, no I/O.

``delete_many`` answers one :class:`DeleteResult` per distinct id, in the order the ids were
given (a repeated id is deleted once and reported once, at its first position). Each item is
deleted exactly as ``delete`` would delete it, and its result carries the error ``delete``
would have raised, so a bulk delete tells a caller nothing a single delete would not.

A prefix names whole segments of grid keys (:mod:`satchel.core.grid`):
``grid/{sandbox}/sessions/{session}/`` matches that session's artifacts and never those of
``{session}abc``; a trailing ``/`` is implied.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import Any, Literal

from satchel.core.errors import (
    AccessDeniedError,
    ArtifactNotFoundError,
    ArtifactStoreError,
    InvalidRequestError,
    RetainedError,
    TooLargeError,
    error_for_code,
)
from satchel.core.validation import check_id

__all__ = [
    "DEFAULT_PREFIX_PAGE",
    "MAX_DELETE_IDS",
    "MAX_PREFIX_PAGE",
    "PREFIX_LISTED",
    "DeleteResult",
    "DeleteStatus",
    "check_delete_ids",
    "check_key_prefix",
    "check_prefix_paging",
]

MAX_DELETE_IDS = 1000
"""The most ids one ``delete_many`` call takes (more: TooLargeError, HTTP 413)."""

DEFAULT_PREFIX_PAGE = 500
"""Artifacts ``delete_prefix`` reads (and deletes) per page, unless told otherwise."""

MAX_PREFIX_PAGE = 1000
PREFIX_LISTED = 1000
"""How many ids (and skipped items) a ``delete_prefix`` report lists; counts cover all."""

DeleteStatus = Literal["deleted", "not_found", "denied", "held", "error"]

_STATUS_OF: tuple[tuple[type[ArtifactStoreError], DeleteStatus], ...] = (
    (RetainedError, "held"),
    (ArtifactNotFoundError, "not_found"),
    (AccessDeniedError, "denied"),
)
_SCOPE_SEGMENTS = {"sessions": 5, "users": 5, "shared": 4}  # the most segments a prefix has


@dataclasses.dataclass(frozen=True, slots=True)
class DeleteResult:
    """What deleting one artifact of a bulk delete did.

    ``status`` is ``deleted``, ``not_found``, ``denied``, ``held`` (a legal hold or unexpired
    retention keeps it) or ``error``; ``code`` and ``message`` are those of the error a single
    ``delete`` would have raised (``None`` when deleted).
    """

    artifact_id: str
    status: DeleteStatus
    code: str | None = None
    message: str | None = None

    @property
    def deleted(self) -> bool:
        return self.status == "deleted"

    @classmethod
    def of_error(cls, artifact_id: str, exc: ArtifactStoreError) -> DeleteResult:
        status: DeleteStatus = next(
            (name for kind, name in _STATUS_OF if isinstance(exc, kind)), "error"
        )
        return cls(artifact_id, status, exc.code, exc.message)

    def error(self) -> ArtifactStoreError | None:
        """The error this item answered, as the tree's class (None when deleted)."""
        if self.code is None:
            return None
        return error_for_code(self.code)(self.message or "")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> DeleteResult:
        status = raw.get("status")
        if status not in ("deleted", "not_found", "denied", "held", "error"):
            raise InvalidRequestError(f"unknown delete status {status!r}")
        return cls(str(raw["artifact_id"]), status, raw.get("code"), raw.get("message"))


def check_delete_ids(artifact_ids: Iterable[object]) -> list[str]:
    """The distinct ids of *artifact_ids* in first-seen order, each validated.

    Raises InvalidRequestError when it is not a list of ids (one bad id refuses the whole call,
    before anything is deleted) and TooLargeError past :data:`MAX_DELETE_IDS`.
    """
    if isinstance(artifact_ids, str | bytes) or not isinstance(artifact_ids, list | tuple):
        raise InvalidRequestError("artifact_ids must be a list of artifact ids")
    if len(artifact_ids) > MAX_DELETE_IDS:
        raise TooLargeError(
            f"{len(artifact_ids)} ids: one bulk delete takes at most {MAX_DELETE_IDS}"
        )
    distinct = dict.fromkeys(check_id("artifact_id", value) for value in artifact_ids)
    return list(distinct)


def check_key_prefix(prefix: object, sandbox_id: str) -> str:
    """A grid-key prefix of this sandbox, validated, without its trailing ``/``.

    It is ``grid/{sandbox}/{sessions|users|shared}`` followed by at most the segments a grid
    key of that scope has; each segment is an id (no empty, ``.``/``..`` or traversal part).

    Raises InvalidRequestError otherwise (another sandbox's prefix included).
    """
    if not isinstance(prefix, str) or not prefix.strip():
        raise InvalidRequestError("prefix must be a non-empty grid key prefix")
    trimmed = prefix[:-1] if prefix.endswith("/") else prefix
    parts = trimmed.split("/")
    if parts[0] != "grid" or len(parts) < 3:
        raise InvalidRequestError(
            f"prefix {prefix!r} is not under grid/{sandbox_id}/(sessions|users|shared)/"
        )
    for part in parts[1:]:
        check_id("prefix segment", part)
    if parts[1] != sandbox_id:
        raise InvalidRequestError(f"prefix {prefix!r} is not in this sandbox ({sandbox_id})")
    most = _SCOPE_SEGMENTS.get(parts[2])
    if most is None:
        raise InvalidRequestError(
            f"prefix {prefix!r}: the third segment is sessions, users or shared"
        )
    if len(parts) > most:
        raise InvalidRequestError(f"prefix {prefix!r} is longer than a grid key")
    return trimmed


def check_prefix_paging(limit: object, page_size: object) -> None:
    """Raise InvalidRequestError unless *limit* is None or positive and *page_size* is from 1
    to :data:`MAX_PREFIX_PAGE`."""
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        raise InvalidRequestError("limit must be a positive number of artifacts (or None)")
    if (
        isinstance(page_size, bool)
        or not isinstance(page_size, int)
        or not 1 <= page_size <= MAX_PREFIX_PAGE
    ):
        raise InvalidRequestError(f"page_size must be from 1 to {MAX_PREFIX_PAGE}")
