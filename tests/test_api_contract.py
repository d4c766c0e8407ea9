"""One contract, three faces: the embedded store, the remote client and the synchronous facade
implement :class:`satchel.core.api.ArtifactStoreAPI` with identical signatures, and the derived
methods are written once (in the contract) and never again by a face."""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Iterator
from typing import Any, get_args, get_origin

import pytest

from satchel import ArtifactStore, RemoteArtifactStore, SyncArtifactStore
from satchel.client.sync_content import SyncArtifactContent
from satchel.core.api import ArtifactStoreAPI, api_methods, is_derived
from satchel.core.content import ArtifactContent
from satchel.core.proxy import ProxyAnswer
from satchel.store.facade import FORWARD_ATTRIBUTE

CONTRACT = api_methods()
LIFECYCLE = {"open", "close", "__aenter__", "__aexit__"}
"""The sync facade opens lazily and has ``close``/``__enter__``; its ``open()`` opens a file."""

SEED_000_METHODS = {
    "store", "retrieve", "read_file", "write_file", "update_file", "update_metadata",
    "metadata", "exists", "delete", "copy_file", "move_file", "list_by_session",
    "get_directory_contents", "search", "store_batch", "presign", "presign_short",
    "presign_medium", "presign_long", "presign_upload", "register_uploaded_artifact",
    "stream_upload", "stream_download", "initiate_multipart_upload", "get_part_upload_url",
    "complete_multipart_upload", "abort_multipart_upload", "validate_configuration",
    "get_stats", "cleanup_expired_sessions", "parse_grid_key", "create_session",
    "validate_session", "get_session_info",
}  # fmt: skip

FACE_EXTRAS = {
    ArtifactStore: {
        "settings", "persistent", "max_retries", "replay_events", "run_webhook_delivery",
    },
    RemoteArtifactStore: {"url", "token"},
    SyncArtifactStore: {
        "wrapped", "call", "open", "upload_file", "update_from_file", "download_file",
        "as_local_file", "iter_chunks", "find_reusable",
    },
}  # fmt: skip


def _parameters(function: Any) -> list[tuple[str, Any, Any, Any]]:
    """(name, kind, default, resolved annotation) of each parameter but ``self``."""
    signature = inspect.signature(function, eval_str=True)
    return [
        (p.name, p.kind, p.default, p.annotation)
        for p in signature.parameters.values()
        if p.name != "self"
    ]


def _returns(function: Any) -> Any:
    return inspect.signature(function, eval_str=True).return_annotation


def _contract(name: str) -> Any:
    member = CONTRACT[name]
    return member.fget if isinstance(member, property) else member


def _methods_only() -> list[str]:
    return sorted(name for name, member in CONTRACT.items() if not isinstance(member, property))


def test_the_contract_carries_every_method_of_seed_000() -> None:
    assert set(CONTRACT) >= SEED_000_METHODS
    for name in SEED_000_METHODS:
        assert inspect.getdoc(_contract(name)), f"{name} has no docstring in the contract"


def test_every_primitive_has_docs_and_a_typed_signature() -> None:
    for name, member in CONTRACT.items():
        function = member.fget if isinstance(member, property) else member
        assert _returns(function) is not inspect.Signature.empty, name
        for parameter in inspect.signature(function).parameters.values():
            if parameter.name != "self":
                assert parameter.annotation is not inspect.Parameter.empty, (name, parameter)


@pytest.mark.parametrize("face", [ArtifactStore, RemoteArtifactStore])
@pytest.mark.parametrize("name", sorted(CONTRACT))
def test_async_faces_match_the_contract(face: type, name: str) -> None:
    member = inspect.getattr_static(face, name)
    if isinstance(CONTRACT[name], property):
        assert isinstance(member, property), f"{face.__name__}.{name} is not a property"
        return
    assert callable(member)
    assert _parameters(member) == _parameters(_contract(name)), f"{face.__name__}.{name}"
    assert _returns(member) == _returns(_contract(name)), f"{face.__name__}.{name}"
    assert inspect.iscoroutinefunction(member) == inspect.iscoroutinefunction(_contract(name))


@pytest.mark.parametrize("name", sorted(CONTRACT))
def test_the_embedded_store_forwards_to_a_part_with_the_same_signature(name: str) -> None:
    """A façade method is the contract's own signature; the part it forwards to must accept
    exactly that, or calls would fail at run time."""
    member = inspect.getattr_static(ArtifactStore, name)
    target = getattr(member, FORWARD_ATTRIBUTE, None)
    if target is None:
        return  # derived (inherited), a property, or lifecycle written on the façade
    part, method = target
    bound = getattr(getattr(ArtifactStore(), part), method)
    assert _parameters(bound) == _parameters(_contract(name)), f"{part}.{method}"
    assert _returns(bound) == _returns(_contract(name)), f"{part}.{method}"


@pytest.mark.parametrize("face", [ArtifactStore, RemoteArtifactStore])
def test_derived_methods_are_written_once(face: type) -> None:
    derived = [name for name in CONTRACT if is_derived(_contract(name))]
    assert {"store", "read_file", "presign_short", "list_files", "write_file"} <= set(derived)
    for name in derived:
        assert getattr(face, name) is getattr(ArtifactStoreAPI, name), (
            f"{face.__name__} writes its own {name}; the contract's is the one implementation"
        )


def test_the_faces_implement_every_primitive() -> None:
    for face in (ArtifactStore, RemoteArtifactStore):
        assert not inspect.isabstract(face), face.__abstractmethods__
        for name in CONTRACT:
            assert hasattr(face, name), f"{face.__name__} lacks {name}"


def _sync_return(contract_return: Any) -> Any:
    if get_origin(contract_return) is AsyncIterator:
        return ("Iterator", get_args(contract_return))
    if contract_return in (ArtifactContent, ProxyAnswer):  # opened content, read blocking
        return SyncArtifactContent
    return contract_return


@pytest.mark.parametrize("name", sorted(set(CONTRACT) - LIFECYCLE))
def test_the_sync_facade_is_the_blocking_twin(name: str) -> None:
    member = inspect.getattr_static(SyncArtifactStore, name)
    if isinstance(CONTRACT[name], property):
        assert isinstance(member, property)
        return
    assert not inspect.iscoroutinefunction(member), f"SyncArtifactStore.{name} must block"
    assert _parameters(member) == _parameters(_contract(name)), f"SyncArtifactStore.{name}"
    returned = inspect.signature(member, eval_str=False).return_annotation
    expected = _sync_return(_returns(_contract(name)))
    if isinstance(expected, tuple):  # an async iterator becomes a plain one of the same items
        [item] = expected[1]
        assert returned == Iterator[item], name
    elif expected is SyncArtifactContent:
        assert returned in ("SyncArtifactContent", SyncArtifactContent), name
    else:
        assert _returns(member) == expected, name


@pytest.mark.parametrize("face", sorted(FACE_EXTRAS, key=lambda face: face.__name__))
def test_no_face_offers_public_methods_outside_the_contract(face: type) -> None:
    """What a face offers beyond the contract is listed here on purpose (conveniences of the
    sync facade, configuration of the embedded store); internals stay private."""
    public = {
        name
        for klass in face.__mro__
        if klass.__module__.startswith("satchel")
        for name in vars(klass)
        if not name.startswith("_")
    }
    extra = public - set(CONTRACT) - FACE_EXTRAS[face]
    assert extra == set(), f"{face.__name__} exposes {sorted(extra)}"


def test_the_methods_of_the_contract_are_what_the_api_module_lists() -> None:
    assert set(_methods_only()) <= set(dir(ArtifactStoreAPI))


@pytest.mark.parametrize("face", [ArtifactStore, RemoteArtifactStore, SyncArtifactStore])
def test_bulk_deletes_and_part_progress_are_on_every_face(face: type) -> None:
    """Issue 19: delete_many and delete_prefix are primitives of every face (the remote one
    one request each), and the per-request uploads take a progress callback."""
    for name in ("delete_many", "delete_prefix"):
        assert name in CONTRACT, name
        assert not is_derived(CONTRACT[name]), name
        assert _parameters(getattr(face, name)) == _parameters(_contract(name)), name
    assert "dry_run" in inspect.signature(_contract("delete_prefix")).parameters
    assert inspect.signature(_contract("delete_prefix")).parameters["dry_run"].default is True
    for name in ("upload_part", "tus_append"):
        assert "progress_callback" in inspect.signature(getattr(face, name)).parameters, name
