"""Reading the event log as a feed: a page of events after a sequence number, filtered by type,
subject and the caller's audience (:class:`satchel.core.events.Audience`, applied in SQL)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table, and_, func, or_, select, true

from satchel.catalog.connection import CatalogConnection
from satchel.catalog.tables import events
from satchel.core.access import Caller
from satchel.core.events import EventPage

__all__ = ["log_head", "read_events"]

_FIELDS = (
    events.c.seq,
    events.c.time,
    events.c.type,
    events.c.subject,
    events.c.actor,
    events.c.payload,
)
_HEAD = select(func.max(events.c.seq))


async def log_head(conn: CatalogConnection) -> int:
    """The log's last sequence number (0: empty)."""
    return int((await conn.execute(_HEAD)).scalar_one() or 0)


def visible_to(caller: Caller, table: Table = events) -> Any:
    """The SQL form of :meth:`Audience.allows` for *caller*, on the audience columns of
    *table* (``scope``, ``owner_id``, ``session_id``: events, aspects)."""
    if caller.trusted:
        return true()
    columns = table.c
    allowed = [columns.scope == "sandbox"]
    if caller.user_id is not None:
        allowed.append(and_(columns.scope == "user", columns.owner_id == caller.user_id))
        session = and_(columns.scope == "session", columns.owner_id == caller.user_id)
        if caller.session_id is not None:
            session = and_(session, columns.session_id == caller.session_id)
        allowed.append(session)
    elif caller.session_id is not None:
        allowed.append(and_(columns.scope == "session", columns.session_id == caller.session_id))
    return or_(*allowed)


def _of_types(types: Sequence[str]) -> Any:
    exact = [name for name in types if not name.endswith((".", "*"))]
    prefixes = [name.rstrip("*") for name in types if name.endswith((".", "*"))]
    matches = [events.c.type.startswith(prefix, autoescape=True) for prefix in prefixes]
    if exact:
        matches.append(events.c.type.in_(exact))
    return or_(*matches)


async def read_events(
    conn: CatalogConnection,
    *,
    sandbox_id: str,
    caller: Caller,
    after: int,
    limit: int,
    types: Sequence[str] = (),
    subject: str | None = None,
) -> EventPage:
    """Up to *limit* events after *after* that *caller* may see, oldest first.

    The log's head is read first: every event up to it is committed (events commit in
    sequence order, see CatalogWriter.append_event), so when fewer than *limit* match, the
    page has covered everything up to the head and the next read may start there.
    """
    head = (await conn.execute(_HEAD)).scalar_one()
    if head is None or head <= after:
        return EventPage([], after)
    query = (
        select(*_FIELDS)
        .where(
            events.c.seq > after,
            events.c.seq <= head,
            events.c.sandbox_id == sandbox_id,
            visible_to(caller),
        )
        .order_by(events.c.seq)
        .limit(limit)
    )
    if types:
        query = query.where(_of_types(types))
    if subject is not None:
        query = query.where(events.c.subject == subject)
    found = [dict(row._mapping) for row in await conn.execute(query)]
    next_after = found[-1]["seq"] if len(found) == limit else int(head)
    return EventPage(found, int(next_after))
