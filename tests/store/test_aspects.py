"""Aspects and provenance (seed 002): typed records checked against registered schemas, added,
updated, retracted, read and listed under the access rules of what they describe, each an
event; and lineage walked both ways along a three-level chain of jobs. Embedded (SQLite and
PostgreSQL catalogs) and through the HTTP service."""

from __future__ import annotations

from typing import Any

import pytest
from tests.store.conftest import MakeStore

from satchel.core.aspects import PRODUCED_BY, USED_BY
from satchel.core.errors import AccessDeniedError, ArtifactNotFoundError, InvalidRequestError

pytestmark = pytest.mark.not_on("memory", "sqlite", "s3")  # aspects live in the catalog

TAGS = {
    "type": "object",
    "required": ["tags"],
    "properties": {"tags": {"type": "array", "items": {"type": "string"}}},
    "additionalProperties": False,
}


async def _tagged_store(make_store: MakeStore) -> Any:
    store = await make_store()
    await store.register_schema("urn:my:schema:tag", TAGS)
    return store


async def test_add_get_list_update_retract(make_store: MakeStore) -> None:
    store = await _tagged_store(make_store)
    artifact = await store.store(b"reef", mime="text/plain", summary="", scope="sandbox")
    added = await store.add_aspect(
        artifact, {"$schema": "urn:my:schema:tag", "tags": ["marine", "coral"]}
    )
    assert added["entity"] == artifact
    assert added["entity_kind"] == "artifact"
    assert added["schema"] == "urn:my:schema:tag@1"
    assert added["content"] == {"$schema": "urn:my:schema:tag", "tags": ["marine", "coral"]}
    assert added["urn"] == "urn:satchel:aspect:" + added["aspect_id"]
    assert await store.get_aspect(added["urn"]) == added
    by_urn = await store.add_aspect(
        f"urn:satchel:artifact:{artifact}", {"tags": ["reef"]}, schema="urn:my:schema:tag"
    )
    assert by_urn["entity"] == artifact
    listed = await store.list_aspects(entity=artifact)
    assert [a["aspect_id"] for a in listed["items"]] == [added["aspect_id"], by_urn["aspect_id"]]
    assert (await store.list_aspects(schema="urn:my:schema:tag@1"))["items"] == listed["items"]
    # update: the schema's active aspects on the entity give way to the new one
    updated = await store.update_aspect(artifact, {"tags": ["updated"]}, schema="urn:my:schema:tag")
    active = (await store.list_aspects(entity=artifact))["items"]
    assert [a["aspect_id"] for a in active] == [updated["aspect_id"]]
    every = (await store.list_aspects(entity=artifact, include_retracted=True))["items"]
    assert [a["state"] for a in every] == ["retracted", "retracted", "active"]
    retracted = await store.retract_aspect(updated["aspect_id"])
    assert retracted["state"] == "retracted"
    assert retracted["retracted_at"] is not None
    assert (await store.list_aspects(entity=artifact))["items"] == []
    types = [e["type"] async for e in store.events(types=["v1.aspect."])]
    added, gone = "v1.aspect.added", "v1.aspect.retracted"
    assert types == [added, added, gone, gone, added, gone]  # an update retracts, then adds


async def test_paging_with_a_cursor(make_store: MakeStore) -> None:
    store = await _tagged_store(make_store)
    artifact = await store.store(b"x", mime="text/plain", summary="", scope="sandbox")
    made = [
        (await store.add_aspect(artifact, {"tags": [str(n)]}, schema="urn:my:schema:tag"))[
            "aspect_id"
        ]
        for n in range(5)
    ]
    seen, cursor = [], None
    while True:
        page = await store.list_aspects(entity=artifact, limit=2, cursor=cursor)
        seen += [a["aspect_id"] for a in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == made


@pytest.mark.parametrize(
    ("aspect", "schema", "error", "words"),
    [
        ({"tags": "not a list"}, "urn:my:schema:tag", InvalidRequestError, "content.tags"),
        ({"tags": [], "extra": 1}, "urn:my:schema:tag", InvalidRequestError, "extra"),
        ({"tags": []}, None, InvalidRequestError, "needs a schema"),
        ({"$schema": "other", "tags": []}, "urn:my:schema:tag", InvalidRequestError, "other"),
        ({"tags": []}, "never-registered", ArtifactNotFoundError, "never-registered"),
        ({"role": "x"}, PRODUCED_BY, InvalidRequestError, "job"),
        ({"job": "has space"}, USED_BY, InvalidRequestError, "entity"),
        ({"tags": [float("nan")]}, "urn:my:schema:tag", InvalidRequestError, "finite|JSON"),
    ],
)
async def test_bad_aspects_are_refused_and_change_nothing(
    make_store: MakeStore, aspect: dict[str, Any], schema: str | None, error: type, words: str
) -> None:
    store = await _tagged_store(make_store)
    artifact = await store.store(b"x", mime="text/plain", summary="", scope="sandbox")
    with pytest.raises(error, match=words):
        await store.add_aspect(artifact, aspect, schema=schema)
    assert (await store.list_aspects(include_retracted=True))["items"] == []


async def test_access_follows_the_entity(make_store: MakeStore) -> None:
    store = await _tagged_store(make_store)
    alices = await store.store(b"a", mime="text/plain", summary="", scope="user", user_id="alice")
    shared = await store.store(b"s", mime="text/plain", summary="", scope="sandbox")
    mine = await store.add_aspect(
        alices, {"tags": ["private"]}, schema="urn:my:schema:tag", user_id="alice"
    )
    with pytest.raises(AccessDeniedError):  # bob may not write alice's artifact
        await store.add_aspect(alices, {"tags": []}, schema="urn:my:schema:tag", user_id="bob")
    with pytest.raises(AccessDeniedError):  # sandbox artifacts are written by admins only
        await store.add_aspect(shared, {"tags": []}, schema="urn:my:schema:tag", user_id="bob")
    with pytest.raises(ArtifactNotFoundError):
        await store.get_aspect(mine["aspect_id"], user_id="bob")
    with pytest.raises((ArtifactNotFoundError, AccessDeniedError)):
        await store.retract_aspect(mine["aspect_id"], user_id="bob")
    assert (await store.list_aspects(user_id="bob"))["items"] == []
    assert (await store.list_aspects(user_id="alice"))["items"] == [mine]
    # An aspect about a job belongs to whoever added it.
    job = await store.add_aspect(
        "urn:ci:job:7", {"tags": ["nightly"]}, schema="urn:my:schema:tag", user_id="bob"
    )
    assert job["entity_kind"] == "other"
    assert (await store.list_aspects(entity="urn:ci:job:7", user_id="alice"))["items"] == []
    with pytest.raises(ArtifactNotFoundError):  # alice cannot see it: not found, as unknown
        await store.retract_aspect(job["aspect_id"], user_id="alice")
    assert (await store.retract_aspect(job["aspect_id"], user_id="bob"))["state"] == "retracted"
    alice_events = {e["subject"] async for e in store.events(user_id="alice")}
    assert mine["aspect_id"] in alice_events
    assert job["aspect_id"] not in alice_events


async def test_lineage_of_a_three_level_chain_both_ways(make_store: MakeStore) -> None:
    """raw -used-by-> job1 -produced-> a -used-by-> job2 -produced-> b -used-by-> job3
    -produced-> c (and job2 also used a config file)."""
    store = await make_store()

    async def artifact(name: str) -> str:
        return str(await store.store(name.encode(), mime="text/plain", summary="", ttl=None))

    raw, a, b, c, config = [await artifact(n) for n in ("raw", "a", "b", "c", "config")]
    for source, job, output in [(raw, "job1", a), (a, "job2", b), (b, "job3", c)]:
        await store.add_aspect(source, {"job": f"urn:ci:{job}"}, schema=USED_BY)
        await store.add_aspect(output, {"job": f"urn:ci:{job}"}, schema=PRODUCED_BY)
    await store.add_aspect(config, {"job": "urn:ci:job2", "role": "config"}, schema=USED_BY)

    up = await store.lineage(c, "up", depth=3)
    levels = {node["id"]: node["level"] for node in up["nodes"]}
    assert levels == {
        c: 0,
        "urn:ci:job3": 1,
        b: 1,
        "urn:ci:job2": 2,
        a: 2,
        config: 2,
        "urn:ci:job1": 3,
        raw: 3,
    }
    assert {"entity": c, "job": "urn:ci:job3", "relation": "produced-by"} in up["edges"]
    assert {"entity": config, "job": "urn:ci:job2", "relation": "used-by"} in up["edges"]
    down = await store.lineage(raw, "down", depth=3)
    assert {node["id"]: node["level"] for node in down["nodes"]} == {
        raw: 0,
        "urn:ci:job1": 1,
        a: 1,
        "urn:ci:job2": 2,
        b: 2,
        "urn:ci:job3": 3,
        c: 3,
    }
    shallow = await store.lineage(c, "up", depth=1)
    assert {node["id"] for node in shallow["nodes"]} == {c, "urn:ci:job3", b}
    # a retracted link is no longer walked
    [link] = (await store.list_aspects(entity=b, schema=PRODUCED_BY))["items"]
    await store.retract_aspect(link["aspect_id"])
    cut = await store.lineage(c, "up", depth=3)
    assert b in {node["id"] for node in cut["nodes"]}
    assert "urn:ci:job2" not in {node["id"] for node in cut["nodes"]}
    with pytest.raises(InvalidRequestError):
        await store.lineage(c, "sideways")
    with pytest.raises(InvalidRequestError):
        await store.lineage(c, "up", depth=0)


async def test_lineage_hides_links_the_caller_may_not_see(make_store: MakeStore) -> None:
    store = await make_store()
    public = await store.store(b"p", mime="text/plain", summary="", scope="sandbox")
    secret = await store.store(b"s", mime="text/plain", summary="", scope="user", user_id="alice")
    await store.add_aspect(public, {"job": "urn:ci:j"}, schema=PRODUCED_BY)
    await store.add_aspect(secret, {"job": "urn:ci:j"}, schema=USED_BY, user_id="alice")
    assert secret in {n["id"] for n in (await store.lineage(public, user_id="alice"))["nodes"]}
    assert secret not in {n["id"] for n in (await store.lineage(public, user_id="bob"))["nodes"]}


async def test_an_update_replaces_only_the_callers_own_aspects_about_a_urn(
    make_store: MakeStore,
) -> None:
    store = await _tagged_store(make_store)
    bobs = await store.add_aspect(
        "urn:job:42", {"tags": ["bob"]}, schema="urn:my:schema:tag", user_id="bob"
    )
    apps = await store.add_aspect("urn:job:42", {"tags": ["app"]}, schema="urn:my:schema:tag")
    mallory = await store.update_aspect(
        "urn:job:42", {"tags": ["mallory"]}, schema="urn:my:schema:tag", user_id="mallory"
    )
    states = {
        a["aspect_id"]: a["state"]
        for a in (await store.list_aspects("urn:job:42", include_retracted=True))["items"]
    }
    assert states == dict.fromkeys(
        (bobs["aspect_id"], apps["aspect_id"], mallory["aspect_id"]), "active"
    )
    again = await store.update_aspect(
        "urn:job:42", {"tags": ["bob2"]}, schema="urn:my:schema:tag", user_id="bob"
    )
    assert (await store.get_aspect(bobs["aspect_id"]))["state"] == "retracted"
    assert (await store.get_aspect(mallory["aspect_id"]))["state"] == "active"
    assert (await store.get_aspect(again["aspect_id"]))["state"] == "active"


@pytest.mark.parametrize(
    "call",
    [
        {"cursor": "W1sxXSx7fV0"},  # [[1],{}]
        {"cursor": "WyJ4IiwxXQ"},  # ["x",1]
        {"schema": "a\x00b"},
        {"schema": "\ud800"},
        {"entity": "urn:satchel:artifact:\x00"},
        {"entity": "urn:satchel:package:has space"},
    ],
)
async def test_hostile_listing_parameters_are_400(
    make_store: MakeStore, call: dict[str, Any]
) -> None:
    store = await make_store()
    with pytest.raises(InvalidRequestError):
        await store.list_aspects(**call)


async def test_hostile_policies_and_entities_are_refused(make_store: MakeStore) -> None:
    store = await _tagged_store(make_store)
    for policy in ("\ud800", "a\x00", ""):
        with pytest.raises(InvalidRequestError):
            await store.add_aspect("urn:x", {"tags": []}, schema="urn:my:schema:tag", policy=policy)
    for entity in ("urn:satchel:artifact:\ud800", "urn:satchel:artifact:" + "a" * 200):
        with pytest.raises(InvalidRequestError):
            await store.add_aspect(entity, {"tags": []}, schema="urn:my:schema:tag")
    with pytest.raises(InvalidRequestError):
        await store.lineage("urn:satchel:package:\x00")


async def test_lineage_lists_each_edge_once(make_store: MakeStore) -> None:
    """E is used by j1 and j3; j1 produces X, which j3 uses too; j3 produces Z."""
    store = await make_store()
    for entity, schema, job in [
        ("urn:e", USED_BY, "urn:j1"),
        ("urn:e", USED_BY, "urn:j3"),
        ("urn:x", PRODUCED_BY, "urn:j1"),
        ("urn:x", USED_BY, "urn:j3"),
        ("urn:z", PRODUCED_BY, "urn:j3"),
    ]:
        await store.add_aspect(entity, {"job": job}, schema=schema)
    down = await store.lineage("urn:e", "down", depth=5)
    edges = [(e["entity"], e["job"], e["relation"]) for e in down["edges"]]
    assert len(edges) == len(set(edges)) == 5
    assert {(n["id"], n["kind"], n["level"]) for n in down["nodes"]} == {
        ("urn:e", "entity", 0),
        ("urn:j1", "job", 1),
        ("urn:j3", "job", 1),
        ("urn:x", "entity", 1),
        ("urn:z", "entity", 1),
    }
    assert down["truncated"] is False


async def test_a_schema_urn_of_ones_own_is_recorded_as_given(make_store: MakeStore) -> None:
    """IVCAP's guide names schemas by URNs nobody registered (``urn:my:schema:tag.1``): their
    aspects are kept as given; a registered name is still validated."""
    store = await _tagged_store(make_store)
    artifact = await store.store(b"x", mime="text/plain", summary="", scope="sandbox")
    free = {"$schema": "urn:my:schema:tag.1", "tags": ["marine"], "anything": {"n": 1}}
    added = await store.add_aspect(f"urn:satchel:artifact:{artifact}", free)
    assert (added["schema"], added["content"]) == ("urn:my:schema:tag.1", free)
    replaced = await store.update_aspect(
        artifact, {"tags": ["coral"]}, schema="urn:my:schema:tag.1"
    )
    listed = await store.list_aspects(entity=artifact, schema="urn:my:schema:tag.1")
    assert [item["aspect_id"] for item in listed["items"]] == [replaced["aspect_id"]]
    with pytest.raises(InvalidRequestError, match=r"content\.tags"):  # registered: validated
        await store.add_aspect(artifact, {"tags": "x"}, schema="urn:my:schema:tag")
    for bad, error in (
        ("urn:satchel:schema:nope.1", ArtifactNotFoundError),  # Satchel's names are its own
        ("urn:my schema", InvalidRequestError),
        ("urn:my:" + "s" * 300, InvalidRequestError),
    ):
        with pytest.raises(error):
            await store.add_aspect(artifact, {"k": 1}, schema=bad)
    assert len((await store.list_aspects(include_retracted=True))["items"]) == 2
