"""Satchel's lifecycle rule (``satchel s3 lifecycle --apply``), on moto and on Ceph RGW: merged
with the bucket's own rules, scoped to the staging prefix, idempotent."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

import pytest
from tests.harness.s3 import MakeStore, S3Endpoint

from satchel.blobs.s3 import S3BlobStore
from satchel.blobs.s3_lifecycle import RULE_ID, aborts_staging_uploads
from satchel.core.errors import InvalidRequestError

if TYPE_CHECKING:
    from tests.harness.ceph_rgw import CephRGW

FOREIGN_RULE: dict[str, Any] = {
    "ID": "logs-expire-after-30-days",
    "Status": "Enabled",
    "Filter": {"Prefix": "logs/"},
    "Expiration": {"Days": 30},
}


def rules_of(endpoint: S3Endpoint, bucket: str) -> dict[str, dict[str, Any]]:
    answer = endpoint.client().get_bucket_lifecycle_configuration(Bucket=bucket)
    return {rule["ID"]: rule for rule in answer["Rules"]}


def prefix_of(rule: dict[str, Any]) -> str:
    return str(rule["Filter"]["Prefix"] if "Filter" in rule else rule["Prefix"])


async def test_apply_merges_with_foreign_rules_and_is_idempotent(
    make_s3_store: MakeStore, s3_endpoint: S3Endpoint, s3_bucket: str
) -> None:
    s3_endpoint.client().put_bucket_lifecycle_configuration(
        Bucket=s3_bucket, LifecycleConfiguration={"Rules": [FOREIGN_RULE]}
    )
    store = make_s3_store(key_prefix="tenant/a")

    preview = await store.apply_lifecycle(days=7, dry_run=True)
    assert (preview.action, preview.changed) == ("added", False)
    assert set(rules_of(s3_endpoint, s3_bucket)) == {FOREIGN_RULE["ID"]}  # nothing changed

    added = await store.apply_lifecycle(days=7)
    assert (added.action, added.changed) == ("added", True)
    rules = rules_of(s3_endpoint, s3_bucket)
    assert set(rules) == {FOREIGN_RULE["ID"], RULE_ID}
    foreign = rules[FOREIGN_RULE["ID"]]
    assert (prefix_of(foreign), foreign["Expiration"]["Days"], foreign["Status"]) == (
        "logs/", 30, "Enabled",
    )  # fmt: skip
    ours = rules[RULE_ID]
    # both actions are scoped to the staging prefix: nothing else of the bucket can expire
    assert prefix_of(ours) == "tenant/a/staging/"
    assert set(ours["Filter"]) == {"Prefix"}
    assert ours["Expiration"] == {"Days": 7}
    assert ours["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": 7}
    assert aborts_staging_uploads(list(rules.values()), "tenant/a/staging/") == 7

    again = await store.apply_lifecycle(days=7)
    assert (again.action, again.changed) == ("unchanged", False)
    assert rules_of(s3_endpoint, s3_bucket) == rules

    updated = await store.apply_lifecycle(days=3)
    assert updated.action == "updated"
    assert updated.previous is not None
    assert updated.previous["Expiration"] == {"Days": 7}
    rules = rules_of(s3_endpoint, s3_bucket)
    assert rules[RULE_ID]["Expiration"] == {"Days": 3}
    assert rules[RULE_ID]["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": 3}
    assert rules[FOREIGN_RULE["ID"]] == foreign
    assert await store.lifecycle_rules() == list(
        s3_endpoint.client().get_bucket_lifecycle_configuration(Bucket=s3_bucket)["Rules"]
    )


async def test_a_bucket_without_rules_gets_just_satchels(
    make_s3_store: MakeStore, s3_endpoint: S3Endpoint, s3_bucket: str
) -> None:
    store = make_s3_store()
    assert await store.lifecycle_rules() == []
    assert aborts_staging_uploads([], "staging/") is None
    change = await store.apply_lifecycle()
    assert change.action == "added"
    [rule] = rules_of(s3_endpoint, s3_bucket).values()
    assert (rule["ID"], prefix_of(rule), rule["Expiration"]["Days"]) == (RULE_ID, "staging/", 7)


@pytest.mark.parametrize("days", [0, -1, 3651])
async def test_bad_days_change_nothing(
    days: int, make_s3_store: MakeStore, s3_endpoint: S3Endpoint, s3_bucket: str
) -> None:
    store = make_s3_store()
    with pytest.raises(InvalidRequestError, match=f"days={days}"):
        await store.apply_lifecycle(days=days)
    assert await store.lifecycle_rules() == []


def test_rules_that_cover_staging() -> None:
    bucket_wide = {"ID": "x", "Status": "Enabled", "Filter": {"Prefix": ""},
                   "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 2}}  # fmt: skip
    elsewhere = {**bucket_wide, "Filter": {"Prefix": "logs/"}}
    disabled = {**bucket_wide, "Status": "Disabled"}
    tagged = {**bucket_wide, "Filter": {"Tag": {"Key": "k", "Value": "v"}}}
    legacy = {"ID": "y", "Status": "Enabled", "Prefix": "p/",
              "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 9}}  # fmt: skip
    assert aborts_staging_uploads([bucket_wide], "p/staging/") == 2
    assert aborts_staging_uploads([elsewhere, disabled, tagged], "p/staging/") is None
    assert aborts_staging_uploads([legacy, elsewhere], "p/staging/") == 9


async def test_ceph_runs_the_rule_on_staging_alone(ceph_rgw: CephRGW) -> None:
    """Ceph RGW applies the rule for real: with ``rgw_lc_debug_interval`` a lifecycle "day"
    lasts 5 seconds and ``radosgw-admin lc process`` runs the rules at once. Staged objects and
    incomplete uploads under ``prod/staging/`` go; content, direct uploads and look-alike keys
    next to the prefix stay."""
    endpoint = ceph_rgw.endpoint()
    bucket = endpoint.create_bucket()
    client = endpoint.client()
    store = S3BlobStore(**endpoint.store_options(bucket, key_prefix="prod"))
    ceph_rgw.run("ceph", "config", "set", "global", "rgw_lc_debug_interval", "5")
    try:
        kept = ["prod/blobs/sha256/ab/cd/abcd", "prod/stagingfoo", "other/staging/x"]
        for key in ["prod/staging/crashed-put", *kept]:
            client.put_object(Bucket=bucket, Key=key, Body=b"bytes")
        for key in ("prod/staging/crashed-multipart", "prod/uploads/direct-upload"):
            client.create_multipart_upload(Bucket=bucket, Key=key)
        assert (await store.apply_lifecycle(days=1)).action == "added"
        await asyncio.sleep(7)  # older than one (5-second) day
        ceph_rgw.run("radosgw-admin", "-n", "client.admin", "lc", "process")
        assert sorted(endpoint.keys(bucket)) == sorted(kept)
        assert endpoint.multipart_uploads(bucket) == ["prod/uploads/direct-upload"]
    finally:
        ceph_rgw.run("ceph", "config", "rm", "global", "rgw_lc_debug_interval")
        await store.close()
        endpoint.destroy_bucket(bucket)
