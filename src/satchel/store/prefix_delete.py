"""``delete_prefix``: an admin's delete of every artifact under a grid-key prefix.

It walks the matching catalog rows page by page in key order (memory bounded however many
match), and is a dry run unless told otherwise. A real run deletes each artifact through the
single delete path (:meth:`ArtifactService.try_delete`: holds, retention, events), so what a
hold or retention keeps is skipped and reported. A failure mid-walk (the catalog or a backend
failing) stops the walk and the report says how far it got; what was deleted stays deleted, and
the same call again resumes, since deleted rows are no longer matched.
"""

from __future__ import annotations

import contextlib
from typing import Any

from satchel.core.bulk import (
    DEFAULT_PREFIX_PAGE,
    PREFIX_LISTED,
    DeleteResult,
    check_key_prefix,
    check_prefix_paging,
)
from satchel.core.errors import (
    AccessDeniedError,
    ArtifactStoreError,
    InvalidRequestError,
    RetainedError,
)
from satchel.core.models import ArtifactRecord
from satchel.store.artifacts import ArtifactService
from satchel.store.context import StoreContext
from satchel.store.gate import AccessGate
from satchel.store.ledger import BlobLedger

__all__ = ["PrefixDeleter"]


class _Report:
    """What a walk found and did; lists are cut at :data:`PREFIX_LISTED`, counts are whole."""

    def __init__(self, prefix: str, dry_run: bool) -> None:
        self.body: dict[str, Any] = {
            "prefix": prefix + "/",
            "dry_run": dry_run,
            "pages": 0,
            "count": 0,
            "bytes": 0,
            "skipped": 0,
            "ids": [],
            "skipped_items": [],
            "complete": False,
            "error": None,
        }

    @property
    def count(self) -> int:
        count: int = self.body["count"]
        return count

    def removed(self, record: ArtifactRecord) -> None:
        self.body["count"] += 1
        self.body["bytes"] += record.bytes
        if len(self.body["ids"]) < PREFIX_LISTED:
            self.body["ids"].append(record.artifact_id)

    def skipped(self, result: DeleteResult) -> None:
        self.body["skipped"] += 1
        if len(self.body["skipped_items"]) < PREFIX_LISTED:
            self.body["skipped_items"].append(result.to_dict())

    def failed(self, code: str, message: str) -> None:
        self.body["error"] = {"code": code, "message": message}


class PrefixDeleter:
    def __init__(
        self,
        context: StoreContext,
        gate: AccessGate,
        ledger: BlobLedger,
        artifacts: ArtifactService,
    ) -> None:
        self.context = context
        self.gate = gate
        self.ledger = ledger
        self.artifacts = artifacts

    async def delete_prefix(
        self,
        prefix: str,
        *,
        dry_run: bool = True,
        limit: int | None = None,
        page_size: int = DEFAULT_PREFIX_PAGE,
        user_id: str | None = None,
    ) -> dict[str, Any]:
        caller = await self.gate.caller(user_id, None)
        if not caller.trusted:
            raise AccessDeniedError("only admins delete by prefix")
        key_prefix = check_key_prefix(prefix, self.context.sandbox_id)
        check_prefix_paging(limit, page_size)
        if not isinstance(dry_run, bool):
            raise InvalidRequestError("dry_run must be true or false")
        report = _Report(key_prefix, dry_run)
        after: str | None = None
        while True:
            try:
                async with self.context.catalog.read() as reader:
                    records, after = await reader.artifacts_under_key(
                        self.context.sandbox_id, key_prefix, after=after, limit=page_size
                    )
                    held = await reader.packages.held(  # a real run asks each delete
                        "artifact", [record.artifact_id for record in records] if dry_run else []
                    )
            except ArtifactStoreError as exc:
                report.failed(exc.code, exc.message)
                return report.body
            report.body["pages"] += 1
            for record in records:
                if limit is not None and report.count >= limit:
                    return report.body  # not complete: this record and maybe more are left
                if dry_run:
                    self._preview(record, record.artifact_id in held, report)
                    continue
                result = await self.artifacts.try_delete(record.artifact_id, caller)
                if result.deleted:
                    report.removed(record)
                elif result.status == "error":  # a backend or the catalog failing: stop here
                    report.failed(result.code or "internal_error", result.message or "")
                    await self._collect()
                    return report.body
                else:  # held, retained, or deleted meanwhile
                    report.skipped(result)
            if not dry_run:
                await self._collect()
            if after is None:
                report.body["complete"] = True
                return report.body

    async def _collect(self) -> None:
        """Reclaim the bytes of what was deleted when collection is eager; a failure here
        loses nothing (garbage collection finds those bytes later), so it never hides the
        report."""
        with contextlib.suppress(ArtifactStoreError):
            await self.ledger.collect_if_eager()

    def _preview(self, record: ArtifactRecord, held: bool, report: _Report) -> None:
        """What a real run would do with *record*, as ``guard_removal`` would decide."""
        if held:
            reason = f"artifact {record.artifact_id} is under a legal hold: no delete"
        elif record.is_retained(self.context.now()):
            reason = f"artifact {record.artifact_id} is retained: no delete"
        else:
            report.removed(record)
            return
        report.skipped(DeleteResult.of_error(record.artifact_id, RetainedError(reason)))
