"""The query parameters of the HTTP API's listing (``GET /v1/artifacts``, docs/http-api.md) for
a search and for a page of a session, from the contract's arguments (already checked).

One definition for the remote client (:mod:`satchel.client.remote_reading`) and for the CLI's
``ls`` answered without it (:mod:`satchel.cli.fastls`), so the two ask the server the same.
"""

from __future__ import annotations

__all__ = ["search_query", "session_query"]

Query = dict[str, str | int]


def _given(**values: str | int | None) -> Query:
    """The parameters given (None: left out)."""
    return {name: value for name, value in values.items() if value is not None}


def _order(order: str) -> str | None:
    """``stored_at`` is the server's default, so it is not sent."""
    return None if order == "stored_at" else order


def search_query(
    *,
    limit: int,
    user_id: str | None = None,
    scope: str | None = None,
    mime_prefix: str | None = None,
    meta_filter: str | None = None,
    session_id: str | None = None,
    cursor: str | None = None,
    sha256: str | None = None,
    filename_glob: str | None = None,
    order: str = "stored_at",
    collection: str | None = None,
) -> Query:
    """``view=search``; *scope* as its value (a :class:`~satchel.core.scopes.Scope` is a str),
    *meta_filter* as JSON text."""
    return _given(
        view="search",
        user_id=user_id,
        scope=None if scope is None else str(scope),
        mime_prefix=mime_prefix,
        meta_filter=meta_filter,
        limit=limit,
        session_id=session_id,
        cursor=cursor,
        sha256=sha256,
        filename_glob=filename_glob,
        order=_order(order),
        collection=collection,
    )


def session_query(
    session_id: str,
    *,
    limit: int,
    cursor: str | None = None,
    user_id: str | None = None,
    order: str = "stored_at",
) -> Query:
    """``view=session``: one page of a session's artifacts."""
    return _given(
        view="session",
        session_id=session_id,
        limit=limit,
        cursor=cursor,
        user_id=user_id,
        order=_order(order),
    )
