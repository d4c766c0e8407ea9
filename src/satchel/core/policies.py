"""Who may read an artifact besides its owners (its *policy*), collections, and the URNs that
name artifacts. Pure rules, no I/O.

An artifact is private (policy ``None``: the scope rules of :mod:`satchel.core.access` alone) or
``public``: readable by anyone who names it, with or without a token. Public artifacts do not
join other callers' listings; their id (or the permanent URL made from it) is what is shared.
IVCAP's open policy URN and a few spellings mean the same.

A collection is a named set of artifacts (``urn:satchel:collection:<name>`` or the bare name);
an artifact may belong to several, and ``search(collection=…)`` finds their members.
"""

from __future__ import annotations

from satchel.core.errors import InvalidRequestError
from satchel.core.validation import check_id

__all__ = [
    "ARTIFACT_URN",
    "COLLECTION_URN",
    "PUBLIC",
    "URL_FLAVORS",
    "artifact_ref",
    "check_collection",
    "check_policy",
    "check_url_flavor",
]

PUBLIC = "public"
ARTIFACT_URN = "urn:satchel:artifact:"
COLLECTION_URN = "urn:satchel:collection:"
_PUBLIC_NAMES = frozenset(
    {
        "public",
        "open",
        "urn:satchel:policy:public",
        "urn:satchel:policy:open",
        "urn:ivcap:policy:ivcap.open.artifact",
    }
)
_PRIVATE_NAMES = frozenset({"private", "urn:satchel:policy:private"})
URL_FLAVORS = ("auto", "public", "presigned")
"""What ``get_url`` returns: the public URL of a public artifact and a presigned one otherwise
(``auto``), the public URL or an error (``public``), or a presigned URL always (``presigned``:
paid feeds, audit trails)."""


def check_policy(value: object) -> str | None:
    """The policy *value* names: ``"public"``, or None for private.

    Raises InvalidRequestError for anything else (a policy is never ignored silently).
    """
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidRequestError(f"policy must be a string, got {type(value).__name__}")
    name = value.strip().lower()
    if name in _PUBLIC_NAMES:
        return PUBLIC
    if name in _PRIVATE_NAMES:
        return None
    raise InvalidRequestError(
        f"unknown policy {value[:200]!r}: use 'public' (also 'open', urn:satchel:policy:public, "
        "urn:ivcap:policy:ivcap.open.artifact) or 'private'"
    )


def check_collection(value: object) -> str:
    """A collection's name, given bare or as ``urn:satchel:collection:<name>`` (the name follows
    the rules of an id: letters, digits and ``. _ @ + = : -``, at most 128 characters)."""
    if isinstance(value, str) and value.startswith(COLLECTION_URN):
        value = value[len(COLLECTION_URN) :]
    return check_id("collection", value)


def artifact_ref(value: str) -> str:
    """An artifact id given bare or as its URN (``urn:satchel:artifact:<id>``): the bare id."""
    if value.startswith(ARTIFACT_URN):
        return value[len(ARTIFACT_URN) :]
    return value


def check_url_flavor(value: object) -> str:
    """One of :data:`URL_FLAVORS` (InvalidRequestError otherwise)."""
    if not isinstance(value, str) or value not in URL_FLAVORS:
        shown = value[:100] if isinstance(value, str) else type(value).__name__
        raise InvalidRequestError(f"unknown URL policy {shown!r}: use auto, public or presigned")
    return value
