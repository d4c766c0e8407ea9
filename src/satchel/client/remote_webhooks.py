"""Remote webhooks (``/v1/admin/webhooks``; admin tokens)."""

from __future__ import annotations

from typing import Any

from satchel.client.transport import RemoteBase, _params
from satchel.core.unset import UNSET, Unset
from satchel.core.webhooks import check_webhook_id

__all__ = ["RemoteWebhooksMixin"]

_BASE = "/v1/admin/webhooks"


def _type_list(types: Any) -> Any:
    """One event type given as a string is a list of one in the JSON body."""
    return [types] if isinstance(types, str) else types


class RemoteWebhooksMixin(RemoteBase):
    async def _webhook_json(self, method: str, path: str, **kwargs: Any) -> Any:
        return (await self._request(method, path, **kwargs)).json()

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
        """Subscribe *url* to the feed (see the contract); the secret comes back once."""
        body: dict[str, Any] = {
            "url": url,
            "types": _type_list(types),
            "subject_prefix": subject_prefix,
            "secret": secret,
            "description": description,
            "max_attempts": max_attempts,
            "active": active,
            "after": after,
        }
        created: dict[str, Any] = await self._webhook_json("POST", _BASE, json_body=body)
        return created

    async def list_webhooks(self) -> list[dict[str, Any]]:
        """Every subscription with its delivery status."""
        listed: list[dict[str, Any]] = (await self._webhook_json("GET", _BASE))["webhooks"]
        return listed

    async def get_webhook(self, webhook_id: str) -> dict[str, Any]:
        """One subscription and its status."""
        path = f"{_BASE}/{check_webhook_id(webhook_id)}"
        found: dict[str, Any] = await self._webhook_json("GET", path)
        return found

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
        """Change what is given; the rest stays."""
        given = {
            "url": url,
            "types": _type_list(types),
            "subject_prefix": subject_prefix,
            "secret": secret,
            "description": description,
            "max_attempts": max_attempts,
            "active": active,
        }
        body = {name: value for name, value in given.items() if not isinstance(value, Unset)}
        path = f"{_BASE}/{check_webhook_id(webhook_id)}"
        updated: dict[str, Any] = await self._webhook_json("PATCH", path, json_body=body)
        return updated

    async def delete_webhook(self, webhook_id: str) -> None:
        """Remove a subscription."""
        await self._request("DELETE", f"{_BASE}/{check_webhook_id(webhook_id)}")

    async def rewind_webhook(self, webhook_id: str, after: int) -> dict[str, Any]:
        """Redeliver every matching event after *after*."""
        path = f"{_BASE}/{check_webhook_id(webhook_id)}/rewind"
        found: dict[str, Any] = await self._webhook_json("POST", path, json_body={"after": after})
        return found

    async def list_dead_letters(
        self, webhook_id: str, *, after: int = 0, limit: int = 100, pending: bool = True
    ) -> list[dict[str, Any]]:
        """The subscription's dead letters, oldest first."""
        path = f"{_BASE}/{check_webhook_id(webhook_id)}/dead-letters"
        params = _params(after=after, limit=limit, pending=str(bool(pending)).lower())
        letters: list[dict[str, Any]] = (await self._webhook_json("GET", path, params=params))[
            "dead_letters"
        ]
        return letters

    async def redeliver_dead_letter(self, webhook_id: str, seq: int) -> dict[str, Any]:
        """Send a dead letter again now."""
        if isinstance(seq, bool) or not isinstance(seq, int):
            from satchel.core.errors import InvalidRequestError

            raise InvalidRequestError("seq must be a sequence number")
        path = f"{_BASE}/{check_webhook_id(webhook_id)}/dead-letters/{seq}/redeliver"
        found: dict[str, Any] = await self._webhook_json("POST", path)
        return found

    async def test_webhook(self, webhook_id: str) -> dict[str, Any]:
        """Send the webhook a signed test event now."""
        path = f"{_BASE}/{check_webhook_id(webhook_id)}/test"
        found: dict[str, Any] = await self._webhook_json("POST", path)
        return found

    async def deliver_webhooks(self) -> dict[str, int]:
        """One delivery round on the service."""
        counts: dict[str, int] = await self._webhook_json("POST", "/v1/admin/deliver-webhooks")
        return counts
