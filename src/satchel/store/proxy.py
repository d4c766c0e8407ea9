"""The pull-through cache (seed 003): files of configured remotes, fetched on first read and
kept as ordinary sandbox-scope artifacts (content-addressed blobs, metadata, events).

A read (:meth:`ProxyService.open_remote_file`) answers from the cache while the copy is fresh;
otherwise it joins the one download of that path under way in this process (single flight, see
``satchel.proxy.flight``) or starts it: a miss streams to every waiting client as it arrives, an
expired copy is revalidated (a 304 refreshes it without a download), an upstream 404 is
remembered for ``not_found_ttl``. While upstream fails (5xx, 429, timeouts, refused
connections), an expired copy is served stale rather than an error, and a remote that keeps
failing is blocked for a while (``Breaker``). The rules live in ``satchel.core.remotes`` and
``satchel.core.proxy``; downloads in ``satchel.store.proxy_fetch``.
"""

from __future__ import annotations

import base64
import dataclasses
import fnmatch
import functools
import logging
import re
from collections.abc import AsyncIterable, AsyncIterator
from typing import Any

from satchel.catalog.proxy import ProxyRows
from satchel.core.errors import (
    AccessDeniedError,
    ArtifactExpiredError,
    ArtifactNotFoundError,
    InvalidRequestError,
    RemoteUnavailableError,
    UpstreamError,
)
from satchel.core.events import Audience
from satchel.core.proxy import Breaker, ProxyAnswer, ProxyEntry, entry_id
from satchel.core.ranges import ByteRange
from satchel.core.remotes import Remote, check_proxy_path, load_remotes
from satchel.core.validation import check_limit
from satchel.proxy.flight import Flight, Flights
from satchel.proxy.upstream import Upstream
from satchel.secrets import resolve_reference
from satchel.store.content import ContentService
from satchel.store.context import StoreContext
from satchel.store.creation import ArtifactCreator
from satchel.store.gate import AccessGate
from satchel.store.ledger import BlobLedger
from satchel.store.proxy_budget import ProxyBudget
from satchel.store.proxy_fetch import FetchJob, ProxyCounters, ProxyFetcher, detect_mime

__all__ = ["ProxyService"]

_log = logging.getLogger("satchel.proxy")

_MAX_PREFETCH = 1000
_MAX_PATTERNS = 50
_MAX_PATTERN_CHARS = 256


class ProxyService:
    def __init__(
        self,
        context: StoreContext,
        gate: AccessGate,
        ledger: BlobLedger,
        creator: ArtifactCreator,
        content: ContentService,
    ) -> None:
        settings = context.settings
        self.context = context
        self.content = content
        self.remotes: dict[str, Remote] = (
            load_remotes(settings.remotes_file) if settings.remotes_file is not None else {}
        )
        self.upstream = Upstream(timeout=settings.proxy_timeout_seconds)
        self.fetcher = ProxyFetcher(context, gate, ledger, creator, self.upstream)
        spool = settings.resolved_staging_dir() / "proxy" if context.persistent else None
        self.flights = Flights(spool)
        self.breakers = {
            name: Breaker(settings.proxy_block_after_failures, settings.proxy_block_seconds)
            for name in self.remotes
        }
        self.counters = {name: ProxyCounters() for name in self.remotes}
        self.credentials = {name: credentials(remote) for name, remote in self.remotes.items()}
        self.budget = ProxyBudget(context, self.remotes, self._evict_for_budget)

    async def close(self) -> None:
        await self.flights.close()
        await self.budget.close()
        await self.upstream.close()

    def remote(self, name: str) -> Remote:
        remote = self.remotes.get(name)
        if remote is None:
            raise ArtifactNotFoundError(f"no remote named {name!r} (GET / lists them)")
        return remote

    # -- what is configured ------------------------------------------------------------------

    async def list_remotes(self) -> list[dict[str, Any]]:
        now = self.context.now()
        return [
            {
                "name": name,
                "type": remote.kind,
                "package": remote.package,
                "description": remote.description,
                "base_url": remote.base_url,
                "offline": remote.offline,
                "blocked_for": self.breakers[name].retry_after(now),
            }
            for name, remote in sorted(self.remotes.items())
        ]

    async def proxy_config(self) -> dict[str, Any]:
        settings = self.context.settings
        return {
            "remotes": {name: remote.describe() for name, remote in sorted(self.remotes.items())},
            "settings": {
                "remotes_file": None
                if settings.remotes_file is None
                else str(settings.remotes_file),
                "timeout_seconds": settings.proxy_timeout_seconds,
                "max_file_bytes": settings.proxy_max_file_bytes,
                "block_after_failures": settings.proxy_block_after_failures,
                "block_seconds": settings.proxy_block_seconds,
            },
        }

    # -- reads ---------------------------------------------------------------------------------

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
        config = self.remote(remote)
        path = check_proxy_path(path)
        if not config.allows(path):
            raise AccessDeniedError(f"{path!r} matches no include pattern of remote {remote!r}")
        conditions = {
            "byte_range": byte_range,
            "if_range": if_range,
            "if_none_match": if_none_match,
            "head": head,
        }
        counters = self.counters[remote]
        key = entry_id(self.context.sandbox_id, remote, path)
        entry = await self._entry(key)
        now = self.context.now()
        if entry is not None and entry.is_missing(now):
            counters.not_found += 1
            raise ArtifactNotFoundError(
                f"{remote} has no {path} (asked {entry.age(now):.0f} s ago)"
            )
        fresh = entry is not None and entry.is_fresh(now, _ttl(config, path))  # local: always
        if entry is not None and entry.cached and (fresh or config.offline):
            stale = None if fresh else entry.age(now)
            answer = await self._cached(config, path, entry, conditions, stale)
            if answer is not None:
                return answer
            entry = None  # its artifact is gone: fetch it again
        if config.kind == "local":
            raise ArtifactNotFoundError(f"local remote {remote!r} holds no {path}")
        if config.offline:
            raise RemoteUnavailableError(f"remote {remote!r} is offline and has no copy of {path}")
        flight = self.flights.get(key)
        if flight is None:
            breaker = self.breakers[remote]
            if not breaker.admits(now):
                blocked = RemoteUnavailableError(
                    f"remote {remote!r} is failing; not asked again for a while",
                    retry_after=breaker.retry_after(now),
                )
                if entry is not None and entry.cached:
                    return await self._stale(config, path, entry, conditions, blocked)
                raise blocked

            job = FetchJob(
                config,
                path,
                entry,
                breaker,
                counters,
                self.credentials[remote],
                on_fetched=self._within_budget,
            )
            flight = self.flights.join(key, functools.partial(self.fetcher.fetch, job=job))
        return await self._from_flight(config, path, flight, entry, conditions)

    async def _from_flight(
        self,
        remote: Remote,
        path: str,
        flight: Flight,
        entry: ProxyEntry | None,
        conditions: dict[str, Any],
    ) -> ProxyAnswer:
        await flight.started.wait()
        if flight.error is not None:
            if entry is not None and entry.cached and isinstance(flight.error, UpstreamError):
                return await self._stale(remote, path, entry, conditions, flight.error_copy())
            flight.raise_error()
        if flight.streaming:
            info = flight.info
            return ProxyAnswer(
                source="remote",
                remote=remote.name,
                path=path,
                mime=info["mime"],
                size=info["size"],
                chunks=None if conditions["head"] else flight.read(),
            )
        outcome, fresh = flight.result
        if outcome == "missing":
            raise ArtifactNotFoundError(f"{remote.name} has no {path}")
        answer = await self._cached(remote, path, fresh, conditions, None)
        if answer is None:
            raise UpstreamError(f"{remote.name}: the copy of {path} vanished while revalidated")
        return answer

    async def _within_budget(self, entry: ProxyEntry) -> None:
        """After *entry*'s file was cached: evict what its remote's budget and the overall one
        no longer hold (a failure to evict is logged; the download stands)."""
        self.budget.used(entry.entry_id)
        try:
            await self.budget.enforce(self.remote(entry.remote), keep=entry.entry_id)
        except Exception:
            _log.exception("keeping the pull-through cache within its budget failed")

    async def _stale(
        self,
        remote: Remote,
        path: str,
        entry: ProxyEntry,
        conditions: dict[str, Any],
        failure: BaseException,
    ) -> ProxyAnswer:
        """The expired copy, since upstream cannot be asked (*failure* says why; it is raised
        when the copy is gone too)."""
        self.counters[remote.name].stale += 1
        answer = await self._cached(remote, path, entry, conditions, entry.age(self.context.now()))
        if answer is None:
            raise failure
        return answer

    async def _cached(
        self,
        remote: Remote,
        path: str,
        entry: ProxyEntry,
        conditions: dict[str, Any],
        stale_age: float | None,
    ) -> ProxyAnswer | None:
        """The cached copy opened (None when its artifact is gone: deleted by hand)."""
        assert entry.artifact_id is not None
        try:
            content = await self.content.open_content(entry.artifact_id, **conditions)
        except (ArtifactNotFoundError, ArtifactExpiredError):
            return None
        counters = self.counters[remote.name]
        counters.hits += 1
        if not content.not_modified and not conditions["head"]:
            counters.bytes_from_cache += content.length
            self.budget.used(entry.entry_id)
            content = self.budget.serve(content)
        return ProxyAnswer(
            source="cache",
            remote=remote.name,
            path=path,
            mime=content.mime,
            size=content.size,
            content=content,
            stale_age=stale_age,
        )

    async def _entry(self, key: str) -> ProxyEntry | None:
        await self.context.ensure_open()
        async with self.context.catalog.read() as reader:
            return await ProxyRows(reader.conn).get(key)

    # -- management ------------------------------------------------------------------------------

    async def prefetch_remote_files(
        self, remote: str, paths: list[str], *, patterns: list[str] | None = None
    ) -> list[dict[str, Any]]:
        """Cache each of *paths* (those matching one of the glob *patterns* too, when given)
        and say what became of it: ``cached`` (was fresh), ``fetched``, ``revalidated``,
        ``skipped`` (matches no pattern), ``missing``, ``stale`` (upstream could not be asked;
        the copy kept is expired) or ``failed`` (with ``error``)."""
        config = self.remote(remote)
        if config.kind == "local":
            raise InvalidRequestError(f"remote {remote!r} is local: it has nothing to fetch")
        if not isinstance(paths, list) or not 1 <= len(paths) <= _MAX_PREFETCH:
            raise InvalidRequestError(f"paths: a list of 1 to {_MAX_PREFETCH} paths")
        if patterns is not None and (
            not isinstance(patterns, list) or len(patterns) > _MAX_PATTERNS
        ):
            raise InvalidRequestError(f"patterns: a list of at most {_MAX_PATTERNS} globs")
        wanted = [_glob(pattern) for pattern in patterns or []]
        results = []
        for path in paths:
            if not isinstance(path, str):
                raise InvalidRequestError("paths are strings")
            results.append(await self._prefetch_one(config, path, wanted))
        return results

    async def _prefetch_one(
        self, remote: Remote, path: str, wanted: list[re.Pattern[str]]
    ) -> dict[str, Any]:
        result: dict[str, Any] = {"path": path}
        if wanted and not any(pattern.match(path) for pattern in wanted):
            return {**result, "status": "skipped"}
        key = entry_id(self.context.sandbox_id, remote.name, path)
        try:
            check_proxy_path(path)
            before = await self._entry(key)
            answer = await self.open_remote_file(remote.name, path, head=True)
            await answer.aclose()
            if answer.stale_age is not None:
                why = "upstream could not be asked; the cached copy is stale"
                return {**result, "status": "stale", "error": why}
            if answer.source == "remote":
                flight = self.flights.get(key)
                if flight is not None:
                    await flight.finished.wait()
                    flight.raise_error()
            after = await self._entry(key)
        except ArtifactNotFoundError:
            return {**result, "status": "missing"}
        except (InvalidRequestError, AccessDeniedError) as exc:
            return {**result, "status": "skipped", "error": exc.message}
        except (UpstreamError, RemoteUnavailableError) as exc:
            return {**result, "status": "failed", "error": exc.message}
        status = "cached"
        if after is not None and (before is None or before.artifact_id != after.artifact_id):
            status = "fetched"
        elif after is not None and before is not None and after.checked_at != before.checked_at:
            status = "revalidated"
        if after is not None:
            result.update(sha256=after.sha256, bytes=after.bytes, artifact_id=after.artifact_id)
        return {**result, "status": status}

    async def list_cached_files(
        self, remote: str, *, after: str | None = None, prefix: str | None = None, limit: int = 100
    ) -> dict[str, Any]:
        """Cached files of *remote* in path order: ``items`` and ``next`` (the ``after`` of
        the next page, None at the end)."""
        self.remote(remote)
        limit = check_limit(limit)
        await self.context.ensure_open()
        now = self.context.now()
        async with self.context.catalog.read() as reader:
            page = await ProxyRows(reader.conn).listing(
                self.context.sandbox_id, remote, after=after, prefix=prefix, limit=limit + 1
            )
        config = self.remote(remote)
        items = [_listed(entry, now, config) for entry in page[:limit]]
        return {
            "remote": remote,
            "items": items,
            "next": page[limit - 1].path if len(page) > limit else None,
        }

    async def evict_cached_files(
        self, remote: str, *, path: str | None = None, prefix: str | None = None
    ) -> dict[str, Any]:
        """Drop the cached copy of *path*, or of every path starting with *prefix* (``""``:
        all of the remote's): ``evicted`` paths, those ``kept`` by a hold or retention, and
        the remembered 404s ``forgotten``."""
        self.remote(remote)
        if (path is None) == (prefix is None):
            raise InvalidRequestError("name a path or a prefix (an empty prefix: everything)")
        if path is not None:
            path = check_proxy_path(path)
        await self.context.ensure_open()
        evicted: list[str] = []
        kept: list[str] = []
        forgotten: list[str] = []  # remembered 404s
        after: str | None = None
        while True:
            async with self.context.catalog.read() as reader:
                page = await ProxyRows(reader.conn).listing(
                    self.context.sandbox_id,
                    remote,
                    after=after,
                    prefix=path if path is not None else prefix,
                    limit=200,
                    cached_only=False,
                )
            if path is not None:
                page = [entry for entry in page if entry.path == path]
            if not page:
                break
            lists = {"evicted": evicted, "kept": kept, "forgotten": forgotten}
            for entry in page:
                outcome = await self._evict(entry)
                if outcome is not None:
                    lists[outcome].append(entry.path)
            after = page[-1].path
            if path is not None:
                break
        await self.fetcher.ledger.collect_if_eager()
        return {"remote": remote, "evicted": evicted, "kept": kept, "forgotten": forgotten}

    async def _evict(self, entry: ProxyEntry, reason: str = "asked") -> str | None:
        """Drop *entry*'s copy and row, as they are now: ``evicted``, ``forgotten`` (a
        remembered 404), ``kept`` (a hold or retention keeps the copy), or None when there is
        nothing to do (gone; or, for the budget, holding another copy than the one chosen)."""
        now = self.context.now()
        async with self.context.catalog.write() as writer:
            rows = ProxyRows(writer.conn)
            current = await rows.lock(entry.entry_id)
            if current is None:
                return None
            if reason == "budget" and current.artifact_id != entry.artifact_id:
                return None  # fetched again since it was chosen: no longer the oldest
            if current.artifact_id is not None and not await self.fetcher.drop_artifact(
                writer, current.artifact_id, "eviction"
            ):
                return "kept"
            await rows.delete(current.entry_id)
            await writer.append_event(
                type="v1.proxy.evicted",
                subject=current.entry_id,
                payload={
                    "remote": current.remote,
                    "path": current.path,
                    "artifact_id": current.artifact_id,
                    "reason": reason,
                },
                actor=None,
                time=now,
                audience=Audience.everyone(self.context.sandbox_id),
            )
        return "evicted" if current.cached else "forgotten"

    async def _evict_for_budget(self, entry: ProxyEntry) -> bool:
        return await self._evict(entry, "budget") == "evicted"

    async def proxy_stats(self) -> dict[str, Any]:
        """Per remote: this process's counters, and the files and bytes cached (all replicas)."""
        await self.context.ensure_open()
        async with self.context.catalog.read() as reader:
            usage = await ProxyRows(reader.conn).usage(self.context.sandbox_id)
        now = self.context.now()
        stats = {}
        for name in sorted(self.remotes):
            counters = self.counters[name]
            asked = counters.hits + counters.misses
            stats[name] = {
                **dataclasses.asdict(counters),
                "hit_ratio": None if asked == 0 else round(counters.hits / asked, 4),
                "cached_files": usage.get(name, {}).get("files", 0),
                "cached_bytes": usage.get(name, {}).get("bytes", 0),
                "blocked_for": self.breakers[name].retry_after(now),
            }
        return {"remotes": stats}

    async def put_remote_file(
        self,
        remote: str,
        path: str,
        data: bytes | AsyncIterable[bytes],
        *,
        mime: str | None = None,
    ) -> dict[str, Any]:
        """Store a file in a ``local`` remote at *path* (replacing what was there)."""
        config = self.remote(remote)
        if config.kind != "local":
            raise InvalidRequestError(
                f"remote {remote!r} fetches from upstream; upload to a local one"
            )
        path = check_proxy_path(path)
        await self.context.ensure_open()
        chunks = _chunks(data)
        entry = await self.fetcher.store_local(config, path, chunks, detect_mime(path, mime))
        self.budget.used(entry.entry_id)
        return _listed(entry, self.context.now(), config)


async def _chunks(data: bytes | AsyncIterable[bytes]) -> AsyncIterator[bytes]:
    if isinstance(data, (bytes, bytearray, memoryview)):
        yield bytes(data)
        return
    async for chunk in data:
        yield chunk


def credentials(remote: Remote) -> dict[str, str]:
    """The headers that sign in to *remote* (its references resolved now: a reference to
    nothing stops the store at start, naming the remote)."""
    auth = remote.auth
    if auth is None:
        return {}
    what = f"remote {remote.name!r}: auth"
    if auth.kind == "bearer":
        assert auth.token is not None
        return {"Authorization": f"Bearer {resolve_reference(auth.token, what + '.token')}"}
    assert auth.username is not None
    assert auth.password is not None
    username = auth.username
    if username.startswith(("env:", "file:")):
        username = resolve_reference(username, what + ".username")
    password = resolve_reference(auth.password, what + ".password")
    pair = base64.b64encode(f"{username}:{password}".encode()).decode()
    return {"Authorization": f"Basic {pair}"}


def _ttl(remote: Remote, path: str) -> int:
    return 0 if remote.kind == "local" else remote.ttl_of(path)


def _listed(entry: ProxyEntry, now: float, remote: Remote) -> dict[str, Any]:
    ttl = _ttl(remote, entry.path)
    return {
        "path": entry.path,
        "artifact_id": entry.artifact_id,
        "sha256": entry.sha256,
        "bytes": entry.bytes,
        "fetched_at": entry.fetched_at,
        "checked_at": entry.checked_at,
        "fresh_until": entry.expires(ttl),
        "fresh": entry.is_fresh(now, ttl),
    }


def _glob(pattern: object) -> re.Pattern[str]:
    """A caller's pattern: a shell-style glob over the whole path (``*`` crosses ``/``), not a
    regular expression, so no pattern can make matching take exponential time."""
    if not isinstance(pattern, str) or not 1 <= len(pattern) <= _MAX_PATTERN_CHARS:
        raise InvalidRequestError(f"patterns are globs of 1 to {_MAX_PATTERN_CHARS} characters")
    return re.compile(fnmatch.translate(pattern))
