"""Remote packages, manifests, retention, legal holds and metadata schemas."""

from __future__ import annotations

from collections.abc import AsyncIterable
from typing import Any
from urllib.parse import quote

from satchel.client.transport import RemoteBase, _checked_body, _json_body, _params, _path
from satchel.core.content import ArtifactContent
from satchel.core.digests import check_digest
from satchel.core.errors import AccessDeniedError, InvalidRequestError
from satchel.core.headers import repr_digest
from satchel.core.ranges import ByteRange
from satchel.core.streams import as_chunks
from satchel.core.validation import check_id, check_mime, check_relative_path

__all__ = ["RemotePackagesMixin"]

_KINDS = {"package": "packages", "artifact": "artifacts"}


def _file_path(package_id: str, relative_path: str) -> str:
    """The URL path of a package file, its relative path checked and percent-encoded."""
    path = quote(check_relative_path(relative_path), safe="/")
    return _path("/v1/packages/{package_id}/files/", package_id=package_id) + path


def _target(kind: str, target_id: str, suffix: str) -> str:
    if kind not in _KINDS:
        raise InvalidRequestError("kind must be package or artifact")
    return f"/v1/{_KINDS[kind]}/{check_id('target_id', target_id)}/{suffix}"


class RemotePackagesMixin(RemoteBase):
    # -- packages ------------------------------------------------------------------------------

    async def create_package(
        self,
        name: str,
        producer: str,
        subject: str,
        retention_class: str,
        actor: str | None = None,
        metadata: dict[str, Any] | None = None,
        *,
        version: str | None = None,
        schema: str | None = None,
        scope: str = "sandbox",
        user_id: str | None = None,
    ) -> str:
        """Open a package (or resume its push) and return its id."""
        body = _json_body(
            name=name,
            producer=producer,
            subject=subject,
            retention_class=retention_class,
            actor=actor,
            metadata=metadata,
            version=version,
            schema=schema,
            scope=scope,
            user_id=user_id,
        )
        response = await self._request("POST", "/v1/packages", json_body=body)
        package_id: str = response.json()["package_id"]
        return package_id

    async def ingest_file(
        self,
        package_id: str,
        relative_path: str,
        media_type: str | None = None,
        stream: AsyncIterable[bytes] | bytes = b"",
        actor: str | None = None,
        *,
        sha256: str | None = None,
        user_id: str | None = None,
    ) -> dict[str, Any]:
        """Upload one file of an open package as the request body, chunk by chunk."""
        path = _file_path(package_id, relative_path)
        headers = {}
        if media_type is not None:
            headers["Content-Type"] = check_mime(media_type)
        if sha256 is not None:
            headers["Repr-Digest"] = repr_digest(check_digest(sha256))
        problem: list[BaseException] = []
        body = _checked_body(as_chunks(stream), None, None, problem)
        try:
            response = await self._request(
                "PUT",
                path,
                params=_params(actor=actor, user_id=user_id),
                content=body,
                headers=headers,
            )
        except BaseException as exc:
            if problem and problem[0] is not exc:
                raise problem[0] from None
            raise
        entry: dict[str, Any] = response.json()
        return entry

    async def finalize_package(
        self, package_id: str, actor: str | None = None, *, user_id: str | None = None
    ) -> str:
        """Write the package's immutable manifest; return its address."""
        response = await self._request(
            "POST",
            _path("/v1/packages/{package_id}/finalize", package_id=package_id),
            json_body=_json_body(actor=actor, user_id=user_id),
        )
        address: str = response.json()["manifest_address"]
        return address

    async def get_package(self, package_id: str, *, user_id: str | None = None) -> dict[str, Any]:
        """The package: attributes, state, manifest address, retention, active holds."""
        response = await self._request(
            "GET",
            _path("/v1/packages/{package_id}", package_id=package_id),
            params=_params(user_id=user_id),
        )
        package: dict[str, Any] = response.json()
        return package

    async def list_packages(
        self,
        *,
        name: str | None = None,
        version: str | None = None,
        producer: str | None = None,
        subject: str | None = None,
        state: str | None = None,
        mine: bool = False,
        limit: int = 100,
        cursor: str | None = None,
        user_id: str | None = None,
    ) -> dict[str, Any]:
        """``{"items": [...], "next_cursor": ...}``, newest first."""
        params = _params(
            name=name,
            version=version,
            producer=producer,
            subject=subject,
            state=state,
            mine="true" if mine else None,
            limit=limit,
            cursor=cursor,
            user_id=user_id,
        )
        page: dict[str, Any] = (await self._request("GET", "/v1/packages", params=params)).json()
        return page

    async def list_package_files(
        self, package_id: str, *, user_id: str | None = None
    ) -> list[dict[str, Any]]:
        """The package's files, by relative path."""
        response = await self._request(
            "GET",
            _path("/v1/packages/{package_id}/files", package_id=package_id),
            params=_params(user_id=user_id),
        )
        items: list[dict[str, Any]] = response.json()["items"]
        return items

    async def get_manifest_bytes(
        self, package_id: str, format: str = "cbor", *, user_id: str | None = None
    ) -> bytes:
        """The manifest as deterministic CBOR or canonical JSON."""
        if format not in ("cbor", "json"):
            raise InvalidRequestError("format must be cbor or json")
        response = await self._request(
            "GET",
            _path("/v1/packages/{package_id}/manifest", package_id=package_id),
            params=_params(format=format, user_id=user_id),
        )
        return response.content

    async def open_package_file(
        self,
        package_id: str,
        relative_path: str,
        *,
        byte_range: ByteRange | None = None,
        if_none_match: str | None = None,
        head: bool = False,
        local_file: bool = False,
        user_id: str | None = None,
    ) -> ArtifactContent:
        """Open one file of a package (a HEAD, then a GET pinned to its digest; *local_file*
        changes nothing)."""
        return await self._open_described(
            _file_path(package_id, relative_path),
            _params(user_id=user_id) or None,
            byte_range=byte_range,
            if_range=None,
            if_none_match=if_none_match,
            head=head,
        )

    async def delete_package(
        self,
        package_id: str,
        *,
        bypass_governance: bool = False,
        reason: str | None = None,
        actor: str | None = None,
        user_id: str | None = None,
    ) -> dict[str, Any]:
        """Delete a package (refused while held or retained)."""
        response = await self._request(
            "DELETE",
            _path("/v1/packages/{package_id}", package_id=package_id),
            params=_params(
                bypass_governance="true" if bypass_governance else None,
                reason=reason,
                actor=actor,
                user_id=user_id,
            ),
        )
        result: dict[str, Any] = response.json()
        return result

    # -- retention and holds -------------------------------------------------------------------

    async def retention_classes(self) -> list[dict[str, Any]]:
        """The server's retention classes."""
        items: list[dict[str, Any]] = (await self._request("GET", "/v1/retention/classes")).json()[
            "items"
        ]
        return items

    async def set_retention(
        self,
        target_id: str,
        retain_until: float | str | None,
        *,
        kind: str = "package",
        bypass_governance: bool = False,
        reason: str | None = None,
        actor: str | None = None,
        user_id: str | None = None,
    ) -> dict[str, Any]:
        """Move an item's retention end (shortening: governance, admins, with a reason)."""
        body = {
            "retain_until": retain_until,
            **_json_body(
                bypass_governance=bypass_governance or None,
                reason=reason,
                actor=actor,
                user_id=user_id,
            ),
        }
        response = await self._request("PUT", _target(kind, target_id, "retention"), json_body=body)
        result: dict[str, Any] = response.json()
        return result

    async def apply_hold(
        self,
        target_id: str,
        name: str,
        reason: str,
        *,
        kind: str = "package",
        actor: str | None = None,
        user_id: str | None = None,
    ) -> dict[str, Any]:
        """Put a named legal hold on an item (admin tokens)."""
        if user_id is not None:
            raise AccessDeniedError("only admins apply legal holds")
        response = await self._request(
            "POST",
            _target(kind, target_id, "holds"),
            json_body=_json_body(name=name, reason=reason, actor=actor),
        )
        hold: dict[str, Any] = response.json()
        return hold

    async def release_hold(
        self,
        hold_id: str,
        reason: str,
        *,
        actor: str | None = None,
        user_id: str | None = None,
    ) -> dict[str, Any]:
        """Release a hold (admin tokens)."""
        if user_id is not None:
            raise AccessDeniedError("only admins release legal holds")
        response = await self._request(
            "POST",
            _path("/v1/holds/{hold_id}/release", hold_id=hold_id),
            json_body=_json_body(reason=reason, actor=actor),
        )
        hold: dict[str, Any] = response.json()
        return hold

    async def list_holds(
        self,
        target_id: str,
        *,
        kind: str = "package",
        include_released: bool = False,
        user_id: str | None = None,
    ) -> list[dict[str, Any]]:
        """The holds on an item."""
        params = _params(include_released="true" if include_released else None, user_id=user_id)
        response = await self._request("GET", _target(kind, target_id, "holds"), params=params)
        items: list[dict[str, Any]] = response.json()["items"]
        return items

    async def retention_history(
        self, target_id: str, *, kind: str = "package", user_id: str | None = None
    ) -> list[dict[str, Any]]:
        """An item's lifecycle history."""
        response = await self._request(
            "GET", _target(kind, target_id, "history"), params=_params(user_id=user_id)
        )
        items: list[dict[str, Any]] = response.json()["items"]
        return items

    async def sweep_retention(self, *, dry_run: bool = False) -> dict[str, Any]:
        """Run the retention sweep on the server (admin tokens)."""
        params = _params(dry_run="true" if dry_run else None)
        report: dict[str, Any] = (
            await self._request("POST", "/v1/retention/sweep", params=params)
        ).json()
        return report

    async def gc(self, *, dry_run: bool = False) -> dict[str, Any]:
        """Run gc on the server (admin tokens)."""
        params = _params(dry_run="true" if dry_run else None)
        report: dict[str, Any] = (
            await self._request("POST", "/v1/retention/gc", params=params)
        ).json()
        return report

    # -- metadata schemas ----------------------------------------------------------------------

    async def register_schema(
        self,
        slug: str,
        schema: dict[str, Any],
        *,
        version: int | None = None,
        actor: str | None = None,
        user_id: str | None = None,
    ) -> dict[str, Any]:
        """Register a metadata schema (admin tokens)."""
        if user_id is not None:
            raise AccessDeniedError("only admins register metadata schemas")
        body = {"slug": slug, "schema": schema, **_json_body(version=version, actor=actor)}
        result: dict[str, Any] = (await self._request("POST", "/v1/schemas", json_body=body)).json()
        return result

    async def get_schema(self, slug: str, version: int | None = None) -> dict[str, Any]:
        """A metadata schema (the latest version unless asked)."""
        response = await self._request(
            "GET", _path("/v1/schemas/{slug}", slug=slug), params=_params(version=version)
        )
        found: dict[str, Any] = response.json()
        return found

    async def list_schemas(self) -> list[dict[str, Any]]:
        """Every registered schema version."""
        items: list[dict[str, Any]] = (await self._request("GET", "/v1/schemas")).json()["items"]
        return items
