"""Remote aspects (``/v1/aspects``) and provenance (``/v1/lineage``)."""

from __future__ import annotations

from typing import Any

from satchel.client.transport import RemoteBase, _json_body, _params
from satchel.core.aspects import check_aspect_id

__all__ = ["RemoteAspectsMixin"]


class RemoteAspectsMixin(RemoteBase):
    async def _aspect_call(
        self, method: str, entity: str, aspect: Any, schema: Any, policy: Any, user_id: Any
    ) -> dict[str, Any]:
        body = _json_body(
            entity=entity, content=aspect, schema=schema, policy=policy, user_id=user_id
        )
        response = await self._request(method, "/v1/aspects", json_body=body)
        found: dict[str, Any] = response.json()
        return found

    async def add_aspect(
        self,
        entity: str,
        aspect: dict[str, Any],
        *,
        schema: str | None = None,
        policy: str | None = None,
        user_id: str | None = None,
    ) -> dict[str, Any]:
        """Record a typed metadata record about *entity* and return it."""
        return await self._aspect_call("POST", entity, aspect, schema, policy, user_id)

    async def update_aspect(
        self,
        entity: str,
        aspect: dict[str, Any],
        *,
        schema: str | None = None,
        policy: str | None = None,
        user_id: str | None = None,
    ) -> dict[str, Any]:
        """Replace *entity*'s aspects of the schema with this one."""
        return await self._aspect_call("PUT", entity, aspect, schema, policy, user_id)

    async def retract_aspect(self, aspect_id: str, *, user_id: str | None = None) -> dict[str, Any]:
        """Retract an aspect."""
        path = f"/v1/aspects/{check_aspect_id(aspect_id)}"
        response = await self._request("DELETE", path, params=_params(user_id=user_id))
        found: dict[str, Any] = response.json()
        return found

    async def get_aspect(self, aspect_id: str, *, user_id: str | None = None) -> dict[str, Any]:
        """One aspect, by id or URN."""
        path = f"/v1/aspects/{check_aspect_id(aspect_id)}"
        response = await self._request("GET", path, params=_params(user_id=user_id))
        found: dict[str, Any] = response.json()
        return found

    async def list_aspects(
        self,
        entity: str | None = None,
        schema: str | None = None,
        *,
        include_retracted: bool = False,
        limit: int = 100,
        cursor: str | None = None,
        user_id: str | None = None,
    ) -> dict[str, Any]:
        """``{"items", "next_cursor"}``, oldest first."""
        params = _params(
            entity=entity,
            schema=schema,
            include_retracted="true" if include_retracted else None,
            limit=limit,
            cursor=cursor,
            user_id=user_id,
        )
        response = await self._request("GET", "/v1/aspects", params=params)
        page: dict[str, Any] = response.json()
        return page

    async def lineage(
        self,
        entity: str,
        direction: str = "up",
        depth: int = 3,
        *,
        user_id: str | None = None,
    ) -> dict[str, Any]:
        """The provenance graph around *entity*."""
        params = _params(entity=entity, direction=direction, depth=depth, user_id=user_id)
        response = await self._request("GET", "/v1/lineage", params=params)
        graph: dict[str, Any] = response.json()
        return graph
