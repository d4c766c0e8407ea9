"""Retention classes, modes and the eligibility rule — pure decisions, no I/O.

Seed 001's classes and durations are the defaults; a TOML file (``SATCHEL_RETENTION_CONFIG_PATH``
or seed 001's ``ARTIFACTSTORE_RETENTION_CONFIG_PATH``) overrides them and adds classes, in seed
001's shape plus two keys of Satchel's::

    [retention_classes."raw-evidence"]
    default_duration_seconds = 7776000   # omitted: kept forever
    mode = "governance"                  # or "compliance" (as S3 Object Lock has them)
    keep_last = 3                        # the newest N finalized per (producer, subject) stay

Governance retention may be shortened or bypassed by an admin who says so and why (both are
recorded); compliance retention only ever grows, and nobody deletes before it ends. A legal
hold beats everything: a held item is never eligible.
"""

from __future__ import annotations

import dataclasses
import enum
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from satchel.core.errors import AccessDeniedError, InvalidRequestError
from satchel.core.validation import check_id

__all__ = [
    "DEFAULT_CLASSES",
    "Eligibility",
    "RetentionClass",
    "RetentionMode",
    "check_shorten",
    "class_named",
    "eligibility",
    "load_retention_classes",
]

DAY = 86_400
MAX_CLASS_NAME = 64


class RetentionMode(enum.StrEnum):
    GOVERNANCE = "governance"
    COMPLIANCE = "compliance"


@dataclasses.dataclass(frozen=True, slots=True)
class RetentionClass:
    name: str
    duration_seconds: int | None  # None: kept forever
    mode: RetentionMode = RetentionMode.GOVERNANCE
    keep_last: int | None = None

    def retain_until(self, start: float) -> float | None:
        """When retention that began at *start* ends (None: never)."""
        return None if self.duration_seconds is None else start + self.duration_seconds


DEFAULT_CLASSES: Mapping[str, RetentionClass] = {
    c.name: c
    for c in (
        RetentionClass("transient", DAY),
        RetentionClass("raw-evidence", 90 * DAY),
        RetentionClass("summary-evidence", 365 * DAY),
        RetentionClass("release-evidence", 7 * 365 * DAY),
        RetentionClass("permanent-record", None),
    )
}
"""Seed 001's classes: transient 1 d, raw-evidence 90 d, summary-evidence 365 d,
release-evidence 7 y (2,555 d), permanent-record forever; all governance mode."""

_KEYS = {"default_duration_seconds", "mode", "keep_last"}


def _count(where: str, value: object, *, least: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < least:
        raise InvalidRequestError(f"{where} must be an integer of at least {least}")
    return value


def _parse_class(name: str, table: object, base: RetentionClass | None) -> RetentionClass:
    where = f"retention_classes.{name}"
    check_id(f"{where} (its name)", name)
    if len(name) > MAX_CLASS_NAME:
        raise InvalidRequestError(f"{where}: a class name has at most {MAX_CLASS_NAME} characters")
    if not isinstance(table, dict):
        raise InvalidRequestError(f"{where} must be a table")
    unknown = sorted(set(table) - _KEYS)
    if unknown:
        raise InvalidRequestError(f"{where}: unknown key {unknown[0]!r} (known: {sorted(_KEYS)})")
    duration = table.get("default_duration_seconds")
    if duration is not None:
        duration = _count(f"{where}.default_duration_seconds", duration, least=0)
    mode_text = table.get("mode", (base.mode if base else RetentionMode.GOVERNANCE).value)
    try:
        mode = RetentionMode(mode_text)
    except ValueError:
        raise InvalidRequestError(f"{where}.mode must be governance or compliance") from None
    keep_last = table.get("keep_last")
    if keep_last is not None:
        keep_last = _count(f"{where}.keep_last", keep_last, least=1)
    return RetentionClass(name, duration, mode, keep_last)


def load_retention_classes(path: Path | None) -> dict[str, RetentionClass]:
    """The default classes, overridden and extended by the TOML file at *path* (if any).

    A class named in the file takes what the file says; omitting
    ``default_duration_seconds`` there means "kept forever", as seed 001 documents.
    Raises InvalidRequestError naming the file, class and key at fault.
    """
    classes = dict(DEFAULT_CLASSES)
    if path is None:
        return classes
    try:
        document = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeError, tomllib.TOMLDecodeError) as error:
        raise InvalidRequestError(f"retention config {path}: {error}") from None
    unknown = sorted(set(document) - {"retention_classes"})
    if unknown:
        raise InvalidRequestError(f"retention config {path}: unknown table {unknown[0]!r}")
    tables = document.get("retention_classes", {})
    if not isinstance(tables, dict):
        raise InvalidRequestError(f"retention config {path}: retention_classes must be tables")
    for name, table in tables.items():
        try:
            classes[name] = _parse_class(name, table, classes.get(name))
        except InvalidRequestError as error:
            raise InvalidRequestError(f"retention config {path}: {error}") from None
    return classes


def check_shorten(
    retention: RetentionClass, *, admin: bool, bypass: bool, reason: str | None
) -> None:
    """Raise unless retention of *retention*'s mode may be shortened or bypassed this way:
    governance by an admin who sets *bypass* and gives a *reason*; compliance never."""
    if retention.mode is RetentionMode.COMPLIANCE:
        raise AccessDeniedError(
            f"compliance retention ({retention.name}) is never shortened, by anyone"
        )
    if not admin:
        raise AccessDeniedError("only an admin may shorten governance retention")
    if not bypass or not (reason or "").strip():
        raise InvalidRequestError(
            "shortening governance retention needs bypass_governance=true and a reason"
        )


@dataclasses.dataclass(frozen=True, slots=True)
class Eligibility:
    eligible: bool
    rule: str  # why, in words an operator reads in the sweep's report


def eligibility(
    retention: RetentionClass,
    *,
    retain_until: float | None,
    now: float,
    holds: tuple[str, ...] = (),
    newer_in_line: int | None = None,
) -> Eligibility:
    """Whether an item may be deleted now, and which rule says so.

    *retain_until* is the item's own retention end (its class's duration from when retention
    began, extended or, in governance mode, shortened since); *newer_in_line* counts the
    finalized packages of the same (producer, subject) newer than this one (None: not a
    package). Holds come first, then keep-last-N, then time.
    """
    if holds:
        return Eligibility(False, f"held ({', '.join(sorted(holds))})")
    keep = retention.keep_last
    if keep is not None and newer_in_line is not None and newer_in_line < keep:
        return Eligibility(False, f"keep_last {keep}: one of the newest {keep} of its line")
    if retain_until is None:
        return Eligibility(False, f"{retention.name}: kept forever")
    if now < retain_until:
        return Eligibility(False, f"{retention.name}: retained until {retain_until:.0f}")
    return Eligibility(True, f"{retention.name}: retention ended at {retain_until:.0f}")


def class_named(classes: Mapping[str, RetentionClass], name: Any) -> RetentionClass:
    """The class called *name*; InvalidRequestError listing the known ones otherwise."""
    found = classes.get(name) if isinstance(name, str) else None
    if found is None:
        raise InvalidRequestError(
            f"unknown retention class {name!r} (known: {', '.join(sorted(classes))})"
        )
    return found
