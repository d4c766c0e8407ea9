"""The pull-through cache's downloads: ask upstream (conditionally when a copy is cached), stream
the answer into a flight and a blob at once, judge it (size and digest as declared), and commit
the artifact and its entry in one transaction; record 304s and 404s.

Each download runs as a flight's task (``satchel.proxy.flight``): :meth:`ProxyFetcher.fetch`
ends it with ``succeed(outcome)`` or by raising. Outcomes: ``("fetched", entry)``,
``("revalidated", entry)``, ``("missing", None)``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable
from typing import Any

from satchel.catalog import CatalogWriter
from satchel.catalog.proxy import ProxyRows
from satchel.core.errors import InvalidRequestError, RetainedError, TooLargeError, UpstreamError
from satchel.core.events import Audience
from satchel.core.ids import new_artifact_id
from satchel.core.mime import guess_mime
from satchel.core.models import BlobInfo
from satchel.core.proxy import (
    Breaker,
    ProxyEntry,
    declared_digest,
    declared_length,
    entry_id,
    fresh_until,
)
from satchel.core.remotes import Remote, checksum_from, is_index_file, public_url
from satchel.core.validation import check_mime
from satchel.proxy.flight import Flight
from satchel.proxy.upstream import Upstream, UpstreamAnswer
from satchel.store.context import StoreContext
from satchel.store.creation import ArtifactCreator
from satchel.store.gate import AccessGate
from satchel.store.ledger import BlobLedger
from satchel.store.proxy_lease import FetchLease

__all__ = ["FetchJob", "ProxyCounters", "ProxyFetcher", "detect_mime"]

_BLOB_PIECE = 1024 * 1024
_MAX_CHECKSUM_FILE = 64 * 1024


@dataclasses.dataclass(slots=True)
class ProxyCounters:
    """What one remote did in this process (``satchel proxy stats``, ``/metrics``)."""

    hits: int = 0
    misses: int = 0
    stale: int = 0
    revalidated: int = 0
    not_found: int = 0
    upstream_errors: int = 0
    bytes_from_cache: int = 0
    bytes_fetched: int = 0


def detect_mime(path: str, declared: str | None) -> str:
    """The media type of a remote file: from its name, else as upstream declared it, else
    ``application/octet-stream``."""
    guessed = guess_mime(path.rsplit("/", 1)[-1])
    if guessed != "application/octet-stream" or not declared:
        return guessed
    try:
        return check_mime(declared.split(";", 1)[0].strip())
    except InvalidRequestError:
        return guessed


@dataclasses.dataclass(frozen=True, slots=True)
class FetchJob:
    """One path to ask a remote for: what the cache holds of it (*entry*), the remote's
    breaker, counters and credentials, and what to do once a download is committed."""

    remote: Remote
    path: str
    entry: ProxyEntry | None
    breaker: Breaker
    counters: ProxyCounters
    credentials: dict[str, str]
    on_fetched: Callable[[ProxyEntry], Awaitable[None]] | None = None


class ProxyFetcher:
    def __init__(
        self,
        context: StoreContext,
        gate: AccessGate,
        ledger: BlobLedger,
        creator: ArtifactCreator,
        upstream: Upstream,
    ) -> None:
        self.context = context
        self.gate = gate
        self.ledger = ledger
        self.creator = creator
        self.upstream = upstream
        self.lease = FetchLease(context)

    async def fetch(self, flight: Flight, job: FetchJob) -> None:
        """Ask upstream for *job*'s path and end *flight* (``succeed(outcome)`` or raise);
        ``job.on_fetched`` runs after a download is committed, before the readers get its last
        byte. While another replica downloads the path, wait for its outcome instead."""
        key = entry_id(self.context.sandbox_id, job.remote.name, job.path)
        while not await self.lease.claim(key):
            outcome = await self.lease.wait_for_peer(key, job.entry)
            if outcome is not None:
                flight.succeed(outcome)
                return
        try:
            await self._ask(flight, job)
        finally:
            await self.lease.release(key)

    async def _ask(self, flight: Flight, job: FetchJob) -> None:
        remote, path, entry, counters = job.remote, job.path, job.entry, job.counters
        validators: dict[str, str] = {}
        if entry is not None and entry.cached:
            if entry.upstream_etag:
                validators["If-None-Match"] = entry.upstream_etag
            if entry.upstream_modified:
                validators["If-Modified-Since"] = entry.upstream_modified
        try:
            answer = await self.upstream.get(
                remote, path, validators=validators, credentials=job.credentials
            )
        except UpstreamError as exc:
            if exc.blames_upstream:
                job.breaker.failed(self.context.now())
                counters.upstream_errors += 1
            raise
        try:
            status = answer.status
            if status == 429 or status >= 500:
                job.breaker.failed(self.context.now())
                counters.upstream_errors += 1
                raise UpstreamError(f"{remote.name}: upstream answered {status} for {path}")
            job.breaker.succeeded()
            if status == 304 and entry is not None and entry.cached:
                fresh = await self._revalidated(remote, entry, answer)
                if fresh is None:  # the copy went meanwhile: ask for the file itself
                    await answer.aclose()
                    await self._ask(flight, dataclasses.replace(job, entry=None))
                    return
                counters.revalidated += 1
                flight.succeed(("revalidated", fresh))
            elif status in (404, 410):
                counters.not_found += 1
                await self._missing(remote, path, entry)
                flight.succeed(("missing", None))
            elif status != 200:
                counters.upstream_errors += 1
                raise UpstreamError(f"{remote.name}: upstream answered {status} for {path}")
            else:
                counters.misses += 1
                listed = await self._listed_digest(remote, path, job.credentials)
                fetched = await self._download(flight, remote, path, answer, listed)
                counters.bytes_fetched += fetched.bytes or 0
                if job.on_fetched is not None:
                    await job.on_fetched(fetched)
                flight.succeed(("fetched", fetched))
        finally:
            await answer.aclose()

    # -- a 200: stream, judge, commit ------------------------------------------------------------

    async def _listed_digest(
        self, remote: Remote, path: str, credentials: dict[str, str]
    ) -> str | None:
        """The sha256 the remote's checksum file next to *path* gives (None: the remote names
        no checksum files, upstream has none for this path, or it does not mention it)."""
        suffix = remote.checksum_suffix
        if suffix is None or path.endswith(suffix) or is_index_file(remote.package, path):
            return None
        answer = await self.upstream.get(remote, path + suffix, credentials=credentials)
        try:
            if answer.status in (404, 410):
                return None
            if answer.status != 200:
                raise UpstreamError(
                    f"{remote.name}: the checksum file {path + suffix} answered {answer.status}"
                )
            body = b""
            async for chunk in answer.chunks():
                body += chunk
                if len(body) > _MAX_CHECKSUM_FILE:
                    raise UpstreamError(f"{remote.name}: {path + suffix} is too large")
        finally:
            await answer.aclose()
        return checksum_from(body.decode("utf-8", "replace"), path.rsplit("/", 1)[-1])

    async def _download(
        self,
        flight: Flight,
        remote: Remote,
        path: str,
        answer: UpstreamAnswer,
        listed: str | None = None,
    ) -> ProxyEntry:
        settings = self.context.settings
        limit = min(
            settings.proxy_max_file_bytes, remote.max_file_bytes or settings.max_upload_bytes
        )
        length = declared_length(answer.headers)
        if length is not None and length > limit:
            raise UpstreamError(f"{remote.name}: {path} is {length} bytes, more than {limit}")
        mime = detect_mime(path, answer.headers.get("content-type"))
        flight.start(mime=mime, size=length)
        key = entry_id(self.context.sandbox_id, remote.name, path)

        async def tee() -> AsyncIterator[bytes]:
            """Each chunk to the flight's readers at once; to the blob in pieces of about
            1 MiB (one write, one hop to the writer's thread, per piece, not per 64 KiB)."""
            received = 0
            pending: list[bytes] = []
            pending_bytes = 0
            async for chunk in answer.chunks():
                received += len(chunk)
                if length is not None and received > length:
                    raise UpstreamError(f"{remote.name}: {path} is longer than declared")
                await flight.append(chunk)
                await self.lease.keep(key)  # renewed a third of the way in, however slow
                pending.append(chunk)
                pending_bytes += len(chunk)
                if pending_bytes >= _BLOB_PIECE:
                    yield b"".join(pending)
                    pending.clear()
                    pending_bytes = 0
            if length is not None and received != length:
                raise UpstreamError(
                    f"{remote.name}: {path} ended after {received} of {length} bytes"
                )
            if pending:
                yield b"".join(pending)
            await flight.drain()

        shown = public_url(answer.url)  # a redirect's signed query is not kept or published
        meta = {"proxy": {"remote": remote.name, "path": path, "url": shown}}
        backend = self.ledger.route(meta, None, None)
        expected = declared_digest(answer.headers)
        if listed is not None and expected is not None and listed != expected:
            raise UpstreamError(
                f"{remote.name}: {path}: upstream declares {expected}, its checksum file {listed}"
            )
        expected = expected or listed
        try:
            info = await self.ledger.put(
                tee(), backend=backend, max_bytes=limit, expected_digest=expected
            )
        except TooLargeError:
            raise UpstreamError(f"{remote.name}: {path} is larger than {limit} bytes") from None
        except InvalidRequestError as exc:  # the digest upstream declared does not match
            raise UpstreamError(f"{remote.name}: {path}: {exc}") from None
        upstream = {
            "url": shown,
            "etag": answer.headers.get("etag"),
            "modified": answer.headers.get("last-modified"),
        }
        try:
            return await self._commit(remote, path, upstream, mime, meta, info, backend)
        except BaseException:
            await self.ledger.discard(info, backend)
            raise

    async def store_local(
        self, remote: Remote, path: str, chunks: AsyncIterable[bytes], mime: str
    ) -> ProxyEntry:
        """Store an upload to a local remote's *path* (its entry never goes stale)."""
        meta = {"proxy": {"remote": remote.name, "path": path, "url": None}}
        backend = self.ledger.route(meta, None, None)
        limit = remote.max_file_bytes or self.context.settings.max_upload_bytes
        info = await self.ledger.put(chunks, backend=backend, max_bytes=limit)
        upstream: dict[str, str | None] = {"url": None, "etag": None, "modified": None}
        try:
            return await self._commit(remote, path, upstream, mime, meta, info, backend)
        except BaseException:
            await self.ledger.discard(info, backend)
            raise

    async def _commit(
        self,
        remote: Remote,
        path: str,
        upstream: dict[str, str | None],
        mime: str,
        meta: dict[str, Any],
        info: BlobInfo,
        backend: str,
    ) -> ProxyEntry:
        context = self.context
        event_type = "v1.proxy.fetched" if upstream["url"] else "v1.proxy.uploaded"
        spec = self.creator.spec(
            mime=mime,
            summary="",
            meta=meta,
            filename=f"{remote.name}/{path}",
            ttl=None,
            scope="sandbox",
            user_id=None,
            session_id=None,
        )
        caller, owner = await self.creator.prepare_owner(spec)
        session = await self.gate.resolve_session(caller, None)
        artifact_id = new_artifact_id()
        now = context.now()
        entry = ProxyEntry(
            entry_id=_entry_id(context, remote, path),
            sandbox_id=context.sandbox_id,
            remote=remote.name,
            path=path,
            artifact_id=artifact_id,
            sha256=info.digest,
            bytes=info.size,
            upstream_etag=upstream["etag"],
            upstream_modified=upstream["modified"],
            fetched_at=now,
            checked_at=now,
            fresh_until=fresh_until(0 if remote.kind == "local" else remote.ttl_of(path), now),
            missing_until=None,
        )

        async def record_entry(writer: CatalogWriter) -> None:
            replaced = await self.replace_entry(writer, entry, "replacement")
            payload = {"url": upstream["url"], "replaced": replaced}
            await self._event(writer, event_type, entry, payload, now)

        await self.creator.commit(
            spec,
            caller,
            owner,
            session,
            info,
            "v1.artifact.stored",
            backend,
            artifact_id=artifact_id,
            in_transaction=record_entry,
        )
        return entry

    # -- 304 and 404 ------------------------------------------------------------------------------

    async def _revalidated(
        self, remote: Remote, entry: ProxyEntry, answer: UpstreamAnswer
    ) -> ProxyEntry | None:
        """Upstream confirmed *entry*'s copy: fresh again. None when the entry no longer holds
        that copy (evicted or replaced meanwhile): the caller downloads afresh."""
        now = self.context.now()
        async with self.context.catalog.write() as writer:
            rows = ProxyRows(writer.conn)
            current = await rows.lock(entry.entry_id)
            if current is None or current.artifact_id != entry.artifact_id:
                return None
            fresh = dataclasses.replace(
                current,
                checked_at=now,
                fresh_until=fresh_until(remote.ttl_of(entry.path), now),
                upstream_etag=answer.headers.get("etag") or current.upstream_etag,
                upstream_modified=answer.headers.get("last-modified") or current.upstream_modified,
            )
            await rows.touch(
                entry.entry_id,
                checked_at=fresh.checked_at,
                fresh_until=fresh.fresh_until,
                upstream_etag=fresh.upstream_etag,
                upstream_modified=fresh.upstream_modified,
            )
            await self._event(writer, "v1.proxy.revalidated", fresh, {}, now)
        return fresh

    async def _missing(self, remote: Remote, path: str, entry: ProxyEntry | None) -> None:
        """Upstream has no *path*: remember it for ``not_found_ttl`` (a copy cached before is
        let go: upstream is the truth when it answers)."""
        context = self.context
        now = context.now()
        missing = ProxyEntry(
            entry_id=_entry_id(context, remote, path),
            sandbox_id=context.sandbox_id,
            remote=remote.name,
            path=path,
            artifact_id=None,
            sha256=None,
            bytes=None,
            upstream_etag=None,
            upstream_modified=None,
            fetched_at=entry.fetched_at if entry is not None else now,
            checked_at=now,
            fresh_until=None,
            missing_until=now + remote.cache.not_found_ttl,
        )
        if remote.cache.not_found_ttl == 0 and (entry is None or not entry.cached):
            return  # nothing to remember, nothing to let go
        async with context.catalog.write() as writer:
            # remembered 404s that lapsed go as new ones come: their rows do not pile up
            await ProxyRows(writer.conn).forget_lapsed(context.sandbox_id, now, 100)
            replaced = await self.replace_entry(writer, missing, "replacement")
            await self._event(writer, "v1.proxy.missing", missing, {"replaced": replaced}, now)
        await self.ledger.collect_if_eager()

    # -- entries ----------------------------------------------------------------------------------

    async def replace_entry(self, writer: CatalogWriter, entry: ProxyEntry, why: str) -> str | None:
        """Write *entry* in place of the one of its id; the artifact the old one held is deleted
        (kept, only no longer the cached copy, while a hold or retention keeps it). Returns
        the old artifact's id."""
        rows = ProxyRows(writer.conn)
        old = await rows.lock(entry.entry_id)
        await rows.put(entry, exists=old is not None)
        if old is None or old.artifact_id is None or old.artifact_id == entry.artifact_id:
            return None
        await self.drop_artifact(writer, old.artifact_id, why)
        return old.artifact_id

    async def drop_artifact(self, writer: CatalogWriter, artifact_id: str, why: str) -> bool:
        """Delete a cached copy's artifact in *writer*'s transaction, unless a hold or
        retention keeps it (False)."""
        context = self.context
        record = await writer.get_artifact(artifact_id, context.sandbox_id)
        if record is None:
            return True
        try:
            await self.gate.guard_removal(writer, record, what=why)
        except RetainedError:
            return False
        now = context.now()
        await writer.delete_artifact(artifact_id)
        await self.ledger.release(writer, record.sha256, now, record.storage_provider)
        await writer.append_event(
            type="v1.artifact.deleted",
            subject=artifact_id,
            payload={"sha256": record.sha256, "reason": why},
            actor=None,
            time=now,
            audience=Audience.of(record),
        )
        return True

    async def _event(
        self,
        writer: CatalogWriter,
        type: str,
        entry: ProxyEntry,
        extra: dict[str, Any],
        now: float,
    ) -> None:
        payload = {
            "remote": entry.remote,
            "path": entry.path,
            "artifact_id": entry.artifact_id,
            "sha256": entry.sha256,
            "bytes": entry.bytes,
            **extra,
        }
        await writer.append_event(
            type=type,
            subject=entry.entry_id,
            payload=payload,
            actor=None,
            time=now,
            audience=Audience.everyone(self.context.sandbox_id),
        )


def _entry_id(context: StoreContext, remote: Remote, path: str) -> str:
    return entry_id(context.sandbox_id, remote.name, path)
