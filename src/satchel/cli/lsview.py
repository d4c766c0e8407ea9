"""What ``satchel ls`` asks for and how it prints it, for both ways it runs: the typer command
(:mod:`satchel.cli.listing`) with the client library, and the lean path against a server
(:mod:`satchel.cli.fastls`) with the standard library's HTTP client. Both hand this module the
same pages (artifacts as their JSON objects) and it does the rest: the options' rules, the
order, a session's filters, paging, the table (rich), JSON lines, ids and the closing notes.

Loads neither typer nor pydantic nor httpx; rich loads when something is printed.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import glob
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

from satchel.cli.base import console, echo, human_size, minutes, print_json

if TYPE_CHECKING:
    from rich.table import Table

    from satchel.client.sync import SyncArtifactStore

__all__ = [
    "ORDERS",
    "LibrarySource",
    "Page",
    "Query",
    "Source",
    "UsageError",
    "finish",
    "show_pages",
]

# --sort KEY → the store's order (each key's natural direction; --reverse flips it)
ORDERS = {"time": "-stored_at", "name": "filename", "size": "-bytes"}

Item = dict[str, Any]
"""An artifact as its JSON object (``ArtifactMetadata.to_dict()``, what the server sends)."""


class UsageError(Exception):
    """Options that cannot go together (exit status 2)."""


class Page(NamedTuple):
    items: list[Item]
    next_cursor: str | None


class Source(Protocol):
    """Where pages come from: the contract's ``search`` and ``list_by_session``, answering
    pages of JSON objects."""

    def search(self, **query: Any) -> Page: ...

    def list_by_session(
        self, session_id: str, limit: int, *, cursor: str | None, user_id: str | None, order: str
    ) -> Page: ...


class LibrarySource:
    """Pages from a :class:`~satchel.client.sync.SyncArtifactStore` (embedded or remote)."""

    def __init__(self, store: SyncArtifactStore) -> None:
        self.store = store

    def search(self, **query: Any) -> Page:
        found = self.store.search(**query)
        return Page([item.to_dict() for item in found], found.next_cursor)

    def list_by_session(
        self, session_id: str, limit: int, *, cursor: str | None, user_id: str | None, order: str
    ) -> Page:
        found = self.store.list_by_session(
            session_id, limit, cursor=cursor, user_id=user_id, order=order
        )
        return Page([item.to_dict() for item in found], found.next_cursor)


@dataclasses.dataclass(frozen=True)
class Query:
    """What ``ls`` asks for; one page of it at a time."""

    session: str | None
    user: str | None
    scope: str | None
    mime: str | None
    glob: str | None
    limit: int
    order: str
    collection: str | None = None

    @classmethod
    def of(
        cls,
        *,
        session: str | None,
        user: str | None,
        scope: str | None,
        name: str | None,
        prefix: str | None,
        mime: str | None,
        collection: str | None,
        sort: str,
        reverse: bool,
        limit: int,
    ) -> Query:
        """The query of ``ls``'s options; UsageError for options that do not go together."""
        if sort not in ORDERS:
            raise UsageError(f"--sort is one of {', '.join(ORDERS)}")
        if name is not None and prefix is not None:
            raise UsageError("--name and --prefix both name files; give one")
        if collection is not None and session is not None:
            raise UsageError("--collection searches everything you can read; drop --session")
        order = ORDERS[sort]
        if reverse:
            order = order[1:] if order.startswith("-") else f"-{order}"
        return cls(
            session=session,
            user=user,
            scope=scope,
            mime=mime,
            glob=name if prefix is None else glob.escape(prefix) + "*",
            limit=limit,
            order=order,
            collection=collection,
        )

    def page(self, source: Source, cursor: str | None) -> Page:
        if self.session is not None:  # everything stored in the session, whatever its scope
            return self._session_page(source, self.session, cursor)
        return source.search(
            user_id=self.user,
            scope=self.scope,
            mime_prefix=self.mime,
            filename_glob=self.glob,
            limit=self.limit,
            cursor=cursor,
            order=self.order,
            collection=self.collection,
        )

    def _session_page(self, source: Source, session: str, cursor: str | None) -> Page:
        """A session's listing with the filters applied here (the store lists a session
        whole): pages are read until *limit* match or the session ends; the cursor continues
        after the last page read."""
        found: list[Item] = []
        while True:
            page = source.list_by_session(
                session, self.limit, cursor=cursor, user_id=self.user, order=self.order
            )
            found.extend(item for item in page.items if self._wanted(item))
            cursor = page.next_cursor
            if cursor is None or len(found) >= self.limit:
                return Page(found, cursor)

    def _wanted(self, item: Item) -> bool:
        return (
            (self.scope is None or item["scope"] == self.scope)
            and (self.mime is None or item["mime"].startswith(self.mime))
            and (self.glob is None or fnmatch.fnmatchcase(item["filename"] or "", self.glob))
        )


def show_pages(
    query: Query,
    source: Source,
    cursor: str | None,
    *,
    every: bool,
    as_json: bool,
    ids_only: bool,
    long: bool,
) -> tuple[str | None, int]:
    """Print the first page of *query* from *cursor* (``every``: all pages, each as it comes);
    return the cursor that continues it (None: the listing ended) and how many were shown."""
    shown = 0
    while True:
        page = query.page(source, cursor)
        shown += len(page.items)
        _show(page.items, as_json=as_json, ids_only=ids_only, long=long)
        cursor = page.next_cursor
        if cursor is None or not every:
            return cursor, shown


def finish(cursor: str | None, shown: int, *, as_json: bool, ids_only: bool) -> None:
    """The closing note on stderr: how to go on, or that there was nothing."""
    if cursor is not None:
        console(stderr=True).print(f"more: --cursor {cursor} (or --all)", highlight=False)
    elif shown == 0 and not as_json and not ids_only:
        console(stderr=True).print("no artifacts")


def _show(items: list[Item], *, as_json: bool, ids_only: bool, long: bool) -> None:
    if as_json:
        for item in items:
            print_json(item, lines=True)
    elif ids_only:
        for item in items:
            echo(item["artifact_id"])
    elif items:
        console().print(_table(items, long), highlight=False)


def _table(items: list[Item], long: bool) -> Table:
    from rich.table import Table

    table = Table(box=None, header_style="bold", pad_edge=False)
    columns = ["artifact_id", "size", "stored", "expires"]
    if long:
        columns += ["scope", "owner", "mime", "sha256"]
    columns.append("filename")
    for column in columns:
        table.add_column(column, justify="right" if column == "size" else "left", no_wrap=True)
    for item in items:
        expires = minutes(item["expires_at"]) if item["expires_at"] else "never"
        row = [item["artifact_id"], human_size(item["bytes"]), minutes(item["stored_at"]), expires]
        if long:
            row += [
                item["scope"],
                item["owner_id"] or "",
                item["mime"],
                item["sha256"].removeprefix("sha256:")[:16],
            ]
        row.append(item["filename"] or "")
        table.add_row(*row)
    return table
