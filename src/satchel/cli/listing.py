"""``satchel ls``: newest first, human sizes, sort and filters, ``--long``, ``-q``, JSON lines.

The options are typer's; the rest (their rules, paging, printing) is :mod:`satchel.cli.lsview`,
which :mod:`satchel.cli.fastls` shares when it answers ``ls`` against a server without typer.
"""

from __future__ import annotations

import typer

from satchel.cli.common import (
    JSON_OPTION,
    SESSION_OPTION,
    TOKEN_OPTION,
    URL_OPTION,
    USER_OPTION,
    fail,
    open_store,
)
from satchel.cli.lsview import LibrarySource, Query, UsageError, finish, show_pages

__all__ = ["ls", "register"]


def ls(
    session: str = SESSION_OPTION,
    user: str = USER_OPTION,
    scope: str = typer.Option(
        None, "--scope", metavar="SCOPE", help="only this scope: session | user | sandbox"
    ),
    name: str = typer.Option(
        None, "--name", metavar="GLOB", help="filename glob (* also spans /, e.g. '*.pdf')"
    ),
    prefix: str = typer.Option(
        None, "--prefix", metavar="PREFIX", help="filenames starting with this (e.g. reports/)"
    ),
    mime: str = typer.Option(
        None, "--mime", "--mime-prefix", metavar="TYPE", help="media type prefix (e.g. image/)"
    ),
    collection: str = typer.Option(
        None, "--collection", metavar="NAME", help="only members of this collection"
    ),
    sort: str = typer.Option(
        "time", "--sort", metavar="KEY", help="time (newest first), name or size (largest first)"
    ),
    reverse: bool = typer.Option(False, "--reverse", "-r", help="reverse the order"),
    long: bool = typer.Option(False, "--long", "-l", help="also scope, owner, type and digest"),
    ids_only: bool = typer.Option(False, "--quiet", "-q", help="print only the ids"),
    limit: int = typer.Option(100, "--limit", metavar="N", min=1, max=1000, help="per page"),
    every: bool = typer.Option(False, "--all", "-a", help="every page, not only the first"),
    cursor: str = typer.Option(None, "--cursor", metavar="CURSOR", help="continue a listing"),
    as_json: bool = JSON_OPTION,
    url: str = URL_OPTION,
    token: str = TOKEN_OPTION,
) -> None:
    """List artifacts you can read, newest first: a session's (--session) or a search by
    scope, owner, name and type. --json prints one object per line."""
    try:
        query = Query.of(
            session=session,
            user=user,
            scope=scope,
            name=name,
            prefix=prefix,
            mime=mime,
            collection=collection,
            sort=sort,
            reverse=reverse,
            limit=limit,
        )
    except UsageError as exc:
        raise fail(str(exc), 2) from None
    with open_store(url, token) as store:
        more, shown = show_pages(
            query,
            LibrarySource(store),
            cursor,
            every=every,
            as_json=as_json,
            ids_only=ids_only,
            long=long,
        )
    finish(more, shown, as_json=as_json, ids_only=ids_only)


def register(app: typer.Typer) -> None:
    app.command()(ls)
