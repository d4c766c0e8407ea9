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

The check is made at most once per turn of the event loop. That is as safe as checking on
every lookup: whatever a lookup could be required to see (a commit whose acknowledgement
reached a client before it sent this request, or this process's own commit finishing in a
worker thread) arrives by a callback queued after the turn's check was made, and the
check's expiry is queued when it is made, so it runs first and the next lookup checks again.
(Only a change made behind the catalog's back by blocking code on the loop's own thread, in
the same turn as a lookup, could be missed by the next lookup of that turn.)
Under load one check then serves every lookup of a turn, and a check is not cheap when many
I/O threads contend for the GIL (sqlite3 releases it around each statement).

The bytes of small blobs kept in the catalog (``blob_bytes``, read for every small content
read) are kept the same way, under the same check, up to a budget of bytes: a change to
``blob_bytes`` by anyone (garbage collection, a repair, a tampering test) empties them too, so a
verification that reads them sees exactly what the table holds.

PostgreSQL catalogs have no such cheap check across replicas and are not cached.
"""

from __future__ import annotations

import asyncio

from satchel.catalog.connection import InlineConnection
from satchel.core.models import ArtifactRecord

__all__ = ["RecordCache"]

_LIMIT = 4096  # records kept at most; a full cache starts again (no LRU bookkeeping per read)
_BYTES = 16 * 2**20  # bytes of kept blobs held at most (likewise)


class RecordCache:
    """Artifact records (or None: not there) by ``(artifact_id, sandbox_id)``."""

    __slots__ = ("_blobs", "_checked", "_entries", "_held", "_version", "budget", "checks", "limit")

    def __init__(self, limit: int = _LIMIT, budget: int = _BYTES) -> None:
        self._entries: dict[tuple[str, str], ArtifactRecord | None] = {}
        # kept bytes (or None: the catalog keeps none) by (digest, backend)
        self._blobs: dict[tuple[str, str], bytes | None] = {}
        self._held = 0  # bytes in _blobs
        self._version: int | None = None
        self._checked = False  # checked in this turn of the event loop
        self.checks = 0  # how many times SQLite was asked (for tests)
        self.limit = limit
        self.budget = budget

    def current(self, conn: InlineConnection) -> dict[tuple[str, str], ArtifactRecord | None]:
        """The entries still valid: emptied first if the database changed since the last
        check (on *conn*, the connection the lookups run on) made before this loop turn."""
        if not self._checked:
            self.checks += 1
            version = conn.data_version()
            if version != self._version:
                self._entries.clear()
                self._blobs.clear()
                self._held = 0
                self._version = version
            self._checked = True
            asyncio.get_running_loop().call_soon(self._expire)
        return self._entries

    def _expire(self) -> None:
        self._checked = False

    def keep(self, key: tuple[str, str], record: ArtifactRecord | None) -> None:
        """Remember *record*, read after :meth:`current` was last asked."""
        if len(self._entries) >= self.limit:
            self._entries.clear()
        self._entries[key] = record

    def blobs(self, conn: InlineConnection) -> dict[tuple[str, str], bytes | None]:
        """The kept bytes still valid (see :meth:`current`)."""
        self.current(conn)
        return self._blobs

    def keep_bytes(self, key: tuple[str, str], data: bytes | None) -> None:
        """Remember the bytes the catalog keeps for *key*, read after :meth:`blobs` was asked."""
        size = 0 if data is None else len(data)
        if len(self._blobs) >= self.limit or self._held + size > self.budget:
            self._blobs.clear()
            self._held = 0
        self._blobs[key] = data
        self._held += size
