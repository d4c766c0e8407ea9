"""``satchel ls``: newest first, human sizes, sort and filters, ``--long``, ``-q``, JSON lines."""

from __future__ import annotations

import fnmatch
import glob
from typing import TYPE_CHECKING, Any

import typer

from satchel.cli.common import (
    JSON_OPTION,
    SESSION_OPTION,
    TOKEN_OPTION,
    URL_OPTION,
    USER_OPTION,
    fail,
    human_size,
    minutes,
    open_store,
    print_json,
    stderr,
    stdout,
)

if TYPE_CHECKING:
    from rich.table import Table

    from satchel.client.sync import SyncArtifactStore
    from satchel.core.models import ArtifactList, ArtifactMetadata

__all__ = ["ls", "register"]

# --sort KEY → the store's order (each key's natural direction; --reverse flips it)
_ORDERS = {"time": "-stored_at", "name": "filename", "size": "-bytes"}


def _table(items: list[ArtifactMetadata], long: bool) -> Table:
    from rich.table import Table

    table = Table(box=None, header_style="bold", pad_edge=False)
    columns = ["artifact_id", "size", "stored", "expires"]
    if long:
        columns += ["scope", "owner", "mime", "sha256"]
    columns.append("filename")
    for column in columns:
        table.add_column(column, justify="right" if column == "size" else "left", no_wrap=True)
    for item in items:
        expires = minutes(item.expires_at) if item.expires_at else "never"
        row = [item.artifact_id, human_size(item.bytes), minutes(item.stored_at), expires]
        if long:
            row += [
                str(item.scope.value),
                item.owner_id or "",
                item.mime,
                item.sha256.removeprefix("sha256:")[:16],
            ]
        row.append(item.filename or "")
        table.add_row(*row)
    return table


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
    if sort not in _ORDERS:
        raise fail(f"--sort is one of {', '.join(_ORDERS)}", 2)
    if name is not None and prefix is not None:
        raise fail("--name and --prefix both name files; give one", 2)
    order = _ORDERS[sort]
    if reverse:
        order = order[1:] if order.startswith("-") else f"-{order}"
    glob_pattern = name if prefix is None else glob.escape(prefix) + "*"
    query: dict[str, Any] = {"order": order}
    shown = 0
    with open_store(url, token) as store:
        while True:
            page = _page(store, session, user, scope, mime, glob_pattern, limit, cursor, query)
            shown += len(page)
            _show(page, as_json=as_json, ids_only=ids_only, long=long)
            cursor = page.next_cursor
            if cursor is None or not every:
                break
    if cursor is not None:
        stderr.print(f"more: --cursor {cursor} (or --all)", highlight=False)
    elif shown == 0 and not as_json and not ids_only:
        stderr.print("no artifacts")


def _page(
    store: SyncArtifactStore,
    session: str | None,
    user: str | None,
    scope: str | None,
    mime: str | None,
    glob_pattern: str | None,
    limit: int,
    cursor: str | None,
    query: dict[str, Any],
) -> ArtifactList:
    if session is not None:  # everything stored in the session, whatever its scope
        return _session_page(store, session, user, scope, mime, glob_pattern, limit, cursor, query)
    return store.search(
        user_id=user,
        scope=scope,
        mime_prefix=mime,
        filename_glob=glob_pattern,
        session_id=session,
        limit=limit,
        cursor=cursor,
        **query,
    )


def _session_page(
    store: SyncArtifactStore,
    session: str,
    user: str | None,
    scope: str | None,
    mime: str | None,
    glob_pattern: str | None,
    limit: int,
    cursor: str | None,
    query: dict[str, Any],
) -> ArtifactList:
    """A session's listing with the filters applied here (the store lists a session whole):
    pages are read until *limit* match or the session ends; the cursor continues after the
    last page read."""
    from satchel.core.models import ArtifactList

    found: list[ArtifactMetadata] = []
    while True:
        page = store.list_by_session(session, limit, cursor=cursor, user_id=user, **query)
        found.extend(
            item
            for item in page
            if (scope is None or item.scope.value == scope)
            and (mime is None or item.mime.startswith(mime))
            and (glob_pattern is None or fnmatch.fnmatchcase(item.filename or "", glob_pattern))
        )
        cursor = page.next_cursor
        if cursor is None or len(found) >= limit:
            return ArtifactList(found, cursor)


def _show(page: ArtifactList, *, as_json: bool, ids_only: bool, long: bool) -> None:
    if as_json:
        for item in page:
            print_json(item.to_dict(), lines=True)
    elif ids_only:
        for item in page:
            typer.echo(item.artifact_id)
    elif page:
        stdout.print(_table(list(page), long), highlight=False)


def register(app: typer.Typer) -> None:
    app.command()(ls)
