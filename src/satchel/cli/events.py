"""``satchel events``: the event feed, printed or followed (embedded store or, with ``--url``,
a server)."""

from __future__ import annotations

import datetime
import json
from itertools import islice
from typing import Any

import typer

from satchel.cli.commands import (
    SESSION_OPTION,
    TOKEN_OPTION,
    URL_OPTION,
    USER_OPTION,
    _store,
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
    with _store(url, token) as store:
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


def register(app: typer.Typer) -> None:
    """Add ``events`` to the ``satchel`` app."""
    app.command()(events)
