"""Bulk deletes, stated once: the per-item result of ``delete_many`` and the rules of its id
list. Pure, no I/O.

``delete_many`` answers one :class:`DeleteResult` per distinct id, in the order the ids were
given (a repeated id is deleted once and reported once, at its first position). Each item is
deleted exactly as ``delete`` would delete it, and its result carries the error ``delete``
would have raised, so a bulk delete tells a caller nothing a single delete would not.
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

__all__ = ["MAX_DELETE_IDS", "DeleteResult", "DeleteStatus", "check_delete_ids"]

MAX_DELETE_IDS = 1000
"""The most ids one ``delete_many`` call takes (more: TooLargeError, HTTP 413)."""

DeleteStatus = Literal["deleted", "not_found", "denied", "held", "error"]

_STATUS_OF: tuple[tuple[type[ArtifactStoreError], DeleteStatus], ...] = (
    (RetainedError, "held"),
    (ArtifactNotFoundError, "not_found"),
    (AccessDeniedError, "denied"),
)


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
