"""The ``satchel`` CLI, run as ``python -m satchel`` in subprocesses: embedded and --url modes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.cli.helpers import lines, run, run_fresh

import satchel


@pytest.fixture
def sample(tmp_path: Path) -> Path:
    path = tmp_path / "notes.txt"
    path.write_text("hello from the cli\n")
    return path


def test_version(tmp_path: Path) -> None:
    assert run_fresh(tmp_path, "version").stdout.strip() == satchel.__version__


def test_put_ls_get_cat_rm_embedded(tmp_path: Path, sample: Path) -> None:
    put = run_fresh(tmp_path, "put", str(sample), "--summary", "notes")
    artifact_id = put.stdout.strip()
    assert len(artifact_id) == 32
    # the CLI keeps what it stores, in the sandbox's scope here (no user), and says so
    assert "notes.txt: scope sandbox, kept until deleted" in put.stderr
    again = json.loads(run(tmp_path, "put", str(sample), "--summary", "notes", "--json").stdout)
    assert again["artifact_id"] == artifact_id  # exactly the same upload: reused
    assert (again["scope"], again["expires_at"]) == ("sandbox", None)
    brief = run(tmp_path, "put", str(sample), "--scope", "session", "--ttl", "900")
    assert "scope session, expires " in brief.stderr

    listing = run_fresh(tmp_path, "ls").stdout
    assert artifact_id in listing
    assert "notes.txt" in listing
    page = run(tmp_path, "ls", "--json", "--limit", "1")
    assert len(lines(page.stdout)) == 1  # JSON lines: one object per artifact
    assert "more: --cursor " in page.stderr

    assert run_fresh(tmp_path, "cat", artifact_id).stdout == "hello from the cli\n"
    target = tmp_path / "out.txt"
    assert run_fresh(tmp_path, "get", artifact_id, "-o", str(target)).stdout.strip() == str(target)
    assert target.read_text() == "hello from the cli\n"
    fetched = json.loads(run(tmp_path, "get", artifact_id, "--meta", "--json").stdout)
    assert fetched["artifact_id"] == artifact_id
    assert fetched["summary"] == "notes"
    assert "bytes:" in run(tmp_path, "get", artifact_id, "--meta").stdout
    assert run(tmp_path, "get", artifact_id, "-o", "-").stdout == "hello from the cli\n"

    session_id = fetched["session_id"]
    in_session = lines(run(tmp_path, "ls", "--session", session_id, "--json").stdout)
    assert artifact_id in {item["artifact_id"] for item in in_session}

    assert run_fresh(tmp_path, "rm", artifact_id).stdout.strip() == f"deleted {artifact_id}"
    missing = run(tmp_path, "cat", artifact_id, ok=False)
    assert missing.returncode == 1
    assert "not_found" in missing.stderr


def test_put_reuses_only_an_identical_artifact(tmp_path: Path, sample: Path) -> None:
    """Dedup never drops what the caller asked for: an artifact is reused only when it is
    exactly what the new upload would be (and neither expires); otherwise a new artifact is
    made over the same stored bytes."""

    def put(*args: str) -> dict[str, Any]:
        return dict(json.loads(run(tmp_path, "put", str(sample), "--json", *args).stdout))

    kept = put("--ttl", "none", "--summary", "s")
    assert put("--ttl", "none", "--summary", "s")["artifact_id"] == kept["artifact_id"]
    assert (
        put("--ttl", "none", "--summary", "s", "--no-dedup")["artifact_id"] != kept["artifact_id"]
    )
    for changed, check in (
        (("--meta", '{"v": 2}'), ("meta", {"v": 2})),
        (("--summary", "other"), ("summary", "other")),
        (("--ttl", "3600"), ("ttl", 3600)),
        (("--mime", "text/markdown"), ("mime", "text/markdown")),
        (("--name", "renamed.txt"), ("filename", "renamed.txt")),
    ):
        fresh = put("--ttl", "none", "--summary", "s", *changed)
        assert fresh["artifact_id"] != kept["artifact_id"], changed
        assert fresh[check[0]] == check[1], changed
        assert fresh["sha256"] == kept["sha256"]
    stats = lines(run(tmp_path, "ls", "--json", "--limit", "1000").stdout)
    assert len(stats) >= 7
    assert len({item["sha256"] for item in stats}) == 1


def test_put_options_and_json(tmp_path: Path, sample: Path) -> None:
    result = run(
        tmp_path,
        "put",
        str(sample),
        "--json",
        "--mime",
        "text/markdown",
        "--scope",
        "user",
        "--user",
        "carol",
        "--ttl",
        "none",
        "--meta",
        '{"project": "x"}',
    )
    meta = json.loads(result.stdout)
    assert meta["mime"] == "text/markdown"
    assert meta["scope"] == "user"
    assert meta["owner_id"] == "carol"
    assert meta["expires_at"] is None
    assert meta["meta"] == {"project": "x"}
    listed = lines(run(tmp_path, "ls", "--user", "carol", "--scope", "user", "--json").stdout)
    assert [item["artifact_id"] for item in listed] == [meta["artifact_id"]]
    bad = run(tmp_path, "put", str(sample), "--meta", "[1]", ok=False)
    assert bad.returncode == 2
    denied = run(tmp_path, "cat", meta["artifact_id"], "--user", "dave", ok=False)
    assert "access_denied" in denied.stderr


def test_presign_health_migrate(tmp_path: Path, sample: Path) -> None:
    artifact_id = run(tmp_path, "put", str(sample)).stdout.strip()
    url = run_fresh(tmp_path, "presign", artifact_id, "--expires", "60").stdout.strip()
    assert "/v1/signed/" in url
    assert "catalog" in run(tmp_path, "migrate").stdout
    health = json.loads(run(tmp_path, "health", "--json").stdout)
    assert health["status"] == "ok"
    assert health["checks"]["storage"]["provider"] == "filesystem"
    assert "status: ok" in run(tmp_path, "health").stdout


def test_keys_embedded_then_used_by_a_server(tmp_path: Path, launch_server: Any) -> None:
    """Keys made offline in a data directory work on the server over it; revocation (through
    the server, with an admin token) takes effect on the next request, without a restart."""
    srv = launch_server()
    data = {"SATCHEL_DATA_DIR": str(srv.data_dir)}
    create = ["keys", "create", "--user", "erin", "--name", "ci", "--json"]
    made = json.loads(run_fresh(tmp_path, *create, **data).stdout)
    assert made["token"].startswith("satk_")
    assert (made["user_id"], made["admin"], made["name"]) == ("erin", False, "ci")
    secret = made["token"]
    plain = run(tmp_path, "keys", "create", "--user", "frank", "--admin", **data).stdout.strip()
    assert plain.startswith("satk_")

    listed = json.loads(run(tmp_path, "keys", "list", "--json", **data).stdout)
    assert {(row["user_id"], row["admin"]) for row in listed} == {("erin", False), ("frank", True)}
    assert secret not in json.dumps(listed)
    assert plain not in json.dumps(listed)
    assert "erin@default" in run(tmp_path, "keys", "list", **data).stdout

    with httpx.Client(base_url=srv.url, timeout=30) as http:
        erin = {"Authorization": f"Bearer {secret}"}
        created = http.post(
            "/v1/artifacts", content=b"hi", headers=erin, params={"mime": "text/plain"}
        )
        assert created.status_code == 201, created.text
        assert created.json()["owner_id"] == "erin"
        assert http.get("/v1/keys", headers=erin).status_code == 403  # not an admin key

        remote = {"SATCHEL_URL": srv.url, "SATCHEL_TOKEN": plain}  # frank's admin key
        revoked = json.loads(
            run(tmp_path, "keys", "revoke", made["key_id"], "--json", **remote).stdout
        )
        assert revoked["revoked_at"] is not None
        refused = http.get(f"/v1/artifacts/{created.json()['artifact_id']}", headers=erin)
        assert refused.status_code == 401
        assert refused.json()["error"] == "unauthorized"
    again = run(tmp_path, "keys", "revoke", made["key_id"], ok=False, **data)
    assert again.returncode == 1
    assert "no live API key" in again.stderr
    assert run(tmp_path, "keys", "create", "--user", "bad user", ok=False).returncode == 2
    assert run(tmp_path, "keys", "create", "--user", "anonymous", ok=False).returncode == 2


def test_url_mode_put_get_ls(tmp_path: Path, sample: Path, server: Any) -> None:
    remote = {"SATCHEL_URL": server.url, "SATCHEL_TOKEN": "alice-token-0001"}
    meta = json.loads(run_fresh(tmp_path, "put", str(sample), "--json", **remote).stdout)
    assert (meta["owner_id"], meta["scope"], meta["expires_at"]) == ("alice", "user", None)
    artifact_id = meta["artifact_id"]
    target = tmp_path / "remote.txt"
    run(tmp_path, "get", artifact_id, "-o", str(target), **remote)
    assert target.read_text() == "hello from the cli\n"
    listed = lines(run(tmp_path, "ls", "--json", "--user", "alice", **remote).stdout)
    assert artifact_id in {item["artifact_id"] for item in listed}
    # --url/--token flags instead of the environment; bob may not read alice's session artifact
    flags = ["--url", server.url, "--token", "bob-token-00001"]
    denied = run(tmp_path, "cat", artifact_id, *flags, ok=False)
    assert denied.returncode == 1
    assert "access_denied" in denied.stderr
    health = json.loads(run(tmp_path, "health", "--json", "--url", server.url).stdout)
    assert health["status"] == "ok"
    # nothing was written to the embedded store
    assert run(tmp_path, "ls", "--json").stdout.count("artifact_id") == 0
    assert run(tmp_path, "migrate", **remote, ok=False).returncode == 2


def test_put_of_an_empty_file_stores_a_zero_byte_artifact(tmp_path: Path) -> None:
    marker = tmp_path / "_SUCCESS"
    marker.write_bytes(b"")
    stored = json.loads(run(tmp_path, "put", str(marker), "--json").stdout)
    assert (stored["bytes"], stored["filename"]) == (0, "_SUCCESS")
    assert run(tmp_path, "cat", stored["artifact_id"]).stdout == ""
    target = tmp_path / "copy"
    run(tmp_path, "get", stored["artifact_id"], "-o", str(target))
    assert target.read_bytes() == b""


def test_storage_check_reports_and_repairs(tmp_path: Path, sample: Path) -> None:
    run(tmp_path, "put", str(sample))
    clean = run_fresh(tmp_path, "storage", "check")
    assert "repaired: 0; clean" in clean.stdout
    # half an upload body staged by a process that has since exited
    leftover = subprocess.run(
        [
            sys.executable,
            "-c",
            "from satchel._process import named_for_this_process as n; print(n('99aa'))",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    (tmp_path / "data" / "staging" / leftover).write_bytes(b"left by a crash")
    found = run(tmp_path, "storage", "check", ok=False)
    assert found.returncode == 1
    assert f"FOUND  abandoned_staging  {leftover}" in found.stdout
    report = json.loads(run(tmp_path, "storage", "check", "--repair", "--json").stdout)
    assert report["counts"] == {"abandoned_staging": 1}
    assert report["clean"]
    assert not (tmp_path / "data" / "staging" / leftover).exists()
    assert "repaired: 0; clean" in run(tmp_path, "storage", "check", "--verify").stdout
