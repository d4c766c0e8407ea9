"""``/v1/admin/s3/…`` on a server with no S3 bucket configured: the doctor reports what is
missing (200, a failing check), the lifecycle routes refuse with 409, users get 403."""

from __future__ import annotations

from typing import Any


def test_a_server_without_s3_says_so(server: Any) -> None:
    with server.client("admin") as admin, server.client("alice") as alice:
        report = admin.get("/v1/admin/s3/doctor")
        assert report.status_code == 200
        assert report.json()["failed"] is True
        for method in ("GET", "POST"):
            refused = admin.request(method, "/v1/admin/s3/lifecycle")
            assert (refused.status_code, refused.json()["error"]) == (409, "conflict"), method
            assert "SATCHEL_S3_BUCKET" in refused.json()["message"]
            assert alice.request(method, "/v1/admin/s3/lifecycle").status_code == 403
        bad = admin.post("/v1/admin/s3/lifecycle", json={"days": 0})
        assert (bad.status_code, bad.json()["error"]) == (400, "invalid_request")  # checked first
        assert alice.get("/v1/admin/s3/doctor").status_code == 403
