"""Webhook subscriptions (admin): create, list, show, update, delete; rewind a subscription to any
sequence; list and redeliver its dead letters; deliver what is due (the service runs that on a
loop, see :mod:`satchel.store.delivery`). Each change of a subscription is an event
(``v1.webhook.*``, admins only); the secret is shown once, when it is created or replaced."""

from __future__ import annotations

from typing import Any

from satchel.catalog.feed import log_head, read_events
from satchel.catalog.webhooks import WebhookRows
from satchel.core.access import Caller
from satchel.core.errors import ArtifactNotFoundError, InvalidRequestError
from satchel.core.events import MAX_SEQ, Audience, check_event_types
from satchel.core.unset import UNSET, Unset
from satchel.core.validation import check_limit
from satchel.core.webhooks import (
    Webhook,
    check_max_attempts,
    check_secret,
    check_subject_prefix,
    check_webhook_id,
    check_webhook_url,
    new_webhook_id,
    new_webhook_secret,
)
from satchel.store.context import StoreContext
from satchel.store.delivery import LEASE_SECONDS, WebhookDeliverer, resolve_target

__all__ = ["WebhookService"]

MAX_DESCRIPTION = 1000


TEST_EVENT = "v1.webhook.test"
"""What a test delivery says it is (sent, never logged: its seq is 0)."""


def _check_description(value: object) -> str:
    if not isinstance(value, str) or len(value) > MAX_DESCRIPTION or "\x00" in value:
        raise InvalidRequestError(f"description must be text of at most {MAX_DESCRIPTION} chars")
    if any(0xD800 <= ord(c) <= 0xDFFF for c in value):
        raise InvalidRequestError("description must be valid Unicode text")
    return value


def _check_seq(kind: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_SEQ:
        raise InvalidRequestError(f"{kind} must be a sequence number from 0 to {MAX_SEQ}")
    return value


def _check_active(value: object) -> bool:
    if not isinstance(value, bool):
        raise InvalidRequestError("active must be true or false")
    return value


class WebhookService:
    def __init__(self, context: StoreContext) -> None:
        self.context = context
        self.deliverer = WebhookDeliverer(context)

    async def _check_target(self, url: str) -> str:
        url = check_webhook_url(url)
        await resolve_target(url, self.context.settings.webhook_allowed_networks)
        return url

    async def _find(self, rows: WebhookRows, webhook_id: str) -> tuple[Webhook, str]:
        found = await rows.get(check_webhook_id(webhook_id), self.context.sandbox_id)
        if found is None:
            raise ArtifactNotFoundError(f"webhook {webhook_id} not found")
        return found

    @staticmethod
    def _view(
        webhook: Webhook, status: dict[str, Any], secret: str | None = None
    ) -> dict[str, Any]:
        view = webhook.to_dict()
        view["status"] = status
        if secret is not None:
            view["secret"] = secret
        return view

    async def create_webhook(
        self,
        url: str,
        *,
        types: list[str] | str | None = None,
        subject_prefix: str | None = None,
        secret: str | None = None,
        description: str = "",
        max_attempts: int | None = None,
        active: bool = True,
        after: int | None = None,
    ) -> dict[str, Any]:
        wanted = check_event_types(types)
        prefix = check_subject_prefix(subject_prefix)
        secret = new_webhook_secret() if secret is None else check_secret(secret)
        description = _check_description(description)
        attempts = check_max_attempts(max_attempts)
        active = _check_active(active)
        start = None if after is None else _check_seq("after", after)
        url = await self._check_target(url)
        context = self.context
        await context.ensure_open()
        now = context.now()
        webhook = Webhook(
            webhook_id=new_webhook_id(),
            sandbox_id=context.sandbox_id,
            url=url,
            types=wanted,
            subject_prefix=prefix,
            description=description,
            active=active,
            max_attempts=attempts,
            created_at=now,
            actor=None,
        )
        async with context.catalog.write() as writer:
            head = await log_head(writer.conn)
            if start is None:  # from now on: the events logged after this one's creation
                start = head
            elif start > head:
                raise InvalidRequestError(f"after {start} is past the log's last event ({head})")
            rows = WebhookRows(writer.conn)
            await rows.insert(webhook, secret, start, now)
            await writer.append_event(
                type="v1.webhook.created",
                subject=webhook.webhook_id,
                payload=_payload(webhook),
                actor=None,
                time=now,
                audience=Audience.admins(context.sandbox_id),
            )
            status = await rows.status(webhook.webhook_id)
        return self._view(webhook, status, secret)

    async def list_webhooks(self) -> list[dict[str, Any]]:
        context = self.context
        await context.ensure_open()
        async with context.catalog.read() as reader:
            listed = await WebhookRows(reader.conn).listing(context.sandbox_id)
        return [self._view(webhook, status) for webhook, status in listed]

    async def get_webhook(self, webhook_id: str) -> dict[str, Any]:
        await self.context.ensure_open()
        async with self.context.catalog.read() as reader:
            rows = WebhookRows(reader.conn)
            webhook, _secret = await self._find(rows, webhook_id)
            return self._view(webhook, await rows.status(webhook.webhook_id))

    async def update_webhook(
        self,
        webhook_id: str,
        *,
        url: str | Unset = UNSET,
        types: list[str] | str | Unset | None = UNSET,
        subject_prefix: str | Unset | None = UNSET,
        secret: str | Unset = UNSET,
        description: str | Unset = UNSET,
        max_attempts: int | Unset = UNSET,
        active: bool | Unset = UNSET,
    ) -> dict[str, Any]:
        check_webhook_id(webhook_id)
        changes: dict[str, Any] = {}
        if not isinstance(types, Unset):
            changes["types"] = list(check_event_types(types))
        if not isinstance(subject_prefix, Unset):
            changes["subject_prefix"] = check_subject_prefix(subject_prefix)
        if not isinstance(secret, Unset):
            changes["secret"] = check_secret(secret)
        if not isinstance(description, Unset):
            changes["description"] = _check_description(description)
        if not isinstance(max_attempts, Unset):
            changes["max_attempts"] = check_max_attempts(max_attempts)
        if not isinstance(active, Unset):
            changes["active"] = _check_active(active)
        if not isinstance(url, Unset):
            changes["url"] = await self._check_target(url)
        context = self.context
        await context.ensure_open()
        now = context.now()
        async with context.catalog.write() as writer:
            rows = WebhookRows(writer.conn)
            await self._find(rows, webhook_id)
            if changes:
                await rows.update(webhook_id, {**changes, "updated_at": now})
                shown = {k: v for k, v in changes.items() if k != "secret"}
                if "secret" in changes:
                    shown["secret_replaced"] = True
                await writer.append_event(
                    type="v1.webhook.updated",
                    subject=webhook_id,
                    payload={"changes": shown},
                    actor=None,
                    time=now,
                    audience=Audience.admins(context.sandbox_id),
                )
            webhook, _secret = await self._find(rows, webhook_id)
            status = await rows.status(webhook_id)
        return self._view(webhook, status)

    async def delete_webhook(self, webhook_id: str) -> None:
        context = self.context
        await context.ensure_open()
        async with context.catalog.write() as writer:
            rows = WebhookRows(writer.conn)
            webhook, _secret = await self._find(rows, webhook_id)
            await rows.delete(webhook.webhook_id)
            await writer.append_event(
                type="v1.webhook.deleted",
                subject=webhook.webhook_id,
                payload={"url": webhook.url},
                actor=None,
                time=context.now(),
                audience=Audience.admins(context.sandbox_id),
            )

    async def rewind_webhook(self, webhook_id: str, after: int) -> dict[str, Any]:
        """Deliver again every matching event after *after* (in order, from the next round)."""
        start = _check_seq("after", after)
        context = self.context
        await context.ensure_open()
        async with context.catalog.write() as writer:
            rows = WebhookRows(writer.conn)
            webhook, _secret = await self._find(rows, webhook_id)
            head = await log_head(writer.conn)
            if start > head:  # it would skip the events logged up to there
                raise InvalidRequestError(f"after {start} is past the log's last event ({head})")
            await rows.rewind(webhook.webhook_id, start)
            status = await rows.status(webhook.webhook_id)
        return self._view(webhook, status)

    async def list_dead_letters(
        self, webhook_id: str, *, after: int = 0, limit: int = 100, pending: bool = True
    ) -> list[dict[str, Any]]:
        """Events the subscription gave up on, oldest first (*pending*: not yet redelivered)."""
        start = _check_seq("after", after)
        count = check_limit(limit)
        await self.context.ensure_open()
        async with self.context.catalog.read() as reader:
            rows = WebhookRows(reader.conn)
            webhook, _secret = await self._find(rows, webhook_id)
            return await rows.dead_letters(
                webhook.webhook_id, after=start, limit=count, pending_only=bool(pending)
            )

    async def redeliver_dead_letter(self, webhook_id: str, seq: int) -> dict[str, Any]:
        """Send dead letter *seq* again now; returns its row (``redelivered_at`` set when the
        receiver took it; otherwise the attempt's status and error)."""
        number = _check_seq("seq", seq)
        context = self.context
        await context.ensure_open()
        now = context.now()
        async with context.catalog.write() as writer:
            rows = WebhookRows(writer.conn)
            webhook, secret = await self._find(rows, webhook_id)
            if await rows.dead_letter(webhook.webhook_id, number) is None:
                raise ArtifactNotFoundError(f"webhook {webhook_id} has no dead letter {number}")
            if not await rows.claim_dead_letter(
                webhook.webhook_id, number, now, now + LEASE_SECONDS
            ):
                raise InvalidRequestError(f"dead letter {number} is being redelivered already")
            page = await read_events(
                writer.conn,
                sandbox_id=context.sandbox_id,
                caller=Caller(is_admin=True),
                after=number - 1,
                limit=1,
            )
        event = page.events[0] if page.events and page.events[0]["seq"] == number else None
        ok, code = False, None
        error: str | None = f"event {number} is no longer in the log"
        if event is not None:
            ok, code, error = await self.deliverer.post(webhook, secret, event)
        letter = await self._record_redelivery(webhook.webhook_id, number, ok, code, error)
        return letter

    async def _record_redelivery(
        self, webhook_id: str, seq: int, ok: bool, code: int | None, error: str | None
    ) -> dict[str, Any]:
        context = self.context
        async with context.catalog.write() as writer:
            rows = WebhookRows(writer.conn)
            current = await rows.dead_letter(webhook_id, seq)
            if current is None:  # deleted with its webhook meanwhile
                raise ArtifactNotFoundError(f"webhook {webhook_id} has no dead letter {seq}")
            values: dict[str, Any] = {
                "attempts": int(current["attempts"]) + 1,
                "last_status": code,
                "lease_until": None,
            }
            if ok:
                values["redelivered_at"] = context.now()
            else:
                values["last_error"] = error or ""
            await rows.update_dead_letter(webhook_id, seq, values)
            letter = await rows.dead_letter(webhook_id, seq)
        assert letter is not None
        return letter

    async def test_webhook(self, webhook_id: str) -> dict[str, Any]:
        context = self.context
        await context.ensure_open()
        async with context.catalog.read() as reader:
            webhook, secret = await self._find(WebhookRows(reader.conn), webhook_id)
        event = {
            "seq": 0,
            "time": context.now(),
            "type": TEST_EVENT,
            "subject": webhook.webhook_id,
            "actor": None,
            "payload": {"test": True, "url": webhook.url},
        }
        ok, code, error = await self.deliverer.post(webhook, secret, event)
        return {"delivered": ok, "status": code, "error": error}

    async def deliver_webhooks(self) -> dict[str, int]:
        """One delivery round now (``satchel serve`` runs them on its own)."""
        return await self.deliverer.deliver_due()


def _payload(webhook: Webhook) -> dict[str, Any]:
    values = webhook.to_dict()
    for key in ("webhook_id", "sandbox_id", "created_at", "actor"):
        values.pop(key)
    return values
