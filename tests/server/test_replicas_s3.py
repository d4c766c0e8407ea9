"""The production shape over HTTP: two `satchel serve` replicas on one PostgreSQL catalog, one
Redis for sessions and one S3 bucket (moto) for blobs and upload staging, each replica with a
data directory of its own (no shared volume). Whatever one replica starts, the other finishes;
presigned URLs go straight to S3."""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from tests.harness.postgres import PostgresServer
from tests.harness.s3 import S3Endpoint

MiB = 1024 * 1024
TUS = {"Tus-Resumable": "1.0.0"}


def _sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


@pytest.fixture
def bucket(moto_s3: S3Endpoint) -> Iterator[str]:
    name = moto_s3.create_bucket()
    yield name
    moto_s3.destroy_bucket(name)


@pytest.fixture
def replicas(
    launch_server: Callable[..., Any],
    postgres_server: PostgresServer,
    postgres_database: str,
    redis_url: str,
    moto_s3: S3Endpoint,
    bucket: str,
) -> list[Any]:
    env = {
        "SATCHEL_DATABASE_URL": postgres_server.url(postgres_database),
        "SATCHEL_SESSION_PROVIDER": "redis",
        "SATCHEL_REDIS_URL": redis_url,
        "SATCHEL_BLOB_BACKEND": "s3",
        "SATCHEL_S3_BUCKET": bucket,
        "SATCHEL_S3_ENDPOINT_URL": moto_s3.url,
        "SATCHEL_S3_REGION": moto_s3.region,
        "SATCHEL_S3_ADDRESSING_STYLE": "path",
        "SATCHEL_S3_ACCESS_KEY_REF": "env:REPLICA_S3_ACCESS",
        "SATCHEL_S3_SECRET_KEY_REF": "env:REPLICA_S3_SECRET",
        "REPLICA_S3_ACCESS": moto_s3.access_key,
        "REPLICA_S3_SECRET": moto_s3.secret_key,
        "SATCHEL_SIGNING_KEY": "replicas-share-this-signing-key-0123456789",
        "SATCHEL_GC_GRACE_SECONDS": "0",
        "SATCHEL_PURGE_INTERVAL_SECONDS": "0",
    }
    started = [launch_server(**env) for _ in range(2)]  # each with its own SATCHEL_DATA_DIR
    assert started[0].data_dir != started[1].data_dir
    return started


def _nothing_staged(moto_s3: S3Endpoint, bucket: str, replicas: list[Any]) -> None:
    assert moto_s3.keys(bucket, "uploads/") == []
    assert moto_s3.multipart_uploads(bucket) == []
    for replica in replicas:
        staging = replica.data_dir / "staging"
        assert not staging.exists() or not any(staging.iterdir())


def test_health_shows_the_shared_backends(replicas: list[Any]) -> None:
    for replica in replicas:
        with replica.client() as http:
            health = http.get("/health")
        assert health.status_code == 200, health.text
        checks = health.json()["checks"]
        assert checks["catalog"]["dialect"] == "postgresql"
        assert checks["session"]["provider"] == "redis"


def test_artifact_written_on_one_is_read_on_the_other(
    replicas: list[Any], moto_s3: S3Endpoint, bucket: str
) -> None:
    first, second = replicas
    with first.client("alice") as a, second.client("alice") as b:
        created = a.post(
            "/v1/artifacts",
            params={"filename": "notes.txt", "mime": "text/plain", "session_id": "alice-s3"},
            content=b"written on the first replica",
        )
        assert created.status_code == 201, created.text
        artifact_id = created.json()["artifact_id"]
        assert b.get(f"/v1/artifacts/{artifact_id}/content").content == (
            b"written on the first replica"
        )
    assert any(key.startswith("blobs/sha256/") for key in moto_s3.keys(bucket))


def test_multipart_started_on_one_with_parts_on_both_completes_on_the_other(
    replicas: list[Any], moto_s3: S3Endpoint, bucket: str
) -> None:
    first, second = replicas
    parts = [os.urandom(1500), os.urandom(1500), b"tail"]
    with first.client("alice") as a, second.client("alice") as b:
        started = a.post("/v1/uploads", json={"filename": "big.bin", "mime_type": "x/y"})
        assert started.status_code == 201, started.text
        upload_id = started.json()["upload_id"]
        etags = []
        for number, (http, data) in enumerate(zip([a, b, a], parts, strict=True), start=1):
            put = http.put(f"/v1/uploads/{upload_id}/parts/{number}", content=data)
            assert put.status_code == 200, put.text
            etags.append({"PartNumber": number, "ETag": put.headers["etag"]})
        assert moto_s3.keys(bucket, "uploads/staged/")  # staged in the bucket, not on a disk
        done = b.post(f"/v1/uploads/{upload_id}/complete", json={"parts": etags})
        assert done.status_code == 201, done.text
        whole = b"".join(parts)
        assert done.json()["sha256"] == _sha(whole)
        assert a.get(f"/v1/artifacts/{done.json()['artifact_id']}/content").content == whole
    _nothing_staged(moto_s3, bucket, replicas)


def test_multipart_through_presigned_part_urls_goes_straight_to_s3(
    replicas: list[Any], moto_s3: S3Endpoint, bucket: str
) -> None:
    first, second = replicas
    parts = [os.urandom(5 * MiB), os.urandom(1000)]  # S3: every part but the last >= 5 MiB
    with first.client("alice") as a, second.client("alice") as b:
        started = a.post("/v1/uploads", json={"filename": "direct.bin", "mime_type": "x/y"})
        upload_id = started.json()["upload_id"]
        etags = []
        for number, (http, data) in enumerate(zip([a, b], parts, strict=True), start=1):
            url = http.post(f"/v1/uploads/{upload_id}/parts/{number}/url", json={}).json()["url"]
            assert url.startswith(moto_s3.url), url
            put = httpx.put(url, content=data, timeout=60)
            assert put.status_code == 200, put.text
            etags.append({"PartNumber": number, "ETag": put.headers["etag"]})
        done = b.post(f"/v1/uploads/{upload_id}/complete", json={"parts": etags})
        assert done.status_code == 201, done.text
        whole = b"".join(parts)
        assert done.json()["sha256"] == _sha(whole)  # computed by Satchel, not the client
        assert a.get(f"/v1/artifacts/{done.json()['artifact_id']}/content").content == whole
    _nothing_staged(moto_s3, bucket, replicas)


def test_presigned_upload_goes_to_s3_and_is_verified_on_register(replicas: list[Any]) -> None:
    first, second = replicas
    data = os.urandom(4096)
    with first.client("alice") as a, second.client("alice") as b:
        presigned = a.post("/v1/presign-upload", json={"filename": "up.bin"})
        assert presigned.status_code == 200, presigned.text
        body = presigned.json()
        assert "/v1/signed/" not in body["upload_url"]
        early = b.post(
            f"/v1/artifacts/{body['artifact_id']}/register", json={"mime": "x/y", "summary": "s"}
        )
        assert early.status_code == 409, early.text  # nothing uploaded yet
        assert httpx.put(body["upload_url"], content=data, timeout=60).status_code == 200
        registered = b.post(
            f"/v1/artifacts/{body['artifact_id']}/register", json={"mime": "x/y", "summary": "s"}
        )
        assert registered.status_code == 201, registered.text
        meta = a.get(f"/v1/artifacts/{body['artifact_id']}").json()
        assert (meta["sha256"], meta["bytes"]) == (_sha(data), len(data))


def test_tus_upload_started_on_one_is_finished_on_the_other(
    replicas: list[Any], moto_s3: S3Endpoint, bucket: str
) -> None:
    first, second = replicas
    data = os.urandom(300_000)
    cuts = [0, 100_000, 180_000, len(data)]
    created = httpx.post(
        f"{first.url}/v1/tus/",
        headers={**first.headers("alice"), **TUS, "Upload-Length": str(len(data))},
    )
    assert created.status_code == 201, created.text
    path = httpx.URL(created.headers["location"]).path
    for index, replica in enumerate([first, second, first]):
        head = httpx.head(f"{replica.url}{path}", headers={**replica.headers("alice"), **TUS})
        assert int(head.headers["upload-offset"]) == cuts[index]
        patched = httpx.patch(
            f"{replica.url}{path}",
            headers={
                **replica.headers("alice"),
                **TUS,
                "Upload-Offset": str(cuts[index]),
                "Content-Type": "application/offset+octet-stream",
            },
            content=data[cuts[index] : cuts[index + 1]],
        )
        assert patched.status_code == 204, patched.text
        assert int(patched.headers["upload-offset"]) == cuts[index + 1]
    head = httpx.head(f"{second.url}{path}", headers={**second.headers("alice"), **TUS})
    artifact_id = head.headers["satchel-artifact-id"]
    with second.client("alice") as b:
        assert b.get(f"/v1/artifacts/{artifact_id}").json()["sha256"] == _sha(data)
        assert b.get(f"/v1/artifacts/{artifact_id}/content").content == data
    _nothing_staged(moto_s3, bucket, replicas)


def test_presigned_get_is_served_by_s3(replicas: list[Any], moto_s3: S3Endpoint) -> None:
    first, second = replicas
    data = b"fetched straight from S3"
    with first.client("alice") as a, second.client("bob") as bob:
        created = a.post(
            "/v1/artifacts", params={"filename": "report.txt", "mime": "text/plain"}, content=data
        )
        artifact_id = created.json()["artifact_id"]
        denied = bob.post(f"/v1/artifacts/{artifact_id}/presign", json={"expires": 60})
        assert denied.status_code in (403, 404), denied.text  # access checked at presign time
    with second.client("alice") as b:
        presigned = b.post(f"/v1/artifacts/{artifact_id}/presign", json={"expires": 60})
    assert presigned.status_code == 200, presigned.text
    url = presigned.json()["url"]
    assert url.startswith(moto_s3.url)
    assert "/v1/signed/" not in url
    fetched = httpx.get(url, timeout=30)  # no token, no Satchel
    assert fetched.status_code == 200, fetched.text
    assert fetched.content == data
    assert fetched.headers["content-type"].startswith("text/plain")
    assert "report.txt" in fetched.headers["content-disposition"]


def test_concurrent_if_match_updates_from_both_replicas_lose_nothing(
    replicas: list[Any],
) -> None:
    first, second = replicas
    with first.client("alice") as a:
        created = a.post(
            "/v1/artifacts",
            params={"filename": "counter", "meta": '{"count": 0}'},
            content=b"c",
        )
    artifact_id = created.json()["artifact_id"]
    errors: list[str] = []

    def increment(replica: Any, times: int) -> None:
        with replica.client("alice") as http:
            for _ in range(times):
                for _attempt in range(200):
                    current = http.get(f"/v1/artifacts/{artifact_id}")
                    count = current.json()["meta"]["count"]
                    answer = http.patch(
                        f"/v1/artifacts/{artifact_id}",
                        json={"meta": {"count": count + 1}},
                        headers={"If-Match": current.headers["etag"]},
                    )
                    if answer.status_code == 200:
                        break
                    if answer.status_code != 412:
                        errors.append(answer.text)
                        return
                else:
                    errors.append("gave up after 200 attempts")
                    return

    threads = [threading.Thread(target=increment, args=(replica, 20)) for replica in replicas]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with second.client("alice") as b:
        assert b.get(f"/v1/artifacts/{artifact_id}").json()["meta"]["count"] == 40
