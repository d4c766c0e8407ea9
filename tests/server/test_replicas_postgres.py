"""The shared deployment shape over HTTP: two `satchel serve` replicas on one PostgreSQL catalog,
one Redis for sessions and one data directory for blobs and staging (a shared volume). Whatever
one replica starts, the other continues."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from tests.harness.postgres import PostgresServer


@pytest.fixture
def replicas(
    launch_server: Callable[..., Any],
    postgres_server: PostgresServer,
    postgres_database: str,
    redis_url: str,
    tmp_path: Path,
) -> list[Any]:
    shared = tmp_path / "shared"
    shared.mkdir()
    env = {
        "SATCHEL_DATA_DIR": str(shared),
        "SATCHEL_DATABASE_URL": postgres_server.url(postgres_database),
        "SATCHEL_SESSION_PROVIDER": "redis",
        "SATCHEL_REDIS_URL": redis_url,
        "SATCHEL_GC_GRACE_SECONDS": "0",
        "SATCHEL_PURGE_INTERVAL_SECONDS": "0",
    }
    return [launch_server(**env) for _ in range(2)]


def test_what_one_replica_starts_the_other_continues(replicas: list[Any]) -> None:
    for replica in replicas:
        with replica.client() as http:
            health = http.get("/health")
        assert health.status_code == 200, health.text
        checks = health.json()["checks"]
        assert checks["catalog"]["dialect"] == "postgresql"
        assert (checks["session"]["provider"], checks["session"]["status"]) == ("redis", "ok")

    first, second = replicas
    with first.client("alice") as a, second.client("alice") as b, second.client("bob") as bob:
        created = a.post(
            "/v1/artifacts",
            params={"filename": "notes.txt", "mime": "text/plain", "session_id": "alice-s"},
            content=b"written on the first replica",
        )
        assert created.status_code == 201, created.text
        artifact_id = created.json()["artifact_id"]
        assert b.get(f"/v1/artifacts/{artifact_id}/content").content == (
            b"written on the first replica"
        )
        # The session (cached in Redis by the first replica) is alice's on the second too.
        intruder = bob.post(
            "/v1/artifacts",
            params={"filename": "x", "mime": "text/plain", "session_id": "alice-s"},
            content=b"x",
        )
        assert intruder.status_code == 403, intruder.text

        patched = b.patch(f"/v1/artifacts/{artifact_id}", json={"summary": "edited on b"})
        assert patched.status_code == 200, patched.text
        assert a.get(f"/v1/artifacts/{artifact_id}").json()["summary"] == "edited on b"

        # A multipart upload: initiated on one replica, parts on both, completed on the other.
        parts = [os.urandom(1500), os.urandom(1500), b"tail"]
        started = a.post("/v1/uploads", json={"filename": "big.bin", "mime_type": "x/y"})
        assert started.status_code == 201, started.text
        upload_id = started.json()["upload_id"]
        etags = []
        for number, (http, data) in enumerate(zip([a, b, a], parts, strict=True), start=1):
            put = http.put(f"/v1/uploads/{upload_id}/parts/{number}", content=data)
            assert put.status_code == 200, put.text
            etags.append({"PartNumber": number, "ETag": put.headers["etag"]})
        done = b.post(f"/v1/uploads/{upload_id}/complete", json={"parts": etags})
        assert done.status_code == 201, done.text
        whole = b"".join(parts)
        assert done.json()["sha256"] == "sha256:" + hashlib.sha256(whole).hexdigest()
        assert a.get(f"/v1/artifacts/{done.json()['artifact_id']}/content").content == whole

        assert b.delete(f"/v1/artifacts/{artifact_id}").status_code in (200, 204)
        assert a.get(f"/v1/artifacts/{artifact_id}").status_code == 404
