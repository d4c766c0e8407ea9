"""``POST /v1/admin/storage/verify`` over HTTP: admins only; a blob gone from disk is reported,
its content answers 500 ``integrity_error`` (never other bytes), and ``/health`` turns 503
degraded and says how many blobs failed, to anyone."""

from __future__ import annotations

from pathlib import Path

from tests.server.inprocess import ADMIN, ALICE, client, running_app


async def test_verify_over_http(tmp_path: Path) -> None:
    async with running_app(tmp_path) as app:
        async with client(app, ALICE) as alice:
            # larger than the inline limit: a file (tests/store cover bytes kept in the catalog)
            body = b"precious" * 10_000
            stored = await alice.post("/v1/artifacts", content=body, params={"ttl": "none"})
            artifact = stored.json()["artifact_id"]
            digest = stored.json()["sha256"]
            assert (await alice.post("/v1/admin/storage/verify")).status_code == 403
        hexdigest = digest.removeprefix("sha256:")
        blob = next(
            p for p in (tmp_path / "blobs").rglob("*") if p.is_file() and hexdigest in p.name
        )
        blob.unlink()
        async with client(app, ADMIN) as admin:
            answer = await admin.post("/v1/admin/storage/verify", params={"backend": "filesystem"})
            assert answer.status_code == 200
            report = answer.json()
            assert report["failed"] == 1
            assert report["failures"] == [
                {"backend": "filesystem", "digest": digest, "failure": "missing"}
            ]
            bad = await admin.post("/v1/admin/storage/verify", params={"sample": 0})
            assert bad.status_code == 400
        async with client(app, ALICE) as alice:
            content = await alice.get(f"/v1/artifacts/{artifact}/content")
            assert content.status_code == 500
            assert content.json()["error"] == "integrity_error"
        async with client(app, None) as anyone:
            health = await anyone.get("/health")
            assert health.status_code == 503
            assert health.json()["checks"]["integrity"] == {"status": "failed", "failed_blobs": 1}
