"""The remote pull-through cache (``/api/{remote}/{path}``, ``/config``, ``/cache-artifact``,
``/artifacts/{remote}``, ``/v1/proxy/stats``)."""

from __future__ import annotations

import urllib.parse
from collections.abc import AsyncIterable, AsyncIterator
from typing import Any

import httpx

from satchel.client.transport import RemoteBase, _params, content_info
from satchel.core.content import ArtifactContent
from satchel.core.errors import InvalidRequestError, ProviderUnavailableError
from satchel.core.proxy import ProxyAnswer
from satchel.core.ranges import ByteRange
from satchel.core.remotes import check_proxy_path
from satchel.core.streams import as_chunks

__all__ = ["RemoteProxyMixin"]


def _remote_segment(remote: str) -> str:
    if not isinstance(remote, str) or not remote or "/" in remote:
        raise InvalidRequestError("a remote is named by one path segment")
    return urllib.parse.quote(remote, safe="")


def _file_path(remote: str, path: str) -> str:
    checked = check_proxy_path(path)
    return f"/api/{_remote_segment(remote)}/{urllib.parse.quote(checked, safe='/')}"


def _range_header(byte_range: ByteRange) -> str:
    first = "" if byte_range.first is None else str(byte_range.first)
    last = "" if byte_range.last is None else str(byte_range.last)
    return f"bytes={first}-{last}"


def _content_of(response: httpx.Response, rest: AsyncIterator[bytes] | None) -> ArtifactContent:
    """A cached copy's answer as opened content (its headers describe the version)."""
    if response.status_code == 304:
        response.headers.setdefault("content-length", "0")
    info = content_info(response)
    start, end, size, partial = 0, info["size"], info["size"], False
    content_range = response.headers.get("content-range", "")
    if response.status_code == 206 and content_range.startswith("bytes "):
        span, _, total = content_range[6:].partition("/")
        first, _, last = span.partition("-")
        start, end, size, partial = int(first), int(last) + 1, int(total), True
    info["size"] = size
    return ArtifactContent(
        **info,
        start=start,
        end=end,
        partial=partial,
        not_modified=response.status_code == 304,
        rest=rest,
    )


class RemoteProxyMixin(RemoteBase):
    async def list_remotes(self) -> list[dict[str, Any]]:
        """The configured remotes and their state."""
        remotes: list[dict[str, Any]] = (await self._request("GET", "/v1/proxy/remotes")).json()[
            "remotes"
        ]
        return remotes

    async def proxy_config(self) -> dict[str, Any]:
        """The cache's configuration (no credentials)."""
        config: dict[str, Any] = (await self._request("GET", "/config")).json()
        return config

    async def open_remote_file(
        self,
        remote: str,
        path: str,
        *,
        byte_range: ByteRange | None = None,
        if_range: str | None = None,
        if_none_match: str | None = None,
        head: bool = False,
    ) -> ProxyAnswer:
        """Read *path* of *remote* through the server's cache (one request, streamed)."""
        url = _file_path(remote, path)
        headers: dict[str, str] = {}
        if byte_range is not None:
            headers["Range"] = _range_header(byte_range)
        if if_range is not None:
            headers["If-Range"] = if_range
        if if_none_match is not None:
            headers["If-None-Match"] = if_none_match
        response = await self._open_stream("HEAD" if head else "GET", url, headers=headers)
        try:
            rest = None if head or response.status_code == 304 else _body(response, url)
            source = response.headers.get("x-artifact-source", "remote")
            stale = (
                response.headers.get("age") if response.headers.get("x-artifact-stale") else None
            )
            length = response.headers.get("content-length")
            answer = ProxyAnswer(
                source=source,
                remote=remote,
                path=path,
                mime=response.headers.get("content-type", "application/octet-stream"),
                size=int(length) if length and length.isdigit() else None,
                stale_age=None if stale is None else float(stale),
            )
            if source == "cache":
                answer.content = _content_of(response, rest)
                answer.size = answer.content.size
            else:
                answer.chunks = rest
            if rest is None:
                await response.aclose()
            return answer
        except BaseException:
            await response.aclose()
            raise

    async def prefetch_remote_files(
        self, remote: str, paths: list[str], *, patterns: list[str] | None = None
    ) -> list[dict[str, Any]]:
        """Cache *paths* of *remote* on the server; per path what became of it."""
        body = {"remote": remote, "paths": paths, "patterns": patterns}
        response = await self._request("POST", "/cache-artifact", json_body=body)
        results: list[dict[str, Any]] = response.json()["results"]
        return results

    async def list_cached_files(
        self, remote: str, *, after: str | None = None, prefix: str | None = None, limit: int = 100
    ) -> dict[str, Any]:
        """One page of *remote*'s cached files."""
        params = _params(after=after, prefix=prefix, limit=limit)
        page: dict[str, Any] = (
            await self._request("GET", f"/artifacts/{_remote_segment(remote)}", params=params)
        ).json()
        return page

    async def evict_cached_files(
        self, remote: str, *, path: str | None = None, prefix: str | None = None
    ) -> dict[str, Any]:
        """Evict cached files of *remote* (admin tokens)."""
        params = _params(path=path, prefix=prefix)
        done: dict[str, Any] = (
            await self._request("DELETE", f"/artifacts/{_remote_segment(remote)}", params=params)
        ).json()
        return done

    async def proxy_stats(self) -> dict[str, Any]:
        """Per-remote counters of the server process that answers, and cached totals."""
        stats: dict[str, Any] = (await self._request("GET", "/v1/proxy/stats")).json()
        return stats

    async def put_remote_file(
        self,
        remote: str,
        path: str,
        data: bytes | AsyncIterable[bytes],
        *,
        mime: str | None = None,
    ) -> dict[str, Any]:
        """Upload *data* to *path* of a local remote (admin tokens)."""
        response = await self._request(
            "PUT", _file_path(remote, path), params=_params(mime=mime), content=as_chunks(data)
        )
        stored: dict[str, Any] = response.json()
        return stored


async def _body(response: httpx.Response, url: str) -> AsyncIterator[bytes]:
    """The body as it arrives; a body that breaks off raises (it is not the whole file)."""
    try:
        async for chunk in response.aiter_raw():
            yield chunk
    except httpx.HTTPError as exc:
        raise ProviderUnavailableError(f"GET {url}: the answer broke off ({exc})") from exc
    finally:
        await response.aclose()
