"""Packages: open, add files by relative path, finalize into an immutable manifest, read back.

A file's bytes are stored (streamed, deduplicated by digest) before the row that names them,
and referenced in that row's transaction, as an artifact's are. Finalizing builds the manifest
from the rows, stores its canonical JSON as a blob (whose digest is the manifest's address)
and flips the package to finalized in one transaction: a crash leaves the package open or
finalized, never half of each. See :mod:`satchel.core.packages` for who may do what.
"""

from __future__ import annotations

import dataclasses
import posixpath
from collections.abc import AsyncIterable, AsyncIterator
from typing import Any

from satchel.catalog import CatalogReader
from satchel.catalog.packages import PackageFilter
from satchel.core import manifest as manifests
from satchel.core.access import Caller
from satchel.core.content import ArtifactContent
from satchel.core.digests import check_digest, new_blake3
from satchel.core.errors import (
    ArtifactNotFoundError,
    ConflictError,
    DuplicateRelativePathError,
    IntegrityError,
    InvalidRequestError,
    PackageFinalizedError,
    ProviderError,
)
from satchel.core.events import Audience
from satchel.core.ids import new_package_id
from satchel.core.mime import guess_mime
from satchel.core.packages import (
    PackageFile,
    PackageRecord,
    PackageScope,
    PackageState,
    check_label,
    check_package_name,
    check_package_read,
    check_package_write,
    check_version,
)
from satchel.core.ranges import ByteRange, plan_read
from satchel.core.retention import class_named
from satchel.core.streams import as_chunks, close_stream, iter_bytes
from satchel.core.validation import (
    check_id,
    check_limit,
    check_meta,
    check_mime,
    check_relative_path,
    check_text,
)
from satchel.store.content import open_bytes
from satchel.store.context import StoreContext
from satchel.store.gate import AccessGate
from satchel.store.ledger import BlobLedger
from satchel.store.locks import BlobLocks
from satchel.store.schemas import SchemaService, parse_schema_ref

__all__ = ["PackageService", "check_actor"]


def check_actor(actor: object) -> str | None:
    """Seed 001's free-text actor label (recorded, never trusted as an identity)."""
    if actor is None:
        return None
    return check_text("actor", actor, max_chars=128)


def _package_id(value: object) -> str:
    return check_id("package_id", value)


class PackageService:
    def __init__(
        self,
        context: StoreContext,
        gate: AccessGate,
        ledger: BlobLedger,
        schemas: SchemaService,
        locks: BlobLocks,
    ) -> None:
        self.context = context
        self.gate = gate
        self.ledger = ledger
        self.schemas = schemas
        self.locks = locks

    # -- loading under the access rules --------------------------------------------------------

    async def load(
        self,
        reader: CatalogReader,
        package_id: str,
        caller: Caller,
        *,
        write: bool = False,
        lock: bool = False,
    ) -> PackageRecord:
        record = await reader.packages.get(
            _package_id(package_id), self.context.sandbox_id, for_update=lock
        )
        if record is None:
            raise ArtifactNotFoundError(f"package {package_id} not found")
        (check_package_write if write else check_package_read)(record, caller)
        return record

    async def visible(self, package_id: str, user_id: str | None) -> PackageRecord:
        """The package *user_id* (None: the application) may read."""
        caller = await self.gate.caller(user_id, None)
        async with self.context.catalog.read() as reader:
            return await self.load(reader, package_id, caller)

    def backend_for(self, package: PackageRecord) -> str:
        return self.context.routing.backend_for(package.producer, package.retention_class)

    # -- create, ingest, finalize --------------------------------------------------------------

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
        name = check_package_name(name)
        producer = check_label("producer", producer)
        subject = check_label("subject", subject)
        retention = class_named(self.context.retention_classes, retention_class)
        version = check_version(version)
        actor = check_actor(actor)
        limit = self.context.settings.max_meta_bytes
        meta = manifests.check_metadata(check_meta(metadata, max_bytes=limit))
        try:
            package_scope = PackageScope(scope)
        except ValueError:
            raise InvalidRequestError("scope must be sandbox or user") from None
        caller = await self.gate.caller(user_id, None)
        if package_scope is PackageScope.USER and caller.user_id is None:
            raise InvalidRequestError("a user package needs user_id")
        wanted_schema = None if schema is None else parse_schema_ref(schema)
        context = self.context
        now = context.now()
        record = PackageRecord(
            package_id=new_package_id(),
            sandbox_id=context.sandbox_id,
            name=name,
            version=version,
            producer=producer,
            subject=subject,
            retention_class=retention.name,
            metadata=meta,
            schema=None,
            scope=package_scope,
            owner_id=caller.user_id,
            state=PackageState.OPEN,
            created_at=now,
            finalized_at=None,
            manifest_address=None,
            manifest_backend=None,
            retain_until=None,
            file_count=0,
            total_bytes=0,
        )
        if version is not None:  # the same push again: no schema check needed
            async with context.catalog.read() as reader:
                named = await reader.packages.named(
                    context.sandbox_id, name, version, caller.user_id
                )
            for existing in named:
                found = self._same_push(existing, record, wanted_schema)
                if found is not None:
                    return found
        schema_ref = None if schema is None else await self.schemas.validate(schema, meta)
        record = dataclasses.replace(record, schema=schema_ref)
        async with context.catalog.write() as writer:
            if version is not None:
                named = await writer.packages.named(
                    context.sandbox_id, name, version, caller.user_id, for_update=True
                )
                for existing in named:
                    found = self._same_push(existing, record, wanted_schema)
                    if found is not None:
                        return found
            await writer.packages.insert(record)
            await writer.append_event(
                type="v1.package.created",
                subject=record.package_id,
                payload={
                    "name": name,
                    "version": version,
                    "producer": producer,
                    "subject": subject,
                    "retention_class": retention.name,
                    "schema": schema_ref,
                    "sandbox_id": context.sandbox_id,
                    "actor_label": actor,
                },
                actor=caller.user_id or actor,
                time=now,
                audience=Audience.of(record),
            )
        return record.package_id

    @staticmethod
    def _same_push(
        existing: PackageRecord, new: PackageRecord, schema: tuple[str, int | None] | None
    ) -> str | None:
        """The id a create lands on when *existing* (the caller's own) has its name and
        version: the same package resumed or pushed again. Raises when it conflicts. A schema
        named without a version matches the version the package was checked against."""
        if schema is None:
            same_schema = existing.schema is None
        else:
            slug, _, number = (existing.schema or "").partition("@")
            same_schema = slug == schema[0] and schema[1] in (None, int(number or 0))
        same = (
            existing.producer == new.producer
            and existing.subject == new.subject
            and existing.retention_class == new.retention_class
            and dict(existing.metadata) == dict(new.metadata)
            and existing.scope is new.scope
            and same_schema
        )
        label = f"{new.name}@{new.version}"
        if existing.finalized:
            if not same:
                raise PackageFinalizedError(
                    f"{label} is finalized (package {existing.package_id}) with other "
                    "attributes; a name and version are written once"
                )
            return existing.package_id
        if not same:
            raise ConflictError(
                f"{label} is open (package {existing.package_id}) with other attributes"
            )
        return existing.package_id

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
        chunks = as_chunks(stream)
        try:
            path = check_relative_path(relative_path)
            media = (
                guess_mime(posixpath.basename(path))
                if media_type is None
                else check_mime(media_type)
            )
            expected = None if sha256 is None else check_digest(sha256)
            actor = check_actor(actor)
            caller = await self.gate.caller(user_id, None)
            async with self.context.catalog.read() as reader:
                package = await self.load(reader, package_id, caller, write=True)
                existing = await reader.packages.file(package.package_id, path)
            if existing is not None and expected is not None:
                return self._same_file(package, existing, expected, media)
        except BaseException:
            await close_stream(chunks)
            raise
        if package.finalized and existing is None:
            await close_stream(chunks)
            raise PackageFinalizedError(f"package {package.package_id} is finalized")
        backend = existing.backend if existing is not None else self.backend_for(package)
        blake3 = new_blake3() if self.context.settings.manifest_blake3 else None
        if blake3 is not None:
            chunks = _hashed(chunks, blake3)
        info = await self.ledger.put(chunks, backend=backend, expected_digest=expected)
        try:
            if existing is not None:
                return self._same_file(package, existing, info.digest, media)
            second = None if blake3 is None else f"blake3:{blake3.hexdigest()}"
            return await self._add(package, path, media, info, backend, caller, actor, second)
        except BaseException:
            await self.ledger.discard(info, backend)
            raise

    @staticmethod
    def _same_file(
        package: PackageRecord, existing: PackageFile, digest: str, media_type: str
    ) -> dict[str, Any]:
        """An identical file at the same path changes nothing; other content there conflicts."""
        if existing.sha256 == digest and existing.media_type == media_type:
            return existing.to_dict()
        if package.finalized:
            raise PackageFinalizedError(
                f"package {package.package_id} is finalized: {existing.relative_path!r} "
                "has other content"
            )
        raise DuplicateRelativePathError(
            f"package {package.package_id} already has {existing.relative_path!r} "
            "(with other content)"
        )

    async def _add(
        self,
        package: PackageRecord,
        path: str,
        media_type: str,
        info: Any,
        backend: str,
        caller: Caller,
        actor: str | None,
        blake3: str | None,
    ) -> dict[str, Any]:
        context = self.context
        now = context.now()
        entry = PackageFile(
            blake3=blake3,
            package_id=package.package_id,
            relative_path=path,
            size=info.size,
            media_type=media_type,
            sha256=info.digest,
            backend=backend,
            added_at=now,
        )
        async with context.catalog.write() as writer:
            current = await self.load(writer, package.package_id, caller, write=True, lock=True)
            there = await writer.packages.file(package.package_id, path)
            if there is not None:  # added meanwhile
                return self._same_file(current, there, info.digest, media_type)
            if current.finalized:
                raise PackageFinalizedError(f"package {package.package_id} is finalized")
            clash = await writer.packages.path_clash(package.package_id, path)
            if clash is not None:  # no tree holds a file and a directory of one name
                raise DuplicateRelativePathError(
                    f"package {package.package_id} has {clash!r}: {path!r} cannot sit beside it"
                )
            await self.ledger.reference(writer, info, now, backend)
            await writer.packages.add_file(entry)
            await writer.append_event(
                type="v1.package.file_added",
                subject=package.package_id,
                payload={**entry.to_dict(), "actor_label": actor},
                actor=caller.user_id or actor,
                time=now,
                audience=Audience.of(package),
            )
        return entry.to_dict()

    async def finalize_package(
        self, package_id: str, actor: str | None = None, *, user_id: str | None = None
    ) -> str:
        actor = check_actor(actor)
        caller = await self.gate.caller(user_id, None)
        context = self.context
        async with context.catalog.read() as reader:
            package = await self.load(reader, package_id, caller, write=True)
            files = await reader.packages.files(package.package_id)
        if package.finalized:  # again: answers the address, and locks what a failure left
            await self._lock(package, files)
            assert package.manifest_address is not None
            return package.manifest_address
        manifest = manifests.build(
            name=package.name,
            version=package.version,
            producer=package.producer,
            subject=package.subject,
            retention_class=package.retention_class,
            metadata=package.metadata,
            files=[
                manifests.ManifestFile(f.relative_path, f.size, f.media_type, f.sha256, f.blake3)
                for f in files
            ],
        )
        body = manifests.encode(manifest, "json")
        address = manifests.address_of(manifest)
        backend = self.backend_for(package)
        info = await self.ledger.put(iter_bytes(body), backend=backend, expected_digest=address)
        try:
            finalized = await self._commit_finalize(package, files, info, backend, caller, actor)
        except BaseException:
            await self.ledger.discard(info, backend)
            raise
        await self._lock(finalized, files)
        assert finalized.manifest_address is not None
        return finalized.manifest_address

    async def _lock(self, package: PackageRecord, files: list[PackageFile]) -> None:
        """Lock a finalized package's bytes in buckets that can (S3 Object Lock)."""
        refs = [(f.backend, f.sha256) for f in files]
        if package.manifest_address is not None and package.manifest_backend is not None:
            refs.append((package.manifest_backend, package.manifest_address))
        retention = class_named(self.context.retention_classes, package.retention_class)
        try:
            await self.locks.retain(refs, retention.mode, package.retain_until)
        except ProviderError as error:
            raise self.locks.failed(f"package {package.package_id} is finalized", error) from None

    async def _commit_finalize(
        self,
        package: PackageRecord,
        files: list[PackageFile],
        info: Any,
        backend: str,
        caller: Caller,
        actor: str | None,
    ) -> PackageRecord:
        context = self.context
        retention = class_named(context.retention_classes, package.retention_class)
        async with context.catalog.write() as writer:
            current = await self.load(writer, package.package_id, caller, write=True, lock=True)
            if current.finalized:
                return current
            if (current.file_count, current.total_bytes) != (len(files), package.total_bytes):
                raise ConflictError(
                    f"files were added to package {package.package_id} while it was being "
                    "finalized; finalize again"
                )
            if current.version is not None:
                await self._check_write_once(writer, current, info.digest)
            now = context.now()
            await self.ledger.reference(writer, info, now, backend)
            finalized = dataclasses.replace(
                current,
                state=PackageState.FINALIZED,
                finalized_at=now,
                manifest_address=info.digest,
                manifest_backend=backend,
                retain_until=retention.retain_until(now),
                retention_mode=retention.mode.value,
            )
            if not await writer.packages.replace(finalized, expected_state=PackageState.OPEN):
                raise ConflictError(f"package {package.package_id} changed meanwhile; retry")
            await writer.append_event(
                type="v1.package.finalized",
                subject=package.package_id,
                payload={
                    "manifest_address": info.digest,
                    "files": len(files),
                    "bytes": current.total_bytes,
                    "retention_class": retention.name,
                    "mode": retention.mode.value,
                    "retain_until": finalized.retain_until,
                    "actor_label": actor,
                },
                actor=caller.user_id or actor,
                time=now,
                audience=Audience.of(finalized),
            )
        return finalized

    async def _check_write_once(self, writer: Any, package: PackageRecord, address: str) -> None:
        assert package.version is not None
        named = await writer.packages.named(
            self.context.sandbox_id, package.name, package.version, package.owner_id
        )
        for other in named:
            if other.finalized and other.manifest_address != address:
                raise PackageFinalizedError(
                    f"{package.name}@{package.version} is finalized (package "
                    f"{other.package_id}, manifest {other.manifest_address}) with other content"
                )

    # -- reading -------------------------------------------------------------------------------

    async def get_package(self, package_id: str, *, user_id: str | None = None) -> dict[str, Any]:
        caller = await self.gate.caller(user_id, None)
        async with self.context.catalog.read() as reader:
            package = await self.load(reader, package_id, caller)
            holds = await reader.packages.holds("package", package.package_id, active_only=True)
        return package.to_dict(holds=tuple(holds))

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
        limit = check_limit(limit)
        try:
            wanted_state = None if state is None else PackageState(state)
        except ValueError:
            raise InvalidRequestError("state must be open or finalized") from None
        caller = await self.gate.caller(user_id, None)
        flt = PackageFilter(
            sandbox_id=self.context.sandbox_id,
            reader=caller.user_id,
            restricted=not caller.trusted,
            name=None if name is None else check_package_name(name),
            version=check_version(version),
            producer=None if producer is None else check_label("producer", producer),
            subject=None if subject is None else check_label("subject", subject),
            state=wanted_state,
            mine=bool(mine),
        )
        if cursor is not None and (not isinstance(cursor, str) or len(cursor) > 1024):
            raise InvalidRequestError("malformed page cursor")
        async with self.context.catalog.read() as reader:
            page = await reader.packages.page(flt, limit=limit, cursor=cursor)
        return {
            "items": [package.to_dict() for package in page.items],
            "next_cursor": page.next_cursor,
        }

    async def list_package_files(
        self, package_id: str, *, user_id: str | None = None
    ) -> list[dict[str, Any]]:
        caller = await self.gate.caller(user_id, None)
        async with self.context.catalog.read() as reader:
            package = await self.load(reader, package_id, caller)
            files = await reader.packages.files(package.package_id)
        return [f.to_dict() for f in files]

    async def get_manifest_bytes(
        self, package_id: str, format: str = "cbor", *, user_id: str | None = None
    ) -> bytes:
        if format not in ("cbor", "json"):
            raise InvalidRequestError("format must be cbor or json")
        package = await self.visible(package_id, user_id)
        if not package.finalized or package.manifest_address is None:
            raise ConflictError(f"package {package.package_id} is open: finalize it first")
        what = f"the manifest of package {package.package_id}"
        backend = package.manifest_backend or self.context.default_backend
        await self.context.quarantine.check(backend, package.manifest_address, what)
        blobs = self.context.blob_backend(backend)
        body = b"".join([chunk async for chunk in blobs.open_range(package.manifest_address)])
        if manifests.sha256_address(body) != package.manifest_address:
            raise IntegrityError(f"{what} does not hash to its address; run storage verify")
        if format == "json":
            return body
        return manifests.encode(manifests.decode(body), "cbor")

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
        path = check_relative_path(relative_path)
        caller = await self.gate.caller(user_id, None)
        async with self.context.catalog.read() as reader:
            package = await self.load(reader, package_id, caller)
            entry = await reader.packages.file(package.package_id, path)
        if entry is None:
            raise ArtifactNotFoundError(f"package {package.package_id} has no file {path!r}")
        etag = entry.sha256.removeprefix("sha256:")
        plan = plan_read(etag, entry.size, byte_range=byte_range, if_none_match=if_none_match)
        content = ArtifactContent(
            artifact_id=package.package_id,
            etag=etag,
            sha256=entry.sha256,
            size=entry.size,
            mime=entry.media_type,
            filename=posixpath.basename(path),
            start=plan.start,
            end=plan.end,
            partial=plan.partial,
            not_modified=plan.not_modified,
        )
        if head or plan.not_modified:
            return content
        await self.context.quarantine.check(entry.backend, entry.sha256, f"{path} of {package_id}")
        blobs = self.context.blob_backend(entry.backend)
        opened = await open_bytes(blobs, entry.sha256, plan, local_file=local_file)
        return dataclasses.replace(content, **opened)


async def _hashed(chunks: AsyncIterable[bytes], hasher: Any) -> AsyncIterator[bytes]:
    """*chunks*, fed to *hasher* on the way."""
    async for chunk in chunks:
        hasher.update(chunk)
        yield chunk
