"""The contract of webhooks (admins only): subscriptions to the event feed, their dead letters,
rewinding, and a delivery round (see :mod:`satchel.core.webhooks` and docs/webhooks.md)."""

from __future__ import annotations

from typing import Any, Protocol

from satchel.core.unset import UNSET, Unset

__all__ = ["WebhooksAPI"]


class WebhooksAPI(Protocol):
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
        """Subscribe *url* to the events of *types* (names or prefixes; none: every type) whose
        subject starts with *subject_prefix*. Delivery starts after sequence *after* (default:
        the events logged from now on). Without *secret* one is generated; either way it comes
        back here, once. After *max_attempts* (default 8) failures an event is dead-lettered.
        The URL's host must resolve to public addresses (or to networks the service allows)."""

    async def list_webhooks(self) -> list[dict[str, Any]]:
        """Every subscription of the sandbox with its delivery ``status`` (cursor, attempts,
        next attempt, last status and error, delivered / failed / dead counts)."""

    async def get_webhook(self, webhook_id: str) -> dict[str, Any]:
        """One subscription and its ``status``."""

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
        """Change what is given (``active=False`` pauses delivery; the cursor stays)."""

    async def delete_webhook(self, webhook_id: str) -> None:
        """Remove a subscription, its cursor and its dead letters."""

    async def rewind_webhook(self, webhook_id: str, after: int) -> dict[str, Any]:
        """Redeliver every matching event after sequence *after*, in order, from the next round."""

    async def list_dead_letters(
        self, webhook_id: str, *, after: int = 0, limit: int = 100, pending: bool = True
    ) -> list[dict[str, Any]]:
        """Events the subscription gave up on, oldest first: ``seq``, ``attempts``,
        ``last_status``, ``last_error``, ``dead_at``, ``redelivered_at`` (*pending*: only those
        not redelivered yet)."""

    async def redeliver_dead_letter(self, webhook_id: str, seq: int) -> dict[str, Any]:
        """Send dead letter *seq* again now and return it (``redelivered_at`` set on success)."""

    async def test_webhook(self, webhook_id: str) -> dict[str, Any]:
        """Send the webhook a signed test event now, once (type ``v1.webhook.test``, seq 0,
        never logged or retried): ``{"delivered", "status", "error"}``."""

    async def deliver_webhooks(self) -> dict[str, int]:
        """Run one delivery round now; returns ``delivered``, ``failed`` and ``dead`` counts
        (``satchel serve`` delivers on its own, continuously)."""
