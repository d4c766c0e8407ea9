"""Webhook rows: subscriptions (a view, rebuilt by replay), and each one's delivery state: its
cursor in the log, retries, lease and counters, and its dead letters (consumer state, which
replay keeps as it is, like a consumer's offsets in any log)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import BindParameter, and_, bindparam, delete, insert, or_, select, update

from satchel.catalog.connection import CatalogConnection, HotQuery
from satchel.catalog.tables import (
    webhook_cursors,
    webhook_dead_letters,
    webhook_secrets,
    webhooks,
)
from satchel.core.webhooks import Webhook

__all__ = ["WebhookRows", "to_webhook"]

_NOW: BindParameter[float] = bindparam("now")
_DUE = HotQuery(
    select(webhooks.c.webhook_id)
    .join(webhook_cursors, webhook_cursors.c.webhook_id == webhooks.c.webhook_id)
    .where(
        webhooks.c.sandbox_id == bindparam("sandbox_id"),
        webhooks.c.active.is_(True),
        webhook_cursors.c.cursor < bindparam("head"),
        or_(
            webhook_cursors.c.next_attempt_at.is_(None),
            webhook_cursors.c.next_attempt_at <= _NOW,
        ),
        or_(webhook_cursors.c.lease_until.is_(None), webhook_cursors.c.lease_until < _NOW),
    )
    .order_by(webhooks.c.webhook_id)
)

_STATUS = (
    webhook_cursors.c.cursor,
    webhook_cursors.c.attempts,
    webhook_cursors.c.next_attempt_at,
    webhook_cursors.c.last_attempt_at,
    webhook_cursors.c.last_status,
    webhook_cursors.c.last_error,
    webhook_cursors.c.delivered,
    webhook_cursors.c.failed,
    webhook_cursors.c.dead,
)


def to_webhook(row: Any) -> Webhook:
    return Webhook(
        webhook_id=row.webhook_id,
        sandbox_id=row.sandbox_id,
        url=row.url,
        types=tuple(row.types),
        subject_prefix=row.subject_prefix,
        description=row.description,
        active=bool(row.active),
        max_attempts=int(row.max_attempts),
        created_at=float(row.created_at),
        actor=row.actor,
    )


def _status(row: Any) -> dict[str, Any]:
    return {column.name: getattr(row, column.name) for column in _STATUS}


class WebhookRows:
    """Reads and writes of webhook rows on one transaction's connection."""

    def __init__(self, conn: CatalogConnection) -> None:
        self.conn = conn

    # -- subscriptions -------------------------------------------------------------------------

    async def insert(self, webhook: Webhook, secret: str, cursor: int, now: float) -> None:
        values = webhook.to_dict()
        values.update(updated_at=now)
        await self.conn.execute(insert(webhooks), values)
        secret_row = {"webhook_id": webhook.webhook_id, "secret": secret}
        await self.conn.execute(insert(webhook_secrets), secret_row)
        await self.conn.execute(
            insert(webhook_cursors),
            {
                "webhook_id": webhook.webhook_id,
                "cursor": cursor,
                "attempts": 0,
                "delivered": 0,
                "failed": 0,
                "dead": 0,
            },
        )

    async def get(self, webhook_id: str, sandbox_id: str) -> tuple[Webhook, str] | None:
        query = (
            select(webhooks, webhook_secrets.c.secret)
            .join(webhook_secrets, webhook_secrets.c.webhook_id == webhooks.c.webhook_id)
            .where(webhooks.c.webhook_id == webhook_id, webhooks.c.sandbox_id == sandbox_id)
        )
        row = (await self.conn.execute(query)).first()
        return None if row is None else (to_webhook(row), row.secret)

    async def status(self, webhook_id: str) -> dict[str, Any]:
        query = select(*_STATUS).where(webhook_cursors.c.webhook_id == webhook_id)
        row = (await self.conn.execute(query)).first()
        return {} if row is None else _status(row)

    async def listing(self, sandbox_id: str) -> list[tuple[Webhook, dict[str, Any]]]:
        query = (
            select(webhooks, *_STATUS)
            .join(webhook_cursors, webhook_cursors.c.webhook_id == webhooks.c.webhook_id)
            .where(webhooks.c.sandbox_id == sandbox_id)
            .order_by(webhooks.c.created_at, webhooks.c.webhook_id)
        )
        return [(to_webhook(row), _status(row)) for row in await self.conn.execute(query)]

    async def update(self, webhook_id: str, values: dict[str, Any]) -> None:
        values = dict(values)
        if "secret" in values:
            await self.conn.execute(
                update(webhook_secrets)
                .where(webhook_secrets.c.webhook_id == webhook_id)
                .values(secret=values.pop("secret"))
            )
        query = update(webhooks).where(webhooks.c.webhook_id == webhook_id).values(**values)
        await self.conn.execute(query)

    async def delete(self, webhook_id: str) -> None:
        for table in (webhook_dead_letters, webhook_cursors, webhook_secrets, webhooks):
            await self.conn.execute(delete(table).where(table.c.webhook_id == webhook_id))

    # -- delivery state ------------------------------------------------------------------------

    async def due(self, sandbox_id: str, now: float, head: int) -> list[str]:
        """Active subscriptions with events after their cursor (the log's *head* is past it),
        whose retry time has come and whose lease is free (asked after every commit that
        writes events: a prebuilt query)."""
        params = {"sandbox_id": sandbox_id, "now": now, "head": head}
        return [row[0] for row in await self.conn.execute(_DUE, params)]

    async def claim(self, webhook_id: str, owner: str, now: float, until: float) -> bool:
        """Take (or renew) the delivery lease; False when another process holds it."""
        query = (
            update(webhook_cursors)
            .where(
                webhook_cursors.c.webhook_id == webhook_id,
                or_(
                    webhook_cursors.c.lease_until.is_(None),
                    webhook_cursors.c.lease_until < now,
                    webhook_cursors.c.lease_owner == owner,
                ),
            )
            .values(lease_owner=owner, lease_until=until)
        )
        return (await self.conn.execute(query)).rowcount == 1

    async def save(self, webhook_id: str, owner: str, values: dict[str, Any]) -> bool:
        """Record delivery progress while *owner* holds the lease (False: it lost it)."""
        query = (
            update(webhook_cursors)
            .where(webhook_cursors.c.webhook_id == webhook_id, _held_by(owner))
            .values(**values)
        )
        return (await self.conn.execute(query)).rowcount == 1

    async def release(self, webhook_id: str, owner: str) -> None:
        await self.save(webhook_id, owner, {"lease_owner": None, "lease_until": None})

    async def rewind(self, webhook_id: str, after: int) -> None:
        query = (
            update(webhook_cursors)
            .where(webhook_cursors.c.webhook_id == webhook_id)
            # and its lease ends: a delivery in flight cannot save over the new cursor
            .values(
                cursor=after, attempts=0, next_attempt_at=None, lease_owner=None, lease_until=None
            )
        )
        await self.conn.execute(query)

    # -- dead letters --------------------------------------------------------------------------

    async def bury(self, webhook_id: str, seq: int, values: dict[str, Any]) -> None:
        """Add the dead letter of event *seq* (or replace it: after a rewind it may fail again)."""
        await self.conn.execute(delete(webhook_dead_letters).where(_letter(webhook_id, seq)))
        row = {"webhook_id": webhook_id, "seq": seq, **values}
        await self.conn.execute(insert(webhook_dead_letters), row)

    async def update_dead_letter(self, webhook_id: str, seq: int, values: dict[str, Any]) -> bool:
        """Record a redelivery's outcome; False when the letter is gone (its webhook deleted)."""
        query = update(webhook_dead_letters).where(_letter(webhook_id, seq)).values(**values)
        return (await self.conn.execute(query)).rowcount == 1

    async def dead_letters(
        self, webhook_id: str, *, after: int, limit: int, pending_only: bool
    ) -> list[dict[str, Any]]:
        query = (
            select(webhook_dead_letters)
            .where(
                webhook_dead_letters.c.webhook_id == webhook_id, webhook_dead_letters.c.seq > after
            )
            .order_by(webhook_dead_letters.c.seq)
            .limit(limit)
        )
        if pending_only:
            query = query.where(webhook_dead_letters.c.redelivered_at.is_(None))
        return [dict(row._mapping) for row in await self.conn.execute(query)]

    async def dead_letter(self, webhook_id: str, seq: int) -> dict[str, Any] | None:
        query = select(webhook_dead_letters).where(
            webhook_dead_letters.c.webhook_id == webhook_id, webhook_dead_letters.c.seq == seq
        )
        row = (await self.conn.execute(query)).first()
        return None if row is None else dict(row._mapping)

    async def claim_dead_letter(self, webhook_id: str, seq: int, now: float, until: float) -> bool:
        """Hold a dead letter while it is redelivered (so two calls never send it at once)."""
        query = (
            update(webhook_dead_letters)
            .where(
                webhook_dead_letters.c.webhook_id == webhook_id,
                webhook_dead_letters.c.seq == seq,
                or_(
                    webhook_dead_letters.c.lease_until.is_(None),
                    webhook_dead_letters.c.lease_until < now,
                ),
            )
            .values(lease_until=until)
        )
        return (await self.conn.execute(query)).rowcount == 1


def _held_by(owner: str) -> Any:
    return webhook_cursors.c.lease_owner == owner


def _letter(webhook_id: str, seq: int) -> Any:
    return and_(webhook_dead_letters.c.webhook_id == webhook_id, webhook_dead_letters.c.seq == seq)
