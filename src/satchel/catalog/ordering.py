"""Keyset pages of artifact rows in a chosen order, and filename globs as SQL pre-filters.

A page cursor names the last row's sort value and id (and the order, so a cursor of one order
is refused by another); the next page starts strictly after it. Ties on the sort value are
broken by ``artifact_id``, so every row appears exactly once across pages.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

from sqlalchemy import func, tuple_

from satchel.catalog.rows import decode_cursor, encode_cursor
from satchel.catalog.tables import artifacts
from satchel.core.errors import InvalidRequestError

__all__ = ["ORDERS", "Ordering", "check_order", "glob_like"]

_MAX_TIME = 1e12  # epoch seconds far beyond any stored_at
_MAX_BYTES = 2**63 - 1


@dataclasses.dataclass(frozen=True, slots=True)
class Ordering:
    """One listing order: the sort column and its direction."""

    name: str
    column: Any
    descending: bool
    kind: type
    attribute: str

    def key(self) -> tuple[Any, Any]:
        return (self.column, artifacts.c.artifact_id)

    def value(self, row: Any) -> Any:
        """The sort value of *row* as it goes into a cursor."""
        value = getattr(row, self.attribute)
        return value or "" if self.kind is str else value

    def after(self, query: Any, cursor: str) -> Any:
        """*query* narrowed to rows after the one *cursor* names."""
        # the default order's cursors carry two parts, as before orders existed
        parts = decode_cursor(cursor, 2 if self.name == "stored_at" else 3)
        value, artifact_id = parts[0], parts[1]
        if len(parts) == 3 and parts[2] != self.name:
            raise InvalidRequestError("the page cursor belongs to another order")
        if not isinstance(artifact_id, str) or not _valid(self.kind, value):
            raise InvalidRequestError("malformed page cursor")
        bound = tuple_(float(value) if self.kind is float else value, artifact_id)
        key = tuple_(*self.key())
        return query.where(key < bound if self.descending else key > bound)

    def ordered(self, query: Any) -> Any:
        columns = self.key()
        return query.order_by(*(c.desc() for c in columns) if self.descending else columns)

    def cursor(self, row: Any) -> str:
        if self.name == "stored_at":  # the form every earlier cursor had
            return encode_cursor(row.stored_at, row.artifact_id)
        return encode_cursor(self.value(row), row.artifact_id, self.name)


def _valid(kind: type, value: Any) -> bool:
    if kind is str:
        return isinstance(value, str) and len(value) <= 4096
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    if kind is float:
        return -_MAX_TIME <= value <= _MAX_TIME
    return isinstance(value, int) and 0 <= value <= _MAX_BYTES


_NAME = func.coalesce(artifacts.c.filename, "")
ORDERS: dict[str, Ordering] = {
    "stored_at": Ordering("stored_at", artifacts.c.stored_at, False, float, "stored_at"),
    "-stored_at": Ordering("-stored_at", artifacts.c.stored_at, True, float, "stored_at"),
    "filename": Ordering("filename", _NAME, False, str, "filename"),
    "-filename": Ordering("-filename", _NAME, True, str, "filename"),
    "bytes": Ordering("bytes", artifacts.c.bytes, False, int, "bytes"),
    "-bytes": Ordering("-bytes", artifacts.c.bytes, True, int, "bytes"),
}


def check_order(order: str) -> Ordering:
    """The :class:`Ordering` named *order* (``stored_at``, ``filename`` or ``bytes``; a leading
    ``-`` reverses it), or :class:`InvalidRequestError`."""
    found = ORDERS.get(order) if isinstance(order, str) else None
    if found is None:
        raise InvalidRequestError(f"order must be one of {', '.join(ORDERS)}")
    return found


# A class as fnmatch reads one: "[", an optional "!", an optional "]" as its first member, then
# up to the next "]". Possessive, so "[]" or "[!]" with no later "]" is not a class (fnmatch
# takes them literally) and is never turned into "_".
_GLOB_PART = re.compile(r"\[!?+\]?+[^\]]*\]|[*?]|[^*?\[]+|\[")


def glob_like(pattern: str) -> str:
    """A LIKE pattern (escape ``\\``) matching at least every name the glob *pattern* matches:
    ``*`` → ``%``, ``?`` and a ``[...]`` class → ``_``. Exactness (classes, case, which SQLite's
    LIKE ignores) is re-checked with :func:`fnmatch.fnmatchcase`."""
    out = []
    for part in _GLOB_PART.findall(pattern):
        if part == "*":
            out.append("%")
        elif part == "?" or (part.startswith("[") and part.endswith("]") and len(part) > 1):
            out.append("_")
        else:
            out.append(part.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_"))
    return "".join(out)
