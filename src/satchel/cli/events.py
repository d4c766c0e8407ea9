"""``satchel events``: the event feed, printed or followed (embedded store or, with ``--url``,
a server)."""

from __future__ import annotations

import datetime
import json
from itertools import islice
from typing import Any

import typer

from satchel.cli.common import (
    SESSION_OPTION,
    TOKEN_OPTION,
    URL_OPTION,
    USER_OPTION,
    fail,
    open_store,
)

__all__ = ["register"]


def _line(event: dict[str, Any]) -> str:
    when = datetime.datetime.fromtimestamp(event["time"], datetime.UTC)
    actor = event["actor"] or "-"
    stamp = when.isoformat(timespec="seconds").replace("+00:00", "Z")
    return f"{event['seq']}  {stamp}  {event['type']}  {event['subject']}  {actor}"


def events(
    after: int = typer.Option(0, "--after", help="start after this sequence number"),
    types: list[str] = typer.Option(  # noqa: B008
        None, "--type", help="only this type or prefix (v1.package.); repeatable"
    ),
    subject: str = typer.Option(None, "--subject", help="only events about this id"),
    limit: int = typer.Option(None, "--limit", min=1, help="stop after this many events"),
    follow: bool = typer.Option(False, "--follow", "-f", help="keep waiting for new events"),
    as_json: bool = typer.Option(False, "--json", help="one JSON object per line (JSON Lines)"),
    user: str = USER_OPTION,
    session: str = SESSION_OPTION,
    url: str = URL_OPTION,
    token: str = TOKEN_OPTION,
) -> None:
    """Print the event log after a sequence number, oldest first; --follow waits for more."""
    with open_store(url, token) as store:
        feed = store.events(
            after,
            types=types or None,
            subject=subject,
            follow=follow,
            user_id=user,
            session_id=session,
        )
        try:
            for event in islice(feed, limit):
                text = json.dumps(event, separators=(",", ":")) if as_json else _line(event)
                typer.echo(text)
        except KeyboardInterrupt:
            pass
        finally:
            getattr(feed, "close", lambda: None)()  # the feed's generator: stop its long poll


def replay(
    check: bool = typer.Option(
        False, "--check", help="rebuild, compare with the current views, and roll back"
    ),
    as_json: bool = typer.Option(False, "--json", help="the report as JSON"),
) -> None:
    """Rebuild every view of the catalog from the event log (stop the service first).

    Empties each table the log feeds (artifacts, sessions, blobs, uploads, keys, packages,
    holds, schemas, aspects, webhooks) and applies every event's rows in sequence order, in one
    transaction. --check proves the log complete: it rebuilds, compares row by row with the
    views as they are, names any table that differs (exit status 1) and changes nothing.
    """
    from satchel.config import Settings
    from satchel.store import ArtifactStore

    if Settings().url:
        raise fail("replay works on the embedded catalog (unset SATCHEL_URL)", 2)
    with open_store(None, None) as store:
        embedded = store.wrapped
        if not isinstance(embedded, ArtifactStore):  # pragma: no cover - no URL, so embedded
            raise fail("replay works on the embedded catalog", 2)
        report: dict[str, Any] = store.call(embedded.replay_events, check=check)
    differences = report.get("differences") or {}
    if as_json:
        typer.echo(json.dumps(report))
    else:
        for name, count in report["rows"].items():
            typer.echo(f"{name:<18} {count:>10} rows")
        verb = "checked" if check else "replayed"
        typer.echo(f"{verb} {report['events']} events up to seq {report['highest_seq']}")
        for name, count in differences.items():
            typer.echo(f"DIFFERS  {name}: {count} rows", err=True)
    if differences:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add ``events`` and ``replay`` to the ``satchel`` app."""
    app.command()(events)
    app.command()(replay)
