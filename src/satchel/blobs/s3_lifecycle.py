"""The bucket lifecycle rule Satchel may add: clean-up of what crashed puts leave in staging.

A put larger than the multipart threshold uploads to ``{key_prefix}staging/<uuid>`` and removes
it when done; only a process killed mid-put leaves an incomplete multipart upload or a staged
object behind (``S3BlobStore.sweep_staging`` removes those too). The rule, with the fixed ID
:data:`RULE_ID`, is scoped by its filter to the staging prefix alone and

- aborts multipart uploads still incomplete *days* after they began, and
- expires objects *days* after they were written.

Nothing outside ``{key_prefix}staging/`` is touched: not the content keys, not the direct and
tus uploads under ``{key_prefix}uploads/`` (which the store expires itself). Applying merges:
every other rule of the bucket is sent back as it was read, and a second apply with the same
days changes nothing. S3 has no way to change one rule alone, so an apply replaces the bucket's
configuration with that merge: a concurrent change by someone else between the read and the
write would be lost (as with any tool that edits lifecycle rules).
"""

from __future__ import annotations

import copy
import dataclasses
from typing import Any

from satchel.blobs.s3_client import S3Connection
from satchel.blobs.s3_errors import s3_code
from satchel.core.errors import InvalidRequestError, ProviderError
from satchel.core.lifecycle_rules import DEFAULT_DAYS, MAX_DAYS, RULE_ID, rule_prefix

__all__ = [
    "DEFAULT_DAYS",
    "RULE_ID",
    "LifecycleChange",
    "aborts_staging_uploads",
    "apply_lifecycle",
    "lifecycle_rules",
    "rule_prefix",
    "staging_rule",
]

_NO_CONFIGURATION = frozenset({"NoSuchLifecycleConfiguration", "NoSuchLifecycleConfig"})


@dataclasses.dataclass(frozen=True)
class LifecycleChange:
    """What :func:`apply_lifecycle` did, or would do on a dry run.

    ``action`` is ``added``, ``updated`` or ``unchanged``; ``previous`` is Satchel's rule as it
    was (None when absent); ``rules`` every rule of the bucket after the change.
    """

    action: str
    rule: dict[str, Any]
    previous: dict[str, Any] | None
    rules: list[dict[str, Any]]
    dry_run: bool

    @property
    def changed(self) -> bool:
        return self.action != "unchanged" and not self.dry_run


def staging_rule(staging_prefix: str, days: int) -> dict[str, Any]:
    """Satchel's rule for *staging_prefix* (``{key_prefix}staging/``) after *days* days."""
    if not 1 <= days <= MAX_DAYS:
        raise InvalidRequestError(f"days={days}: must be between 1 and {MAX_DAYS}")
    if not staging_prefix.endswith("staging/"):
        raise InvalidRequestError(f"not a staging prefix: {staging_prefix!r}")
    return {
        "ID": RULE_ID,
        "Status": "Enabled",
        "Filter": {"Prefix": staging_prefix},
        "Expiration": {"Days": days},
        "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": days},
    }


def aborts_staging_uploads(rules: list[dict[str, Any]], staging_prefix: str) -> int | None:
    """Days after which an enabled rule aborts incomplete multipart uploads under
    *staging_prefix* (the shortest such), or None when no rule does."""
    days = [
        int(rule["AbortIncompleteMultipartUpload"]["DaysAfterInitiation"])
        for rule in rules
        if rule.get("Status") == "Enabled"
        and "AbortIncompleteMultipartUpload" in rule
        and (prefix := rule_prefix(rule)) is not None
        and staging_prefix.startswith(prefix)
    ]
    return min(days) if days else None


def _essence(rule: dict[str, Any]) -> tuple[Any, ...]:
    """What Satchel's rule says, however a server spells it back."""
    return (
        rule.get("Status"),
        rule_prefix(rule),
        (rule.get("Expiration") or {}).get("Days"),
        (rule.get("AbortIncompleteMultipartUpload") or {}).get("DaysAfterInitiation"),
        tuple(sorted(set(rule) - {"ID", "Status", "Filter", "Prefix", "Expiration",
                                  "AbortIncompleteMultipartUpload"})),
    )  # fmt: skip


def _as_sent(rule: dict[str, Any]) -> dict[str, Any]:
    """A rule as read, made fit to be sent back with the same meaning.

    Some servers answer the deprecated top-level ``Prefix`` beside a ``Filter``; S3 refuses a
    rule with both. It is dropped only when it says nothing more (empty, or the filter's own
    prefix); otherwise the rule is sent as read and the server decides.
    """
    sent = copy.deepcopy(rule)
    if "Filter" in sent and "Prefix" in sent:
        filter_prefix = (sent["Filter"] or {}).get("Prefix")
        if sent["Prefix"] in ("", None, filter_prefix):
            del sent["Prefix"]
    return sent


async def lifecycle_rules(s3: S3Connection) -> list[dict[str, Any]]:
    """The bucket's lifecycle rules (none: an empty list)."""
    try:
        answer = await s3.call(
            "get_bucket_lifecycle_configuration", "cannot read the bucket's lifecycle rules"
        )
    except ProviderError as exc:
        if s3_code(exc) in _NO_CONFIGURATION:
            return []
        raise
    return list(answer.get("Rules", []))


async def apply_lifecycle(
    s3: S3Connection, *, days: int = DEFAULT_DAYS, dry_run: bool = False
) -> LifecycleChange:
    """Add or update Satchel's rule (:data:`RULE_ID`), keeping every other rule as it is.

    Raises:
        InvalidRequestError: *days* out of range (nothing is read or changed).
    """
    wanted = staging_rule(s3.staging_root, days)
    rules = await lifecycle_rules(s3)
    previous = next((rule for rule in rules if rule.get("ID") == RULE_ID), None)
    if previous is not None and _essence(previous) == _essence(wanted):
        return LifecycleChange("unchanged", wanted, previous, rules, dry_run)
    merged = [wanted if rule.get("ID") == RULE_ID else _as_sent(rule) for rule in rules]
    if previous is None:
        merged.append(wanted)
    if not dry_run:
        await s3.call(
            "put_bucket_lifecycle_configuration",
            "cannot set the bucket's lifecycle rules",
            retry=False,
            LifecycleConfiguration={"Rules": merged},
        )
    action = "added" if previous is None else "updated"
    return LifecycleChange(action, wanted, previous, merged, dry_run)
