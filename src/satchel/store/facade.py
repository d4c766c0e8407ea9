"""``ArtifactStore``: the embedded face of the contract, a thin façade over the store's parts.

Each method of :class:`~satchel.core.api.ArtifactStoreAPI` is forwarded to the part that owns
it (one line each below); the derived methods are inherited from the contract. Where a rule
lives, by folder listing:

=====================  ===========================================================
``context.py``         settings, clock, catalog, blob backends, session cache, staging
``gate.py``            callers, sessions, loading records under the access rules
``ledger.py``          routing, blob references, release, discard, garbage collection
``creation.py``        validating and committing new artifacts
``versions.py``        new versions of an artifact (compare-and-swap)
``artifacts.py``       stream_upload, metadata, updates, extend_ttl, delete, delete_many
``files.py``           copy and move
``batch.py``           store_batch
``content.py``         open_content, stream_download
``listing.py``         listings and search
``sharing.py``         public policy, collections
``presign.py``         presigned downloads; what a presigned URL grants
``presigned_uploads``  presign_upload, register_uploaded_artifact
``multipart.py``       multipart uploads
``tus.py``             resumable uploads
``uploads.py``         upload sessions shared by the three kinds above
``sessions.py``        create, validate, describe sessions
``admin.py``           configuration checks, health, stats, purge, GC
``bucket.py``          the S3 bucket's doctor and lifecycle rule
``prefix_delete.py``   delete_prefix: an admin's paged delete under a grid-key prefix
``keys.py``            API keys
``packages.py``        packages: create, ingest, finalize, manifests, reads
``schemas.py``         metadata schemas (JSON Schema) packages are checked against
``retention.py``       retention ends, legal holds, history, the delete guard
``lifecycle.py``       deleting packages, the retention sweep, gc
``locks.py``           retention and holds mirrored onto S3 Object Lock
``verification.py``    verify_storage: re-hash blobs, quarantine failed ones (quarantine.py)
``feed.py``            the event feed (list_events; events() is derived)
``aspects.py``         aspects (typed metadata about entities) and lineage
``webhooks.py``        webhook subscriptions, dead letters (delivery: delivery.py)
``proxy.py``           the pull-through cache (downloads: proxy_fetch.py)
=====================  ===========================================================
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from os import PathLike
from pathlib import Path
from typing import Any, TypeVar, cast

from satchel.blobs.base import BlobStore
from satchel.config import Settings
from satchel.core.api import ArtifactStoreAPI
from satchel.core.clock import Clock
from satchel.core.policies import artifact_ref
from satchel.core.unset import UNSET, Unset
from satchel.store.admin import AdminService
from satchel.store.artifacts import ArtifactService
from satchel.store.aspects import AspectService
from satchel.store.batch import BatchService
from satchel.store.bucket import BucketService
from satchel.store.content import ContentService
from satchel.store.context import StoreContext, make_settings
from satchel.store.creation import ArtifactCreator
from satchel.store.feed import EventFeed
from satchel.store.files import FileService
from satchel.store.gate import AccessGate
from satchel.store.integrity import StorageCheck
from satchel.store.keys import KeyService
from satchel.store.ledger import BlobLedger
from satchel.store.lifecycle import Lifecycle
from satchel.store.listing import ListingService
from satchel.store.locks import BlobLocks
from satchel.store.multipart import MultipartService
from satchel.store.packages import PackageService
from satchel.store.prefix_delete import PrefixDeleter
from satchel.store.presign import PresignService
from satchel.store.presigned_uploads import PresignedUploadService
from satchel.store.proxy import ProxyService
from satchel.store.retention import RetentionService
from satchel.store.schemas import SchemaService
from satchel.store.sessions import SessionService
from satchel.store.sharing import SharingService
from satchel.store.signing import Signer
from satchel.store.tus import TusService
from satchel.store.uploads import Uploads
from satchel.store.verification import StorageVerifier
from satchel.store.versions import Versions
from satchel.store.webhooks import WebhookService

__all__ = ["ArtifactStore", "forward"]

_F = TypeVar("_F", bound=Callable[..., Any])
FORWARD_ATTRIBUTE = "__satchel_forward__"


def forward(method: _F, part: str) -> _F:
    """A façade method with *method*'s signature and docs that calls the same-named method of
    the façade's attribute *part* (``self.<part>.<name>(...)``)."""
    name = method.__name__
    parameters = list(inspect.signature(method).parameters)
    # an artifact is named by its id or its URN (urn:satchel:artifact:<id>) wherever one is asked
    position = parameters.index("artifact_id") - 1 if "artifact_id" in parameters else None

    def bare(args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[Any, ...]:
        if position is None:
            return args
        if "artifact_id" in kwargs:
            kwargs["artifact_id"] = _bare(kwargs["artifact_id"])
        elif len(args) > position:
            args = (*args[:position], _bare(args[position]), *args[position + 1 :])
        return args

    async def call_async(self: Any, *args: Any, **kwargs: Any) -> Any:
        args = bare(args, kwargs)
        return await getattr(getattr(self, part), name)(*args, **kwargs)

    def call(self: Any, *args: Any, **kwargs: Any) -> Any:
        args = bare(args, kwargs)
        return getattr(getattr(self, part), name)(*args, **kwargs)

    made = call_async if inspect.iscoroutinefunction(method) else call
    functools.update_wrapper(made, method)
    setattr(made, FORWARD_ATTRIBUTE, (part, name))
    return cast(_F, made)


def _bare(value: Any) -> Any:
    return artifact_ref(value) if isinstance(value, str) else value


API = ArtifactStoreAPI


class ArtifactStore(ArtifactStoreAPI):
    """Scoped, access-controlled artifact storage over blob backends and a catalog.

    ``ArtifactStore()`` with nothing configured keeps everything in memory. Configuration comes
    from :class:`satchel.config.Settings` (``SATCHEL_*`` and seed 000's ``ARTIFACT_*``
    variables) or from the keyword arguments, which override it.

    Args:
        storage_provider: the blob backend (``memory``, ``filesystem``, ``sqlite``, ``s3`` and
            seed 000's aliases); default ``memory`` (*default_backend*).
        session_provider: ``memory`` or ``redis``.
        sandbox_id, bucket, session_ttl_hours, database_url, fs_root: as in Settings.
        data_dir: where a persistent store keeps its state; ``None`` makes it ephemeral (an
            in-memory catalog, staging and signing key). Memory blobs are always ephemeral.
        settings: a Settings object to start from (default: read from the environment).
        blob_store: a ready BlobStore to use as the default backend (it stays the caller's).
        clock: the time source (default :func:`time.time`); tests pass a
            :class:`satchel.testing.ManualClock`.

    Use it as an async context manager, or call :meth:`close` when done; it connects lazily
    on first use.
    """

    def __init__(
        self,
        *,
        bucket: str | None = None,
        storage_provider: str | None = None,
        session_provider: str | None = None,
        sandbox_id: str | None = None,
        session_ttl_hours: float | None = None,
        max_retries: int = 3,
        settings: Settings | None = None,
        database_url: str | None = None,
        fs_root: str | PathLike[str] | None = None,
        data_dir: str | PathLike[str] | Unset | None = UNSET,
        blob_store: BlobStore | None = None,
        default_backend: str = "memory",
        clock: Clock | None = None,
    ) -> None:
        overrides: dict[str, Any] = {
            "blob_backend": storage_provider,
            "session_provider": session_provider,
            "sandbox_id": sandbox_id,
            "bucket": bucket,
            "session_ttl_hours": session_ttl_hours,
            "database_url": database_url,
            "fs_root": fs_root,
        }
        resolved = make_settings(settings, overrides)
        if data_dir is not UNSET:
            directory = None if data_dir is None else Path(data_dir)
            resolved = resolved.model_copy(update={"data_dir": directory})
        self.max_retries = max_retries
        context = StoreContext(
            resolved, default_backend=default_backend, blob_store=blob_store, clock=clock
        )
        gate = AccessGate(context)
        ledger = BlobLedger(context)
        creator = ArtifactCreator(context, gate, ledger)
        versions = Versions(context, gate, ledger)
        signer = Signer(context)
        uploads = Uploads(context, gate, ledger, creator)
        self._context = context
        self._artifacts = ArtifactService(context, gate, ledger, creator, versions)
        self._files = FileService(context, gate, ledger, creator, versions)
        self._batch = BatchService(context, gate, creator, self._artifacts)
        self._prefix_delete = PrefixDeleter(context, gate, ledger, self._artifacts)
        self._content = ContentService(context, gate, ledger)
        self._listing = ListingService(context, gate)
        self._sharing = SharingService(context, gate, versions)
        self._presigned_uploads = PresignedUploadService(context, gate, creator, uploads, signer)
        self._multipart = MultipartService(context, gate, creator, uploads, signer)
        self._presign = PresignService(
            context, gate, ledger, signer, self._content, self._presigned_uploads, self._multipart
        )
        self._tus = TusService(context, gate, creator, uploads)
        self._sessions = SessionService(context, gate)
        self._admin = AdminService(context, ledger, uploads)
        self._bucket = BucketService(context)
        self._integrity = StorageCheck(context, ledger, uploads)
        self._verifier = StorageVerifier(context, gate)
        self._keys = KeyService(context)
        locks = BlobLocks(context)
        self._schemas = SchemaService(context, gate)
        self._packages = PackageService(context, gate, ledger, self._schemas, locks)
        self._retention = RetentionService(context, gate, locks)
        self._lifecycle = Lifecycle(context, gate, ledger, self._packages)
        self._feed = EventFeed(context, gate)
        self._aspects = AspectService(context, gate, self._schemas)
        self._webhooks = WebhookService(context)
        self._proxy = ProxyService(context, gate, ledger, creator, self._content)

    def __repr__(self) -> str:
        return (
            f"ArtifactStore(storage_provider={self.storage_provider!r}, "
            f"sandbox_id={self.sandbox_id!r})"
        )

    # -- what the store is ---------------------------------------------------------------------

    @property
    def sandbox_id(self) -> str:
        return self._context.sandbox_id

    @property
    def storage_provider(self) -> str:
        return self._context.default_backend

    @property
    def settings(self) -> Settings:
        """The store's configuration (read-only: a copy is made for any change)."""
        return self._context.settings

    @property
    def persistent(self) -> bool:
        """Whether this store keeps its state on disk (see the ``data_dir`` argument)."""
        return self._context.persistent

    async def open(self) -> None:
        await self._context.ensure_open()

    async def close(self) -> None:
        await self._webhooks.deliverer.close()
        await self._proxy.close()
        await self._context.close()

    # -- embedded only: what the service runs, and disaster recovery ---------------------------

    async def run_webhook_delivery(self) -> None:
        """Deliver webhooks until cancelled (``satchel serve`` runs this in the background)."""
        await self._webhooks.deliverer.run()

    async def replay_events(self, *, check: bool = False) -> dict[str, Any]:
        """Rebuild every view of the catalog from the event log (``satchel replay``; see
        :mod:`satchel.catalog.replay`). With *check*, compare with the views and roll back."""
        from satchel.catalog.replay import replay

        await self._context.ensure_open()
        return (await replay(self._context.catalog, check=check)).to_dict()

    # -- the contract, forwarded to the part that owns each method -----------------------------

    stream_upload = forward(API.stream_upload, "_artifacts")
    metadata = forward(API.metadata, "_artifacts")
    update_file_stream = forward(API.update_file_stream, "_artifacts")
    update_metadata = forward(API.update_metadata, "_artifacts")
    extend_ttl = forward(API.extend_ttl, "_artifacts")
    delete = forward(API.delete, "_artifacts")
    delete_many = forward(API.delete_many, "_artifacts")
    copy_file = forward(API.copy_file, "_files")
    move_file = forward(API.move_file, "_files")
    store_batch = forward(API.store_batch, "_batch")

    open_content = forward(API.open_content, "_content")
    stream_download = forward(API.stream_download, "_content")
    list_by_session = forward(API.list_by_session, "_listing")
    get_directory_contents = forward(API.get_directory_contents, "_listing")
    search = forward(API.search, "_listing")
    set_policy = forward(API.set_policy, "_sharing")
    add_to_collection = forward(API.add_to_collection, "_sharing")
    remove_from_collection = forward(API.remove_from_collection, "_sharing")
    list_collections = forward(API.list_collections, "_sharing")
    get_collections = forward(API.get_collections, "_sharing")

    presign = forward(API.presign, "_presign")
    get_url = forward(API.get_url, "_presign")
    open_signed_content = forward(API.open_signed_content, "_presign")
    signed_put = forward(API.signed_put, "_presign")
    presign_upload = forward(API.presign_upload, "_presigned_uploads")
    register_uploaded_artifact = forward(API.register_uploaded_artifact, "_presigned_uploads")
    initiate_multipart_upload = forward(API.initiate_multipart_upload, "_multipart")
    get_part_upload_url = forward(API.get_part_upload_url, "_multipart")
    upload_part = forward(API.upload_part, "_multipart")
    complete_multipart_upload = forward(API.complete_multipart_upload, "_multipart")
    abort_multipart_upload = forward(API.abort_multipart_upload, "_multipart")
    tus_create = forward(API.tus_create, "_tus")
    tus_info = forward(API.tus_info, "_tus")
    tus_append = forward(API.tus_append, "_tus")
    tus_terminate = forward(API.tus_terminate, "_tus")

    create_session = forward(API.create_session, "_sessions")
    validate_session = forward(API.validate_session, "_sessions")
    get_session_info = forward(API.get_session_info, "_sessions")
    validate_configuration = forward(API.validate_configuration, "_admin")
    health = forward(API.health, "_admin")
    get_stats = forward(API.get_stats, "_admin")
    purge_expired = forward(API.purge_expired, "_admin")
    collect_garbage = forward(API.collect_garbage, "_admin")
    check_storage = forward(API.check_storage, "_integrity")
    s3_doctor = forward(API.s3_doctor, "_bucket")
    s3_lifecycle = forward(API.s3_lifecycle, "_bucket")
    verify_storage = forward(API.verify_storage, "_verifier")
    delete_prefix = forward(API.delete_prefix, "_prefix_delete")
    create_api_key = forward(API.create_api_key, "_keys")
    list_api_keys = forward(API.list_api_keys, "_keys")
    revoke_api_key = forward(API.revoke_api_key, "_keys")
    authenticate_api_key = forward(API.authenticate_api_key, "_keys")
    whoami = forward(API.whoami, "_keys")

    create_package = forward(API.create_package, "_packages")
    ingest_file = forward(API.ingest_file, "_packages")
    finalize_package = forward(API.finalize_package, "_packages")
    get_package = forward(API.get_package, "_packages")
    list_packages = forward(API.list_packages, "_packages")
    list_package_files = forward(API.list_package_files, "_packages")
    get_manifest_bytes = forward(API.get_manifest_bytes, "_packages")
    open_package_file = forward(API.open_package_file, "_packages")
    delete_package = forward(API.delete_package, "_lifecycle")
    sweep_retention = forward(API.sweep_retention, "_lifecycle")
    gc = forward(API.gc, "_lifecycle")
    retention_classes = forward(API.retention_classes, "_retention")
    set_retention = forward(API.set_retention, "_retention")
    apply_hold = forward(API.apply_hold, "_retention")
    release_hold = forward(API.release_hold, "_retention")
    list_holds = forward(API.list_holds, "_retention")
    retention_history = forward(API.retention_history, "_retention")
    register_schema = forward(API.register_schema, "_schemas")
    get_schema = forward(API.get_schema, "_schemas")
    list_schemas = forward(API.list_schemas, "_schemas")

    list_events = forward(API.list_events, "_feed")
    record_tool_call = forward(API.record_tool_call, "_feed")
    add_aspect = forward(API.add_aspect, "_aspects")
    update_aspect = forward(API.update_aspect, "_aspects")
    retract_aspect = forward(API.retract_aspect, "_aspects")
    get_aspect = forward(API.get_aspect, "_aspects")
    list_aspects = forward(API.list_aspects, "_aspects")
    lineage = forward(API.lineage, "_aspects")
    create_webhook = forward(API.create_webhook, "_webhooks")
    list_webhooks = forward(API.list_webhooks, "_webhooks")
    get_webhook = forward(API.get_webhook, "_webhooks")
    update_webhook = forward(API.update_webhook, "_webhooks")
    delete_webhook = forward(API.delete_webhook, "_webhooks")
    rewind_webhook = forward(API.rewind_webhook, "_webhooks")
    list_dead_letters = forward(API.list_dead_letters, "_webhooks")
    redeliver_dead_letter = forward(API.redeliver_dead_letter, "_webhooks")
    test_webhook = forward(API.test_webhook, "_webhooks")
    deliver_webhooks = forward(API.deliver_webhooks, "_webhooks")
    list_remotes = forward(API.list_remotes, "_proxy")
    proxy_config = forward(API.proxy_config, "_proxy")
    open_remote_file = forward(API.open_remote_file, "_proxy")
    prefetch_remote_files = forward(API.prefetch_remote_files, "_proxy")
    list_cached_files = forward(API.list_cached_files, "_proxy")
    evict_cached_files = forward(API.evict_cached_files, "_proxy")
    proxy_stats = forward(API.proxy_stats, "_proxy")
    put_remote_file = forward(API.put_remote_file, "_proxy")
