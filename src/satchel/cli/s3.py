"""``satchel s3``: the bucket of the S3 blob backend, reached directly with the same settings
the server reads (SATCHEL_S3_*, from the environment or ./.env), whatever backend is in use:
``doctor`` (a preflight) and ``lifecycle`` (Satchel's staging clean-up rule)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar

import typer

from satchel.cli.common import JSON_OPTION, fail, print_json

if TYPE_CHECKING:
    from satchel.blobs.s3 import S3BlobStore

__all__ = ["register"]

_T = TypeVar("_T")

s3_app = typer.Typer(
    rich_markup_mode=None,
    help="The S3 backend's bucket (SATCHEL_S3_* settings): doctor, lifecycle.",
    no_args_is_help=True,
)


def _with_store(work: Callable[[S3BlobStore], Awaitable[_T]]) -> _T:
    """Run *work* on an S3 backend made from the settings, closed afterwards."""
    from satchel.blobs.registry import create_blob_store
    from satchel.config import Settings

    options = Settings().s3_blob_options()

    async def main() -> _T:
        store: S3BlobStore = create_blob_store("s3", **options)  # type: ignore[assignment]
        try:
            return await work(store)
        finally:
            await store.close()

    return asyncio.run(main())


@s3_app.command("doctor")
def doctor(as_json: bool = JSON_OPTION) -> None:
    """Check the endpoint, credentials, bucket, versioning, Object Lock, lifecycle rules,
    checksum mode, clock skew and public URL; exit 1 when a check fails."""
    from satchel.blobs.s3_doctor import run_doctor, summary

    checks = _with_store(run_doctor)
    totals = summary(checks)
    if as_json:
        print_json({"checks": [check.as_dict() for check in checks], **totals})
    else:
        width = max(len(check.name) for check in checks)
        for check in checks:
            typer.echo(f"{check.status:<4}  {check.name:<{width}}  {check.detail}")
        typer.echo(
            f"{totals['ok']} ok, {totals['warn']} warn, {totals['fail']} fail, "
            f"{totals['skip']} skipped"
        )
    if totals["failed"]:
        raise typer.Exit(1)


def _describe_rule(rule: dict[str, Any]) -> str:
    from satchel.blobs.s3_lifecycle import RULE_ID, rule_prefix

    prefix = rule_prefix(rule)
    parts = [
        f"rule {rule.get('ID') or '(no id)'}",
        str(rule.get("Status")),
        "filter (not a prefix)" if prefix is None else f"prefix {prefix or '(whole bucket)'}",
    ]
    expiration = rule.get("Expiration") or {}
    if "Days" in expiration:
        parts.append(f"expire after {expiration['Days']} days")
    elif expiration:
        parts.append("expire " + ", ".join(f"{k}={v}" for k, v in expiration.items()))
    if "NoncurrentVersionExpiration" in rule:
        days = rule["NoncurrentVersionExpiration"].get("NoncurrentDays")
        parts.append(f"old versions after {days} days")
    if "AbortIncompleteMultipartUpload" in rule:
        days = rule["AbortIncompleteMultipartUpload"].get("DaysAfterInitiation")
        parts.append(f"abort incomplete uploads after {days} days")
    if "Transitions" in rule:
        parts.append(f"{len(rule['Transitions'])} transitions")
    if rule.get("ID") == RULE_ID:
        parts.append("(Satchel's)")
    return "  ".join(parts)


@s3_app.command("lifecycle")
def lifecycle(
    apply: bool = typer.Option(
        False, "--apply", help="add or update Satchel's rule, keeping every other rule"
    ),
    days: int | None = typer.Option(
        None,
        "--days",
        metavar="N",
        help="with --apply: abort incomplete uploads and expire staged objects after N days "
        "(default 7)",
    ),
    dry_run: bool = typer.Option(False, "--dry-run", help="with --apply: say, change nothing"),
    as_json: bool = JSON_OPTION,
) -> None:
    """Show the bucket's lifecycle rules; with --apply, add Satchel's rule for its staging
    prefix (key prefix + staging/) alone: nothing else in the bucket can expire by it."""
    from satchel.blobs.s3_lifecycle import DEFAULT_DAYS, MAX_DAYS, RULE_ID

    if not apply and (days is not None or dry_run):
        raise fail("--days and --dry-run go with --apply", 2)
    if days is not None and not 1 <= days <= MAX_DAYS:
        raise fail(f"--days must be between 1 and {MAX_DAYS}", 2)
    if not apply:
        rules = _with_store(lambda store: store.lifecycle_rules())
        if as_json:
            ours = next((rule for rule in rules if rule.get("ID") == RULE_ID), None)
            print_json({"rules": rules, "satchel_rule": ours})
        elif not rules:
            typer.echo("no lifecycle rules")
        else:
            for rule in rules:
                typer.echo(_describe_rule(rule))
        return
    wanted = DEFAULT_DAYS if days is None else days
    change = _with_store(lambda store: store.apply_lifecycle(days=wanted, dry_run=dry_run))
    if as_json:
        print_json(
            {
                "action": change.action,
                "changed": change.changed,
                "dry_run": change.dry_run,
                "rule": change.rule,
                "previous": change.previous,
                "rules": change.rules,
            }
        )
        return
    if change.action == "unchanged":
        typer.echo(f"unchanged: {_describe_rule(change.rule)}")
        return
    verb = {"added": "add", "updated": "update"}[change.action]
    typer.echo(f"{'would ' + verb if change.dry_run else change.action}: "
               f"{_describe_rule(change.rule)}")  # fmt: skip
    if change.previous is not None:
        typer.echo(f"was: {_describe_rule(change.previous)}")
    others = len(change.rules) - 1
    typer.echo(f"{others} other rule{'s' if others != 1 else ''} kept as they were")


def register(app: typer.Typer) -> None:
    """Add ``satchel s3`` to the ``satchel`` app."""
    app.add_typer(s3_app, name="s3")
