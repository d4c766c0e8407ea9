"""``satchel ls``: newest first, human sizes, sort and filters, ``--long``, ``-q``, JSON lines."""

from __future__ import annotations

import dataclasses
import fnmatch
import glob
from typing import TYPE_CHECKING

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
    if sort not in _ORDERS:
        raise fail(f"--sort is one of {', '.join(_ORDERS)}", 2)
    if name is not None and prefix is not None:
        raise fail("--name and --prefix both name files; give one", 2)
    if collection is not None and session is not None:
        raise fail("--collection searches everything you can read; drop --session", 2)
    order = _ORDERS[sort]
    if reverse:
        order = order[1:] if order.startswith("-") else f"-{order}"
    wanted = _Query(
        session=session,
        user=user,
        scope=scope,
        mime=mime,
        glob=name if prefix is None else glob.escape(prefix) + "*",
        limit=limit,
        order=order,
        collection=collection,
    )
    shown = 0
    with open_store(url, token) as store:
        while True:
            page = wanted.page(store, cursor)
            shown += len(page)
            _show(page, as_json=as_json, ids_only=ids_only, long=long)
            cursor = page.next_cursor
            if cursor is None or not every:
                break
    if cursor is not None:
        stderr.print(f"more: --cursor {cursor} (or --all)", highlight=False)
    elif shown == 0 and not as_json and not ids_only:
        stderr.print("no artifacts")


@dataclasses.dataclass(frozen=True)
class _Query:
    """What ``ls`` asks for; one page of it at a time."""

    session: str | None
    user: str | None
    scope: str | None
    mime: str | None
    glob: str | None
    limit: int
    order: str
    collection: str | None = None

    def page(self, store: SyncArtifactStore, cursor: str | None) -> ArtifactList:
        if self.session is not None:  # everything stored in the session, whatever its scope
            return self._session_page(store, self.session, cursor)
        return store.search(
            user_id=self.user,
            scope=self.scope,
            mime_prefix=self.mime,
            filename_glob=self.glob,
            limit=self.limit,
            cursor=cursor,
            order=self.order,
            collection=self.collection,
        )

    def _session_page(
        self, store: SyncArtifactStore, session: str, cursor: str | None
    ) -> ArtifactList:
        """A session's listing with the filters applied here (the store lists a session
        whole): pages are read until *limit* match or the session ends; the cursor continues
        after the last page read."""
        from satchel.core.models import ArtifactList

        found: list[ArtifactMetadata] = []
        while True:
            page = store.list_by_session(
                session, self.limit, cursor=cursor, user_id=self.user, order=self.order
            )
            found.extend(item for item in page if self._wanted(item))
            cursor = page.next_cursor
            if cursor is None or len(found) >= self.limit:
                return ArtifactList(found, cursor)

    def _wanted(self, item: ArtifactMetadata) -> bool:
        return (
            (self.scope is None or item.scope.value == self.scope)
            and (self.mime is None or item.mime.startswith(self.mime))
            and (self.glob is None or fnmatch.fnmatchcase(item.filename or "", self.glob))
        )


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
