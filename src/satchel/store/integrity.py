"""``storage check`` (fsck): the catalog, the blob backends and upload staging agree.

Found, and with ``repair`` fixed where that is safe:

======================  ==============================================  =========================
kind                    what                                            repair
======================  ==============================================  =========================
``missing_blob``        an artifact's bytes are not in its backend      none (reported)
``size_mismatch``       a blob's size differs from its artifacts'       none (reported)
``digest_mismatch``     (``verify``) a blob's bytes hash otherwise      none (reported)
``untracked_blob``      bytes no catalog row knows (a crash between     handed to garbage
                        storing them and committing)                    collection
``ledger_unlinked``     an artifact's blob has no ledger row            ledger row recreated
``ledger_orphan_flag``  a referenced blob is marked orphaned             mark cleared
``ledger_dangling``     a ledger row for bytes that are gone            row removed
``abandoned_temp``      a backend temp file or staged chunks of a       removed
                        put whose process is gone
``abandoned_staging``   staged upload bytes no live upload owns         removed
``stale_upload``        an unfinished upload past its expiry            purged (this sandbox)
``staged_short``        an upload's committed offset exceeds its        none (reported)
                        staged bytes
======================  ==============================================  =========================

Work in flight (a put or an upload body being written by a live process) is counted, never
touched. Checking reads the whole catalog and lists every blob: run it when convenient.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

from satchel._process import name_owner_is_dead
from satchel.blobs.base import LeavesLeftovers, rehash
from satchel.blobs.staging import ListableStaging, StagedEntry
from satchel.core.events import Audience
from satchel.core.uploads import UploadKind, UploadRecord, UploadState
from satchel.store.context import StoreContext
from satchel.store.ledger import BlobLedger
from satchel.store.uploads import ACCEPTED_BODY, Uploads

__all__ = ["StorageCheck"]

_LISTED = 1000  # problems listed in the report (all are counted)
_QUIET_STAGING_SECONDS = 3600  # a staged key of unknown writer untouched this long is abandoned
_UNFINISHED = (UploadState.OPEN, UploadState.UPLOADED)


class _Report:
    def __init__(self, repair: bool) -> None:
        self.repair = repair
        self.problems: list[dict[str, Any]] = []
        self.counts: dict[str, int] = {}
        self.unresolved = 0
        self.repaired = 0
        self.in_flight = 0
        self.checked: dict[str, int] = {}

    def add(self, kind: str, subject: str, detail: str, *, repaired: bool = False) -> None:
        self.counts[kind] = self.counts.get(kind, 0) + 1
        if repaired:
            self.repaired += 1
        else:
            self.unresolved += 1
        if len(self.problems) < _LISTED:
            entry = {"kind": kind, "subject": subject, "detail": detail, "repaired": repaired}
            self.problems.append(entry)

    def result(self) -> dict[str, Any]:
        return {
            "clean": self.unresolved == 0,
            "repair": self.repair,
            "repaired": self.repaired,
            "unresolved": self.unresolved,
            "in_flight": self.in_flight,
            "counts": self.counts,
            "checked": self.checked,
            "problems": self.problems,
        }


class StorageCheck:
    def __init__(self, context: StoreContext, ledger: BlobLedger, uploads: Uploads) -> None:
        self.context = context
        self.ledger = ledger
        self.uploads = uploads

    async def check_storage(self, *, repair: bool = False, verify: bool = False) -> dict[str, Any]:
        context = self.context
        await context.ensure_open()
        report = _Report(repair)
        async with context.catalog.read() as reader:
            references = await reader.blob_references()
            manifests = await reader.manifest_references()
            ledger_rows = await reader.blob_ledger()
            all_uploads = await reader.all_uploads()
        stored = await self._stored_blobs()
        # A manifest's row records no size: its stored size stands in (a missing one is -1).
        references += [(b, d, stored.get((b, d), -1)) for b, d in manifests]
        report.checked = {
            "artifact_blobs": len({(b, d) for b, d, _ in references}),
            "ledger_rows": len(ledger_rows),
            "stored_blobs": len(stored),
            "uploads": len(all_uploads),
        }
        await self._blobs(report, references, ledger_rows, stored, verify=verify)
        await self._temps(report)
        await self._staging(report, all_uploads)
        await self._stale_uploads(report, all_uploads)
        return report.result()

    # -- blobs ---------------------------------------------------------------------------------

    async def _stored_blobs(self) -> dict[tuple[str, str], int]:
        stored: dict[tuple[str, str], int] = {}
        for backend, blobs in self.context.backends.items():
            cursor: str | None = None
            while True:
                page = await blobs.list_page(cursor=cursor, limit=1000)
                for info in page.blobs:
                    stored[(backend, info.digest)] = info.size
                if page.next_cursor is None:
                    break
                cursor = page.next_cursor
        return stored

    async def _blobs(
        self,
        report: _Report,
        references: list[tuple[str, str, int]],
        ledger_rows: list[tuple[str, str, int, float | None]],
        stored: dict[tuple[str, str], int],
        *,
        verify: bool,
    ) -> None:
        configured = set(self.context.backends)
        ledger = {(backend, digest): orphaned for backend, digest, _, orphaned in ledger_rows}
        referenced: dict[tuple[str, str], set[int]] = {}
        for backend, digest, size in references:
            referenced.setdefault((backend, digest), set()).add(size)
        to_reference: list[tuple[str, str, int]] = []
        for key, sizes in referenced.items():
            backend, digest = key
            if backend not in configured:
                continue
            subject = f"{backend}:{digest}"
            if key not in stored:
                report.add("missing_blob", subject, "artifacts point at bytes that are gone")
                continue
            actual = stored[key]
            if sizes != {actual}:
                wanted = ", ".join(str(size) for size in sorted(sizes))
                report.add("size_mismatch", subject, f"stored {actual} bytes, catalog {wanted}")
            elif verify and not await self._hashes_to(backend, digest):
                report.add("digest_mismatch", subject, "the stored bytes hash otherwise")
            if key not in ledger:
                to_reference.append((backend, digest, actual))
                report.add("ledger_unlinked", subject, "no ledger row", repaired=report.repair)
            elif ledger[key] is not None:
                to_reference.append((backend, digest, actual))
                report.add("ledger_orphan_flag", subject, "marked orphaned", repaired=report.repair)
        untracked = [
            (backend, digest, size)
            for (backend, digest), size in stored.items()
            if (backend, digest) not in ledger and (backend, digest) not in referenced
        ]
        for backend, digest, size in untracked:
            report.add(
                "untracked_blob",
                f"{backend}:{digest}",
                f"{size} bytes no catalog row knows",
                repaired=report.repair,
            )
        dangling = [
            key
            for key in ledger
            if key[0] in configured and key not in stored and key not in referenced
        ]
        for backend, digest in dangling:
            report.add(
                "ledger_dangling", f"{backend}:{digest}", "bytes gone", repaired=report.repair
            )
        if report.repair:
            await self._repair_ledger(to_reference, untracked, dangling)

    async def _hashes_to(self, backend: str, digest: str) -> bool:
        return (await rehash(self.context.blob_backend(backend), digest)).digest == digest

    async def _repair_ledger(
        self,
        to_reference: Iterable[tuple[str, str, int]],
        untracked: Iterable[tuple[str, str, int]],
        dangling: Iterable[tuple[str, str]],
    ) -> None:
        context = self.context
        now = context.now()
        async with context.catalog.write() as writer:

            async def mended(digest: str, backend: str, repair: str) -> None:
                await writer.append_event(
                    type="v1.blob.mended",
                    subject=digest,
                    payload={"backend": backend, "repair": repair},
                    actor=None,
                    time=now,
                    audience=Audience.admins(context.sandbox_id),
                )

            for backend, digest, size in to_reference:
                await writer.reference_blob(digest, size, now, backend=backend)
                await mended(digest, backend, "referenced")
            for backend, digest, size in untracked:
                # Into the ledger as orphaned: GC removes it after the grace period, and a write
                # committing the same bytes meanwhile simply references it.
                await writer.reference_blob(digest, size, now, backend=backend)
                await self.ledger.release(writer, digest, now, backend)
                await mended(digest, backend, "orphaned")
            for backend, digest in dangling:
                if not await writer.blob_referenced(digest, backend=backend):
                    await writer.forget_blob(digest, backend=backend)
                    await mended(digest, backend, "forgotten")

    # -- temp files and staging ----------------------------------------------------------------

    async def _temps(self, report: _Report) -> None:
        count = 0
        for backend, blobs in self.context.backends.items():
            if not isinstance(blobs, LeavesLeftovers):
                continue
            for leftover in await blobs.leftovers():
                count += 1
                if not leftover.abandoned:
                    report.in_flight += 1
                    continue
                removed = report.repair and await blobs.remove_leftover(leftover.name)
                report.add(
                    "abandoned_temp",
                    f"{backend}:{leftover.name}",
                    f"{leftover.size} bytes of a put whose process is gone",
                    repaired=removed,
                )
        report.checked["temp"] = count

    async def _staging(self, report: _Report, all_uploads: list[UploadRecord]) -> None:
        staging = self.context.staging
        if not isinstance(staging, ListableStaging):
            return
        live: set[str] = set()
        finished: set[str] = set()
        for upload in all_uploads:
            (live if upload.state in _UNFINISHED else finished).add(upload.upload_id)
            accepted = upload.parts.get(ACCEPTED_BODY)
            if isinstance(accepted, dict) and upload.state in _UNFINISHED:
                live.add(str(accepted.get("key")))
        entries = await staging.entries()
        report.checked["staged"] = len(entries)
        quiet_since = time.time() - _QUIET_STAGING_SECONDS
        for entry in entries:
            base = entry.key.split(".", 1)[0]
            if entry.key in live or base in live:
                continue
            if base in finished:
                abandoned, why = True, "of an upload already finished"
            else:
                owner_dead = name_owner_is_dead(entry.key)
                abandoned = owner_dead is True or (
                    owner_dead is None and entry.modified < quiet_since
                )
                why = "of a body whose process is gone"
            if not abandoned:
                report.in_flight += 1
                continue
            if report.repair:
                await staging.delete(entry.key)
            report.add(
                "abandoned_staging",
                entry.key,
                f"{entry.size} staged bytes {why}",
                repaired=report.repair,
            )
        await self._staged_short(report, all_uploads, entries)

    async def _staged_short(
        self, report: _Report, all_uploads: list[UploadRecord], entries: list[StagedEntry]
    ) -> None:
        sizes = {entry.key: entry.size for entry in entries}
        for upload in all_uploads:
            if upload.kind is not UploadKind.TUS or upload.state is not UploadState.OPEN:
                continue  # (a tus upload's offset counts its staged bytes)
            staged = sizes.get(upload.upload_id, 0)
            if staged < upload.offset:
                report.add(
                    "staged_short",
                    upload.upload_id,
                    f"offset {upload.offset}, staged {staged} bytes",
                )

    async def _stale_uploads(self, report: _Report, all_uploads: list[UploadRecord]) -> None:
        now = self.context.now()
        stale = [u for u in all_uploads if u.state in _UNFINISHED and u.expires_at <= now]
        purged: set[str] = set()
        if report.repair and stale:
            before = {u.upload_id for u in stale if u.sandbox_id == self.context.sandbox_id}
            await self.uploads.purge_expired()
            async with self.context.catalog.read() as reader:
                for upload_id in before:
                    record = await reader.get_upload(upload_id, self.context.sandbox_id)
                    if record is None or record.state not in _UNFINISHED:
                        purged.add(upload_id)
        for upload in stale:
            report.add(
                "stale_upload",
                upload.upload_id,
                f"{upload.state.value} upload expired",
                repaired=upload.upload_id in purged,
            )
