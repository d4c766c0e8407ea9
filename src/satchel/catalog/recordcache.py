"""Artifact records kept between reads of a SQLite file, for as long as the file is unchanged.

Every read, download and ``metadata()`` call looks one artifact up by id. On a SQLite file the
catalog keeps the records it has read (and the ids it found missing) and, before answering from
them, asks SQLite whether anything was committed since: ``PRAGMA data_version`` changes when
any other connection commits to the database, whether in this process (the group-commit
writer) or another (``satchel serve --workers N``, a CLI writing beside a server). A change
empties the cache, so a cached answer is exactly what the lookup would have read at that
moment; the check costs one statement without table access (~4 µs) where the lookup and the
record's building cost several times that. Records are immutable (``ArtifactRecord`` is a
frozen dataclass and nothing changes its ``meta``), so sharing one between readers is safe;
expiry and access are still decided on every read, by the caller, from the record.

PostgreSQL catalogs have no such cheap check across replicas and are not cached.
"""

from __future__ import annotations

from satchel.catalog.connection import InlineConnection
from satchel.core.models import ArtifactRecord

__all__ = ["RecordCache"]

_LIMIT = 4096  # records kept at most; a full cache starts again (no LRU bookkeeping per read)


class RecordCache:
    """Artifact records (or None: not there) by ``(artifact_id, sandbox_id)``."""

    __slots__ = ("_entries", "_version", "limit")

    def __init__(self, limit: int = _LIMIT) -> None:
        self._entries: dict[tuple[str, str], ArtifactRecord | None] = {}
        self._version: int | None = None
        self.limit = limit

    def current(self, conn: InlineConnection) -> dict[tuple[str, str], ArtifactRecord | None]:
        """The entries still valid: emptied first if the database changed since the last
        check (on *conn*, the connection the lookups run on)."""
        version = conn.data_version()
        if version != self._version:
            self._entries.clear()
            self._version = version
        return self._entries

    def keep(self, key: tuple[str, str], record: ArtifactRecord | None) -> None:
        """Remember *record*, read after :meth:`current` was last asked."""
        if len(self._entries) >= self.limit:
            self._entries.clear()
        self._entries[key] = record
