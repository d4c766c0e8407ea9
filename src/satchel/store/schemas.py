"""Metadata schemas: JSON Schema documents registered by slug and version, against which a
package's metadata is checked when it is created (errors name the failing path)."""

from __future__ import annotations

import json
from typing import Any

import jsonschema  # type: ignore[import-untyped]
from jsonschema.exceptions import SchemaError  # type: ignore[import-untyped]
from referencing import Registry
from referencing.exceptions import Unresolvable

from satchel.core.errors import (
    AccessDeniedError,
    ArtifactNotFoundError,
    ConflictError,
    InvalidRequestError,
    TooLargeError,
)
from satchel.core.events import Audience
from satchel.core.validation import check_id
from satchel.store.context import StoreContext
from satchel.store.gate import AccessGate

__all__ = ["SchemaService", "parse_schema_ref"]

MAX_SCHEMA_BYTES = 256 * 1024
MAX_VERSION = 2**31 - 1
_LISTED_ERRORS = 10


def _check_version(version: object) -> int:
    if isinstance(version, bool) or not isinstance(version, int) or not 1 <= version <= MAX_VERSION:
        raise InvalidRequestError(f"a schema version is an integer from 1 to {MAX_VERSION}")
    return version


def parse_schema_ref(ref: object) -> tuple[str, int | None]:
    """``slug`` (its latest version) or ``slug@N``."""
    if not isinstance(ref, str):
        raise InvalidRequestError("schema must be slug or slug@version")
    slug, _, version = ref.partition("@")
    if not version:
        return check_id("schema slug", slug), None
    if not version.isdigit() or len(version) > 10:
        raise InvalidRequestError(f"schema {ref!r}: the version after @ is a number")
    return check_id("schema slug", slug), _check_version(int(version))


def _where(path: Any, what: str = "metadata") -> str:
    found = what
    for part in path:
        found += f"[{part}]" if isinstance(part, int) else f".{part}"
    return found


class SchemaService:
    def __init__(self, context: StoreContext, gate: AccessGate) -> None:
        self.context = context
        self.gate = gate
        self._validators: dict[tuple[str, str, int], Any] = {}

    async def register_schema(
        self,
        slug: str,
        schema: dict[str, Any],
        *,
        version: int | None = None,
        actor: str | None = None,
        user_id: str | None = None,
    ) -> dict[str, Any]:
        slug = check_id("slug", slug)
        if version is not None:
            version = _check_version(version)
        if actor is not None and (not isinstance(actor, str) or len(actor) > 128):
            raise InvalidRequestError("actor must be text of at most 128 characters")
        if not isinstance(schema, dict):
            raise InvalidRequestError("a metadata schema is a JSON object")
        try:
            size = len(json.dumps(schema, allow_nan=False))
        except (TypeError, ValueError) as error:
            raise InvalidRequestError(f"the schema is not JSON: {error}") from None
        if size > MAX_SCHEMA_BYTES:
            raise TooLargeError(f"a schema holds at most {MAX_SCHEMA_BYTES} bytes of JSON")
        try:
            jsonschema.validators.validator_for(schema).check_schema(schema)
        except SchemaError as error:
            where = "/".join(str(p) for p in error.path) or "(root)"
            raise InvalidRequestError(
                f"not a valid JSON Schema at {where}: {error.message}"
            ) from None
        try:  # a schema that cannot be applied (its $refs lead nowhere) is refused now
            validator = jsonschema.validators.validator_for(schema)(schema, registry=Registry())
            list(validator.iter_errors({}))
        except (Unresolvable, RecursionError) as error:
            raise InvalidRequestError(f"the schema cannot be applied: {error}") from None
        caller = await self.gate.caller(user_id, None)
        if not caller.trusted:
            raise AccessDeniedError("only admins register metadata schemas")
        context = self.context
        now = context.now()
        async with context.catalog.write() as writer:
            latest = await writer.packages.schema(context.sandbox_id, slug, None)
            if version is None:
                version = 1 if latest is None else latest[0] + 1
            else:
                there = await writer.packages.schema(context.sandbox_id, slug, version)
                if there is not None:
                    if there[1] != schema:
                        raise ConflictError(f"schema {slug}@{version} exists with another document")
                    return {"slug": slug, "version": version, "created": False}
            await writer.packages.insert_schema(
                context.sandbox_id, slug, version, schema, now=now, actor=caller.user_id or actor
            )
            await writer.append_event(
                type="v1.schema.registered",
                subject=f"{slug}@{version}",
                payload={"slug": slug, "version": version, "actor_label": actor},
                actor=caller.user_id or actor,
                time=now,
                audience=Audience.everyone(context.sandbox_id),
            )
        return {"slug": slug, "version": version, "created": True}

    async def get_schema(self, slug: str, version: int | None = None) -> dict[str, Any]:
        slug = check_id("slug", slug)
        if version is not None:
            version = _check_version(version)
        await self.context.ensure_open()
        async with self.context.catalog.read() as reader:
            found = await reader.packages.schema(self.context.sandbox_id, slug, version)
        if found is None:
            which = slug if version is None else f"{slug}@{version}"
            raise ArtifactNotFoundError(f"no metadata schema {which}")
        return {"slug": slug, "version": found[0], "schema": found[1]}

    async def list_schemas(self) -> list[dict[str, Any]]:
        await self.context.ensure_open()
        async with self.context.catalog.read() as reader:
            return await reader.packages.schemas(self.context.sandbox_id)

    async def validate(self, ref: str, metadata: dict[str, Any], *, what: str = "metadata") -> str:
        """Check *metadata* against the schema *ref*; return ``slug@version`` it passed.

        Raises InvalidRequestError listing the failing paths (the first ten), each starting
        with *what* (``metadata.run.started_at``)."""
        slug, version = parse_schema_ref(ref)
        found = await self.get_schema(slug, version)
        key = (self.context.sandbox_id, slug, found["version"])
        validator = self._validators.get(key)
        if validator is None:
            document = found["schema"]
            # an empty registry: a $ref to anything outside the document stays unresolved
            # (never fetched from the network)
            validator = jsonschema.validators.validator_for(document)(document, registry=Registry())
            self._validators[key] = validator
        try:
            errors = sorted(validator.iter_errors(metadata), key=lambda e: list(map(str, e.path)))
        except (Unresolvable, RecursionError) as error:
            raise InvalidRequestError(f"schema {slug} cannot be applied: {error}") from None
        if errors:
            listed = "; ".join(
                f"{_where(e.path, what)}: {e.message}" for e in errors[:_LISTED_ERRORS]
            )
            more = len(errors) - _LISTED_ERRORS
            suffix = f" (and {more} more)" if more > 0 else ""
            raise InvalidRequestError(
                f"{what} does not match schema {slug}@{found['version']}: {listed}{suffix}"
            )
        return f"{slug}@{found['version']}"
