"""The HTTP plumbing of the remote client: the connection, requests, and errors mapped back to the
error tree from each response's JSON ``error`` code."""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterable, AsyncIterator, Awaitable
from typing import Any, TypeVar

import httpx

from satchel.core.api import ArtifactStoreAPI
from satchel.core.content import ArtifactContent
from satchel.core.errors import (
    ArtifactStoreError,
    InvalidRequestError,
    PreconditionFailedError,
    ProviderError,
    ProviderUnavailableError,
    error_for_answer,
)
from satchel.core.headers import (
    disposition_filename,
    parse_repr_digest,
    quote_etag,
    unquote_etag,
)
from satchel.core.models import ArtifactList, ArtifactMetadata
from satchel.core.ranges import ByteRange, plan_read
from satchel.core.requests import ProgressCallback
from satchel.core.scopes import Scope
from satchel.core.streams import checked_stream
from satchel.core.unset import UNSET
from satchel.core.validation import (
    check_filename,
    check_id,
    check_meta,
    check_mime,
    check_summary,
    check_ttl,
)

__all__ = ["RemoteBase", "content_info", "raise_for_response"]

_T = TypeVar("_T")

_BATCH_KEYS = {"data", "mime", "summary", "meta", "filename", "ttl", "scope"}


def raise_for_response(response: httpx.Response) -> None:
    """Raise the error class named by an error response's JSON ``error`` code (read body first)."""
    if response.status_code < 400:
        return
    try:
        body = response.json()
    except ValueError:
        body = None
    raise error_for_answer(response.status_code, body, response.request.url.path)


def content_info(response: httpx.Response) -> dict[str, Any]:
    """What the headers of a content answer (``HEAD`` or ``GET`` without a range) say of the
    version it serves: ``artifact_id``, ``etag``, ``sha256``, ``size``, ``mime``, ``filename``
    (the download name)."""
    headers = response.headers
    artifact_id, length = headers.get("satchel-artifact-id"), headers.get("content-length")
    sha256 = parse_repr_digest(headers.get("repr-digest"))
    if not artifact_id or sha256 is None or length is None or not length.isdigit():
        raise ProviderError(f"{response.request.url.path}: the answer does not describe content")
    return {
        "artifact_id": artifact_id,
        "etag": unquote_etag(headers.get("etag", "")),
        "sha256": sha256,
        "size": int(length),
        "mime": headers.get("content-type", "application/octet-stream"),
        "filename": disposition_filename(headers.get("content-disposition")),
    }


def _params(**values: Any) -> dict[str, Any]:
    """Query parameters without the ones left out (None)."""
    return {k: (str(v) if isinstance(v, Scope) else v) for k, v in values.items() if v is not None}


def _json_body(**values: Any) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}


def _json_text(name: str, value: Any) -> str:
    """*value* as strict JSON text; InvalidRequestError (as the store raises) when it is not
    JSON (NaN, sets, bytes, cycles, absurd nesting)."""
    try:
        return json.dumps(value, allow_nan=False, separators=(",", ":"))
    except (TypeError, ValueError, RecursionError) as exc:
        raise InvalidRequestError(f"{name} must be JSON-serialisable: {exc}") from None


def _checked_meta(value: Any) -> dict[str, Any] | None:
    """Custom metadata checked as the store checks it (the size limit is the server's)."""
    return None if value is None else check_meta(value, max_bytes=2**62)


def _meta(name: str, value: Any) -> str | None:
    """Custom metadata as JSON text, checked as the store checks it (the size limit is the
    server's to enforce)."""
    checked = _checked_meta(value)
    return None if checked is None else _json_text(name, checked)


def _ttl(value: Any) -> Any:
    """A ``ttl`` argument as a query value: absent (UNSET), ``none`` or whole seconds."""
    if value is UNSET:
        return None
    checked = check_ttl(value)
    return "none" if checked is None else checked


def _path(template: str, **segments: Any) -> str:
    """A URL path from *template* with each id checked as the store checks it (so a bad id is
    InvalidRequestError, never another URL)."""
    checked: dict[str, str] = {}
    for name, value in segments.items():
        if name == "part_number":
            if isinstance(value, bool) or not isinstance(value, int):
                raise InvalidRequestError("part_number must be a whole number")
            checked[name] = str(value)
        else:
            checked[name] = check_id(name, value)
    return template.format(**checked)


def _content_type(mime: str | None) -> dict[str, str]:
    """The body's Content-Type: the artifact's type when the caller gave one (the server then
    needs no guess from the filename)."""
    return {} if mime is None else {"Content-Type": mime}


def _etag_header(if_match: str | None) -> dict[str, str]:
    """``If-Match`` for a library caller's *if_match*: ``*`` and entity tags already quoted
    (or weak) go as they are; a bare etag, as the library takes it, is quoted."""
    if if_match is None:
        return {}
    value = if_match.strip()
    if value == "*" or value.startswith(('"', "W/")):
        return {"If-Match": value}
    return {"If-Match": f'"{value}"'}


class RemoteBase(ArtifactStoreAPI):
    """An ArtifactStore-compatible client of ``satchel serve``.

    Args:
        url: base URL of the service (e.g. ``http://127.0.0.1:8000``).
        token: bearer token (``SATCHEL_AUTH_TOKENS``, an API key or the admin token).
        timeout: per-request timeout in seconds (``None``: no timeout).
        transport: an httpx transport (tests: ``httpx.ASGITransport(app)``).
        headers: extra headers sent with every request.
    """

    def __init__(
        self,
        url: str,
        token: str | None = None,
        *,
        timeout: float | None = 60.0,
        transport: httpx.AsyncBaseTransport | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.url = url.rstrip("/")
        self.token = token
        all_headers = dict(headers or {})
        if token:
            all_headers["Authorization"] = f"Bearer {token}"
        self._sandbox_id: str | None = None  # learnt from /health by open()
        self._storage_provider: str | None = None
        self._client = httpx.AsyncClient(
            base_url=self.url, headers=all_headers, timeout=timeout, transport=transport
        )
        self._closed = False

    def __repr__(self) -> str:
        return f"RemoteArtifactStore(url={self.url!r})"

    # -- lifecycle ---------------------------------------------------------------------------

    async def open(self) -> None:
        """Check the service answers and learn its sandbox and storage provider."""
        response = await self._request("GET", "/health", ok_statuses=(200, 503))
        self._learn(response.json())

    def _learn(self, health: dict[str, Any]) -> None:
        self._sandbox_id = health.get("sandbox_id")
        self._storage_provider = health.get("checks", {}).get("storage", {}).get("provider")

    def _known(self, value: str | None) -> str:
        if value is None:
            raise ArtifactStoreError("open the store first (await store.open() or async with)")
        return value

    @property
    def sandbox_id(self) -> str:
        return self._known(self._sandbox_id)

    @property
    def storage_provider(self) -> str:
        return self._known(self._storage_provider)

    async def close(self) -> None:
        self._closed = True
        await self._client.aclose()

    # -- plumbing ----------------------------------------------------------------------------

    async def _request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | list[tuple[str, Any]] | None = None,
        json_body: Any = None,
        content: Any = None,
        headers: dict[str, str] | None = None,
        ok_statuses: tuple[int, ...] = (),
        at_least: float | None = None,
    ) -> httpx.Response:
        """*at_least*: seconds this request may take even if the client's timeout is shorter
        (a long poll)."""
        if self._closed:
            raise ArtifactStoreError("this RemoteArtifactStore is closed")
        if json_body is not None:
            content = _json_text("the request body", json_body).encode()
            headers = {**(headers or {}), "Content-Type": "application/json"}
        timeout: Any = httpx.USE_CLIENT_DEFAULT
        read = self._client.timeout.read
        if at_least is not None and read is not None and read < at_least:
            timeout = self._client.timeout.as_dict() | {"read": at_least}
            timeout = httpx.Timeout(**timeout)
        try:
            response = await self._client.request(
                method, path, params=params, content=content, headers=headers, timeout=timeout
            )
        except UnicodeEncodeError:  # a lone surrogate in a parameter: no URL can carry it
            raise InvalidRequestError(f"{method} {path}: a parameter is not UTF-8") from None
        except httpx.TimeoutException as exc:
            raise ProviderUnavailableError(f"{method} {path}: timed out ({exc})") from exc
        except httpx.TransportError as exc:
            raise ProviderUnavailableError(f"cannot reach {self.url}: {exc}") from exc
        if response.status_code not in ok_statuses:
            raise_for_response(response)
        return response

    async def _open_stream(
        self,
        method: str,
        path: str,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        """A request whose answer's body is still to be read (close the answer); an error
        answer is raised as the error tree's class, a failure to connect as
        ProviderUnavailableError."""
        if self._closed:
            raise ArtifactStoreError("this RemoteArtifactStore is closed")
        request = self._client.build_request(method, path, params=params, headers=headers)
        try:
            answer = await self._client.send(request, stream=True)
        except httpx.TimeoutException as exc:
            raise ProviderUnavailableError(f"{method} {path}: timed out ({exc})") from exc
        except httpx.TransportError as exc:
            raise ProviderUnavailableError(f"cannot reach {self.url}: {exc}") from exc
        if answer.status_code >= 400:
            try:
                await answer.aread()
            finally:
                await answer.aclose()
            raise_for_response(answer)
        return answer

    @contextlib.asynccontextmanager
    async def _streaming(
        self,
        path: str,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> AsyncIterator[httpx.Response]:
        """A GET whose body is read as it arrives; errors mapped to the error tree."""
        answer = await self._open_stream("GET", path, params, headers)
        try:
            yield answer
        except httpx.TimeoutException as exc:
            raise ProviderUnavailableError(f"GET {path}: timed out ({exc})") from exc
        except httpx.TransportError as exc:
            raise ProviderUnavailableError(f"cannot reach {self.url}: {exc}") from exc
        finally:
            await answer.aclose()

    async def _pinned_chunks(
        self,
        path: str,
        params: dict[str, Any] | None,
        headers: dict[str, str],
        *,
        status: int,
        length: int,
    ) -> AsyncIterator[bytes]:
        """The body of a GET that must answer *status* with *length* bytes: anything else means
        the artifact changed after it was opened (PreconditionFailedError)."""
        changed = PreconditionFailedError(f"{path}: the content changed while it was opened")
        async with self._streaming(path, params, headers) as answer:
            if answer.status_code != status:
                raise changed
            received = 0
            async for chunk in answer.aiter_bytes():
                received += len(chunk)
                if received > length:
                    raise changed
                yield chunk
            if received != length:
                raise changed

    async def _open_described(
        self,
        path: str,
        params: dict[str, Any] | None,
        *,
        byte_range: ByteRange | None,
        if_range: str | None,
        if_none_match: str | None,
        head: bool,
    ) -> ArtifactContent:
        """Open content whose answer describes itself (a presigned URL, a package file): a
        ``HEAD`` learns the version (etag, digest, size, type and download name), then a
        ``GET`` pinned to it with ``If-Range`` reads the bytes asked for."""
        info = content_info(await self._request("HEAD", path, params=params))
        plan = plan_read(
            info["etag"],
            info["size"],
            byte_range=byte_range,
            if_range=if_range,
            if_none_match=if_none_match,
        )
        opened = {**info, "start": plan.start, "end": plan.end, "partial": plan.partial}
        if head or plan.not_modified:
            return ArtifactContent(**opened, not_modified=plan.not_modified)
        # Pinned to the version the HEAD saw: If-Range answers 206 only while it is current
        # (empty content has no range to ask for; its length check pins it instead).
        pinned = plan.end > plan.start
        headers = {
            "If-Range": quote_etag(info["etag"]),
            "Range": f"bytes={plan.start}-{plan.end - 1}",
        }
        chunks = self._pinned_chunks(
            path,
            params,
            headers if pinned else {},
            status=206 if pinned else 200,
            length=plan.end - plan.start,
        )
        first = await anext(chunks, b"")
        return ArtifactContent(**opened, first_chunk=first, rest=chunks)

    @staticmethod
    def _metadata(response: httpx.Response) -> ArtifactMetadata:
        return ArtifactMetadata.model_validate(response.json())

    @staticmethod
    def _list(response: httpx.Response) -> ArtifactList:
        """An ``{items, next_cursor}`` answer as an ArtifactList."""
        body = response.json()
        items = [ArtifactMetadata.model_validate(item) for item in body.get("items", [])]
        return ArtifactList(items, body.get("next_cursor"))

    async def _upload(
        self,
        content: Any,
        *,
        mime: str | None,
        summary: str,
        meta: dict[str, Any] | None,
        filename: str | None,
        session_id: str | None,
        user_id: str | None,
        ttl: Any,
        scope: Scope | str,
    ) -> ArtifactMetadata:
        if mime is not None:
            check_mime(mime)
        check_summary(summary)
        if filename is not None:
            check_filename(filename)
        params = _params(
            filename=filename,
            mime=mime,
            summary=summary or None,
            scope=str(scope.value if isinstance(scope, Scope) else scope),
            session_id=session_id,
            user_id=user_id,
            ttl=_ttl(ttl),
            meta=_meta("meta", meta),
        )
        response = await self._request(
            "POST", "/v1/artifacts", params=params, content=content, headers=_content_type(mime)
        )
        return self._metadata(response)


async def _surfacing(problem: list[BaseException], sending: Awaitable[_T]) -> _T:
    """Await *sending*, a request whose body is a :func:`_checked_body`: when the body failed
    (a bad stream, a progress callback that raised), raise that failure rather than what the
    cut-off request answered."""
    try:
        return await sending
    except BaseException as exc:
        if problem and problem[0] is not exc:
            raise problem[0] from None
        raise


async def _checked_body(
    source: AsyncIterable[bytes],
    total: int | None,
    callback: ProgressCallback | None,
    problem: list[BaseException],
) -> AsyncIterator[bytes]:
    """:func:`checked_stream` for an httpx body: on a problem, stop before the body's end (so the
    server never sees a complete upload) and keep the error for the caller."""
    try:
        async for chunk in checked_stream(source, total, callback):
            yield chunk
    except BaseException as exc:
        problem.append(exc)
        raise
