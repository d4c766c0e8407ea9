"""Aspects and provenance (seed 002): add, update, retract, get and list typed metadata records
about artifacts, packages and anything named by a URN, and walk the lineage their provenance
links form. Access follows the entity: reading an aspect needs read access to what it
describes, adding or retracting one needs write access (an aspect about a job or other URN
belongs to whoever added it; the application's and admins' are the sandbox's)."""

from __future__ import annotations

from typing import Any

import jsonschema  # type: ignore[import-untyped]

from satchel.catalog import CatalogReader, CatalogWriter
from satchel.catalog.aspects import aspect_values
from satchel.core.access import Caller, check_read, check_write
from satchel.core.aspects import (
    BUILTIN_SCHEMAS,
    PRODUCED_BY,
    USED_BY,
    AspectRecord,
    AspectState,
    EntityKind,
    check_aspect_id,
    check_entity,
    free_form_schema,
    new_aspect_id,
)
from satchel.core.errors import AccessDeniedError, ArtifactNotFoundError, InvalidRequestError
from satchel.core.events import Audience
from satchel.core.metadata import check_meta
from satchel.core.packages import check_package_read, check_package_write
from satchel.core.validation import check_limit, check_text
from satchel.store.context import StoreContext
from satchel.store.gate import AccessGate
from satchel.store.schemas import SchemaService

__all__ = ["AspectService"]

MAX_DEPTH = 20
MAX_NODES = 10_000
_MAX_POLICY = 300
_BUILTIN_VALIDATORS = {
    name: jsonschema.Draft202012Validator(schema) for name, schema in BUILTIN_SCHEMAS.items()
}


def _check_policy(policy: object) -> str | None:
    if policy is None:
        return None
    policy = check_text("policy", policy, max_chars=_MAX_POLICY)
    if not policy:
        raise InvalidRequestError("policy must not be empty")
    return policy


class AspectService:
    def __init__(self, context: StoreContext, gate: AccessGate, schemas: SchemaService) -> None:
        self.context = context
        self.gate = gate
        self.schemas = schemas

    # -- checking ------------------------------------------------------------------------------

    async def _checked(
        self, aspect: object, schema: object
    ) -> tuple[dict[str, Any], str, str | None]:
        """The content, the schema it passed (``slug@N`` or a built-in's name) and its link."""
        content = check_meta(aspect, max_bytes=self.context.settings.max_meta_bytes)
        named = content.get("$schema")
        if schema is None:
            schema = named
        if not isinstance(schema, str) or not schema:
            raise InvalidRequestError("an aspect needs a schema (schema=… or a $schema key)")
        if named is not None and named != schema:
            raise InvalidRequestError(f"the aspect's $schema {named!r} is not {schema!r}")
        body = {key: value for key, value in content.items() if key != "$schema"}
        if schema in _BUILTIN_VALIDATORS:
            errors = list(_BUILTIN_VALIDATORS[schema].iter_errors(body))
            if errors:
                raise InvalidRequestError(f"content does not match {schema}: {errors[0].message}")
            job, _ = check_entity(body["job"])
            return content, schema, job
        free_form = free_form_schema(schema)
        try:
            passed = await self.schemas.validate(schema, body, what="content")
        except ArtifactNotFoundError:
            if free_form is None:
                raise
            return content, free_form, None  # a URN of one's own, not registered: as given
        return content, passed, None

    async def _entity(
        self, reader: CatalogReader, entity: object, caller: Caller, *, write: bool
    ) -> tuple[str, EntityKind, Audience]:
        """The entity's id, kind and audience, after checking *caller* may read (or write) it."""
        name, kind = check_entity(entity)
        sandbox = self.context.sandbox_id
        if kind in (None, EntityKind.ARTIFACT):
            artifact = await reader.get_artifact(name, sandbox)
            if artifact is not None:
                (check_write if write else check_read)(artifact, caller)
                return name, EntityKind.ARTIFACT, Audience.of(artifact)
            if kind is EntityKind.ARTIFACT:
                raise ArtifactNotFoundError(f"artifact {name} not found")
        if kind in (None, EntityKind.PACKAGE):
            package = await reader.packages.get(name, sandbox)
            if package is not None:
                (check_package_write if write else check_package_read)(package, caller)
                return name, EntityKind.PACKAGE, Audience.of(package)
            if kind is EntityKind.PACKAGE:
                raise ArtifactNotFoundError(f"package {name} not found")
        if caller.trusted:
            return name, EntityKind.OTHER, Audience.everyone(sandbox)
        if caller.user_id is None:
            raise AccessDeniedError("an aspect about a job or URN needs a user (or an admin)")
        return name, EntityKind.OTHER, Audience(sandbox, "user", caller.user_id)

    # -- writing -------------------------------------------------------------------------------

    async def add_aspect(
        self,
        entity: str,
        aspect: dict[str, Any],
        *,
        schema: str | None = None,
        policy: str | None = None,
        user_id: str | None = None,
    ) -> dict[str, Any]:
        return await self._add(entity, aspect, schema, policy, user_id, replace=False)

    async def update_aspect(
        self,
        entity: str,
        aspect: dict[str, Any],
        *,
        schema: str | None = None,
        policy: str | None = None,
        user_id: str | None = None,
    ) -> dict[str, Any]:
        return await self._add(entity, aspect, schema, policy, user_id, replace=True)

    async def _add(
        self,
        entity: str,
        aspect: dict[str, Any],
        schema: str | None,
        policy: str | None,
        user_id: str | None,
        *,
        replace: bool,
    ) -> dict[str, Any]:
        policy = _check_policy(policy)
        check_entity(entity)
        content, passed, link = await self._checked(aspect, schema)
        caller = await self.gate.caller(user_id, None)
        context = self.context
        now = context.now()
        async with context.catalog.write() as writer:
            name, kind, audience = await self._entity(writer, entity, caller, write=True)
            if replace:  # every version of the schema's slug: update moves to the new one
                slug = passed.partition("@")[0]
                for old in await writer.aspects.active(context.sandbox_id, name, slug):
                    # about a URN, each aspect is its adder's: replace only the caller's own
                    if kind is EntityKind.OTHER and not _owned(old, caller):
                        continue
                    await self._retract(writer, old, caller, now)
            record = AspectRecord(
                aspect_id=new_aspect_id(),
                sandbox_id=context.sandbox_id,
                entity=name,
                entity_kind=kind,
                schema=passed,
                content=content,
                policy=policy,
                state=AspectState.ACTIVE,
                created_at=now,
                retracted_at=None,
                actor=caller.user_id,
                scope=audience.scope,
                owner_id=audience.owner_id,
                session_id=audience.session_id,
                link=link,
            )
            await writer.aspects.insert(record)
            await writer.append_event(
                type="v1.aspect.added",
                subject=record.aspect_id,
                payload={"aspect": aspect_values(record)},
                actor=caller.user_id,
                time=now,
                audience=audience,
            )
        return record.to_dict()

    async def _retract(
        self, writer: CatalogWriter, record: AspectRecord, caller: Caller, now: float
    ) -> None:
        if await writer.aspects.retract(record.aspect_id, now):
            await writer.append_event(
                type="v1.aspect.retracted",
                subject=record.aspect_id,
                payload={"entity": record.entity, "schema": record.schema, "retracted_at": now},
                actor=caller.user_id,
                time=now,
                audience=_audience(record),
            )

    async def retract_aspect(self, aspect_id: str, *, user_id: str | None = None) -> dict[str, Any]:
        aspect_id = check_aspect_id(aspect_id)
        caller = await self.gate.caller(user_id, None)
        context = self.context
        now = context.now()
        async with context.catalog.write() as writer:
            record = await self._visible(writer, aspect_id, caller)
            if record.entity_kind is EntityKind.OTHER:
                mine = _owned(record, caller)
            else:
                urn = f"urn:satchel:{record.entity_kind.value}:{record.entity}"
                try:
                    await self._entity(writer, urn, caller, write=True)
                    mine = True
                except ArtifactNotFoundError:  # the entity is gone: its aspects stay as history
                    mine = caller.trusted or record.actor == caller.user_id
            if not mine:
                raise AccessDeniedError(f"aspect {aspect_id} is not yours to retract")
            await self._retract(writer, record, caller, now)
            found = await writer.aspects.get(aspect_id, context.sandbox_id)
        assert found is not None
        return found.to_dict()

    # -- reading -------------------------------------------------------------------------------

    async def _visible(self, reader: CatalogReader, aspect_id: str, caller: Caller) -> AspectRecord:
        record = await reader.aspects.get(aspect_id, self.context.sandbox_id)
        if record is None or not _audience(record).allows(caller):
            raise ArtifactNotFoundError(f"aspect {aspect_id} not found")
        return record

    async def get_aspect(self, aspect_id: str, *, user_id: str | None = None) -> dict[str, Any]:
        aspect_id = check_aspect_id(aspect_id)
        caller = await self.gate.caller(user_id, None)
        async with self.context.catalog.read() as reader:
            return (await self._visible(reader, aspect_id, caller)).to_dict()

    async def list_aspects(
        self,
        entity: str | None = None,
        schema: str | None = None,
        *,
        include_retracted: bool = False,
        limit: int = 100,
        cursor: str | None = None,
        user_id: str | None = None,
    ) -> dict[str, Any]:
        name = None if entity is None else check_entity(entity)[0]
        if schema is not None and not check_text("schema", schema, max_chars=300):
            raise InvalidRequestError("schema must not be empty")
        if not isinstance(include_retracted, bool):
            raise InvalidRequestError("include_retracted must be true or false")
        limit = check_limit(limit)
        caller = await self.gate.caller(user_id, None)
        async with self.context.catalog.read() as reader:
            found, after = await reader.aspects.page(
                self.context.sandbox_id,
                caller,
                entity=name,
                schema=schema,
                include_retracted=include_retracted,
                limit=limit,
                cursor=cursor,
            )
        return {"items": [record.to_dict() for record in found], "next_cursor": after}

    async def lineage(
        self,
        entity: str,
        direction: str = "up",
        depth: int = 3,
        *,
        user_id: str | None = None,
    ) -> dict[str, Any]:
        if direction not in ("up", "down"):
            raise InvalidRequestError("direction must be up (inputs) or down (uses)")
        if isinstance(depth, bool) or not isinstance(depth, int) or not 1 <= depth <= MAX_DEPTH:
            raise InvalidRequestError(f"depth must be from 1 to {MAX_DEPTH}")
        caller = await self.gate.caller(user_id, None)
        async with self.context.catalog.read() as reader:
            start, _, _ = await self._entity(reader, entity, caller, write=False)
        # up: an entity <-produced-by- job -used-by-> its inputs; down: the reverse
        first, second = (PRODUCED_BY, USED_BY) if direction == "up" else (USED_BY, PRODUCED_BY)
        sandbox = self.context.sandbox_id
        entities: dict[str, int] = {start: 0}  # entity -> level first reached
        jobs: dict[str, int] = {}
        edges: dict[tuple[str, str, str], None] = {}  # ordered and unique
        frontier = [start]
        truncated = False
        async with self.context.catalog.read() as reader:
            for level in range(1, depth + 1):
                if not frontier:
                    break
                hops = await reader.aspects.links(sandbox, caller, schema=first, entities=frontier)
                new_jobs = sorted({job for _, job in hops} - set(jobs))
                for job in new_jobs:
                    jobs[job] = level
                reached = await reader.aspects.links(sandbox, caller, schema=second, jobs=new_jobs)
                frontier = []
                for relation, pairs in ((first, hops), (second, reached)):
                    for name, job in pairs:
                        edges[(name, job, _RELATION[relation])] = None
                for name, _ in reached:
                    if name not in entities:
                        entities[name] = level
                        frontier.append(name)
                if len(entities) + len(jobs) >= MAX_NODES or len(edges) >= MAX_NODES:
                    truncated = bool(frontier) and level < depth
                    break
        found = [(n, "entity", name) for name, n in entities.items()]
        found += [(n, "job", name) for name, n in jobs.items()]
        nodes = [{"id": name, "kind": kind, "level": n} for n, kind, name in sorted(found)]
        return {
            "entity": start,
            "direction": direction,
            "depth": depth,
            "nodes": nodes,
            "edges": [
                {"entity": name, "job": job, "relation": relation} for name, job, relation in edges
            ],
            "truncated": truncated,
        }


_RELATION = {PRODUCED_BY: "produced-by", USED_BY: "used-by"}


def _owned(record: AspectRecord, caller: Caller) -> bool:
    """Whether *caller* may retract an aspect about a URN (its adder's, or the sandbox's)."""
    return caller.trusted or (caller.user_id is not None and record.owner_id == caller.user_id)


def _audience(record: AspectRecord) -> Audience:
    return Audience(record.sandbox_id, record.scope, record.owner_id, record.session_id)
