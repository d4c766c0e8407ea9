"""Remote sharing: an artifact's read policy and collections (``/v1/collections``)."""

from __future__ import annotations

from typing import Any

from satchel.client.transport import RemoteBase, _params, _path
from satchel.core.errors import InvalidRequestError
from satchel.core.models import ArtifactMetadata
from satchel.core.policies import check_collection, check_policy

__all__ = ["RemoteSharingMixin"]


def _id_list(artifact_ids: Any) -> list[str]:
    if isinstance(artifact_ids, str) or not isinstance(artifact_ids, (list, tuple)):
        raise InvalidRequestError("artifact_ids must be a list of artifact ids")
    return list(artifact_ids)


class RemoteSharingMixin(RemoteBase):
    async def set_policy(
        self,
        artifact_id: str,
        policy: str | None,
        *,
        user_id: str | None = None,
        session_id: str | None = None,
    ) -> ArtifactMetadata:
        """Make an artifact public or private."""
        check_policy(policy)  # refused here as the store refuses it
        response = await self._request(
            "PUT",
            _path("/v1/artifacts/{artifact_id}/policy", artifact_id=artifact_id),
            params=_params(user_id=user_id, session_id=session_id),
            json_body={"policy": policy},
        )
        return self._metadata(response)

    async def _members(
        self, verb: str, collection: str, artifact_ids: Any, user_id: Any, session_id: Any
    ) -> int:
        path = _path(
            "/v1/collections/{collection}/" + verb, collection=check_collection(collection)
        )
        response = await self._request(
            "POST",
            path,
            params=_params(user_id=user_id, session_id=session_id),
            json_body={"artifact_ids": _id_list(artifact_ids)},
        )
        return int(response.json()["added" if verb == "add" else "removed"])

    async def add_to_collection(
        self,
        collection: str,
        artifact_ids: list[str],
        *,
        user_id: str | None = None,
        session_id: str | None = None,
    ) -> int:
        """Add artifacts to a collection; how many joined."""
        return await self._members("add", collection, artifact_ids, user_id, session_id)

    async def remove_from_collection(
        self,
        collection: str,
        artifact_ids: list[str],
        *,
        user_id: str | None = None,
        session_id: str | None = None,
    ) -> int:
        """Remove artifacts from a collection; how many left it."""
        return await self._members("remove", collection, artifact_ids, user_id, session_id)

    async def list_collections(
        self,
        *,
        limit: int = 100,
        cursor: str | None = None,
        user_id: str | None = None,
        session_id: str | None = None,
    ) -> dict[str, Any]:
        """The collections holding artifacts the caller can list."""
        params = _params(limit=limit, cursor=cursor, user_id=user_id, session_id=session_id)
        response = await self._request("GET", "/v1/collections", params=params)
        found: dict[str, Any] = response.json()
        return found

    async def get_collections(
        self,
        artifact_id: str,
        *,
        user_id: str | None = None,
        session_id: str | None = None,
    ) -> list[str]:
        """The collections an artifact belongs to."""
        response = await self._request(
            "GET",
            _path("/v1/artifacts/{artifact_id}/collections", artifact_id=artifact_id),
            params=_params(user_id=user_id, session_id=session_id),
        )
        return list(response.json()["collections"])
