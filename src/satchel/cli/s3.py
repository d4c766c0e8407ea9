"""``satchel s3``: the bucket of the S3 settings (SATCHEL_S3_*, from the environment or
./.env, whatever backend is in use; with --url, the server's): ``doctor`` (a preflight) and
``lifecycle`` (Satchel's staging clean-up rule), through the store's API."""

from __future__ import annotations

from typing import Any

import typer

from satchel.cli.common import JSON_OPTION, TOKEN_OPTION, URL_OPTION, fail, open_store, print_json
from satchel.core.lifecycle_rules import DEFAULT_DAYS, MAX_DAYS, RULE_ID, rule_prefix

__all__ = ["register"]

s3_app = typer.Typer(
    rich_markup_mode=None,
    help="The S3 backend's bucket (SATCHEL_S3_* settings): doctor, lifecycle.",
    no_args_is_help=True,
)


@s3_app.command("doctor")
def doctor(as_json: bool = JSON_OPTION, url: str = URL_OPTION, token: str = TOKEN_OPTION) -> None:
    """Check the endpoint, credentials, bucket, versioning, Object Lock, lifecycle rules,
    checksum mode, clock skew and public URL; exit 1 when a check fails."""
    with open_store(url, token) as store:
        report = store.s3_doctor()
    if as_json:
        print_json(report)
    else:
        checks = report["checks"]
        width = max(len(check["name"]) for check in checks)
        for check in checks:
            typer.echo(f"{check['status']:<4}  {check['name']:<{width}}  {check['detail']}")
        typer.echo(
            f"{report['ok']} ok, {report['warn']} warn, {report['fail']} fail, "
            f"{report['skip']} skipped"
        )
    if report["failed"]:
        raise typer.Exit(1)


def _describe_rule(rule: dict[str, Any]) -> str:
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
    url: str = URL_OPTION,
    token: str = TOKEN_OPTION,
) -> None:
    """Show the bucket's lifecycle rules; with --apply, add Satchel's rule for its staging
    prefix (key prefix + staging/) alone: nothing else in the bucket can expire by it."""
    if not apply and (days is not None or dry_run):
        raise fail("--days and --dry-run go with --apply", 2)
    if days is not None and not 1 <= days <= MAX_DAYS:
        raise fail(f"--days must be between 1 and {MAX_DAYS}", 2)
    if not apply:
        with open_store(url, token) as store:
            found = store.s3_lifecycle()
        rules = found["rules"]
        if as_json:
            print_json(found)
        elif not rules:
            typer.echo("no lifecycle rules")
        else:
            for rule in rules:
                typer.echo(_describe_rule(rule))
        return
    wanted = DEFAULT_DAYS if days is None else days
    with open_store(url, token) as store:
        change = store.s3_lifecycle(apply=True, days=wanted, dry_run=dry_run)
    if as_json:
        print_json(change)
        return
    if change["action"] == "unchanged":
        typer.echo(f"unchanged: {_describe_rule(change['rule'])}")
        return
    verb = {"added": "add", "updated": "update"}[change["action"]]
    typer.echo(f"{'would ' + verb if change['dry_run'] else change['action']}: "
               f"{_describe_rule(change['rule'])}")  # fmt: skip
    if change["previous"] is not None:
        typer.echo(f"was: {_describe_rule(change['previous'])}")
    others = len(change["rules"]) - 1
    typer.echo(f"{others} other rule{'s' if others != 1 else ''} kept as they were")


def register(app: typer.Typer) -> None:
    """Add ``satchel s3`` to the ``satchel`` app."""
    app.add_typer(s3_app, name="s3")
