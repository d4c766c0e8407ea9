"""Retention classes, legal holds, the sweep and gc, on every backend and catalog and through
the remote client: a hold beats retention and TTL, compliance is never shortened, a governance
bypass is recorded, keep-last-N, and gc never frees bytes something still references."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from tests.store.internals import catalog_of

from satchel import (
    AccessDeniedError,
    ArtifactExpiredError,
    ArtifactNotFoundError,
    ArtifactStore,
    ConflictError,
    InvalidRequestError,
    RetainedError,
)
from satchel.testing import ManualClock

CLASSES = """
[retention_classes.instant]
default_duration_seconds = 0

[retention_classes.vault]
default_duration_seconds = 3153600000
mode = "compliance"

[retention_classes.line]
default_duration_seconds = 0
keep_last = 2
"""


@pytest.fixture
def classes(tmp_path: Path) -> Path:
    path = tmp_path / "retention.toml"
    path.write_text(CLASSES)
    return path


async def finalized(
    store: Any, retention_class: str, body: bytes = b"evidence", **attributes: Any
) -> str:
    producer = attributes.pop("producer", "ci")
    subject = attributes.pop("subject", "build")
    package_id = await store.create_package("pkg", producer, subject, retention_class, **attributes)
    await store.ingest_file(package_id, "report.txt", "text/plain", body)
    await store.finalize_package(package_id)
    return package_id


def types(history: list[dict[str, Any]]) -> list[str]:
    return [event["type"] for event in history]


async def test_a_hold_beats_retention(make_store: Any, classes: Path) -> None:
    store = await make_store(retention_config_path=classes)
    package_id = await finalized(store, "instant")
    hold = await store.apply_hold(package_id, "litigation-42", "court order 42", actor="legal")
    assert (await store.apply_hold(package_id, "litigation-42", "again"))["hold_id"] == hold[
        "hold_id"
    ]  # applying a hold in force again changes nothing
    with pytest.raises(RetainedError, match="litigation-42"):
        await store.delete_package(package_id)
    with pytest.raises(RetainedError):  # not even an admin's governance bypass moves a hold
        await store.delete_package(package_id, bypass_governance=True, reason="cleanup")
    swept = await store.sweep_retention()
    assert package_id not in {item["package_id"] for item in swept["eligible"]}
    assert (await store.get_package(package_id))["eligible_rule"] == "held (litigation-42)"
    assert package_id not in {p["package_id"] for p in (await store.gc())["packages_deleted"]}
    assert [h["name"] for h in (await store.get_package(package_id))["holds"]] == ["litigation-42"]

    released = await store.release_hold(hold["hold_id"], "case closed")
    assert released["released_at"] is not None
    with pytest.raises(ConflictError):
        await store.release_hold(hold["hold_id"], "twice")
    assert await store.list_holds(package_id) == []
    assert len(await store.list_holds(package_id, include_released=True)) == 1

    dry = await store.sweep_retention(dry_run=True)
    assert package_id in {item["package_id"] for item in dry["eligible"]}
    assert (await store.get_package(package_id))["eligible"] is False  # a dry run records nothing
    await store.sweep_retention()
    assert (await store.gc(dry_run=True))["packages_deleted"][0]["package_id"] == package_id
    result = await store.gc()
    assert [p["package_id"] for p in result["packages_deleted"]] == [package_id]
    with pytest.raises(ArtifactNotFoundError):
        await store.get_package(package_id)
    history = types(await store.retention_history(package_id))
    assert history == [
        "v1.package.created",
        "v1.package.file_added",
        "v1.package.finalized",
        "v1.hold.applied",
        "v1.package.retained",  # the sweep recorded why it is kept: the hold
        "v1.hold.released",
        "v1.package.eligible",
        "v1.package.deleted",
    ]


async def test_holds_are_for_admins(store: ArtifactStore) -> None:
    package_id = await finalized(store, "transient")
    with pytest.raises(AccessDeniedError):
        await store.apply_hold(package_id, "mine", "because", user_id="alice")
    hold = await store.apply_hold(package_id, "audit", "quarterly audit")
    with pytest.raises(AccessDeniedError):
        await store.release_hold(hold["hold_id"], "no", user_id="alice")
    with pytest.raises(ArtifactNotFoundError):
        await store.release_hold("hold-unknown", "no such hold")
    with pytest.raises(InvalidRequestError):
        await store.apply_hold(package_id, "audit2", "   ")  # a reason is required
    with pytest.raises(ArtifactNotFoundError):
        await store.apply_hold("pkg-missing", "audit", "x")
    # anyone who reads the package sees its holds
    assert [h["name"] for h in await store.list_holds(package_id, user_id="bob")] == ["audit"]


async def test_governance_bypass_is_an_admins_recorded_act(store: ArtifactStore) -> None:
    package_id = await finalized(store, "raw-evidence", user_id="alice")
    with pytest.raises(RetainedError, match="raw-evidence"):
        await store.delete_package(package_id, user_id="alice")
    with pytest.raises(AccessDeniedError):  # the owner is no admin
        await store.delete_package(
            package_id, bypass_governance=True, reason="mine", user_id="alice"
        )
    with pytest.raises(InvalidRequestError):  # a bypass needs a reason
        await store.delete_package(package_id, bypass_governance=True)
    result = await store.delete_package(
        package_id, bypass_governance=True, reason="GDPR erasure request 7", actor="dpo"
    )
    assert result["bypass_governance"] is True
    deleted = [
        e for e in await store.retention_history(package_id) if e["type"] == "v1.package.deleted"
    ]
    assert deleted[0]["payload"]["bypass_governance"] is True
    assert deleted[0]["payload"]["reason"] == "GDPR erasure request 7"


async def test_governance_retention_is_shortened_by_admins_only(store: ArtifactStore) -> None:
    package_id = await finalized(store, "summary-evidence", user_id="alice")
    end = (await store.get_package(package_id))["retain_until"]
    # the owner extends; only an admin shortens, with bypass and a reason
    extended = await store.set_retention(package_id, "2099-01-01T00:00:00Z", user_id="alice")
    assert extended["retain_until"].startswith("2099-01-01")
    with pytest.raises(AccessDeniedError):
        await store.set_retention(
            package_id, 1.0, bypass_governance=True, reason="x", user_id="alice"
        )
    with pytest.raises(InvalidRequestError):
        await store.set_retention(package_id, 1.0)
    await store.set_retention(package_id, 1.0, bypass_governance=True, reason="legal review done")
    assert (await store.get_package(package_id))["retain_until"].startswith("1970")
    history = await store.retention_history(package_id)
    kinds = [e["type"] for e in history if e["type"].startswith("v1.retention.")]
    assert kinds == ["v1.retention.extended", "v1.retention.shortened"]
    assert history[-1]["payload"]["reason"] == "legal review done"
    assert end is not None


async def test_compliance_retention_only_grows(make_store: Any, classes: Path) -> None:
    store = await make_store(retention_config_path=classes)
    package_id = await finalized(store, "vault")
    for attempt in (
        store.set_retention(package_id, 1.0, bypass_governance=True, reason="please"),
        store.delete_package(package_id, bypass_governance=True, reason="please"),
    ):
        with pytest.raises(AccessDeniedError, match="compliance"):
            await attempt
    await store.set_retention(package_id, None)  # forever: an extension
    assert (await store.get_package(package_id))["retain_until"] is None
    assert {c["name"]: c["mode"] for c in await store.retention_classes()}["vault"] == "compliance"


async def test_keep_last_n_of_a_line(make_store: Any, classes: Path) -> None:
    store = await make_store(retention_config_path=classes)
    line = [await finalized(store, "line", body=f"build {n}".encode()) for n in range(3)]
    other = await finalized(store, "line", subject="other-line")
    report = await store.sweep_retention()
    eligible = {item["package_id"]: item["rule"] for item in report["eligible"]}
    assert set(eligible) == {line[0]}
    kept = await store.get_package(line[2])
    assert kept["eligible_rule"].startswith("keep_last 2")
    assert (await store.get_package(other))["eligible"] is False
    with pytest.raises(RetainedError, match="keep_last"):
        await store.delete_package(line[1])


async def test_gc_never_frees_what_is_still_referenced(make_store: Any, classes: Path) -> None:
    store = await make_store(retention_config_path=classes)
    shared = b"shared bytes of a report"
    artifact_id = await store.store(shared, mime="text/plain", summary="", ttl=None)
    doomed = await finalized(store, "instant", body=shared)
    survivor = await finalized(store, "raw-evidence", body=shared, subject="kept")
    await store.sweep_retention()
    result = await store.gc()
    assert [p["package_id"] for p in result["packages_deleted"]] == [doomed]
    assert await store.retrieve(artifact_id) == shared
    content = await store.open_package_file(survivor, "report.txt")
    assert b"".join([chunk async for chunk in content]) == shared
    assert len(await store.get_manifest_bytes(survivor)) > 0


async def test_an_open_package_is_deleted_by_its_owner(store: ArtifactStore) -> None:
    package_id = await store.create_package("wip", "ci", "s", "release-evidence", user_id="alice")
    await store.ingest_file(package_id, "a.txt", "text/plain", b"half", user_id="alice")
    with pytest.raises(AccessDeniedError):
        await store.delete_package(package_id, user_id="bob")
    assert (await store.delete_package(package_id, user_id="alice"))["deleted"] is True
    with pytest.raises(ArtifactNotFoundError):
        await store.get_package(package_id, user_id="alice")


# -- artifacts ---------------------------------------------------------------------------------


async def test_an_artifact_takes_a_retention_class(store: ArtifactStore) -> None:
    artifact_id = await store.store(
        b"log", mime="text/plain", summary="", meta={"retention_class": "raw-evidence"}
    )
    meta = await store.metadata(artifact_id)
    assert meta.retention_class == "raw-evidence"
    assert meta.retain_until is not None
    for attempt in (
        store.delete(artifact_id),
        store.update_file(artifact_id, data=b"rewritten"),
        store.move_file(artifact_id, new_filename="renamed.txt"),
    ):
        with pytest.raises(RetainedError):
            await attempt
    # metadata may still be added to; the bytes stay
    await store.update_metadata(artifact_id, meta={"note": "reviewed"})
    assert await store.retrieve(artifact_id) == b"log"
    with pytest.raises(InvalidRequestError, match="retention class"):
        await store.store(b"x", mime="text/plain", summary="", meta={"retention_class": "nope"})


async def test_an_artifact_hold_stops_every_delete_path(store: ArtifactStore) -> None:
    artifact_id = await store.store(b"held bytes", mime="text/plain", summary="", ttl=None)
    hold = await store.apply_hold(artifact_id, "case-9", "preserve", kind="artifact")
    with pytest.raises(RetainedError, match="case-9"):
        await store.delete(artifact_id)
    with pytest.raises(RetainedError):
        await store.update_file(artifact_id, data=b"other")
    assert [h["name"] for h in await store.list_holds(artifact_id, kind="artifact")] == ["case-9"]
    await store.release_hold(hold["hold_id"], "released")
    assert await store.delete(artifact_id) is True
    history = await store.retention_history(artifact_id, kind="artifact")
    assert {"v1.hold.applied", "v1.hold.released", "v1.artifact.deleted"} <= set(types(history))


@pytest.mark.embedded_only("moves the store's clock past the TTL")
async def test_a_hold_beats_the_ttl(store: ArtifactStore, clock: ManualClock) -> None:
    held = await store.store(b"keep", mime="text/plain", summary="", ttl=60)
    loose = await store.store(b"drop", mime="text/plain", summary="", ttl=60)
    retained = await store.store(
        b"kept", mime="text/plain", summary="", ttl=60, meta={"retention_class": "transient"}
    )
    await store.apply_hold(held, "hold", "keep it", kind="artifact")
    clock.advance(120)
    purged = await store.purge_expired()
    assert purged["artifacts"] == 1
    with pytest.raises(ArtifactNotFoundError):
        await store.metadata(loose)
    with pytest.raises(ArtifactExpiredError):  # expired for readers, but its bytes are kept
        await store.metadata(held)
    assert await store.retrieve(retained) == b"kept"  # retention suspends the expiry
    clock.advance(86_400)
    await store.purge_expired()
    with pytest.raises(ArtifactNotFoundError):
        await store.metadata(retained)
    hold = (await store.list_holds(held, kind="artifact"))[0]
    await store.release_hold(hold["hold_id"], "done")
    await store.purge_expired()
    with pytest.raises(ArtifactNotFoundError):
        await store.metadata(held)


@pytest.mark.embedded_only("moves the store's clock past retention and abandonment")
async def test_gc_deletes_expired_and_abandoned_packages(
    store: ArtifactStore, clock: ManualClock
) -> None:
    expired = await finalized(store, "transient")
    abandoned = await store.create_package("wip", "ci", "s", "transient")
    await store.ingest_file(abandoned, "half.txt", "text/plain", b"half a push")
    fresh = await finalized(store, "transient", subject="fresh")
    clock.advance(86_400 + 1)
    fresh_later = await finalized(store, "transient", subject="fresh2")
    clock.advance(7 * 86_400)
    await store.sweep_retention()
    result = await store.gc()
    gone = {p["package_id"] for p in result["packages_deleted"]}
    assert {expired, fresh} <= gone
    assert result["abandoned_deleted"] == [abandoned]
    assert result["bytes_freed"] > 0
    assert fresh_later in gone  # its day passed too, a week ago
    assert await store.list_packages() == {"items": [], "next_cursor": None}


@pytest.mark.embedded_only("two stores over one catalog and one blob directory")
@pytest.mark.not_on("memory", reason="an in-memory catalog belongs to one store")
async def test_sweep_and_gc_on_two_replicas_handle_each_package_once(
    make_store: Any, classes: Path, tmp_path: Path
) -> None:
    shared = tmp_path / "shared"
    one = await make_store(retention_config_path=classes, data_dir=shared)
    two = await make_store(retention_config_path=classes, data_dir=shared)
    made = [await finalized(one, "instant", body=f"r{n}".encode()) for n in range(30)]
    sweeps = await asyncio.gather(one.sweep_retention(), two.sweep_retention())
    assert {i["package_id"] for s in sweeps for i in s["eligible"]} == set(made)
    results = await asyncio.gather(one.gc(), two.gc())
    deleted = [p["package_id"] for r in results for p in r["packages_deleted"]]
    assert sorted(deleted) == sorted(made)  # each once, by one replica or the other
    catalog = catalog_of(one)
    async with catalog.read() as reader:
        events = [e for s in made for e in await reader.events_for(s)]
    assert sum(e["type"] == "v1.package.deleted" for e in events) == len(made)


async def test_a_hold_keeps_an_open_package_too(store: ArtifactStore) -> None:
    package_id = await store.create_package("wip", "ci", "s", "transient", user_id="alice")
    await store.ingest_file(package_id, "a.txt", "text/plain", b"evidence", user_id="alice")
    await store.apply_hold(package_id, "early", "collecting evidence")
    with pytest.raises(RetainedError, match="early"):
        await store.delete_package(package_id, user_id="alice")
    with pytest.raises(RetainedError):
        await store.delete_package(package_id, bypass_governance=True, reason="x")
    assert (await store.get_package(package_id))["state"] == "open"


@pytest.mark.embedded_only("moves the store's clock past abandonment")
async def test_gc_leaves_a_held_abandoned_package(store: ArtifactStore, clock: ManualClock) -> None:
    held = await store.create_package("held", "ci", "s", "transient")
    await store.ingest_file(held, "a.txt", "text/plain", b"keep me")
    loose = await store.create_package("loose", "ci", "s", "transient")
    await store.apply_hold(held, "h", "why")
    clock.advance(8 * 86_400)
    result = await store.gc()
    assert result["abandoned_deleted"] == [loose]
    content = await store.open_package_file(held, "a.txt")
    assert b"".join([c async for c in content]) == b"keep me"


@pytest.mark.embedded_only("two configurations over one data directory")
@pytest.mark.not_on("memory", reason="an in-memory catalog belongs to one store")
async def test_the_mode_recorded_at_finalize_holds_when_the_file_changes(
    make_store: Any, tmp_path: Path
) -> None:
    data = tmp_path / "data-config"
    strict = tmp_path / "strict.toml"
    strict.write_text(
        '[retention_classes.audit]\ndefault_duration_seconds = 86400\nmode = "compliance"\n'
    )
    relaxed = tmp_path / "relaxed.toml"
    relaxed.write_text("[retention_classes.other]\ndefault_duration_seconds = 1\n")
    first = await make_store(retention_config_path=strict, data_dir=data)
    package_id = await finalized(first, "audit")
    assert (await first.get_package(package_id))["retention_mode"] == "compliance"
    await first.close()
    # the class is gone from the file: the sweep goes on, the package keeps the end recorded
    # when it was finalized, and stays compliance
    second = await make_store(retention_config_path=relaxed, data_dir=data)
    report = await second.sweep_retention()
    assert (report["checked"], report["eligible"]) == (1, [])
    rule = (await second.get_package(package_id))["eligible_rule"]
    assert rule.startswith("audit: retained until")
    with pytest.raises(AccessDeniedError, match="compliance"):
        await second.set_retention(package_id, 1.0, bypass_governance=True, reason="x")
    with pytest.raises(AccessDeniedError, match="compliance"):
        await second.delete_package(package_id, bypass_governance=True, reason="x")


@pytest.mark.embedded_only("the history of a deleted package of another sandbox")
@pytest.mark.not_on("memory", reason="an in-memory catalog belongs to one store")
async def test_a_deleted_packages_history_stays_in_its_sandbox(
    make_store: Any, classes: Path, tmp_path: Path
) -> None:
    shared = tmp_path / "two-sandboxes"
    ours = await make_store(retention_config_path=classes, data_dir=shared, sandbox_id="ours")
    theirs = await make_store(retention_config_path=classes, data_dir=shared, sandbox_id="theirs")
    package_id = await finalized(ours, "instant")
    await ours.delete_package(package_id)
    assert types(await ours.retention_history(package_id))[-1] == "v1.package.deleted"
    with pytest.raises(ArtifactNotFoundError):
        await theirs.retention_history(package_id)


async def test_a_line_is_one_owners(make_store: Any, tmp_path: Path) -> None:
    """keep_last counts the owner's own packages of one class: nobody else's push moves a
    package out of its newest N."""
    config = tmp_path / "kl.toml"
    config.write_text("[retention_classes.kl]\ndefault_duration_seconds = 0\nkeep_last = 1\n")
    store = await make_store(retention_config_path=config)
    hers = await finalized(store, "kl", user_id="alice", subject="line1")
    await finalized(store, "transient", b"other class", user_id="alice", subject="line1")
    await finalized(store, "kl", b"bob's", user_id="bob", subject="line1", scope="user")
    report = await store.sweep_retention(dry_run=True)
    assert hers not in {item["package_id"] for item in report["eligible"]}
    with pytest.raises(RetainedError, match="keep_last"):
        await store.delete_package(hers, user_id="alice")


async def test_an_artifacts_retention_class_is_set_once(store: ArtifactStore) -> None:
    kept = await store.store(
        b"k", mime="text/plain", summary="", meta={"retention_class": "raw-evidence", "a": 1}
    )
    with pytest.raises(InvalidRequestError, match="set_retention"):
        await store.update_metadata(kept, meta={"retention_class": "transient"})
    await store.update_metadata(kept, meta={"b": 2}, merge=False)  # the key stays
    assert (await store.metadata(kept)).meta == {"b": 2, "retention_class": "raw-evidence"}
    plain = await store.store(b"p", mime="text/plain", summary="", ttl=None)
    with pytest.raises(InvalidRequestError):
        await store.update_metadata(plain, meta={"retention_class": "release-evidence"})
    assert await store.delete(plain) is True
