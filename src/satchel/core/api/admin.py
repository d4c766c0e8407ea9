"""The contract of the store itself: lifecycle, sessions, administration, API keys, grid keys."""

from __future__ import annotations

from types import TracebackType
from typing import Any, Protocol, Self

from satchel.core.api._derived import derived
from satchel.core.apikeys import ApiKey
from satchel.core.bulk import DEFAULT_PREFIX_PAGE
from satchel.core.grid import build_grid_key, parse_grid_key
from satchel.core.models import GridKeyComponents
from satchel.core.scopes import Scope
from satchel.core.validation import check_id

__all__ = ["AdminAPI"]


class AdminAPI(Protocol):
    # -- lifecycle ---------------------------------------------------------------------------

    @property
    def sandbox_id(self) -> str:
        """The sandbox this store works in (a remote store learns it when opened)."""

    @property
    def storage_provider(self) -> str:
        """The default blob backend (``memory``, ``filesystem``, ``sqlite``, ``s3``)."""

    async def open(self) -> None:
        """Connect (an embedded store runs catalog migrations). Idempotent; calls open lazily."""

    async def close(self) -> None:
        """Release connections, files and the session cache."""

    # -- sessions ----------------------------------------------------------------------------

    async def create_session(
        self, user_id: str | None = None, ttl_hours: float | None = None
    ) -> str:
        """Create a session owned by *user_id* (None: the application) and return its id."""

    async def validate_session(self, session_id: str) -> bool:
        """True when the session exists and has not expired."""

    async def get_session_info(self, session_id: str) -> dict[str, Any] | None:
        """The session's owner, sandbox and times (ISO 8601), or None."""

    # -- administration ------------------------------------------------------------------------

    async def validate_configuration(self) -> dict[str, Any]:
        """Check that the catalog, blob backends and session provider answer.

        Returns ``{"storage": {...}, "session": {...}, "catalog": {...}, "disk": {...}}``,
        each with a ``status`` of ``ok`` or ``error`` (``disk``: ``full`` while new content is
        refused, with its ``reason``).
        """

    async def health(self) -> dict[str, Any]:
        """``{"status": "ok" | "degraded", "version", "sandbox_id", "checks"}`` (the checks of
        :meth:`validate_configuration`), as ``GET /health`` answers."""

    async def get_stats(self) -> dict[str, Any]:
        """Counts and sizes: artifacts, logical and stored bytes, sessions, providers."""

    async def purge_expired(self) -> dict[str, int]:
        """Delete expired artifacts, idle expired sessions and expired uploads; reclaim bytes.
        Returns how many of each, and ``blobs`` / ``bytes_freed``."""

    async def collect_garbage(self) -> tuple[int, int]:
        """Delete blobs no artifact refers to; return (blobs removed, bytes freed)."""

    async def check_storage(self, *, repair: bool = False, verify: bool = False) -> dict[str, Any]:
        """Check that the catalog, the blob backends and upload staging agree (fsck).

        Finds bytes artifacts point at that are gone or of the wrong size (with *verify*, also
        bytes that hash otherwise, reading every blob), bytes and ledger rows nobody accounts
        for, what crashed writes left (temp files, staged chunks and upload bodies of dead
        processes) and expired unfinished uploads. With *repair* it fixes what is safe: stray
        bytes go to garbage collection, leftovers are removed, ledger rows are mended, expired
        uploads purged; lost or damaged content is reported, never touched. Work in flight is
        counted, not touched.

        Returns ``{"clean", "repair", "repaired", "unresolved", "in_flight", "counts",
        "checked", "problems"}``; ``clean`` is true when nothing is left unresolved, and each
        problem is ``{"kind", "subject", "detail", "repaired"}`` (the first 1000 are listed).
        """

    async def verify_storage(
        self, backend: str | None = None, *, sample: int | None = None, user_id: str | None = None
    ) -> dict[str, Any]:
        """Re-read stored blobs (of one *backend*, or all; *sample* of them at random, or every
        one), recompute each sha256 and record a ``v1.storage.location_verified`` event per
        blob. Blobs whose bytes are corrupt or missing are marked failed: reading them raises
        IntegrityError and ``health()`` is degraded until a later verification finds them
        intact (after a restore). Admins only.

        Returns ``{"backends", "checked", "intact", "failed", "unreachable", "restored",
        "failures": [{backend, digest, failure}]}`` (the first 1000 failures listed).
        """

    async def delete_prefix(
        self,
        prefix: str,
        *,
        dry_run: bool = True,
        limit: int | None = None,
        page_size: int = DEFAULT_PREFIX_PAGE,
        user_id: str | None = None,
    ) -> dict[str, Any]:
        """Delete every artifact whose grid key lies under *prefix* (admins only); by default
        only report what would go.

        *prefix* names whole segments under this sandbox, e.g. ``grid/{sandbox}/sessions/{id}/``
        (a trailing ``/`` is implied: ``…/sessions/abc`` never matches ``…/sessions/abcd``).
        The matching rows are walked *page_size* at a time in key order, never all at once. A
        real run (``dry_run=False``) deletes each as :meth:`delete` would: held or retained
        artifacts are skipped and reported. *limit* caps how many are deleted (or counted) in
        this call; the same call again goes on. A failure mid-walk stops it, and the report
        says how far it got (what was deleted stays deleted).

        Returns ``{"prefix", "dry_run", "pages", "count", "bytes", "skipped", "ids",
        "skipped_items", "complete", "error"}``: how many artifacts (and bytes) were deleted
        (would be, in a dry run), the first 1000 of their ids, how many were skipped with the
        first 1000 of them as delete results, whether the walk reached the end, and the
        failure that stopped it (``{"code", "message"}``) or None.

        Raises:
            InvalidRequestError: *prefix* is not a grid prefix of this sandbox (empty, not under
                ``grid/``, traversal, another sandbox), or bad paging; nothing changes.
            AccessDeniedError: the caller is not an admin (*user_id* names a user).
        """

    # -- API keys ----------------------------------------------------------------------------

    async def create_api_key(
        self, user_id: str, *, admin: bool = False, name: str = "", ttl: int | None = None
    ) -> tuple[str, ApiKey]:
        """Create an API key acting as *user_id*; return ``(token, key)``.

        The token is shown only here: the catalog keeps a digest of its secret. ``ttl``
        (seconds) makes the key expire; ``admin=True`` gives it the admin role.
        """

    async def list_api_keys(self, *, include_revoked: bool = False) -> list[ApiKey]:
        """This sandbox's API keys, oldest first (never their secrets)."""

    async def revoke_api_key(self, key_id: str) -> ApiKey:
        """Revoke a key at once; ArtifactNotFoundError when there is no such live key."""

    async def authenticate_api_key(self, token: str) -> ApiKey | None:
        """The live key of this sandbox that *token* belongs to, else None."""

    async def whoami(self) -> dict[str, Any]:
        """Whom this store acts as: ``user_id`` (None for the trusted application, as the
        embedded store and admin tokens act), ``sandbox_id``, ``admin``, ``name`` and ``key``
        (the API key of the token, when it is one)."""

    # -- derived -------------------------------------------------------------------------------

    @derived
    async def __aenter__(self) -> Self:
        await self.open()
        return self

    @derived
    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    @derived
    async def dispose(self) -> None:
        """Close the store (seed 001's registry calls it ``dispose``)."""
        await self.close()

    @derived
    async def cleanup_expired_sessions(self) -> int:
        """Purge expired artifacts and sessions (see :meth:`purge_expired`); return how many."""
        result = await self.purge_expired()
        return result["artifacts"] + result["sessions"]

    @derived
    def parse_grid_key(self, grid_key: str) -> GridKeyComponents | None:
        """Split a grid key into sandbox, scope, session/user and artifact id (None if not one)."""
        return parse_grid_key(grid_key)

    @derived
    def get_canonical_prefix(self, session_id: str) -> str:
        """The grid prefix of a session's artifacts."""
        return f"grid/{self.sandbox_id}/sessions/{check_id('session_id', session_id)}/"

    @derived
    def generate_artifact_key(self, session_id: str, artifact_id: str) -> str:
        """The grid key a session-scoped artifact gets."""
        return build_grid_key(
            sandbox_id=self.sandbox_id,
            scope=Scope.SESSION,
            session_id=check_id("session_id", session_id),
            owner_id=None,
            artifact_id=check_id("artifact_id", artifact_id),
        )
