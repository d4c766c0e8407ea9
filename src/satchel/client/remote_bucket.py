"""Remote care of the server's S3 bucket (``/v1/admin/s3/…``, admin tokens)."""

from __future__ import annotations

from typing import Any

from satchel.client.transport import RemoteBase
from satchel.core.errors import InvalidRequestError

__all__ = ["RemoteBucketMixin"]


class RemoteBucketMixin(RemoteBase):
    async def s3_doctor(self) -> dict[str, Any]:
        """The server's S3 bucket, checked."""
        found: dict[str, Any] = (await self._request("GET", "/v1/admin/s3/doctor")).json()
        return found

    async def s3_lifecycle(
        self, *, apply: bool = False, days: int = 7, dry_run: bool = False
    ) -> dict[str, Any]:
        """The server's bucket's lifecycle rules; with *apply*, Satchel's rule added."""
        if not apply:
            if dry_run:
                raise InvalidRequestError("dry_run goes with apply")
            response = await self._request("GET", "/v1/admin/s3/lifecycle")
        else:
            body = {"days": days, "dry_run": dry_run}
            response = await self._request("POST", "/v1/admin/s3/lifecycle", json_body=body)
        found: dict[str, Any] = response.json()
        return found
