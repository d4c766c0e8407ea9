"""``satchel s3 doctor`` and ``satchel s3 lifecycle``, run as commands against moto and Ceph RGW
(and against an endpoint that is not there, a bucket that is not there, refused keys and a
server whose clock is off)."""

from __future__ import annotations

import email.utils
import http.server
import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from tests.cli.helpers import run, run_fresh
from tests.harness.processes import free_port
from tests.harness.s3 import S3Endpoint
from tests.harness.threaded import serve, shut

from satchel.blobs.s3_lifecycle import RULE_ID

if TYPE_CHECKING:
    from tests.harness.ceph_rgw import CephRGW

FOREIGN_RULE: dict[str, Any] = {
    "ID": "logs-expire-after-30-days",
    "Status": "Enabled",
    "Filter": {"Prefix": "logs/"},
    "Expiration": {"Days": 30},
}
CHECKS = [
    "endpoint", "credentials", "bucket", "versioning", "object-lock", "lifecycle",
    "checksums", "clock", "public-url",
]  # fmt: skip


def s3_env(endpoint: S3Endpoint, bucket: str, **extra: str) -> dict[str, str]:
    """The settings of the S3 backend on *bucket*, keys passed by reference."""
    return {
        "SATCHEL_S3_PROVIDER": "ceph",
        "SATCHEL_S3_ENDPOINT_URL": endpoint.url,
        "SATCHEL_S3_BUCKET": bucket,
        "SATCHEL_S3_ACCESS_KEY_REF": "env:TEST_S3_ACCESS_KEY",
        "SATCHEL_S3_SECRET_KEY_REF": "env:TEST_S3_SECRET_KEY",
        "TEST_S3_ACCESS_KEY": endpoint.access_key,
        "TEST_S3_SECRET_KEY": endpoint.secret_key,
        **extra,
    }


def doctor(tmp_path: Path, env: dict[str, str]) -> tuple[int, dict[str, dict[str, str]], str]:
    """Exit status, checks by name (from --json) and the text output of ``satchel s3 doctor``."""
    as_json = run_fresh(tmp_path, "s3", "doctor", "--json", ok=False, **env)
    text = run(tmp_path, "s3", "doctor", ok=False, **env)
    assert as_json.returncode == text.returncode, (as_json.stderr, text.stderr)
    report = json.loads(as_json.stdout)
    assert [check["name"] for check in report["checks"]] == CHECKS
    lines = text.stdout.splitlines()
    assert len(lines) == len(CHECKS) + 1  # one line per check, and the totals
    for line, check in zip(lines, report["checks"], strict=False):
        assert line.split()[:2] == [check["status"], check["name"]]
    assert report["failed"] == (as_json.returncode == 1)
    secret = env.get("TEST_S3_SECRET_KEY", "")
    assert not secret or secret not in as_json.stdout + text.stdout + text.stderr
    return as_json.returncode, {c["name"]: c for c in report["checks"]}, text.stdout


def test_doctor_on_a_healthy_bucket_then_lifecycle_apply(
    tmp_path: Path, s3_endpoint: S3Endpoint, s3_bucket: str
) -> None:
    env = s3_env(s3_endpoint, s3_bucket, SATCHEL_S3_PUBLIC_URL_BASE=f"{s3_endpoint.url}/bucket")
    code, checks, text = doctor(tmp_path, env)
    assert code == 0, text
    for name in ("endpoint", "credentials", "bucket", "versioning", "object-lock", "clock"):
        assert checks[name]["status"] == "ok", checks[name]
    assert checks["versioning"]["detail"] == "not enabled"
    assert checks["object-lock"]["detail"].startswith("not configured")
    assert checks["checksums"] == {"name": "checksums", "status": "ok",
                                   "detail": "when_required (provider ceph)"}  # fmt: skip
    assert checks["public-url"]["status"] == "ok"
    assert checks["lifecycle"]["status"] == "warn"
    assert "satchel s3 lifecycle --apply" in checks["lifecycle"]["detail"]

    applied = run_fresh(tmp_path, "s3", "lifecycle", "--apply", **env)
    assert applied.stdout.startswith(f"added: rule {RULE_ID}  Enabled  prefix staging/")
    code, checks, _ = doctor(tmp_path, env)
    assert code == 0
    assert checks["lifecycle"] == {
        "name": "lifecycle",
        "status": "ok",
        "detail": "incomplete multipart uploads under 'staging/' are aborted after 7 days",
    }


def test_lifecycle_command_merges_previews_and_is_idempotent(
    tmp_path: Path, s3_endpoint: S3Endpoint, s3_bucket: str
) -> None:
    client = s3_endpoint.client()
    client.put_bucket_lifecycle_configuration(
        Bucket=s3_bucket, LifecycleConfiguration={"Rules": [FOREIGN_RULE]}
    )
    env = s3_env(s3_endpoint, s3_bucket, SATCHEL_S3_KEY_PREFIX="prod/satchel")

    def rules() -> dict[str, dict[str, Any]]:
        answer = client.get_bucket_lifecycle_configuration(Bucket=s3_bucket)
        return {rule["ID"]: rule for rule in answer["Rules"]}

    shown = json.loads(run(tmp_path, "s3", "lifecycle", "--json", **env).stdout)
    assert [rule["ID"] for rule in shown["rules"]] == [FOREIGN_RULE["ID"]]
    assert shown["satchel_rule"] is None
    before = rules()

    preview = run(tmp_path, "s3", "lifecycle", "--apply", "--days", "5", "--dry-run", **env)
    assert preview.stdout.splitlines() == [
        f"would add: rule {RULE_ID}  Enabled  prefix prod/satchel/staging/  "
        "expire after 5 days  abort incomplete uploads after 5 days  (Satchel's)",
        "1 other rule kept as they were",
    ]
    assert rules() == before

    added = json.loads(
        run(tmp_path, "s3", "lifecycle", "--apply", "--days", "5", "--json", **env).stdout
    )
    assert (added["action"], added["changed"]) == ("added", True)
    after = rules()
    assert after[FOREIGN_RULE["ID"]] == before[FOREIGN_RULE["ID"]]
    assert after[RULE_ID]["Filter"] == {"Prefix": "prod/satchel/staging/"}

    again = run(tmp_path, "s3", "lifecycle", "--apply", "--days", "5", **env)
    assert again.stdout.startswith(f"unchanged: rule {RULE_ID}")
    assert rules() == after

    listed = run(tmp_path, "s3", "lifecycle", **env).stdout.splitlines()
    assert listed == [
        "rule logs-expire-after-30-days  Enabled  prefix logs/  expire after 30 days",
        f"rule {RULE_ID}  Enabled  prefix prod/satchel/staging/  expire after 5 days  "
        "abort incomplete uploads after 5 days  (Satchel's)",
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--days", "3"], "--days and --dry-run go with --apply"),
        (["--dry-run"], "--days and --dry-run go with --apply"),
        (["--apply", "--days", "0"], "--days must be between 1 and 3650"),
    ],
)
def test_lifecycle_bad_usage_changes_nothing(
    tmp_path: Path, moto_s3: S3Endpoint, args: list[str], message: str
) -> None:
    bucket = moto_s3.create_bucket()
    try:
        result = run(tmp_path, "s3", "lifecycle", *args, ok=False, **s3_env(moto_s3, bucket))
        assert result.returncode == 2
        assert result.stderr.strip() == f"error: {message}"
        assert "Rules" not in str(moto_s3.client().list_objects_v2(Bucket=bucket))
        with pytest.raises(Exception, match="NoSuchLifecycleConfiguration"):
            moto_s3.client().get_bucket_lifecycle_configuration(Bucket=bucket)
    finally:
        moto_s3.destroy_bucket(bucket)


def test_unknown_provider_is_bad_usage(tmp_path: Path, moto_s3: S3Endpoint) -> None:
    env = s3_env(moto_s3, "any-bucket", SATCHEL_S3_PROVIDER="wasabi")
    result = run(tmp_path, "s3", "doctor", ok=False, **env)
    assert result.returncode == 2
    assert "SATCHEL_S3_PROVIDER='wasabi'" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_doctor_fails_on_refused_keys(tmp_path: Path, ceph_rgw: CephRGW) -> None:
    endpoint = ceph_rgw.endpoint()
    bucket = endpoint.create_bucket()
    try:
        env = s3_env(endpoint, bucket, TEST_S3_SECRET_KEY="not-the-secret-key-0123456789")
        code, checks, _ = doctor(tmp_path, env)
        assert code == 1
        assert checks["endpoint"]["status"] == "ok"
        assert checks["credentials"]["status"] == "fail"
        assert "SignatureDoesNotMatch" in checks["credentials"]["detail"]
        assert checks["bucket"]["status"] == "skip"
        # another user's valid keys: the bucket is not theirs
        stranger = ceph_rgw.endpoint(alternate=True)
        code, checks, _ = doctor(tmp_path, s3_env(stranger, bucket))
        assert code == 1
        assert checks["credentials"]["status"] == "fail"
        assert "access denied" in checks["credentials"]["detail"]
    finally:
        endpoint.destroy_bucket(bucket)


def test_doctor_fails_on_a_missing_bucket(tmp_path: Path, s3_endpoint: S3Endpoint) -> None:
    code, checks, _ = doctor(tmp_path, s3_env(s3_endpoint, "satchel-no-such-bucket"))
    assert code == 1
    assert checks["credentials"]["status"] == "ok"
    assert checks["bucket"]["status"] == "fail"
    assert checks["bucket"]["detail"] == "the bucket 'satchel-no-such-bucket' does not exist"
    assert checks["lifecycle"]["status"] == "skip"


def test_doctor_fails_fast_on_an_unreachable_endpoint(tmp_path: Path) -> None:
    env = {
        "SATCHEL_S3_PROVIDER": "minio",
        "SATCHEL_S3_ENDPOINT_URL": f"http://127.0.0.1:{free_port()}",
        "SATCHEL_S3_BUCKET": "anything",
    }
    began = time.monotonic()
    result = run(tmp_path, "s3", "doctor", "--json", ok=False, **env)
    assert time.monotonic() - began < 30
    assert result.returncode == 1
    checks = {c["name"]: c for c in json.loads(result.stdout)["checks"]}
    assert checks["endpoint"]["status"] == "fail"
    assert checks["endpoint"]["detail"].startswith("no answer from ")
    assert {checks[name]["status"] for name in CHECKS[1:6]} == {"skip"}


@pytest.fixture
def skewed_server() -> Iterator[str]:
    """An HTTP server whose clock is 20 minutes behind (its Date header says so)."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def date_time_string(self, timestamp: float | None = None) -> str:
            return email.utils.formatdate(time.time() - 20 * 60, usegmt=True)

        def do_HEAD(self) -> None:
            self.send_response(403)
            self.send_header("Content-Length", "0")
            self.end_headers()

        do_GET = do_HEAD

    server = serve(0, Handler)
    yield f"http://127.0.0.1:{server.server_address[1]}"
    shut(server)


def test_doctor_fails_on_a_skewed_clock(tmp_path: Path, skewed_server: str) -> None:
    env = {
        "SATCHEL_S3_PROVIDER": "minio",
        "SATCHEL_S3_ENDPOINT_URL": skewed_server,
        "SATCHEL_S3_BUCKET": "anything",
        "SATCHEL_S3_CHECKSUM_MODE": "when_supported",
    }
    code, checks, _ = doctor(tmp_path, env)
    assert code == 1
    assert checks["clock"]["status"] == "fail"
    # the Date header has whole seconds: 1200 s, or 1201 s across a second's edge
    detail = checks["clock"]["detail"]
    assert re.match(r"local time is 120[01] s ahead of the server's: SigV4", detail)
    assert checks["checksums"]["status"] == "warn"


def test_doctor_and_lifecycle_ask_a_server_about_its_bucket(
    tmp_path: Path, moto_s3: S3Endpoint, launch_server: Any
) -> None:
    """With --url the commands ask the server (admins only), which checks the bucket of its
    own S3 settings: the client needs none of them."""
    bucket = moto_s3.create_bucket()
    try:
        server = launch_server(**s3_env(moto_s3, bucket))
        remote = ("--url", server.url, "--token", server.token("admin"))
        report = json.loads(run(tmp_path, "s3", "doctor", "--json", *remote).stdout)
        checks = {check["name"]: check["status"] for check in report["checks"]}
        assert checks["bucket"] == "ok"
        assert checks["lifecycle"] == "warn"  # no rule yet
        applied = json.loads(
            run(tmp_path, "s3", "lifecycle", "--apply", "--days", "3", "--json", *remote).stdout
        )
        assert (applied["action"], applied["rule"]["ID"]) == ("added", RULE_ID)
        shown = run(tmp_path, "s3", "lifecycle", *remote).stdout
        assert "abort incomplete uploads after 3 days" in shown
        assert "(Satchel's)" in shown
        user = ("--url", server.url, "--token", server.token("alice"))
        refused = run(tmp_path, "s3", "doctor", *user, ok=False)
        assert refused.returncode == 1
        assert "admin" in refused.stderr
    finally:
        moto_s3.destroy_bucket(bucket)
