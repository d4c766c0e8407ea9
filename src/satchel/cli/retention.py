"""Retention commands of the ``satchel`` CLI: retention, hold, gc, schemas. Like every command
they work on the embedded store or, with ``--url``, a server."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from satchel.cli.common import (
    JSON_OPTION,
    TOKEN_OPTION,
    URL_OPTION,
    USER_OPTION,
    fail,
    open_store,
    print_json,
)

__all__ = ["register"]

retention_app = typer.Typer(
    rich_markup_mode=None,
    help="Retention: classes, sweep, set, history.",
    no_args_is_help=True,
)
hold_app = typer.Typer(
    rich_markup_mode=None, help="Legal holds: apply, release, list.", no_args_is_help=True
)
schemas_app = typer.Typer(
    rich_markup_mode=None, help="Metadata schemas (JSON Schema).", no_args_is_help=True
)

KIND_OPTION = typer.Option("package", "--kind", help="package | artifact")


# -- retention, holds, gc --------------------------------------------------------------------


@retention_app.command("classes")
def retention_classes(
    as_json: bool = JSON_OPTION, url: str = URL_OPTION, token: str = TOKEN_OPTION
) -> None:
    """The configured retention classes."""
    with open_store(url, token) as store:
        classes: list[dict[str, Any]] = store.retention_classes()
    if as_json:
        print_json(classes)
        return
    for item in classes:
        seconds = item["duration_seconds"]
        kept = "forever" if seconds is None else f"{seconds} s"
        keep = f"  keep_last {item['keep_last']}" if item["keep_last"] else ""
        typer.echo(f"{item['name']}  {kept}  {item['mode']}{keep}")


@retention_app.command("sweep")
def retention_sweep(
    dry_run: bool = typer.Option(False, "--dry-run", help="report, record nothing"),
    as_json: bool = JSON_OPTION,
    url: str = URL_OPTION,
    token: str = TOKEN_OPTION,
) -> None:
    """Record which finalized packages may be deleted, and the rule that decided each."""
    with open_store(url, token) as store:
        report: dict[str, Any] = store.sweep_retention(dry_run=dry_run)
    if as_json:
        print_json(report)
        return
    for item in report["eligible"]:
        typer.echo(f"eligible  {item['package_id']}  {item['rule']}")
    verb = "would be" if dry_run else "are"
    typer.echo(
        f"checked {report['checked']}: {len(report['eligible'])} {verb} eligible, "
        f"{report['kept']} kept"
    )


@retention_app.command("set")
def retention_set(
    target_id: str = typer.Argument(...),
    until: str = typer.Argument(..., help="ISO 8601 time, epoch seconds, or 'forever'"),
    kind: str = KIND_OPTION,
    bypass_governance: bool = typer.Option(False, "--bypass-governance"),
    reason: str = typer.Option(None, "--reason"),
    user: str = USER_OPTION,
    as_json: bool = JSON_OPTION,
    url: str = URL_OPTION,
    token: str = TOKEN_OPTION,
) -> None:
    """Extend (or, governance mode, shorten as an admin) an item's retention."""
    value: float | str | None = None if until == "forever" else until
    if isinstance(value, str) and value.replace(".", "", 1).isdigit():
        value = float(value)
    with open_store(url, token) as store:
        result = store.set_retention(
            target_id,
            value,
            kind=kind,
            bypass_governance=bypass_governance,
            reason=reason,
            user_id=user,
        )
    if as_json:
        print_json(result)
    else:
        typer.echo(f"{target_id} retained until {result['retain_until'] or 'forever'}")


@retention_app.command("history")
def retention_history(
    target_id: str = typer.Argument(...),
    kind: str = KIND_OPTION,
    user: str = USER_OPTION,
    as_json: bool = JSON_OPTION,
    url: str = URL_OPTION,
    token: str = TOKEN_OPTION,
) -> None:
    """Who changed what about an item's lifecycle, when and why."""
    with open_store(url, token) as store:
        events: list[dict[str, Any]] = store.retention_history(target_id, kind=kind, user_id=user)
    if as_json:
        print_json(events)
        return
    for event in events:
        payload = json.dumps(event["payload"], separators=(",", ":"), default=str)
        typer.echo(f"{event['seq']}  {event['type']}  {event['actor'] or '-'}  {payload}")


@hold_app.command("apply")
def hold_apply(
    target_id: str = typer.Argument(...),
    name: str = typer.Argument(..., help="the hold's name (e.g. a case number)"),
    reason: str = typer.Option(..., "--reason"),
    kind: str = KIND_OPTION,
    actor: str = typer.Option(None, "--actor"),
    as_json: bool = JSON_OPTION,
    url: str = URL_OPTION,
    token: str = TOKEN_OPTION,
) -> None:
    """Put a legal hold on a package or artifact (admins)."""
    with open_store(url, token) as store:
        hold = store.apply_hold(target_id, name, reason, kind=kind, actor=actor)
    if as_json:
        print_json(hold)
    else:
        typer.echo(hold["hold_id"])


@hold_app.command("release")
def hold_release(
    hold_id: str = typer.Argument(...),
    reason: str = typer.Option(..., "--reason"),
    actor: str = typer.Option(None, "--actor"),
    url: str = URL_OPTION,
    token: str = TOKEN_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Release a legal hold (admins)."""
    with open_store(url, token) as store:
        released = store.release_hold(hold_id, reason, actor=actor)
    if as_json:
        print_json(released)
    else:
        typer.echo(f"released {hold_id}")


@hold_app.command("ls")
def hold_ls(
    target_id: str = typer.Argument(...),
    kind: str = KIND_OPTION,
    include_released: bool = typer.Option(False, "--all", help="released holds too"),
    user: str = USER_OPTION,
    as_json: bool = JSON_OPTION,
    url: str = URL_OPTION,
    token: str = TOKEN_OPTION,
) -> None:
    """The holds on a package or artifact."""
    with open_store(url, token) as store:
        holds: list[dict[str, Any]] = store.list_holds(
            target_id, kind=kind, include_released=include_released, user_id=user
        )
    if as_json:
        print_json(holds)
        return
    for hold in holds:
        state = "released" if hold["released_at"] else "in force"
        typer.echo(f"{hold['hold_id']}  {hold['name']}  {state}  {hold['reason']}")


def gc(
    dry_run: bool = typer.Option(False, "--dry-run", help="report, delete nothing"),
    as_json: bool = JSON_OPTION,
    url: str = URL_OPTION,
    token: str = TOKEN_OPTION,
) -> None:
    """Delete eligible and abandoned packages, then unreferenced bytes; report bytes freed.

    Bytes go once nothing has referenced them for the grace period (SATCHEL_GC_GRACE_SECONDS).
    """
    with open_store(url, token) as store:
        report: dict[str, Any] = store.gc(dry_run=dry_run)
    if as_json:
        print_json(report)
        return
    verb = "would delete" if dry_run else "deleted"
    for item in report["packages_deleted"]:
        typer.echo(f"{verb}  {item['package_id']}  {item['rule']}")
    for package_id in report["abandoned_deleted"]:
        typer.echo(f"{verb}  {package_id}  abandoned open package")
    typer.echo(f"blobs removed: {report['blobs_removed']}; bytes freed: {report['bytes_freed']}")


# -- schemas -----------------------------------------------------------------------------------


@schemas_app.command("register")
def schemas_register(
    slug: str = typer.Argument(..., help="e.g. guide-board.run.v1"),
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)] = ...,  # type: ignore[assignment]
    version: int = typer.Option(None, "--version", min=1),
    url: str = URL_OPTION,
    token: str = TOKEN_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Register the JSON Schema in FILE under SLUG (admins)."""
    try:
        document = json.loads(file.read_text())
    except (OSError, ValueError) as exc:
        raise fail(f"{file}: {exc}", 2) from None
    with open_store(url, token) as store:
        result = store.register_schema(slug, document, version=version)
    if as_json:
        print_json(result)
    else:
        typer.echo(f"{result['slug']}@{result['version']}")


@schemas_app.command("ls")
def schemas_ls(
    as_json: bool = JSON_OPTION, url: str = URL_OPTION, token: str = TOKEN_OPTION
) -> None:
    """Registered metadata schemas."""
    with open_store(url, token) as store:
        schemas: list[dict[str, Any]] = store.list_schemas()
    if as_json:
        print_json(schemas)
        return
    for item in schemas:
        typer.echo(f"{item['slug']}@{item['version']}")


def register(app: typer.Typer) -> None:
    """Add the retention commands to the ``satchel`` app."""
    app.command()(gc)
    app.add_typer(retention_app, name="retention")
    app.add_typer(hold_app, name="hold")
    app.add_typer(schemas_app, name="schemas")
