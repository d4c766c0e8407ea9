"""The pull-through cache over HTTP, as seed 003's users call it with curl: headers of misses and
hits (X-Artifact-Source, Content-Type, Content-Length, Content-Disposition, ETag), HEAD, Range
and If-None-Match on hits, 403 outside the include patterns, traversal refused before anything
is fetched, who may prefetch, upload and evict, and the error tree's statuses."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.harness.origin import Origin


@pytest.fixture
def origin() -> Iterator[Origin]:
    started = Origin()
    yield started
    started.stop()


@pytest.fixture
def proxy_server(launch_server: Callable[..., Any], origin: Origin, tmp_path: Path) -> Any:
    remotes = tmp_path / "remotes.yaml"
    remotes.write_text(
        f"""
remotes:
  github:
    base_url: "{origin.url}/gh"
    description: GitHub releases
    include_patterns: ["[^/]+/[^/]+/releases/download/.*"]
  local-generic:
    type: local
""",
        encoding="utf-8",
    )
    return launch_server(CONFIG_PATH=str(remotes), SATCHEL_ANON_READ="true")


RELEASE = "gruntwork-io/terragrunt/releases/download/v0.96.1/terragrunt_linux_amd64.tar.gz"


def test_a_release_file_is_fetched_then_served_from_the_cache(
    proxy_server: Any, origin: Origin
) -> None:
    body = b"\x1f\x8b" + bytes(range(256)) * 1000
    origin.files[f"gh/{RELEASE}"] = body
    with proxy_server.client() as anonymous:  # SATCHEL_ANON_READ: curl needs no token
        miss = anonymous.get(f"/api/github/{RELEASE}")
        assert miss.status_code == 200, miss.text
        assert miss.content == body
        assert miss.headers["x-artifact-source"] == "remote"
        assert miss.headers["content-type"] == "application/gzip"
        assert miss.headers["content-length"] == str(len(body))
        assert 'filename="terragrunt_linux_amd64.tar.gz"' in miss.headers["content-disposition"]

        hit = anonymous.get(f"/api/github/{RELEASE}")
        assert (hit.status_code, hit.content) == (200, body)
        assert hit.headers["x-artifact-source"] == "cache"
        assert hit.headers["content-type"] == "application/gzip"
        assert hit.headers["content-length"] == str(len(body))
        assert 'filename="terragrunt_linux_amd64.tar.gz"' in hit.headers["content-disposition"]
        digest = base64.b64encode(hashlib.sha256(body).digest()).decode()
        assert hit.headers["repr-digest"] == f"sha-256=:{digest}:"
        etag = hit.headers["etag"]

        head = anonymous.head(f"/api/github/{RELEASE}")
        assert (head.status_code, head.content) == (200, b"")
        assert head.headers["content-length"] == str(len(body))
        part = anonymous.get(f"/api/github/{RELEASE}", headers={"Range": "bytes=2-9"})
        assert (part.status_code, part.content) == (206, body[2:10])
        same = anonymous.get(f"/api/github/{RELEASE}", headers={"If-None-Match": etag})
        assert same.status_code == 304
    assert origin.gets[f"gh/{RELEASE}"] == 1

    with proxy_server.client() as anonymous:
        listed = anonymous.get("/artifacts/github").json()
        assert [item["path"] for item in listed["items"]] == [RELEASE]
        banner = anonymous.get("/").json()
        assert [remote["name"] for remote in banner["remotes"]] == ["github", "local-generic"]
        config = anonymous.get("/config").json()
        assert config["remotes"]["github"]["include_patterns"]


def test_bad_paths_and_patterns_are_refused_before_anything_is_fetched(
    proxy_server: Any, origin: Origin
) -> None:
    with proxy_server.client("alice") as alice:
        outside = alice.get("/api/github/owner/repo/archive/main.zip")
        assert outside.status_code == 403, outside.text
        assert outside.json()["error"] == "access_denied"
        for odd in (
            "/api/github/owner/repo/releases/download/%2e%2e/x.tar.gz",
            "/api/github/owner/repo/releases/download/a%2F..%2F..%2Fx",
            "/api/github/owner/repo/releases/download/a%5cb",
            "/api/github/owner/repo/releases/download/%252e%252e/x",
            "/api/github/owner/repo/releases/download/a%00b",
        ):
            answer = alice.get(odd)
            assert answer.status_code == 400, (odd, answer.text)
        assert alice.get("/api/nowhere/a/b").status_code == 404
        missing = alice.get("/api/github/o/r/releases/download/v1/none.bin")
        assert (missing.status_code, missing.json()["error"]) == (404, "not_found")
        origin.status["gh/o/r/releases/download/v1/broken.bin"] = 500
        broken = alice.get("/api/github/o/r/releases/download/v1/broken.bin")
        assert (broken.status_code, broken.json()["error"]) == (502, "upstream_error")
    assert set(origin.gets) == {
        "gh/o/r/releases/download/v1/none.bin",
        "gh/o/r/releases/download/v1/broken.bin",
    }


def test_who_may_prefetch_upload_and_evict(proxy_server: Any, origin: Origin) -> None:
    origin.files[f"gh/{RELEASE}"] = b"release"
    body = {"remote": "github", "paths": [RELEASE]}
    with proxy_server.client() as anonymous:
        assert anonymous.post("/cache-artifact", json=body).status_code == 401
        assert anonymous.put("/api/local-generic/a.bin", content=b"x").status_code == 401
    with proxy_server.client("alice") as alice, proxy_server.client("admin") as admin:
        done = alice.post("/cache-artifact", json=body)
        assert done.status_code == 200, done.text
        assert [r["status"] for r in done.json()["results"]] == ["fetched"]
        assert alice.post("/cache-artifact", json={**body, "extra": 1}).status_code in (400, 422)
        assert alice.put("/api/local-generic/a.bin", content=b"x").status_code == 403
        assert alice.delete("/artifacts/github", params={"prefix": ""}).status_code == 403

        put = admin.put("/api/local-generic/tools/a.bin", content=b"ours")
        assert put.status_code == 201, put.text
        got = alice.get("/api/local-generic/tools/a.bin")
        assert (got.content, got.headers["x-artifact-source"]) == (b"ours", "cache")
        refused = admin.put(f"/api/github/{RELEASE}", content=b"not a local remote")
        assert refused.status_code == 400

        evicted = admin.delete("/artifacts/github", params={"path": RELEASE})
        assert evicted.json()["evicted"] == [RELEASE]
        assert alice.get("/artifacts/github").json()["items"] == []
        stats = alice.get("/v1/proxy/stats").json()["remotes"]["github"]
        assert stats["misses"] == 1
        assert stats["cached_files"] == 0
        assert stats["bytes_fetched"] == len(b"release")
        metrics = alice.get("/metrics").text
        assert 'satchel_proxy_misses_total{remote="github"} 1' in metrics
        assert 'satchel_proxy_fetched_bytes_total{remote="github"} 7' in metrics
        assert 'satchel_proxy_cached_files{remote="local-generic"} 1' in metrics
