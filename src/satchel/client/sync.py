"""``SyncArtifactStore``: the store API without ``await``, for scripts, notebooks and the CLI.

It wraps an :class:`~satchel.ArtifactStore` or a :class:`RemoteArtifactStore` and runs every call
on an event loop of its own, in a background thread, so it works from plain synchronous code
(and from code that already runs an event loop in its own thread). Every method of the contract
(:class:`satchel.core.api.ArtifactStoreAPI`) is here with the same signature, blocking; streams
come back as plain iterators. Besides them it offers file conveniences: :meth:`upload_file`
(client-side sha256, optional reuse of an identical artifact), :meth:`download_file`,
:meth:`as_local_file`, :meth:`open` and :meth:`iter_chunks`.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Iterator
from types import TracebackType
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec, TypeVar, get_args

from satchel.client.connect import connect
from satchel.client.localfiles import file_sha256, fresh_file
from satchel.client.remote import RemoteArtifactStore
from satchel.client.sync_content import SyncArtifactContent
from satchel.client.sync_files import SyncFilesMixin
from satchel.core.api import ArtifactStoreAPI
from satchel.core.models import GridKeyComponents

if TYPE_CHECKING:
    from satchel.store import ArtifactStore

__all__ = ["SyncArtifactStore", "blocking", "connect_sync", "file_sha256", "fresh_file"]

_T = TypeVar("_T")
_P = ParamSpec("_P")
_R = TypeVar("_R")
_CHUNK = 1024 * 1024
_END = object()
API = ArtifactStoreAPI


def blocking(
    method: Callable[Concatenate[Any, _P], Coroutine[Any, Any, _R]],
) -> Callable[Concatenate[SyncArtifactStore, _P], _R]:
    """The blocking twin of a coroutine method of the contract: same signature and docs; it
    runs the wrapped store's method on the facade's loop."""
    name = method.__name__

    def call(self: SyncArtifactStore, /, *args: _P.args, **kwargs: _P.kwargs) -> _R:
        result: _R = self._run(getattr(self.wrapped, name)(*args, **kwargs))
        return result

    functools.update_wrapper(call, method)
    return call


def _blocking_iterator(
    method: Callable[Concatenate[Any, _P], AsyncIterator[_T]],
) -> Callable[Concatenate[SyncArtifactStore, _P], Iterator[_T]]:
    """The blocking twin of a method that returns an async iterator (a byte stream, events):
    a plain iterator."""
    name = method.__name__

    def call(self: SyncArtifactStore, /, *args: _P.args, **kwargs: _P.kwargs) -> Iterator[_T]:
        return self._iterate(getattr(self.wrapped, name)(*args, **kwargs))

    functools.update_wrapper(call, method)
    signature = inspect.signature(method, eval_str=True)
    item = get_args(signature.return_annotation) or (Any,)
    call.__signature__ = signature.replace(return_annotation=Iterator[item[0]])  # type: ignore[attr-defined,valid-type]
    return call


def _blocking_content(
    method: Callable[Concatenate[Any, _P], Coroutine[Any, Any, Any]],
) -> Callable[Concatenate[SyncArtifactStore, _P], SyncArtifactContent]:
    """The blocking twin of a method that opens content."""
    name = method.__name__

    def call(
        self: SyncArtifactStore, /, *args: _P.args, **kwargs: _P.kwargs
    ) -> SyncArtifactContent:
        opened = self._run(getattr(self.wrapped, name)(*args, **kwargs))
        return SyncArtifactContent(opened, self._run, self._iterate)

    functools.update_wrapper(call, method)
    signature = inspect.signature(method, eval_str=True)
    call.__signature__ = signature.replace(return_annotation=SyncArtifactContent)  # type: ignore[attr-defined]
    return call


class SyncArtifactStore(SyncFilesMixin):
    """A synchronous facade over an ArtifactStore or RemoteArtifactStore.

    ``SyncArtifactStore(store)`` wraps *store*; ``SyncArtifactStore()`` wraps ``connect()``.
    Use it as a context manager or call :meth:`close`.
    """

    def __init__(
        self,
        store: ArtifactStore | RemoteArtifactStore | None = None,
        *,
        url: str | None = None,
        token: str | None = None,
        **kwargs: Any,
    ) -> None:
        self.wrapped = store if store is not None else connect(url, token, **kwargs)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="satchel-sync", daemon=True
        )
        self._thread.start()
        self._closed = False

    def __repr__(self) -> str:
        return f"SyncArtifactStore({self.wrapped!r})"

    # -- running coroutines on the facade's loop ---------------------------------------------

    def _run(self, coroutine: Coroutine[Any, Any, _T]) -> _T:
        if self._closed:
            coroutine.close()
            raise RuntimeError("this SyncArtifactStore is closed")
        future = asyncio.run_coroutine_threadsafe(coroutine, self._loop)
        try:
            return future.result()
        except BaseException:
            # ^C (or any exit) while waiting: stop the call on the loop too, so closing the
            # store does not wait for a request nobody will read (until its timeout)
            future.cancel()
            raise

    def _iterate(self, stream: AsyncIterator[_T]) -> Iterator[_T]:
        """*stream*'s chunks as a plain iterator (each step runs on the facade's loop)."""

        async def step() -> Any:
            return await anext(stream, _END)

        async def finish() -> None:
            aclose = getattr(stream, "aclose", None)
            if aclose is not None:
                await aclose()

        try:
            while (chunk := self._run(step())) is not _END:
                yield chunk
        finally:
            if not self._closed:
                self._run(finish())

    def call(self, function: Callable[..., Awaitable[_T]], *args: Any, **kwargs: Any) -> _T:
        """Run ``await function(*args, **kwargs)`` on the facade's loop."""

        async def run() -> _T:
            return await function(*args, **kwargs)

        return self._run(run())

    # -- lifecycle ---------------------------------------------------------------------------

    @property
    def sandbox_id(self) -> str:
        return self.wrapped.sandbox_id

    @property
    def storage_provider(self) -> str:
        return self.wrapped.storage_provider

    def close(self) -> None:
        """Close the wrapped store and stop the background loop. Idempotent."""
        if self._closed:
            return
        try:
            self._run(self.wrapped.close())
        finally:
            self._closed = True
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=10)
            self._loop.close()

    def __enter__(self) -> SyncArtifactStore:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    # -- the contract, blocking ----------------------------------------------------------------

    store = blocking(API.store)
    stream_upload = blocking(API.stream_upload)
    stream_download = _blocking_iterator(API.stream_download)
    retrieve = blocking(API.retrieve)
    read_file = blocking(API.read_file)
    write_file = blocking(API.write_file)
    metadata = blocking(API.metadata)
    exists = blocking(API.exists)
    update_file = blocking(API.update_file)
    update_file_stream = blocking(API.update_file_stream)
    # mypy cannot match a method taking **unknown to Concatenate[Any, P]; the call is the same
    update_metadata = blocking(API.update_metadata)  # type: ignore[arg-type]
    extend_ttl = blocking(API.extend_ttl)
    delete = blocking(API.delete)
    delete_many = blocking(API.delete_many)
    copy_file = blocking(API.copy_file)
    move_file = blocking(API.move_file)
    store_batch = blocking(API.store_batch)

    open_content = _blocking_content(API.open_content)
    list_by_session = blocking(API.list_by_session)
    get_directory_contents = blocking(API.get_directory_contents)
    list_files = blocking(API.list_files)
    search = blocking(API.search)
    set_policy = blocking(API.set_policy)
    add_to_collection = blocking(API.add_to_collection)
    remove_from_collection = blocking(API.remove_from_collection)
    list_collections = blocking(API.list_collections)
    get_collections = blocking(API.get_collections)

    presign = blocking(API.presign)
    get_url = blocking(API.get_url)
    presign_short = blocking(API.presign_short)
    presign_medium = blocking(API.presign_medium)
    presign_long = blocking(API.presign_long)
    presign_upload = blocking(API.presign_upload)
    register_uploaded_artifact = blocking(API.register_uploaded_artifact)
    open_signed_content = _blocking_content(API.open_signed_content)
    signed_put = blocking(API.signed_put)
    initiate_multipart_upload = blocking(API.initiate_multipart_upload)
    get_part_upload_url = blocking(API.get_part_upload_url)
    upload_part = blocking(API.upload_part)
    complete_multipart_upload = blocking(API.complete_multipart_upload)
    abort_multipart_upload = blocking(API.abort_multipart_upload)
    tus_create = blocking(API.tus_create)
    tus_info = blocking(API.tus_info)
    tus_append = blocking(API.tus_append)
    tus_terminate = blocking(API.tus_terminate)

    create_session = blocking(API.create_session)
    validate_session = blocking(API.validate_session)
    get_session_info = blocking(API.get_session_info)
    validate_configuration = blocking(API.validate_configuration)
    health = blocking(API.health)
    get_stats = blocking(API.get_stats)
    purge_expired = blocking(API.purge_expired)
    cleanup_expired_sessions = blocking(API.cleanup_expired_sessions)
    collect_garbage = blocking(API.collect_garbage)
    check_storage = blocking(API.check_storage)
    s3_doctor = blocking(API.s3_doctor)
    s3_lifecycle = blocking(API.s3_lifecycle)
    verify_storage = blocking(API.verify_storage)
    delete_prefix = blocking(API.delete_prefix)
    create_api_key = blocking(API.create_api_key)
    list_api_keys = blocking(API.list_api_keys)
    revoke_api_key = blocking(API.revoke_api_key)
    authenticate_api_key = blocking(API.authenticate_api_key)
    whoami = blocking(API.whoami)

    create_package = blocking(API.create_package)
    ingest_file = blocking(API.ingest_file)
    finalize_package = blocking(API.finalize_package)
    get_package = blocking(API.get_package)
    list_packages = blocking(API.list_packages)
    list_package_files = blocking(API.list_package_files)
    get_manifest_bytes = blocking(API.get_manifest_bytes)
    open_package_file = _blocking_content(API.open_package_file)
    delete_package = blocking(API.delete_package)
    retention_classes = blocking(API.retention_classes)
    set_retention = blocking(API.set_retention)
    apply_hold = blocking(API.apply_hold)
    release_hold = blocking(API.release_hold)
    list_holds = blocking(API.list_holds)
    retention_history = blocking(API.retention_history)
    sweep_retention = blocking(API.sweep_retention)
    gc = blocking(API.gc)
    list_events = blocking(API.list_events)
    record_tool_call = blocking(API.record_tool_call)
    events = _blocking_iterator(API.events)
    add_aspect = blocking(API.add_aspect)
    update_aspect = blocking(API.update_aspect)
    retract_aspect = blocking(API.retract_aspect)
    get_aspect = blocking(API.get_aspect)
    list_aspects = blocking(API.list_aspects)
    lineage = blocking(API.lineage)
    create_webhook = blocking(API.create_webhook)
    list_webhooks = blocking(API.list_webhooks)
    get_webhook = blocking(API.get_webhook)
    update_webhook = blocking(API.update_webhook)
    delete_webhook = blocking(API.delete_webhook)
    rewind_webhook = blocking(API.rewind_webhook)
    list_dead_letters = blocking(API.list_dead_letters)
    redeliver_dead_letter = blocking(API.redeliver_dead_letter)
    test_webhook = blocking(API.test_webhook)
    deliver_webhooks = blocking(API.deliver_webhooks)
    list_remotes = blocking(API.list_remotes)
    proxy_config = blocking(API.proxy_config)
    open_remote_file = _blocking_content(API.open_remote_file)
    prefetch_remote_files = blocking(API.prefetch_remote_files)
    list_cached_files = blocking(API.list_cached_files)
    evict_cached_files = blocking(API.evict_cached_files)
    proxy_stats = blocking(API.proxy_stats)
    put_remote_file = blocking(API.put_remote_file)
    register_schema = blocking(API.register_schema)
    get_schema = blocking(API.get_schema)
    list_schemas = blocking(API.list_schemas)
    dispose = blocking(API.dispose)

    @functools.wraps(API.parse_grid_key)
    def parse_grid_key(self, grid_key: str) -> GridKeyComponents | None:
        return self.wrapped.parse_grid_key(grid_key)

    @functools.wraps(API.get_canonical_prefix)
    def get_canonical_prefix(self, session_id: str) -> str:
        return self.wrapped.get_canonical_prefix(session_id)

    @functools.wraps(API.generate_artifact_key)
    def generate_artifact_key(self, session_id: str, artifact_id: str) -> str:
        return self.wrapped.generate_artifact_key(session_id, artifact_id)


def connect_sync(
    url: str | None = None, token: str | None = None, **kwargs: Any
) -> SyncArtifactStore:
    """:func:`satchel.connect` wrapped in a :class:`SyncArtifactStore`."""
    return SyncArtifactStore(connect(url, token, **kwargs))
