"""Webhook delivery: each subscription's events, in order, at least once, by one process at a time.

A process delivers a subscription only while it holds its lease (a row in the catalog, renewed
with every step, ``LEASE_SECONDS`` long and longer than any request may take), so replicas share
the work and never send one subscription's events side by side. Delivery reads the log after the
subscription's durable cursor and moves the cursor only after the receiver answered 2xx: a crash
or an outage re-sends, never skips (receivers deduplicate on ``Idempotency-Key``). A failed event
is retried with exponential backoff and jitter and holds back the events after it (order); after
``max_attempts`` failures it goes to the dead-letter list and delivery moves on.

Requests go only to addresses :func:`~satchel.core.webhooks.address_allowed` accepts: the name is
resolved here and the request connects to the checked address (no second lookup to rebind), with
the original Host and TLS name; redirects are not followed.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import secrets
import socket
import time
import urllib.parse
from typing import Any

import httpx

from satchel._version import __version__
from satchel.catalog.feed import log_head, read_events
from satchel.catalog.webhooks import WebhookRows
from satchel.core.access import Caller
from satchel.core.errors import InvalidRequestError
from satchel.core.webhooks import Webhook, address_allowed, backoff, parse_networks, sign
from satchel.store.context import StoreContext

__all__ = ["LEASE_SECONDS", "WebhookDeliverer", "resolve_target"]

LEASE_SECONDS = 60.0
_PAGE = 100
_ADMIN = Caller(is_admin=True)
_ERROR_CHARS = 500
_ANSWER_BYTES = 4096  # of a receiver's answer, at most this much is read
_SIDE_BY_SIDE = 4  # subscriptions one process delivers at once
logger = logging.getLogger("satchel.webhooks")


async def resolve_target(url: str, allowed_networks: str) -> list[str]:
    """The addresses the host of *url* resolves to, all allowed; else InvalidRequestError."""
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError, ValueError) as exc:
        raise InvalidRequestError(f"webhook host {host!r} does not resolve: {exc}") from None
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    allowed = parse_networks(allowed_networks)
    refused = [address for address in addresses if not address_allowed(address, allowed)]
    if refused or not addresses:
        raise InvalidRequestError(
            f"webhook host {host!r} resolves to {', '.join(refused) or 'nothing'}: private, "
            "loopback and reserved addresses are refused unless SATCHEL_WEBHOOK_ALLOWED_NETWORKS "
            "contains them"
        )
    return addresses


class WebhookDeliverer:
    """Delivers due subscriptions of one store; ``deliver_due`` is one round, ``run`` loops."""

    def __init__(self, context: StoreContext) -> None:
        self.context = context
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"
        self._client: httpx.AsyncClient | None = None
        self._draining: set[str] = set()  # subscriptions this process is delivering now
        self._leases: dict[str, float] = {}  # and until when it holds their leases

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            timeout = self.context.settings.webhook_timeout_seconds
            self._client = httpx.AsyncClient(
                timeout=timeout, follow_redirects=False, trust_env=False
            )
        return self._client

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def run(self) -> None:
        """Deliver until cancelled: after each round wait for new events or the poll interval."""
        poll = self.context.settings.webhook_poll_seconds
        while True:
            try:
                await self.deliver_due()
            except asyncio.CancelledError:
                raise
            except Exception:  # keep delivering; the next round retries
                logger.exception("webhook delivery round failed")
            await self.context.catalog.wait_for_events(poll)

    async def deliver_due(self) -> dict[str, int]:
        """Deliver what every due subscription has pending, up to ``_SIDE_BY_SIDE`` of them at
        once (one slow receiver does not hold up the others); returns this round's counts.
        A subscription with nothing after its cursor costs no write."""
        context = self.context
        await context.ensure_open()
        async with context.catalog.read() as reader:
            head = await log_head(reader.conn)
            due = await WebhookRows(reader.conn).due(context.sandbox_id, context.now(), head)
        totals = {"delivered": 0, "failed": 0, "dead": 0}
        gate = asyncio.Semaphore(_SIDE_BY_SIDE)

        async def drain(webhook_id: str) -> None:
            async with gate:
                try:
                    counts = await self._drain(webhook_id)
                except Exception:  # one subscription's trouble is not the others'
                    logger.exception("delivering webhook %s failed", webhook_id)
                    return
            for name, value in counts.items():
                totals[name] += value

        await asyncio.gather(*(drain(webhook_id) for webhook_id in due))
        return totals

    async def _claim(self, webhook_id: str) -> bool:
        now = self.context.now()
        async with self.context.catalog.write() as writer:
            claimed = await WebhookRows(writer.conn).claim(
                webhook_id, self.owner, now, now + LEASE_SECONDS
            )
        if claimed:
            self._leases[webhook_id] = now + LEASE_SECONDS
        return claimed

    async def _save(self, webhook_id: str, values: dict[str, Any]) -> bool:
        until = self.context.now() + LEASE_SECONDS
        values["lease_until"] = until
        async with self.context.catalog.write() as writer:
            saved = await WebhookRows(writer.conn).save(webhook_id, self.owner, values)
        if saved:
            self._leases[webhook_id] = until
        return saved

    async def _ready_to_send(self, webhook_id: str, webhook: Webhook, secret: str) -> bool:
        """Whether *webhook* is still as it was read (not paused, re-pointed, re-keyed or
        deleted meanwhile) and this process holds its lease for longer than a request may
        take (renewing it if not): False means stop, the next round reads it afresh."""
        async with self.context.catalog.read() as reader:
            found = await WebhookRows(reader.conn).get(webhook_id, self.context.sandbox_id)
        if found != (webhook, secret):
            return False
        margin = 2 * self.context.settings.webhook_timeout_seconds + 5
        if self._leases.get(webhook_id, 0) - self.context.now() < margin:
            return await self._save(webhook_id, {})
        return True

    async def _drain(self, webhook_id: str) -> dict[str, int]:
        counts = {"delivered": 0, "failed": 0, "dead": 0}
        if webhook_id in self._draining:
            return counts  # another task of this process delivers it
        self._draining.add(webhook_id)
        try:
            if not await self._claim(webhook_id):
                return counts  # another process delivers it
            try:
                await self._deliver_pending(webhook_id, counts)
            finally:
                async with self.context.catalog.write() as writer:
                    await WebhookRows(writer.conn).release(webhook_id, self.owner)
        finally:
            self._draining.discard(webhook_id)
            self._leases.pop(webhook_id, None)
        return counts

    async def _deliver_pending(self, webhook_id: str, counts: dict[str, int]) -> None:
        context = self.context
        while True:
            async with context.catalog.read() as reader:
                rows = WebhookRows(reader.conn)
                found = await rows.get(webhook_id, context.sandbox_id)
                status = await rows.status(webhook_id)
                if found is None or not found[0].active or not status:
                    return
                webhook, secret = found
                page = await read_events(
                    reader.conn,
                    sandbox_id=context.sandbox_id,
                    caller=_ADMIN,
                    after=int(status["cursor"]),
                    limit=_PAGE,
                    types=webhook.types,
                )
            attempts, cursor = int(status["attempts"]), int(status["cursor"])
            for event in page.events:
                if not webhook.matches(event):
                    continue
                if not await self._ready_to_send(webhook_id, webhook, secret):
                    return
                ok, code, error = await self.post(webhook, secret, event)
                now = context.now()
                values: dict[str, Any] = {"last_attempt_at": now, "last_status": code}
                if ok:
                    values.update(cursor=event["seq"], attempts=0, last_error=None)
                    values.update(delivered=int(status["delivered"]) + 1, next_attempt_at=None)
                    status["delivered"] = values["delivered"]
                    attempts, cursor = 0, event["seq"]
                    counts["delivered"] += 1
                    if not await self._save(webhook_id, values):
                        return  # lost the lease: whoever holds it goes on
                    continue
                attempts += 1
                counts["failed"] += 1
                status["failed"] = int(status["failed"]) + 1
                values.update(last_error=error, failed=status["failed"])
                if attempts < webhook.max_attempts:
                    settings = context.settings
                    delay = backoff(
                        attempts,
                        base=settings.webhook_retry_base_seconds,
                        cap=settings.webhook_retry_cap_seconds,
                    )
                    values.update(attempts=attempts, next_attempt_at=now + delay)
                    await self._save(webhook_id, values)
                    return  # the events after it wait: order holds
                counts["dead"] += 1
                status["dead"] = int(status["dead"]) + 1
                values.update(cursor=event["seq"], attempts=0, next_attempt_at=None)
                values.update(dead=status["dead"])
                if not await self._bury(webhook_id, event["seq"], attempts, code, error, values):
                    return
                attempts, cursor = 0, event["seq"]
            # past the events it does not want (and those other sandboxes logged)
            if page.next_after > cursor and not await self._save(
                webhook_id, {"cursor": page.next_after}
            ):
                return
            if len(page.events) < _PAGE:
                return

    async def _bury(
        self,
        webhook_id: str,
        seq: int,
        attempts: int,
        code: int | None,
        error: str | None,
        values: dict[str, Any],
    ) -> bool:
        """Move event *seq* to the dead letters and the cursor past it, in one transaction."""
        now = self.context.now()
        values["lease_until"] = now + LEASE_SECONDS
        async with self.context.catalog.write() as writer:
            rows = WebhookRows(writer.conn)
            if not await rows.save(webhook_id, self.owner, values):
                return False
            letter = {
                "attempts": attempts,
                "last_status": code,
                "last_error": error or "",
                "dead_at": now,
                "redelivered_at": None,
            }
            await rows.bury(webhook_id, seq, letter)
        return True

    async def post(
        self, webhook: Webhook, secret: str, event: dict[str, Any]
    ) -> tuple[bool, int | None, str | None]:
        """Send *event* once: (delivered, HTTP status or None, why it failed or None).

        The whole attempt (name lookup, connection, request, the first bytes of the answer)
        is bounded by ``webhook_timeout_seconds``; anything that goes wrong is a failed
        attempt, never an error of the round.
        """
        seconds = self.context.settings.webhook_timeout_seconds
        try:
            async with asyncio.timeout(seconds):
                return await self._post(webhook, secret, event)
        except TimeoutError:
            return False, None, f"no answer within {seconds:g} s"
        except Exception as exc:  # a receiver or a name must not stop delivery
            return False, None, f"{type(exc).__name__}: {exc}"[:_ERROR_CHARS]

    async def _post(
        self, webhook: Webhook, secret: str, event: dict[str, Any]
    ) -> tuple[bool, int | None, str | None]:
        body = json.dumps(event, separators=(",", ":"), ensure_ascii=False).encode()
        timestamp = int(time.time())
        headers = {
            "Content-Type": "application/json",
            "User-Agent": f"satchel-webhooks/{__version__}",
            "Satchel-Webhook-Id": webhook.webhook_id,
            "Satchel-Event-Seq": str(event["seq"]),
            "Satchel-Event-Type": event["type"],
            "Idempotency-Key": str(event["seq"]),
            "Satchel-Timestamp": str(timestamp),
            "Satchel-Signature": sign(secret, timestamp, body),
        }
        try:
            addresses = await resolve_target(
                webhook.url, self.context.settings.webhook_allowed_networks
            )
        except InvalidRequestError as exc:
            return False, None, exc.message[:_ERROR_CHARS]
        url = httpx.URL(webhook.url)
        pinned = addresses[0]
        headers["Host"] = url.netloc.decode("ascii")  # the name, IDNA-encoded, and the port
        target = url.copy_with(host=pinned)
        extensions = {"sni_hostname": url.raw_host.decode("ascii")} if url.scheme == "https" else {}
        request = self._http().build_request(
            "POST", target, content=body, headers=headers, extensions=extensions
        )
        answer = await self._http().send(request, stream=True)
        try:
            if 200 <= answer.status_code < 300:  # taken: its body does not matter
                return True, answer.status_code, None
            start = b""
            async for chunk in answer.aiter_raw():  # only what names the failure
                start += chunk
                if len(start) >= _ANSWER_BYTES:
                    break
        finally:
            await answer.aclose()
        reason = start[:200].decode("utf-8", "replace").strip()
        return False, answer.status_code, f"HTTP {answer.status_code} {reason}"[:_ERROR_CHARS]
