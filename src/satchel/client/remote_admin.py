"""Remote sessions, health, statistics, maintenance and API keys."""

from __future__ import annotations

from typing import Any

from satchel.client.transport import RemoteBase, _json_body, _params, _path
from satchel.core.apikeys import ApiKey, api_key_from_dict, check_key_id
from satchel.core.bulk import DEFAULT_PREFIX_PAGE, check_prefix_paging
from satchel.core.errors import ArtifactNotFoundError, UnauthorizedError
from satchel.core.validation import check_id, check_ttl

__all__ = ["RemoteAdminMixin"]


class RemoteAdminMixin(RemoteBase):
    # -- sessions ----------------------------------------------------------------------------

    async def create_session(
        self, user_id: str | None = None, ttl_hours: float | None = None
    ) -> str:
        """Create a session owned by *user_id* and return its id."""
        response = await self._request(
            "POST", "/v1/sessions", json_body=_json_body(user_id=user_id, ttl_hours=ttl_hours)
        )
        session_id: str = response.json()["session_id"]
        return session_id

    async def _session(self, session_id: str) -> dict[str, Any] | None:
        check_id("session_id", session_id)
        try:
            response = await self._request(
                "GET", _path("/v1/sessions/{session_id}", session_id=session_id)
            )
        except ArtifactNotFoundError:
            return None
        body: dict[str, Any] = response.json()
        return body

    async def validate_session(self, session_id: str) -> bool:
        """True when the session exists and has not expired."""
        body = await self._session(session_id)
        return bool(body and body.get("valid"))

    async def get_session_info(self, session_id: str) -> dict[str, Any] | None:
        """The session's owner, sandbox and times, or None."""
        body = await self._session(session_id)
        if body is None:
            return None
        body.pop("valid", None)
        return body

    # -- health and statistics ---------------------------------------------------------------

    async def health(self) -> dict[str, Any]:
        """The service's ``GET /health`` body (``status`` ``ok`` or ``degraded``; the server's
        version)."""
        response = await self._request("GET", "/health", ok_statuses=(200, 503))
        body: dict[str, Any] = response.json()
        self._learn(body)
        return body

    async def validate_configuration(self) -> dict[str, Any]:
        """The service's backend checks: ``{"storage": …, "session": …, "catalog": …}``."""
        checks: dict[str, Any] = (await self.health()).get("checks", {})
        return checks

    async def get_stats(self) -> dict[str, Any]:
        """Counts and sizes of the service's sandbox (needs an admin token)."""
        stats: dict[str, Any] = (await self._request("GET", "/v1/admin/stats")).json()
        return stats

    # -- maintenance (admin tokens) ----------------------------------------------------------

    async def purge_expired(self) -> dict[str, int]:
        """Delete expired artifacts, sessions and uploads now; reclaim bytes."""
        result: dict[str, int] = (await self._request("POST", "/v1/admin/purge")).json()
        return result

    async def collect_garbage(self) -> tuple[int, int]:
        """Delete blobs no artifact refers to; return (blobs removed, bytes freed)."""
        body = (await self._request("POST", "/v1/admin/gc")).json()
        return int(body["blobs"]), int(body["bytes_freed"])

    async def check_storage(self, *, repair: bool = False, verify: bool = False) -> dict[str, Any]:
        """The service's storage check (fsck; see the contract); needs an admin token."""
        params = {"repair": str(repair).lower(), "verify": str(verify).lower()}
        answer = await self._request("POST", "/v1/admin/storage/check", params=params)
        report: dict[str, Any] = answer.json()
        return report

    async def verify_storage(
        self, backend: str | None = None, *, sample: int | None = None, user_id: str | None = None
    ) -> dict[str, Any]:
        """The service's storage verification (see the contract); needs an admin token."""
        params = _params(backend=backend, sample=sample, user_id=user_id)
        answer = await self._request("POST", "/v1/admin/storage/verify", params=params)
        report: dict[str, Any] = answer.json()
        return report

    async def delete_prefix(
        self,
        prefix: str,
        *,
        dry_run: bool = True,
        limit: int | None = None,
        page_size: int = DEFAULT_PREFIX_PAGE,
        user_id: str | None = None,
    ) -> dict[str, Any]:
        """The service's delete by grid-key prefix (see the contract); needs an admin token.
        A dry run unless ``dry_run=False``."""
        check_prefix_paging(limit, page_size)
        body = {"prefix": prefix, "dry_run": dry_run, "limit": limit, "page_size": page_size}
        answer = await self._request(
            "POST", "/v1/admin/delete-prefix", params=_params(user_id=user_id), json_body=body
        )
        report: dict[str, Any] = answer.json()
        return report

    # -- API keys (admin tokens) ------------------------------------------------------------

    async def create_api_key(
        self, user_id: str, *, admin: bool = False, name: str = "", ttl: int | None = None
    ) -> tuple[str, ApiKey]:
        """Create an API key acting as *user_id*; return ``(token, key)`` (token shown once)."""
        body = {"user_id": user_id, "admin": admin, "name": name, "ttl": check_ttl(ttl)}
        answer = (await self._request("POST", "/v1/keys", json_body=body)).json()
        return str(answer["token"]), api_key_from_dict(answer)

    async def list_api_keys(self, *, include_revoked: bool = False) -> list[ApiKey]:
        """The sandbox's API keys, oldest first (never their secrets)."""
        params = {"include_revoked": "true"} if include_revoked else None
        answer = (await self._request("GET", "/v1/keys", params=params)).json()
        return [api_key_from_dict(item) for item in answer["items"]]

    async def authenticate_api_key(self, token: str) -> ApiKey | None:
        """The live API key *token* is, as the server sees it (``GET /v1/whoami`` presenting
        that token); None for an unknown, expired or revoked token, or a static one."""
        if not isinstance(token, str) or not token or not token.isprintable():
            return None
        try:
            response = await self._request(
                "GET", "/v1/whoami", headers={"Authorization": f"Bearer {token}"}
            )
        except UnauthorizedError:
            return None
        key = response.json().get("key")
        return None if key is None else api_key_from_dict(key)

    async def whoami(self) -> dict[str, Any]:
        """Whom the client's token acts as (``GET /v1/whoami``)."""
        found: dict[str, Any] = (await self._request("GET", "/v1/whoami")).json()
        return found

    async def revoke_api_key(self, key_id: str) -> ApiKey:
        """Revoke a key at once; ArtifactNotFoundError when there is no such live key."""
        path = _path("/v1/keys/{key_id}", key_id=check_key_id(key_id))
        return api_key_from_dict((await self._request("DELETE", path)).json())
