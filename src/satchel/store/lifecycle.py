"""The end of a package's life: deleting one, the retention sweep that records which may go
(and the rule that decided), and gc, which deletes what is eligible and then the bytes nothing
references any more.

Sweep and gc claim rows in their write transactions (``SKIP LOCKED`` on PostgreSQL; SQLite has
one writer at a time), so replicas running them at once handle each package once. gc decides
again when it deletes: a hold applied after the sweep still saves the package.
"""

from __future__ import annotations

from typing import Any

from satchel.catalog import CatalogReader, CatalogWriter
from satchel.core.access import Caller
from satchel.core.errors import AccessDeniedError, InvalidRequestError, RetainedError
from satchel.core.events import Audience
from satchel.core.packages import PackageRecord
from satchel.core.retention import Eligibility, check_shorten, eligibility
from satchel.store.context import StoreContext
from satchel.store.gate import AccessGate
from satchel.store.ledger import BlobLedger
from satchel.store.packages import PackageService, check_actor
from satchel.store.retention import check_reason, package_retention

__all__ = ["Lifecycle"]

_BATCH = 200


class _Lines:
    """How many finalized packages of a line (owner, producer, subject, class) are newer than a
    given one, fetched once per line per transaction."""

    def __init__(self, reader: CatalogReader, sandbox_id: str) -> None:
        self.reader = reader
        self.sandbox_id = sandbox_id
        self._lines: dict[tuple[str, str, str, str], list[str]] = {}

    async def newer_than(self, package: PackageRecord) -> int:
        key = (package.owner_id or "", package.producer, package.subject, package.retention_class)
        if key not in self._lines:
            line = await self.reader.packages.finalized_in_line(package)
            self._lines[key] = [p.package_id for p in line]
        ids = self._lines[key]
        return ids.index(package.package_id) if package.package_id in ids else len(ids)


class Lifecycle:
    def __init__(
        self,
        context: StoreContext,
        gate: AccessGate,
        ledger: BlobLedger,
        packages: PackageService,
    ) -> None:
        self.context = context
        self.gate = gate
        self.ledger = ledger
        self.packages = packages

    async def _decide(
        self, reader: CatalogReader, package: PackageRecord, lines: _Lines
    ) -> Eligibility:
        retention = package_retention(self.context, package)
        holds = await reader.packages.holds("package", package.package_id, active_only=True)
        newer = await lines.newer_than(package) if retention.keep_last else None
        return eligibility(
            retention,
            retain_until=package.retain_until,
            now=self.context.now(),
            holds=tuple(hold.name for hold in holds),
            newer_in_line=newer,
        )

    async def _remove(
        self,
        writer: CatalogWriter,
        package: PackageRecord,
        *,
        caller: Caller | None,
        payload: dict[str, Any],
        actor: str | None = None,
    ) -> bool:
        """Delete *package*'s rows and release its blobs; False when it was gone already."""
        now = self.context.now()
        if await writer.packages.get(package.package_id, package.sandbox_id) is None:
            return False
        files = await writer.packages.delete(package.package_id)
        for entry in files:
            await self.ledger.release(writer, entry.sha256, now, entry.backend)
        if package.manifest_address is not None and package.manifest_backend is not None:
            await self.ledger.release(
                writer, package.manifest_address, now, package.manifest_backend
            )
        await writer.append_event(
            type="v1.package.deleted",
            subject=package.package_id,
            payload={"files": len(files), "bytes": package.total_bytes, **payload},
            actor=(caller.user_id if caller else None) or actor,
            time=now,
            audience=Audience.of(package),
        )
        return True

    # -- delete --------------------------------------------------------------------------------

    async def delete_package(
        self,
        package_id: str,
        *,
        bypass_governance: bool = False,
        reason: str | None = None,
        actor: str | None = None,
        user_id: str | None = None,
    ) -> dict[str, Any]:
        if not isinstance(bypass_governance, bool):
            raise InvalidRequestError("bypass_governance must be true or false")
        why = check_reason(reason, required=False)
        actor = check_actor(actor)
        caller = await self.gate.caller(user_id, None)
        context = self.context
        async with context.catalog.write() as writer:
            package = await self.packages.load(writer, package_id, caller, write=True, lock=True)
            payload: dict[str, Any] = {"state": package.state.value, "reason": why}
            holds = await writer.packages.holds("package", package.package_id, active_only=True)
            if holds:  # open or finalized: a held package is never deleted
                names = ", ".join(sorted(hold.name for hold in holds))
                raise RetainedError(f"package {package_id} is under a legal hold ({names})")
            if package.finalized:
                decided = await self._decide(writer, package, _Lines(writer, context.sandbox_id))
                if not decided.eligible:
                    if decided.rule.startswith("held") or not bypass_governance:
                        raise RetainedError(f"package {package_id} is retained: {decided.rule}")
                    retention = package_retention(context, package)
                    check_shorten(
                        retention, admin=caller.trusted, bypass=bypass_governance, reason=why
                    )
                    payload["bypass_governance"] = True
                payload["rule"] = decided.rule
            await self._remove(writer, package, caller=caller, payload=payload, actor=actor)
        await self.ledger.collect_if_eager()
        return {"package_id": package.package_id, "deleted": True, **payload}

    # -- sweep ---------------------------------------------------------------------------------

    async def sweep_retention(self, *, dry_run: bool = False) -> dict[str, Any]:
        if not isinstance(dry_run, bool):
            raise InvalidRequestError("dry_run must be true or false")
        context = self.context
        await context.ensure_open()
        report: dict[str, Any] = {"dry_run": dry_run, "checked": 0, "eligible": [], "kept": 0}
        after: str | None = None
        while True:
            if dry_run:
                async with context.catalog.read() as reader:
                    batch = await reader.packages.claim_finalized(
                        context.sandbox_id, after=after, limit=_BATCH, claim=False
                    )
                    await self._sweep_batch(reader, batch, report, record=None)
            else:
                async with context.catalog.write() as writer:
                    batch = await writer.packages.claim_finalized(
                        context.sandbox_id, after=after, limit=_BATCH
                    )
                    await self._sweep_batch(writer, batch, report, record=writer)
            if len(batch) < _BATCH:
                return report
            after = batch[-1].package_id

    async def _sweep_batch(
        self,
        reader: CatalogReader,
        batch: list[PackageRecord],
        report: dict[str, Any],
        *,
        record: CatalogWriter | None,
    ) -> None:
        lines = _Lines(reader, self.context.sandbox_id)
        for package in batch:
            decided = await self._decide(reader, package, lines)
            report["checked"] += 1
            if decided.eligible:
                report["eligible"].append({"package_id": package.package_id, "rule": decided.rule})
            else:
                report["kept"] += 1
            if record is None:
                continue
            if (package.eligible, package.eligible_rule) == (decided.eligible, decided.rule):
                continue
            await record.packages.mark_eligible(package.package_id, decided.eligible, decided.rule)
            await record.append_event(  # eligibility or only its rule changed
                type="v1.package.eligible" if decided.eligible else "v1.package.retained",
                subject=package.package_id,
                payload={"rule": decided.rule},
                actor=None,
                time=self.context.now(),
                audience=Audience.of(package),
            )

    # -- gc ------------------------------------------------------------------------------------

    async def gc(self, *, dry_run: bool = False) -> dict[str, Any]:
        if not isinstance(dry_run, bool):
            raise InvalidRequestError("dry_run must be true or false")
        context = self.context
        caller = await self.gate.caller(None, None)
        if not caller.trusted:  # pragma: no cover - the library's own caller is trusted
            raise AccessDeniedError("gc is for admins")
        deleted: list[dict[str, Any]] = []
        abandoned: list[str] = []
        if dry_run:
            async with context.catalog.read() as reader:
                eligible = await reader.packages.claim_eligible(
                    context.sandbox_id, 10_000, claim=False
                )
                for package in eligible:
                    decided = await self._decide(
                        reader, package, _Lines(reader, context.sandbox_id)
                    )
                    if decided.eligible:
                        deleted.append({"package_id": package.package_id, "rule": decided.rule})
                cutoff = context.now() - context.settings.package_abandon_seconds
                stale = await reader.packages.open_before(
                    context.sandbox_id, cutoff, 10_000, claim=False
                )
                for package in stale:
                    abandoned.append(package.package_id)
            return {
                "dry_run": True,
                "packages_deleted": deleted,
                "abandoned_deleted": abandoned,
                "blobs_removed": 0,
                "bytes_freed": 0,
            }
        await self._delete_eligible(deleted)
        await self._delete_abandoned(abandoned)
        removed, freed = await self.ledger.collect_all()
        return {
            "dry_run": False,
            "packages_deleted": deleted,
            "abandoned_deleted": abandoned,
            "blobs_removed": removed,
            "bytes_freed": freed,
        }

    async def _delete_eligible(self, deleted: list[dict[str, Any]]) -> None:
        context = self.context
        seen: set[str] = set()
        while True:
            progressed = False
            async with context.catalog.write() as writer:
                lines = _Lines(writer, context.sandbox_id)
                batch = await writer.packages.claim_eligible(context.sandbox_id, _BATCH)
                for package in batch:
                    if package.package_id in seen:
                        continue
                    seen.add(package.package_id)
                    progressed = True
                    decided = await self._decide(writer, package, lines)
                    if not decided.eligible:  # a hold or an extension since the sweep
                        await writer.packages.mark_eligible(package.package_id, False, decided.rule)
                        await writer.append_event(
                            type="v1.package.retained",
                            subject=package.package_id,
                            payload={"rule": decided.rule},
                            actor=None,
                            time=context.now(),
                            audience=Audience.of(package),
                        )
                        continue
                    payload = {"rule": decided.rule, "by": "gc"}
                    if await self._remove(writer, package, caller=None, payload=payload):
                        deleted.append({"package_id": package.package_id, "rule": decided.rule})
            if not progressed:
                return

    async def _delete_abandoned(self, abandoned: list[str]) -> None:
        context = self.context
        while True:
            cutoff = context.now() - context.settings.package_abandon_seconds
            async with context.catalog.write() as writer:
                batch = await writer.packages.open_before(context.sandbox_id, cutoff, _BATCH)
                for package in batch:
                    payload = {"rule": "abandoned open package", "by": "gc"}
                    if await self._remove(writer, package, caller=None, payload=payload):
                        abandoned.append(package.package_id)
            if len(batch) < _BATCH:
                return
