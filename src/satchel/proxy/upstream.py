"""Asking a remote for a file: one GET (conditional when a copy is cached), redirects followed
only to the hosts the remote allows, raw bytes (never decoded), failures as the error tree's
upstream errors."""

from __future__ import annotations

import dataclasses
import urllib.parse
from collections.abc import AsyncIterator, Mapping

import httpx

from satchel.core.errors import UpstreamError, UpstreamTimeoutError
from satchel.core.remotes import Remote, public_url

__all__ = ["MAX_REDIRECTS", "Upstream", "UpstreamAnswer"]

MAX_REDIRECTS = 5
_REDIRECTS = (301, 302, 303, 307, 308)


@dataclasses.dataclass(slots=True)
class UpstreamAnswer:
    """An upstream's answer whose body is still to be read (``chunks``; close it)."""

    status: int
    headers: httpx.Headers
    url: str
    response: httpx.Response

    async def chunks(self) -> AsyncIterator[bytes]:
        """The body as sent (a ``.tar.gz`` stays gzip whatever Content-Encoding says)."""
        try:
            async for chunk in self.response.aiter_raw():
                if chunk:
                    yield chunk
        except httpx.TimeoutException:
            raise UpstreamTimeoutError(
                f"{public_url(self.url)}: upstream stopped sending"
            ) from None
        except httpx.HTTPError as exc:
            raise UpstreamError(
                f"{public_url(self.url)}: the download broke off: {_why(exc)}"
            ) from None

    async def aclose(self) -> None:
        await self.response.aclose()


def _why(exc: BaseException) -> str:
    return str(exc) or type(exc).__name__


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urllib.parse.urlsplit(url)
    return (parts.scheme, (parts.hostname or "").lower(), parts.port)


class Upstream:
    """The HTTP client of every remote (one connection pool)."""

    def __init__(self, *, timeout: float) -> None:
        self.timeout = timeout
        self._client: httpx.AsyncClient | None = None

    @property
    def client(self) -> httpx.AsyncClient:
        """The connection pool, made on the first fetch (a store without remotes has none)."""
        if self._client is None:
            self._client = httpx.AsyncClient(
                timeout=httpx.Timeout(self.timeout),
                follow_redirects=False,
                trust_env=False,
                limits=httpx.Limits(max_connections=100, max_keepalive_connections=20),
            )
        return self._client

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def get(
        self,
        remote: Remote,
        path: str,
        *,
        validators: Mapping[str, str] | None = None,
        credentials: Mapping[str, str] | None = None,
    ) -> UpstreamAnswer:
        """GET *path* of *remote*: the answer once its headers arrived (any status but a
        redirect). *validators* make it conditional; *credentials* (headers) go only to the
        remote's own host, never to a host it redirects to."""
        url = remote.upstream_url(path)
        origin = _origin(url)
        for _ in range(MAX_REDIRECTS + 1):
            headers = {"Accept-Encoding": "identity", "User-Agent": "satchel-proxy"}
            headers.update(validators or {})
            if credentials and _origin(url) == origin:  # scheme, host and port
                headers.update(credentials)
            try:
                request = self.client.build_request("GET", url, headers=headers)
                response = await self.client.send(request, stream=True)
            except httpx.PoolTimeout:
                busy = UpstreamTimeoutError(
                    f"{remote.name}: too many downloads under way; try again shortly"
                )
                busy.blames_upstream = False  # not the remote's fault: no breaker count
                raise busy from None
            except httpx.TimeoutException:
                raise UpstreamTimeoutError(
                    f"{remote.name}: {public_url(url)} did not answer in time"
                ) from None
            except (httpx.HTTPError, OSError) as exc:
                raise UpstreamError(
                    f"{remote.name}: {public_url(url)} cannot be reached: {_why(exc)}"
                ) from None
            location = response.headers.get("location")
            if response.status_code not in _REDIRECTS or not location:
                return UpstreamAnswer(response.status_code, response.headers, url, response)
            await response.aclose()
            target = urllib.parse.urljoin(url, location)
            if not remote.may_redirect_to(target):
                host = urllib.parse.urlsplit(target).hostname
                raise UpstreamError(
                    f"{remote.name}: {public_url(url)} redirects to {host!r}, which the "
                    "remote does not list in redirect_hosts"
                )
            url = target
        raise UpstreamError(f"{remote.name}: more than {MAX_REDIRECTS} redirects")
