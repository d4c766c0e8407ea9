"""Retention and legal holds: classes, moving a retention end, holds, history, and the guard
every delete path asks before anything goes.

Holds and retention apply to packages and artifacts alike (``kind``). A legal hold beats
everything; then retention (its class's duration from finalizing, extended or, in governance
mode, shortened since); keep-last-N protects the newest finalized packages of a line.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

from satchel.catalog import CatalogReader
from satchel.core.access import Caller, check_read, check_write
from satchel.core.errors import (
    AccessDeniedError,
    ArtifactNotFoundError,
    ConflictError,
    InvalidRequestError,
    ProviderError,
)
from satchel.core.events import Audience
from satchel.core.ids import new_hold_id
from satchel.core.models import RETAINED_FOREVER, ArtifactRecord
from satchel.core.packages import (
    Hold,
    PackageRecord,
    check_package_read,
    check_package_write,
    parse_time,
)
from satchel.core.retention import (
    RetentionClass,
    RetentionMode,
    check_shorten,
)
from satchel.core.scopes import iso_utc
from satchel.core.validation import check_id, check_text
from satchel.store.context import StoreContext
from satchel.store.gate import AccessGate
from satchel.store.locks import BlobLocks, BlobRef
from satchel.store.packages import check_actor

__all__ = [
    "KINDS",
    "RetentionService",
    "artifact_retention",
    "check_reason",
    "package_retention",
]

KINDS = ("package", "artifact")
MAX_REASON = 4096
_DEFAULT_ARTIFACT_CLASS = RetentionClass("artifact", None, RetentionMode.GOVERNANCE)


def _kind(kind: object) -> str:
    if kind not in KINDS:
        raise InvalidRequestError("kind must be package or artifact")
    return str(kind)


def check_reason(reason: object, *, required: bool) -> str:
    if reason is None and not required:
        return ""
    text = check_text("reason", reason, max_chars=MAX_REASON, multiline=True)
    if required and not text.strip():
        raise InvalidRequestError("a reason is required")
    return text


def _end(retain_until: float | None, *, artifact: bool = False) -> float:
    """A retention end as a number to compare: None is forever for a package (and for a
    wanted end), and "not retained" for an artifact (forever is RETAINED_FOREVER there)."""
    if retain_until is None:
        return 0.0 if artifact else math.inf
    return math.inf if retain_until == RETAINED_FOREVER else retain_until


def _of_sandbox(first: dict[str, Any], sandbox_id: str) -> bool:
    """Whether the first event of an item (its creation) says it was made in *sandbox_id*."""
    if first.get("sandbox_id") is not None:
        return bool(first["sandbox_id"] == sandbox_id)
    payload = first.get("payload") or {}
    record = payload.get("record")
    inner = record.get("sandbox_id") if isinstance(record, dict) else None
    return sandbox_id in (payload.get("sandbox_id"), inner)


def package_retention(context: StoreContext, package: PackageRecord) -> RetentionClass:
    """The retention governing a package: its class as configured now, in the mode recorded
    when it was finalized (a compliance package stays compliance whatever the file says later).
    A class no longer configured still has the end recorded on the package (its duration and
    keep-last-N are gone)."""
    found = context.retention_classes.get(package.retention_class)
    if found is None:
        found = RetentionClass(package.retention_class, None, RetentionMode.GOVERNANCE)
    if package.retention_mode == RetentionMode.COMPLIANCE.value:
        return dataclasses.replace(found, mode=RetentionMode.COMPLIANCE)
    return found


def artifact_retention(context: StoreContext, record: ArtifactRecord) -> RetentionClass:
    """The retention class governing an artifact (its own, else governance without end)."""
    if record.retention_class is not None:
        found = context.retention_classes.get(record.retention_class)
        if found is not None:
            return found
    return _DEFAULT_ARTIFACT_CLASS


class RetentionService:
    def __init__(self, context: StoreContext, gate: AccessGate, locks: BlobLocks) -> None:
        self.context = context
        self.gate = gate
        self.locks = locks

    async def retention_classes(self) -> list[dict[str, Any]]:
        return [
            {
                "name": c.name,
                "duration_seconds": c.duration_seconds,
                "mode": c.mode.value,
                "keep_last": c.keep_last,
            }
            for c in sorted(self.context.retention_classes.values(), key=lambda c: c.name)
        ]

    # -- targets -------------------------------------------------------------------------------

    async def _target(
        self,
        reader: CatalogReader,
        kind: str,
        target_id: str,
        caller: Caller,
        *,
        write: bool = False,
        lock: bool = False,
    ) -> PackageRecord | ArtifactRecord:
        """The package or artifact *caller* may read (or change), under the access rules."""
        sandbox = self.context.sandbox_id
        if kind == "package":
            package = await reader.packages.get(
                check_id("package_id", target_id), sandbox, for_update=lock
            )
            if package is None:
                raise ArtifactNotFoundError(f"package {target_id} not found")
            (check_package_write if write else check_package_read)(package, caller)
            return package
        artifact = await reader.get_artifact(check_id("artifact_id", target_id), sandbox)
        if artifact is None:
            raise ArtifactNotFoundError(f"artifact {target_id} not found")
        (check_write if write else check_read)(artifact, caller)
        return artifact

    def class_of(self, target: PackageRecord | ArtifactRecord) -> RetentionClass:
        if isinstance(target, PackageRecord):
            return package_retention(self.context, target)
        return artifact_retention(self.context, target)

    # -- retention ends ------------------------------------------------------------------------

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
        kind = _kind(kind)
        wanted = parse_time(retain_until, "retain_until")
        why = check_reason(reason, required=False)
        actor = check_actor(actor)
        if not isinstance(bypass_governance, bool):
            raise InvalidRequestError("bypass_governance must be true or false")
        caller = await self.gate.caller(user_id, None)
        context = self.context
        now = context.now()
        async with context.catalog.write() as writer:
            target = await self._target(writer, kind, target_id, caller, write=True, lock=True)
            if isinstance(target, PackageRecord) and not target.finalized:
                raise ConflictError(f"package {target_id} is open: retention starts at finalize")
            current = target.retain_until
            shorter = _end(wanted) < _end(current, artifact=isinstance(target, ArtifactRecord))
            retention = self.class_of(target)
            if shorter:
                check_shorten(retention, admin=caller.trusted, bypass=bypass_governance, reason=why)
            if isinstance(target, PackageRecord):
                await writer.packages.set_retain_until(target.package_id, wanted)
            else:
                forever = RETAINED_FOREVER if wanted is None else wanted
                await writer.set_artifact_retention(target.artifact_id, forever)
            refs = await self._refs(writer, target)
            await writer.append_event(
                type="v1.retention.shortened" if shorter else "v1.retention.extended",
                subject=target_id,
                payload={
                    "kind": kind,
                    "from": current,
                    "to": wanted,
                    "mode": retention.mode.value,
                    "bypass_governance": bypass_governance if shorter else False,
                    "reason": why,
                    "actor_label": actor,
                },
                actor=caller.user_id or actor,
                time=now,
                audience=Audience.of(target),
            )
        if not shorter:  # a bucket's lock only ever grows
            try:
                await self.locks.retain(refs, retention.mode, wanted)
            except ProviderError as error:
                raise self.locks.failed(f"{kind} {target_id}'s retention changed", error) from None
        return {
            "kind": kind,
            "target_id": target_id,
            "retain_until": iso_utc(wanted),
            "previous": iso_utc(current),
        }

    async def _refs(
        self, reader: CatalogReader, target: PackageRecord | ArtifactRecord
    ) -> list[BlobRef]:
        """The blobs an item's bytes are."""
        if isinstance(target, PackageRecord):
            return await reader.packages.blob_refs(target)
        return [(target.storage_provider, target.sha256)]

    # -- holds ---------------------------------------------------------------------------------

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
        kind = _kind(kind)
        name = check_id("hold name", name)
        why = check_reason(reason, required=True)
        actor = check_actor(actor)
        caller = await self.gate.caller(user_id, None)
        if not caller.trusted:
            raise AccessDeniedError("only admins apply legal holds")
        context = self.context
        now = context.now()
        async with context.catalog.write() as writer:
            target = await self._target(writer, kind, target_id, caller, lock=True)
            refs = await self._refs(writer, target)
            for hold in await writer.packages.holds(kind, target_id, active_only=True):
                if hold.name == name:
                    return hold.to_dict()  # already in force: applying again changes nothing
            hold = Hold(
                hold_id=new_hold_id(),
                target_kind=kind,
                target_id=target_id,
                name=name,
                reason=why,
                actor=caller.user_id or actor,
                applied_at=now,
            )
            await writer.packages.insert_hold(hold, context.sandbox_id)
            await writer.append_event(
                type="v1.hold.applied",
                subject=target_id,
                payload={"kind": kind, "hold_id": hold.hold_id, "name": name, "reason": why},
                actor=caller.user_id or actor,
                time=now,
                audience=Audience.of(target),
            )
        try:
            await self.locks.hold(refs, True)
        except ProviderError as error:
            raise self.locks.failed(f"hold {hold.hold_id} is in force", error) from None
        return hold.to_dict()

    async def release_hold(
        self,
        hold_id: str,
        reason: str,
        *,
        actor: str | None = None,
        user_id: str | None = None,
    ) -> dict[str, Any]:
        hold_id = check_id("hold_id", hold_id)
        why = check_reason(reason, required=True)
        actor = check_actor(actor)
        caller = await self.gate.caller(user_id, None)
        if not caller.trusted:
            raise AccessDeniedError("only admins release legal holds")
        context = self.context
        now = context.now()
        async with context.catalog.write() as writer:
            hold = await writer.packages.hold(hold_id, context.sandbox_id)
            if hold is None:
                raise ArtifactNotFoundError(f"hold {hold_id} not found")
            if not hold.active:
                raise ConflictError(f"hold {hold_id} was released already")
            who = caller.user_id or actor
            await writer.packages.release_hold(hold_id, now=now, actor=who, reason=why)
            target = await self._target_row(writer, hold.target_kind, hold.target_id)
            gone = target is None
            audience = Audience.admins(context.sandbox_id) if gone else Audience.of(target)
            await writer.append_event(
                type="v1.hold.released",
                subject=hold.target_id,
                payload={"kind": hold.target_kind, "hold_id": hold_id, "reason": why},
                actor=who,
                time=now,
                audience=audience,
            )
            released = await writer.packages.hold(hold_id, context.sandbox_id)
            refs = [] if target is None else await self._refs(writer, target)
            still = await writer.packages.blobs_under_hold(refs)
        assert released is not None
        try:
            await self.locks.hold(set(refs) - still, False)
        except ProviderError as error:
            raise self.locks.failed(f"hold {hold_id} is released", error) from None
        return released.to_dict()

    async def _target_row(
        self, reader: CatalogReader, kind: str, target_id: str
    ) -> PackageRecord | ArtifactRecord | None:
        """A hold's target, if it still exists."""
        sandbox = self.context.sandbox_id
        if kind == "package":
            return await reader.packages.get(target_id, sandbox)
        return await reader.get_artifact(target_id, sandbox)

    async def list_holds(
        self,
        target_id: str,
        *,
        kind: str = "package",
        include_released: bool = False,
        user_id: str | None = None,
    ) -> list[dict[str, Any]]:
        kind = _kind(kind)
        caller = await self.gate.caller(user_id, None)
        async with self.context.catalog.read() as reader:
            await self._target(reader, kind, target_id, caller)
            holds = await reader.packages.holds(kind, target_id, active_only=not include_released)
        return [hold.to_dict() for hold in holds]

    async def retention_history(
        self, target_id: str, *, kind: str = "package", user_id: str | None = None
    ) -> list[dict[str, Any]]:
        kind = _kind(kind)
        caller = await self.gate.caller(user_id, None)
        async with self.context.catalog.read() as reader:
            try:
                await self._target(reader, kind, target_id, caller)
                gone = False
            except ArtifactNotFoundError:
                if not caller.trusted:  # a deleted item's history is for admins
                    raise
                gone = True
            found = await reader.events_for(check_id("target_id", target_id))
        if gone and not (found and _of_sandbox(found[0], self.context.sandbox_id)):
            raise ArtifactNotFoundError(f"{kind} {target_id} not found")
        return [
            {
                "seq": event["seq"],
                "time": event["time"],
                "type": event["type"],
                "actor": event["actor"],
                "payload": event["payload"],
            }
            for event in found
        ]
