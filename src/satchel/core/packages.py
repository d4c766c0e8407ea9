"""Packages: a named set of files (relative path → blob) with producer, subject and retention
class, open until finalized and immutable after. Pure records and rules, no I/O.

Who may do what with a package (:func:`check_package_read`, :func:`check_package_write`):

- a ``sandbox`` package (the default: published evidence) is read by every principal of the
  sandbox, and by anonymous readers where anonymous reads are on; a ``user`` package only by its
  owner;
- only the owner adds files to an open package and finalizes it (the application, which acts
  as an admin in the library, and admins may too);
- holds and shortening retention are admin acts; extending retention is the owner's too.
"""

from __future__ import annotations

import dataclasses
import datetime
import enum
import math
from collections.abc import Mapping
from typing import Any

from satchel.core.access import Caller
from satchel.core.errors import AccessDeniedError, ArtifactNotFoundError, InvalidRequestError
from satchel.core.scopes import iso_utc
from satchel.core.validation import check_id

__all__ = [
    "MAX_PACKAGE_NAME",
    "Hold",
    "PackageFile",
    "PackageRecord",
    "PackageScope",
    "PackageState",
    "check_package_name",
    "check_package_read",
    "check_package_write",
    "check_version",
]

MAX_PACKAGE_NAME = 255


class PackageState(enum.StrEnum):
    OPEN = "open"
    FINALIZED = "finalized"


class PackageScope(enum.StrEnum):
    SANDBOX = "sandbox"
    USER = "user"


@dataclasses.dataclass(frozen=True, slots=True)
class PackageRecord:
    package_id: str
    sandbox_id: str
    name: str
    version: str | None
    producer: str
    subject: str
    retention_class: str
    metadata: Mapping[str, Any]
    schema: str | None  # "slug@version" the metadata was checked against
    scope: PackageScope
    owner_id: str | None
    state: PackageState
    created_at: float
    finalized_at: float | None
    manifest_address: str | None  # sha256 of the canonical JSON manifest (its blob digest)
    manifest_backend: str | None
    retain_until: float | None
    file_count: int
    total_bytes: int
    eligible_rule: str | None = None  # what the last sweep found (None: not swept)
    eligible: bool = False
    retention_mode: str | None = None  # the class's mode when finalized (kept if config changes)

    @property
    def finalized(self) -> bool:
        return self.state is PackageState.FINALIZED

    def to_dict(self, *, holds: tuple[Hold, ...] = ()) -> dict[str, Any]:
        return {
            "package_id": self.package_id,
            "name": self.name,
            "version": self.version,
            "producer": self.producer,
            "subject": self.subject,
            "retention_class": self.retention_class,
            "metadata": dict(self.metadata),
            "schema": self.schema,
            "scope": self.scope.value,
            "owner_id": self.owner_id,
            "state": self.state.value,
            "created_at": iso_utc(self.created_at),
            "finalized_at": iso_utc(self.finalized_at),
            "manifest_address": self.manifest_address,
            "retain_until": iso_utc(self.retain_until),
            "retention_mode": self.retention_mode,
            "file_count": self.file_count,
            "total_bytes": self.total_bytes,
            "eligible": self.eligible,
            "eligible_rule": self.eligible_rule,
            "holds": [hold.to_dict() for hold in holds],
        }


@dataclasses.dataclass(frozen=True, slots=True)
class PackageFile:
    package_id: str
    relative_path: str
    size: int
    media_type: str
    sha256: str
    backend: str
    added_at: float
    blake3: str | None = None  # seed 001's primary digest, when SATCHEL_MANIFEST_BLAKE3 is on

    def to_dict(self) -> dict[str, Any]:
        found = {
            "relative_path": self.relative_path,
            "size": self.size,
            "media_type": self.media_type,
            "sha256": self.sha256,
        }
        if self.blake3 is not None:
            found["blake3"] = self.blake3
        return found


@dataclasses.dataclass(frozen=True, slots=True)
class Hold:
    """A legal hold: while it is in force, nothing deletes its target."""

    hold_id: str
    target_kind: str  # "package" | "artifact"
    target_id: str
    name: str
    reason: str
    actor: str | None
    applied_at: float
    released_at: float | None = None
    released_by: str | None = None
    release_reason: str | None = None

    @property
    def active(self) -> bool:
        return self.released_at is None

    def to_dict(self) -> dict[str, Any]:
        return {
            "hold_id": self.hold_id,
            "target_kind": self.target_kind,
            "target_id": self.target_id,
            "name": self.name,
            "reason": self.reason,
            "actor": self.actor,
            "applied_at": iso_utc(self.applied_at),
            "released_at": iso_utc(self.released_at),
            "released_by": self.released_by,
            "release_reason": self.release_reason,
        }


def check_package_name(value: object) -> str:
    """A package name: 1 to 255 printable characters without ``/`` (names appear in paths)."""
    if not isinstance(value, str) or not 0 < len(value) <= MAX_PACKAGE_NAME:
        raise InvalidRequestError(f"name must be text of 1 to {MAX_PACKAGE_NAME} characters")
    if value != value.strip() or any(c in value for c in "/\\") or not value.isprintable():
        raise InvalidRequestError(
            f"name {value!r} must be printable, without slashes or outer spaces"
        )
    return value


def check_version(value: object) -> str | None:
    if value is None:
        return None
    return check_id("version", value)


def check_label(name: str, value: object) -> str:
    """A producer or subject (seed 001: ``guide-board``, ``example.org``)."""
    return check_id(name, value)


def check_package_read(package: PackageRecord, caller: Caller) -> None:
    """Raise ArtifactNotFoundError when *caller* may not see *package* (no existence oracle)."""
    if caller.trusted or package.scope is PackageScope.SANDBOX:
        return
    if caller.user_id is not None and package.owner_id == caller.user_id:
        return
    raise ArtifactNotFoundError(f"package {package.package_id} not found")


def check_package_write(package: PackageRecord, caller: Caller) -> None:
    """Raise unless *caller* may add to or finalize *package* (after it may read it)."""
    check_package_read(package, caller)
    if caller.trusted or package.owner_id == caller.user_id:
        return
    raise AccessDeniedError(f"package {package.package_id} belongs to someone else")


def parse_time(value: object, name: str) -> float | None:
    """A time given as epoch seconds or an ISO 8601 string (None stays None)."""
    if value is None:
        return None
    if isinstance(value, str):
        try:
            parsed = datetime.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            raise InvalidRequestError(f"{name} must be epoch seconds or an ISO 8601 time") from None
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=datetime.UTC)
        value = parsed.timestamp()
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise InvalidRequestError(f"{name} must be epoch seconds or an ISO 8601 time")
    if not 0 <= value <= 1e11:
        raise InvalidRequestError(f"{name} is out of range")
    return float(value)
