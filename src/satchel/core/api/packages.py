"""The contract of packages, manifests, retention, legal holds and metadata schemas (seed 001).

Method and parameter names follow seed 001's registry (``create_package``, ``ingest_file``,
``finalize_package``, ``get_manifest_bytes(format="cbor")``, ``dispose``), so its library code
runs against any face. Packages, holds and retention are described as plain dictionaries (what
the HTTP service answers); see docs/packages.md.
"""

from __future__ import annotations

from collections.abc import AsyncIterable
from typing import Any, Protocol

from satchel.core.content import ArtifactContent
from satchel.core.ranges import ByteRange

__all__ = ["PackagesAPI"]


class PackagesAPI(Protocol):
    # -- packages ------------------------------------------------------------------------------

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
        """Open a package and return its id.

        *metadata* is checked against the registered metadata schema *schema* (``slug`` for its
        latest version or ``slug@N``). A ``sandbox`` package is readable by everyone in the
        sandbox, a ``user`` package by its owner only. With a *version*, the name and version
        are written once: asking again with the same attributes returns the package already
        open (a push resumes) or finalized (a re-push is idempotent); other attributes under a
        finalized name and version are a PackageFinalizedError (409). *actor* is recorded in
        the package's history.
        """

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
        """Add the bytes of *stream* (streamed, any size) to an open package at *relative_path*
        and return the file's entry (relative path, size, media type, sha256).

        The path is NFC-normalised and checked (no ``..``, absolute paths, NUL or control
        characters). The same content at the same path again is accepted and changes nothing;
        other content there is a DuplicateRelativePathError (409), and any change to a
        finalized package a PackageFinalizedError (409). With *sha256*, bytes that hash
        otherwise are refused, and an identical file already there is not read at all.
        """

    async def finalize_package(
        self, package_id: str, actor: str | None = None, *, user_id: str | None = None
    ) -> str:
        """Write the package's immutable manifest and return its address (``sha256:<hex>`` of
        the canonical JSON). Retention starts now. Finalizing a finalized package returns its
        address again."""

    async def get_package(self, package_id: str, *, user_id: str | None = None) -> dict[str, Any]:
        """The package: its attributes, state, manifest address, retention and active holds."""

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
        """``{"items": [package, …], "next_cursor": str | None}``, newest first; *mine* keeps
        the caller's own packages (the application's, for a call without ``user_id``)."""

    async def list_package_files(
        self, package_id: str, *, user_id: str | None = None
    ) -> list[dict[str, Any]]:
        """The package's files, by relative path."""

    async def get_manifest_bytes(
        self, package_id: str, format: str = "cbor", *, user_id: str | None = None
    ) -> bytes:
        """The finalized package's manifest as deterministic CBOR (``cbor``) or canonical JSON
        (``json``); ConflictError while the package is open."""

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
        """Open one file of a package for reading, as :meth:`open_content` opens an artifact
        (its etag is the file's sha256)."""

    async def delete_package(
        self,
        package_id: str,
        *,
        bypass_governance: bool = False,
        reason: str | None = None,
        actor: str | None = None,
        user_id: str | None = None,
    ) -> dict[str, Any]:
        """Delete a package: an open one by its owner at any time; a finalized one only when
        no hold is on it and its retention has ended, or (governance mode) by an admin who sets
        *bypass_governance* and gives a *reason*. Its blobs go to garbage collection.
        RetainedError (409) otherwise."""

    # -- retention and holds -------------------------------------------------------------------

    async def retention_classes(self) -> list[dict[str, Any]]:
        """The configured retention classes: name, duration, mode, keep_last."""

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
        """Move the end of a finalized package's (or an artifact's) retention to
        *retain_until* (epoch seconds or ISO 8601; None: forever). Extending is the owner's or
        an admin's; shortening is governance mode only, by an admin with *bypass_governance*
        and a *reason*; compliance retention is never shortened. Recorded in its history."""

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
        """Put a named legal hold on a package or artifact (admins): nothing deletes it while
        the hold is in force, whatever its retention or TTL."""

    async def release_hold(
        self,
        hold_id: str,
        reason: str,
        *,
        actor: str | None = None,
        user_id: str | None = None,
    ) -> dict[str, Any]:
        """Release a hold (admins), saying why."""

    async def list_holds(
        self,
        target_id: str,
        *,
        kind: str = "package",
        include_released: bool = False,
        user_id: str | None = None,
    ) -> list[dict[str, Any]]:
        """The holds on a package or artifact, oldest first."""

    async def retention_history(
        self, target_id: str, *, kind: str = "package", user_id: str | None = None
    ) -> list[dict[str, Any]]:
        """Who changed what about a package's (or artifact's) lifecycle, when and why:
        creation, finalizing, retention changes, holds, eligibility, deletion (oldest first)."""

    async def sweep_retention(self, *, dry_run: bool = False) -> dict[str, Any]:
        """Decide which finalized packages may be deleted and record it (unless *dry_run*),
        naming the rule that decided each (hold, keep-last-N, retention). Safe to run on two
        replicas at once."""

    async def gc(self, *, dry_run: bool = False) -> dict[str, Any]:
        """Delete what is eligible (swept packages, abandoned open packages) and the blobs that
        nothing references after the grace period; report what went and the bytes freed."""

    # -- metadata schemas ----------------------------------------------------------------------

    async def register_schema(
        self,
        slug: str,
        schema: dict[str, Any],
        *,
        version: int | None = None,
        actor: str | None = None,
        user_id: str | None = None,
    ) -> dict[str, Any]:
        """Register a JSON Schema for package metadata under *slug* (the next version unless
        *version* is given). A version never changes: the same document again is accepted,
        another one is a ConflictError."""

    async def get_schema(self, slug: str, version: int | None = None) -> dict[str, Any]:
        """The schema *slug* at *version* (None: the latest)."""

    async def list_schemas(self) -> list[dict[str, Any]]:
        """Every registered schema version."""
