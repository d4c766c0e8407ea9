"""``satchel webhooks`` (add, ls, show, update, pause, resume, rm, rewind, dead, redeliver, test,
deliver): webhook subscriptions to the event feed, on the embedded store or, with ``--url``, a
server (admin token)."""

from __future__ import annotations

from typing import Any

import typer

from satchel.cli.common import (
    JSON_OPTION,
    TOKEN_OPTION,
    URL_OPTION,
    open_store,
    print_json,
    stderr,
)
from satchel.core.unset import UNSET

__all__ = ["register"]

webhooks_app = typer.Typer(
    rich_markup_mode=None,
    help="Webhooks: deliver the event feed to URLs, signed, in order.",
    no_args_is_help=True,
)

TYPE_OPTION = typer.Option(None, "--type", help="event type or prefix (v1.package.); repeatable")


def _line(webhook: dict[str, Any]) -> str:
    status = webhook["status"]
    state = "active" if webhook["active"] else "paused"
    types = ",".join(webhook["types"]) or "*"
    counts = f"delivered {status['delivered']}, failed {status['failed']}, dead {status['dead']}"
    error = f"  last error: {status['last_error']}" if status.get("last_error") else ""
    return (
        f"{webhook['webhook_id']}  {state}  {webhook['url']}  {types}  "
        f"cursor {status['cursor']}  {counts}{error}"
    )


def _show(webhook: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print_json(webhook)
        return
    typer.echo(_line(webhook))
    if "secret" in webhook:
        typer.echo(f"secret (shown once): {webhook['secret']}")


@webhooks_app.command("add")
def add(
    target: str = typer.Argument(..., help="the URL events are POSTed to"),
    types: list[str] = TYPE_OPTION,
    subject_prefix: str | None = typer.Option(None, "--subject-prefix", help="only subjects so"),
    secret: str | None = typer.Option(None, "--secret", help="signing secret (default: made up)"),
    description: str = typer.Option("", "--description", help="what it is for"),
    max_attempts: int | None = typer.Option(None, "--max-attempts", help="then dead-letter"),
    after: int | None = typer.Option(None, "--after", help="deliver events after this seq"),
    paused: bool = typer.Option(False, "--paused", help="create it paused"),
    url: str | None = URL_OPTION,
    token: str | None = TOKEN_OPTION,
    as_json: bool = JSON_OPTION,
    id_only: bool = typer.Option(
        False, "--quiet", "-q", help="print only its id (the made-up secret goes to stderr)"
    ),
) -> None:
    """Subscribe a URL to the event feed (from now on, or after --after SEQ)."""
    with open_store(url, token) as store:
        created = store.create_webhook(
            target,
            types=types or None,
            subject_prefix=subject_prefix,
            secret=secret,
            description=description,
            max_attempts=max_attempts,
            active=not paused,
            after=after,
        )
    if id_only and not as_json:
        typer.echo(created["webhook_id"])
        if "secret" in created:
            stderr.print(f"secret (shown once): {created['secret']}", highlight=False)
        return
    _show(created, as_json)


@webhooks_app.command("ls")
def ls(
    url: str | None = URL_OPTION, token: str | None = TOKEN_OPTION, as_json: bool = JSON_OPTION
) -> None:
    """List subscriptions and how their delivery goes."""
    with open_store(url, token) as store:
        listed = store.list_webhooks()
    if as_json:
        print_json(listed)
        return
    for webhook in listed:
        typer.echo(_line(webhook))


@webhooks_app.command("show")
def show(
    webhook_id: str,
    url: str | None = URL_OPTION,
    token: str | None = TOKEN_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """One subscription and its delivery status."""
    with open_store(url, token) as store:
        _show(store.get_webhook(webhook_id), as_json)


def _set_active(
    webhook_id: str, active: bool, url: str | None, token: str | None, as_json: bool
) -> None:
    with open_store(url, token) as store:
        _show(store.update_webhook(webhook_id, active=active), as_json)


@webhooks_app.command("pause")
def pause(
    webhook_id: str,
    url: str | None = URL_OPTION,
    token: str | None = TOKEN_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Stop delivering (the cursor stays; resume goes on from it)."""
    _set_active(webhook_id, False, url, token, as_json)


@webhooks_app.command("resume")
def resume(
    webhook_id: str,
    url: str | None = URL_OPTION,
    token: str | None = TOKEN_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Deliver again, from where it stopped."""
    _set_active(webhook_id, True, url, token, as_json)


@webhooks_app.command("update")
def update(
    webhook_id: str,
    target: str | None = typer.Option(None, "--target", help="a new URL"),
    types: list[str] = TYPE_OPTION,
    secret: str | None = typer.Option(None, "--secret", help="a new signing secret"),
    max_attempts: int | None = typer.Option(None, "--max-attempts"),
    url: str | None = URL_OPTION,
    token: str | None = TOKEN_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Change a subscription's URL, types, secret or attempts."""
    with open_store(url, token) as store:
        updated = store.update_webhook(
            webhook_id,
            url=UNSET if target is None else target,
            types=types or UNSET,
            secret=UNSET if secret is None else secret,
            max_attempts=UNSET if max_attempts is None else max_attempts,
        )
    _show(updated, as_json)


@webhooks_app.command("rm")
def rm(
    webhook_id: str,
    url: str | None = URL_OPTION,
    token: str | None = TOKEN_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Delete a subscription (and its dead letters)."""
    with open_store(url, token) as store:
        store.delete_webhook(webhook_id)
    if as_json:
        print_json({"webhook_id": webhook_id, "deleted": True})
    else:
        typer.echo(f"deleted {webhook_id}")


@webhooks_app.command("rewind")
def rewind(
    webhook_id: str,
    after: int = typer.Option(..., "--after", min=0, help="redeliver events after this seq"),
    url: str | None = URL_OPTION,
    token: str | None = TOKEN_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Redeliver every matching event after a sequence number, in order."""
    with open_store(url, token) as store:
        _show(store.rewind_webhook(webhook_id, after), as_json)


@webhooks_app.command("dead")
def dead(
    webhook_id: str,
    show_all: bool = typer.Option(False, "--all", help="also those redelivered since"),
    limit: int = typer.Option(100, "--limit", min=1, max=1000),
    url: str | None = URL_OPTION,
    token: str | None = TOKEN_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """The events a subscription gave up on."""
    with open_store(url, token) as store:
        letters = store.list_dead_letters(webhook_id, limit=limit, pending=not show_all)
    if as_json:
        print_json(letters)
        return
    for letter in letters:
        done = "  redelivered" if letter["redelivered_at"] else ""
        typer.echo(
            f"{letter['seq']}  attempts {letter['attempts']}  "
            f"status {letter['last_status'] or '-'}  {letter['last_error']}{done}"
        )


@webhooks_app.command("redeliver")
def redeliver(
    webhook_id: str,
    seq: int,
    url: str | None = URL_OPTION,
    token: str | None = TOKEN_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Send a dead letter again now (exit status 1 if the receiver still fails)."""
    with open_store(url, token) as store:
        letter = store.redeliver_dead_letter(webhook_id, seq)
    if as_json:
        print_json(letter)
        if letter["redelivered_at"] is None:
            raise typer.Exit(1)
        return
    if letter["redelivered_at"] is None:
        typer.echo(f"{seq}: still failing: {letter['last_error']}", err=True)
        raise typer.Exit(1)
    typer.echo(f"{seq}: redelivered")


@webhooks_app.command("test")
def send_test(
    webhook_id: str,
    url: str | None = URL_OPTION,
    token: str | None = TOKEN_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Send the webhook a signed test event now (exit status 1 if the receiver refuses it)."""
    with open_store(url, token) as store:
        result = store.test_webhook(webhook_id)
    if as_json:
        print_json(result)
    elif result["delivered"]:
        typer.echo(f"{webhook_id}: test delivered (HTTP {result['status']})")
    else:
        typer.echo(f"{webhook_id}: test failed: {result['error']}", err=True)
    if not result["delivered"]:
        raise typer.Exit(1)


@webhooks_app.command("deliver")
def deliver(
    url: str | None = URL_OPTION, token: str | None = TOKEN_OPTION, as_json: bool = JSON_OPTION
) -> None:
    """Run one delivery round now (the service delivers on its own)."""
    with open_store(url, token) as store:
        counts = store.deliver_webhooks()
    if as_json:
        print_json(counts)
    else:
        typer.echo(
            f"delivered {counts['delivered']}, failed {counts['failed']}, dead {counts['dead']}"
        )


def register(app: typer.Typer) -> None:
    """Add ``webhooks`` to the ``satchel`` app."""
    app.add_typer(webhooks_app, name="webhooks")
