"""Aspects (seed 002): typed metadata records ``{entity, schema, content}`` about an artifact, a
package or anything named by a URN (a job, an order), and the provenance links among them.

An aspect's content is checked against its schema: a metadata schema registered by slug (and
version), or one of the built-in provenance schemas below. Provenance is two kinds of aspect:
*produced-by* on an output names the job that made it, *used-by* on an input names a job that
read it; :func:`lineage` walks those links (see store/aspects.py).
"""

from __future__ import annotations

import dataclasses
import enum
import re
import uuid
from typing import Any

from satchel.core.errors import InvalidRequestError
from satchel.core.validation import check_id

__all__ = [
    "ASPECT_URN",
    "BUILTIN_SCHEMAS",
    "PRODUCED_BY",
    "USED_BY",
    "AspectRecord",
    "AspectState",
    "EntityKind",
    "check_aspect_id",
    "check_entity",
    "free_form_schema",
    "new_aspect_id",
]

ASPECT_URN = "urn:satchel:aspect:"
_ENTITY_URNS = {"urn:satchel:artifact:": "artifact", "urn:satchel:package:": "package"}
MAX_ENTITY = 300
_ENTITY_RE = re.compile(r"[A-Za-z0-9][\x21-\x7e]*")  # printable ASCII, no spaces

PRODUCED_BY = "urn:satchel:schema:produced-by.1"
USED_BY = "urn:satchel:schema:used-by.1"

_LINK: dict[str, Any] = {
    "type": "object",
    "required": ["job"],
    "properties": {
        "job": {"type": "string", "minLength": 1, "maxLength": MAX_ENTITY},
        "role": {"type": "string", "maxLength": 128},
    },
}
BUILTIN_SCHEMAS: dict[str, dict[str, Any]] = {
    PRODUCED_BY: {**_LINK, "description": "the job that produced this entity"},
    USED_BY: {**_LINK, "description": "a job that used this entity as an input"},
}
"""Schemas every sandbox has: the provenance links. Their ``job`` is the link's other end."""


class EntityKind(enum.StrEnum):
    ARTIFACT = "artifact"
    PACKAGE = "package"
    OTHER = "other"  # a job, an order, anything named by a URN


class AspectState(enum.StrEnum):
    ACTIVE = "active"
    RETRACTED = "retracted"


_FREE_FORM_RE = re.compile(r"urn:[A-Za-z0-9][A-Za-z0-9-]{0,31}:[\x21-\x7e]+")


def free_form_schema(name: str) -> str | None:
    """*name* when it is a schema URN that is not Satchel's own (``urn:my:schema:tag.1``, as
    IVCAP's guide names schemas): unless a schema is registered by that name, its aspects are
    recorded as given, not validated. None for anything else (a slug, a ``urn:satchel:``
    name)."""
    if not name.startswith("urn:") or name.startswith("urn:satchel:"):
        return None
    if len(name) > MAX_ENTITY or not _FREE_FORM_RE.fullmatch(name):
        raise InvalidRequestError(
            f"schema {name[:100]!r} is not a URN of printable ASCII (at most {MAX_ENTITY})"
        )
    return name


def new_aspect_id() -> str:
    return f"asp-{uuid.uuid4().hex}"


def check_aspect_id(value: object) -> str:
    """An aspect id, bare (``asp-…``) or as its URN (``urn:satchel:aspect:asp-…``)."""
    if isinstance(value, str) and value.startswith(ASPECT_URN):
        value = value[len(ASPECT_URN) :]
    if not isinstance(value, str) or not re.fullmatch(r"asp-[0-9a-f]{32}", value):
        raise InvalidRequestError("an aspect id is asp-<32 hex digits> or its URN")
    return value


def check_entity(value: object) -> tuple[str, EntityKind | None]:
    """The entity an aspect is about, and its kind when the name says it.

    ``urn:satchel:artifact:<id>`` and ``urn:satchel:package:<id>`` become the bare id; any
    other name (a bare id, a job's URN) is 1-300 printable characters without spaces, and its
    kind is found by looking it up (None here)."""
    if not isinstance(value, str) or not value:
        raise InvalidRequestError("entity must be a non-empty string")
    for prefix, kind in _ENTITY_URNS.items():
        if value.startswith(prefix):
            return check_id(f"{kind} id", value[len(prefix) :]), EntityKind(kind)
    if len(value) > MAX_ENTITY or not _ENTITY_RE.fullmatch(value):
        raise InvalidRequestError(
            f"entity must be 1-{MAX_ENTITY} printable characters without spaces"
        )
    return value, None


@dataclasses.dataclass(frozen=True, slots=True)
class AspectRecord:
    aspect_id: str
    sandbox_id: str
    entity: str
    entity_kind: EntityKind
    schema: str  # "slug@version" of a registered schema, or a built-in schema's name
    content: dict[str, Any]
    policy: str | None
    state: AspectState
    created_at: float
    retracted_at: float | None
    actor: str | None
    scope: str  # the audience (see satchel.core.events.Audience): the entity's
    owner_id: str | None
    session_id: str | None
    link: str | None  # a provenance aspect's job

    def to_dict(self) -> dict[str, Any]:
        return {
            "aspect_id": self.aspect_id,
            "urn": ASPECT_URN + self.aspect_id,
            "entity": self.entity,
            "entity_kind": self.entity_kind.value,
            "schema": self.schema,
            "content": self.content,
            "policy": self.policy,
            "state": self.state.value,
            "created_at": self.created_at,
            "retracted_at": self.retracted_at,
            "actor": self.actor,
        }
