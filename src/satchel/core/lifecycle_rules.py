"""Satchel's S3 lifecycle rule, described without I/O: its fixed ID, the bounds of its days, and
what prefix a bucket rule is limited to (the S3 backend applies it:
:mod:`satchel.blobs.s3_lifecycle`; ``satchel s3 lifecycle`` describes rules with it)."""

from __future__ import annotations

from typing import Any

__all__ = ["DEFAULT_DAYS", "MAX_DAYS", "RULE_ID", "rule_prefix"]

RULE_ID = "satchel-staging-cleanup"
DEFAULT_DAYS = 7
MAX_DAYS = 3650


def rule_prefix(rule: dict[str, Any]) -> str | None:
    """The key prefix a rule is limited to ('' for the whole bucket), None when its filter is
    more than a prefix (tags, sizes, an ``And``)."""
    if "Filter" in rule:
        found = rule["Filter"] or {}
        if set(found) - {"Prefix"}:
            return None
        return str(found.get("Prefix") or "")
    return str(rule.get("Prefix") or "")
