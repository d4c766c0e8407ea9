"""Administrative commands of the ``satchel`` CLI: health, migrate, storage, keys, admin.

The artifact commands are in :mod:`satchel.cli.artifacts`, :mod:`satchel.cli.listing` and
:mod:`satchel.cli.sync`; what they all share (the store, options, output) in
:mod:`satchel.cli.common`.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import typer

from satchel.cli.common import (
    JSON_OPTION,
    TOKEN_OPTION,
    URL_OPTION,
    fail,
    human_size,
    open_store,
    print_json,
    stderr,
)

if TYPE_CHECKING:  # the client and its models load when a command runs, not for --help
    from satchel.core.apikeys import ApiKey

__all__ = ["admin_app", "keys_app", "register", "storage_app"]

keys_app = typer.Typer(
    rich_markup_mode=None,
    help="API keys (bearer tokens) for satchel serve.",
    no_args_is_help=True,
)
storage_app = typer.Typer(
    rich_markup_mode=None, help="Storage integrity (fsck).", no_args_is_help=True
)
admin_app = typer.Typer(
    rich_markup_mode=None, help="Sandbox-wide acts of an admin.", no_args_is_help=True
)


def health(
    as_json: bool = JSON_OPTION,
    url: str = URL_OPTION,
    token: str = TOKEN_OPTION,
) -> None:
    """Check the catalog, blob backend and session provider (exit status 1 when degraded)."""
    with open_store(url, token) as store:
        checks: dict[str, Any] = store.validate_configuration()
    down = [name for name, check in checks.items() if check.get("status") != "ok"]
    body = {"status": "degraded" if down else "ok", "checks": checks}
    if as_json:
        print_json(body)
    else:
        for name, check in checks.items():
            mark = "ok" if check.get("status") == "ok" else "FAILED"
            details = ", ".join(f"{k}={v}" for k, v in check.items() if k != "status")
            typer.echo(f"{name}: {mark}" + (f" ({details})" if details else ""))
        typer.echo(f"status: {body['status']}")
    if down:
        raise typer.Exit(1)


def migrate(
    url: str = URL_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Open the embedded store, running catalog migrations up to the newest revision."""
    from satchel.config import Settings

    if url or Settings().url:
        raise fail("migrate works on the embedded store; the server migrates at start", 2)
    with open_store(None, None) as store:
        store.call(store.wrapped.open)
        stats: dict[str, Any] = store.get_stats()
    if as_json:
        print_json({"catalog": "up to date", **stats})
        return
    typer.echo(
        f"catalog up to date ({stats.get('storage_provider')} blobs, "
        f"{stats.get('total_artifacts', 0)} artifacts)"
    )


# -- storage --------------------------------------------------------------------------------


@storage_app.command("check")
def storage_check(
    repair: bool = typer.Option(False, "--repair", help="fix what is safe to fix"),
    verify: bool = typer.Option(False, "--verify", help="also re-hash every blob (reads all)"),
    url: str | None = URL_OPTION,
    token: str | None = TOKEN_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Check that the catalog, blobs and upload staging agree (exit status 1 if not clean).

    Finds lost or damaged content, stray bytes, leftovers of crashed writes and expired
    uploads; --repair removes leftovers, hands stray bytes to garbage collection, mends the
    ledger and purges expired uploads. Lost content is reported, never touched.
    """
    with open_store(url, token) as store:
        report: dict[str, Any] = store.check_storage(repair=repair, verify=verify)
    if as_json:
        print_json(report)
    else:
        checked = ", ".join(f"{name} {count}" for name, count in report["checked"].items())
        typer.echo(f"checked: {checked}")
        for problem in report["problems"]:
            state = "repaired" if problem["repaired"] else "FOUND"
            typer.echo(f"{state}  {problem['kind']}  {problem['subject']}  {problem['detail']}")
        listed = len(report["problems"])
        total = report["repaired"] + report["unresolved"]
        if total > listed:
            typer.echo(f"… {total - listed} more (see --json counts)")
        if report["in_flight"]:
            typer.echo(f"in flight (left alone): {report['in_flight']}")
        verdict = "clean" if report["clean"] else f"{report['unresolved']} problem(s) left"
        typer.echo(f"repaired: {report['repaired']}; {verdict}")
    if not report["clean"]:
        raise typer.Exit(1)


@storage_app.command("verify")
def storage_verify(
    backend: str | None = typer.Option(None, "--backend", help="one backend (default: all)"),
    sample: int | None = typer.Option(None, "--sample", min=1, help="this many, at random"),
    url: str | None = URL_OPTION,
    token: str | None = TOKEN_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Re-read stored blobs and recompute their sha256 (exit status 1 if any failed).

    Records a verification event per blob; corrupt or missing ones are marked failed (their
    reads answer an integrity error and /health is degraded) until a verification finds them
    intact again.
    """
    with open_store(url, token) as store:
        report: dict[str, Any] = store.verify_storage(backend, sample=sample)
    if as_json:
        print_json(report)
    else:
        for failure in report["failures"]:
            typer.echo(f"FAILED  {failure['backend']}  {failure['digest']}  {failure['failure']}")
        typer.echo(
            f"verified {report['checked']} on {', '.join(report['backends'])}: "
            f"{report['intact']} intact, {report['failed']} failed"
            + (f", {report['unreachable']} unreachable" if report["unreachable"] else "")
            + (f", {report['restored']} restored" if report["restored"] else "")
        )
    if report["failed"]:
        raise typer.Exit(1)


# -- keys -----------------------------------------------------------------------------------


def _key_state(key: ApiKey) -> str:
    if key.revoked_at is not None:
        return "revoked"
    return "live" if key.usable(time.time()) else "expired"


def _key_row(key: ApiKey) -> str:
    role = "admin" if key.is_admin else "user"
    state = _key_state(key)
    expires = key.to_dict()["expires_at"] or "never"
    name = f"  {key.name}" if key.name else ""
    return f"{key.key_id}  {key.user_id}@{key.sandbox_id}  {role}  {state}  expires {expires}{name}"


@keys_app.command("create")
def keys_create(
    user: str = typer.Option(..., "--user", help="the user the key acts as"),
    admin: bool = typer.Option(False, "--admin", help="give the key the admin role"),
    name: str = typer.Option("", "--name", help="a label for the key (who or what uses it)"),
    ttl: int = typer.Option(
        None, "--ttl", min=1, help="seconds until the key expires (default never)"
    ),
    url: str | None = URL_OPTION,
    token: str | None = TOKEN_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Create an API key and print its token (shown only now; the catalog keeps a digest).

    Embedded, the key goes straight into the local catalog; with --url it is created through
    the server (needs an admin token). 'satchel serve' accepts it at once, no restart.
    """
    with open_store(url, token) as store:
        secret, key = store.create_api_key(user, admin=admin, name=name, ttl=ttl)
    if as_json:
        print_json({**key.to_dict(), "token": secret})
        return
    typer.echo(secret)
    stderr.print(f"key {key.key_id} for {key.user_id}; clients send it as SATCHEL_TOKEN")


@keys_app.command("list")
def keys_list(
    include_revoked: bool = typer.Option(False, "--all", help="include revoked keys"),
    url: str | None = URL_OPTION,
    token: str | None = TOKEN_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """List the sandbox's API keys (never their secrets)."""
    with open_store(url, token) as store:
        keys: list[ApiKey] = store.list_api_keys(include_revoked=include_revoked)
    if as_json:
        print_json([{**key.to_dict(), "state": _key_state(key)} for key in keys])
        return
    if not keys:
        stderr.print("no API keys (static tokens live in SATCHEL_AUTH_TOKENS)")
    for key in keys:
        typer.echo(_key_row(key))


@keys_app.command("revoke")
def keys_revoke(
    key_id: str = typer.Argument(..., help="the key id (from satchel keys list)"),
    url: str | None = URL_OPTION,
    token: str | None = TOKEN_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Revoke an API key; the server refuses it from the next request on."""
    with open_store(url, token) as store:
        key: ApiKey = store.revoke_api_key(key_id)
    if as_json:
        print_json(key.to_dict())
        return
    typer.echo(_key_row(key))


# -- admin ----------------------------------------------------------------------------------


@admin_app.command("delete-prefix")
def admin_delete_prefix(
    prefix: str = typer.Argument(..., help="a grid key prefix: grid/SANDBOX/sessions/ID/ …"),
    apply: bool = typer.Option(False, "--apply", help="delete (default: only report)"),
    limit: int = typer.Option(None, "--limit", min=1, help="delete at most this many"),
    page_size: int = typer.Option(
        500, "--page-size", min=1, max=1000, help="artifacts read per page"
    ),
    url: str | None = URL_OPTION,
    token: str | None = TOKEN_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Delete every artifact under a grid key prefix (admins); a dry run without --apply.

    The prefix names whole segments (grid/S/sessions/abc never matches grid/S/sessions/abcd).
    Artifacts under a legal hold or retention are skipped and listed. Exit status 1 when the
    walk stopped on a failure or, with --apply, when some artifact was skipped.
    """
    with open_store(url, token) as store:
        report: dict[str, Any] = store.delete_prefix(
            prefix, dry_run=not apply, limit=limit, page_size=page_size
        )
    if as_json:
        print_json(report)
    else:
        for artifact_id in report["ids"]:
            typer.echo(artifact_id)
        for item in report["skipped_items"]:
            typer.echo(f"skipped  {item['artifact_id']}  {item['code']}: {item['message']}")
        verb = "would delete" if report["dry_run"] else "deleted"
        size = human_size(report["bytes"])
        more = "" if report["complete"] else " (stopped before the end; run it again to go on)"
        typer.echo(
            f"{verb} {report['count']} artifact(s), {size}; skipped {report['skipped']}; "
            f"{report['pages']} page(s){more}"
        )
    if report["error"] is not None:
        error = report["error"]
        raise fail(f"stopped by {error['code']}: {error['message']}", 1)
    if apply and report["skipped"]:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add these commands to the ``satchel`` app."""
    for command in (health, migrate):
        app.command()(command)
    app.add_typer(keys_app, name="keys")
    app.add_typer(storage_app, name="storage")
    app.add_typer(admin_app, name="admin")
