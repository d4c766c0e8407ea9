"""``satchel push / pull / manifest / packages / retention / hold / gc / schemas`` in
subprocesses, embedded and against a server; a push killed half-way resumes without re-sending
what arrived."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from tests.cli.helpers import cli_env, run, run_fresh

from satchel.manifest import decode


def make_tree(root: Path) -> dict[str, bytes]:
    files = {
        "summary.json": b'{"ok": true}\n',
        "logs/build.log": b"step 1\nstep 2\n" * 50,
        "deep/a/b/c.bin": bytes(range(256)) * 8,
        "caf\u00e9.txt": b"unicode name\n",
    }
    for relative, body in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(body)
    return files


PUSH = ("--producer", "guide-board", "--subject", "run-1", "--retention-class", "raw-evidence")


def test_push_pull_and_manifest_embedded(tmp_path: Path) -> None:
    run_dir = tmp_path / "run-1"
    files = make_tree(run_dir)
    pushed = json.loads(run_fresh(tmp_path, "push", str(run_dir), *PUSH, "--json").stdout)
    assert (pushed["files"], pushed["sent"]) == (4, 4)
    package_id, address = pushed["package_id"], pushed["manifest_address"]

    body = run_fresh(tmp_path, "manifest", package_id).stdout.rstrip("\n").encode()
    assert "sha256:" + hashlib.sha256(body).hexdigest() == address
    manifest = decode(body)
    assert sorted(f.relative_path for f in manifest.files) == sorted(files)
    cbor = tmp_path / "m.cbor"
    run(tmp_path, "manifest", package_id, "--format", "cbor", "-o", str(cbor))
    assert decode(cbor.read_bytes()) == manifest
    kept = run(tmp_path, "manifest", package_id, "-o", str(cbor), ok=False)
    assert "--force" in kept.stderr
    assert decode(cbor.read_bytes()) == manifest  # not replaced by the JSON form

    out = tmp_path / "out"
    run_fresh(tmp_path, "pull", package_id, str(out))
    for relative, expected in files.items():
        assert (out / relative).read_bytes() == expected
    assert not list(out.rglob(".*.part"))
    edited = out / sorted(files)[0]
    edited.write_bytes(b"changed here")  # a local edit is never overwritten silently
    refused = run(tmp_path, "pull", package_id, str(out), ok=False)
    assert refused.returncode == 1
    assert "exists and differs (--force overwrites it)" in refused.stderr
    assert edited.read_bytes() == b"changed here"
    run(tmp_path, "pull", package_id, str(out), "--force")
    assert edited.read_bytes() == files[sorted(files)[0]]

    listed = json.loads(run(tmp_path, "packages", "ls", "--json").stdout)
    assert [p["package_id"] for p in listed["items"]] == [package_id]
    shown = json.loads(run(tmp_path, "packages", "show", package_id).stdout)
    assert shown["manifest_address"] == address

    # a re-push of the same version is a no-op; other content under it is refused
    first = json.loads(
        run(tmp_path, "push", str(run_dir), *PUSH, "--version", "1", "--json").stdout
    )
    again = json.loads(
        run(tmp_path, "push", str(run_dir), *PUSH, "--version", "1", "--json").stdout
    )
    assert again["package_id"] == first["package_id"]
    assert again["sent"] == 0
    (run_dir / "summary.json").write_bytes(b'{"ok": false}\n')
    refused = run(tmp_path, "push", str(run_dir), *PUSH, "--version", "1", ok=False)
    assert refused.returncode == 1
    assert "package_finalized" in refused.stderr


def test_retention_hold_and_gc_commands(tmp_path: Path) -> None:
    config = tmp_path / "retention.toml"
    config.write_text("[retention_classes.instant]\ndefault_duration_seconds = 0\n")
    env = {"SATCHEL_RETENTION_CONFIG_PATH": str(config), "SATCHEL_GC_GRACE_SECONDS": "0"}
    run_dir = tmp_path / "r"
    make_tree(run_dir)
    args = ("--producer", "ci", "--subject", "s", "--retention-class", "instant")
    package_id = json.loads(run(tmp_path, "push", str(run_dir), *args, "--json", **env).stdout)[
        "package_id"
    ]
    classes = run_fresh(tmp_path, "retention", "classes", **env).stdout
    assert "instant  0 s  governance" in classes
    hold_id = run_fresh(
        tmp_path, "hold", "apply", package_id, "case-1", "--reason", "subpoena", **env
    ).stdout.strip()
    assert hold_id.startswith("hold-")
    swept = run(tmp_path, "retention", "sweep", **env).stdout
    assert "0 are eligible" in swept
    removed = run(tmp_path, "packages", "rm", package_id, ok=False, **env)
    assert removed.returncode == 1
    assert "retained" in removed.stderr
    assert "case-1  in force" in run(tmp_path, "hold", "ls", package_id, **env).stdout
    run(tmp_path, "hold", "release", hold_id, "--reason", "settled", **env)
    assert f"eligible  {package_id}" in run(tmp_path, "retention", "sweep", **env).stdout
    dry = run(tmp_path, "gc", "--dry-run", **env).stdout
    assert f"would delete  {package_id}" in dry
    collected = json.loads(run_fresh(tmp_path, "gc", "--json", **env).stdout)
    assert [p["package_id"] for p in collected["packages_deleted"]] == [package_id]
    assert collected["bytes_freed"] > 0
    history = run(tmp_path, "retention", "history", package_id, **env).stdout
    assert "v1.hold.applied" in history
    assert "v1.package.deleted" in history


def test_push_resumes_after_a_killed_cli(server: Any, tmp_path: Path) -> None:
    """Kill a push half-way (SIGKILL, mid-transfer); pushing again sends only what did not
    arrive and finalizes the same package."""
    run_dir = tmp_path / "big"
    run_dir.mkdir()
    for n in range(12):
        (run_dir / f"part-{n:02}.bin").write_bytes(os.urandom(4 * 1024 * 1024))
    env = {"SATCHEL_URL": server.url, "SATCHEL_TOKEN": server.token("alice")}
    args = [sys.executable, "-m", "satchel", "push", str(run_dir), *PUSH, "--parallel", "1"]
    process = subprocess.Popen(args, cwd=tmp_path, env=cli_env(tmp_path, **env))
    deadline = time.monotonic() + 60
    package_id = None
    with server.client("alice") as client:
        while time.monotonic() < deadline and process.poll() is None:
            page = client.get("/v1/packages", params={"name": "big", "state": "open"}).json()
            if page["items"] and page["items"][0]["file_count"] >= 3:
                package_id = page["items"][0]["package_id"]
                break
            time.sleep(0.02)
        process.send_signal(signal.SIGKILL)
        process.wait()
        assert package_id is not None, "the push finished before it could be killed"
        # a body the server had whole when the client died may still be committed: settle
        arrived: list[Any] = []
        while True:
            now = client.get(f"/v1/packages/{package_id}/files").json()["items"]
            if len(now) == len(arrived):
                break
            arrived = now
            time.sleep(0.5)
    assert 3 <= len(arrived) < 12
    resumed = json.loads(run(tmp_path, "push", str(run_dir), *PUSH, "--json", **env).stdout)
    assert resumed["package_id"] == package_id
    assert resumed["sent"] == 12 - len(arrived)
    assert resumed["files"] == 12
    out = tmp_path / "pulled"
    run(tmp_path, "pull", package_id, str(out), **env)
    for n in range(12):
        name = f"part-{n:02}.bin"
        assert (out / name).read_bytes() == (run_dir / name).read_bytes()


def test_schemas_and_guide_board_push(tmp_path: Path) -> None:
    schema = tmp_path / "guide-board.run.v1.json"
    schema.write_text(
        json.dumps(
            {"type": "object", "required": ["board"], "properties": {"board": {"type": "string"}}}
        )
    )
    assert run(
        tmp_path, "schemas", "register", "guide-board.run.v1", str(schema)
    ).stdout.strip() == ("guide-board.run.v1@1")
    run_dir = tmp_path / "run"
    make_tree(run_dir)
    bad = run(
        tmp_path, "push", str(run_dir), *PUSH, "--schema", "guide-board.run.v1",
        "--metadata", '{"board": 3}', ok=False,
    )  # fmt: skip
    assert bad.returncode == 2
    assert "metadata.board" in bad.stderr
    run(
        tmp_path, "push", str(run_dir), *PUSH, "--schema", "guide-board.run.v1",
        "--metadata", '{"board": "main"}',
    )  # fmt: skip
    assert "guide-board.run.v1@1" in run_fresh(tmp_path, "schemas", "ls").stdout


def test_pull_never_writes_outside_the_directory(tmp_path: Path) -> None:
    """The store refuses escaping paths; the CLI checks again before it writes, following
    symlinks already in the target directory."""
    import typer

    from satchel.cli.packages import _inside
    from satchel.core.errors import InvalidRequestError

    out = tmp_path / "out"
    (tmp_path / "elsewhere").mkdir()
    out.mkdir()
    (out / "link").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(InvalidRequestError):
        _inside(out, "../escape.txt")
    with pytest.raises(typer.Exit):
        _inside(out, "link/escape.txt")
    assert _inside(out, "sub/ok.txt") == (out / "sub" / "ok.txt").resolve()


def test_push_resumes_only_the_same_push(tmp_path: Path) -> None:
    """A versionless push resumes into my open package of the same push (name, producer,
    subject, class, scope, metadata, schema) and refuses one holding files the directory
    lacks; another class or metadata starts a new package."""
    import asyncio

    from satchel import ArtifactStore, Settings

    run_dir = tmp_path / "same"
    files = make_tree(run_dir)

    async def interrupted(extra: str | None) -> str:
        settings = Settings(data_dir=tmp_path / "data")
        async with ArtifactStore(settings=settings, default_backend="filesystem") as store:
            package_id = await store.create_package(
                "same", "guide-board", "run-1", "raw-evidence", metadata={}
            )
            await store.ingest_file(package_id, "summary.json", None, files["summary.json"])
            if extra:
                await store.ingest_file(package_id, extra, None, b"not in the directory")
            return package_id

    open_id = asyncio.run(interrupted(None))
    other_class = ("--producer", "guide-board", "--subject", "run-1", "--retention-class")
    fresh = json.loads(
        run(tmp_path, "push", str(run_dir), *other_class, "summary-evidence", "--json").stdout
    )
    assert fresh["package_id"] != open_id
    assert fresh["sent"] == 4
    resumed = json.loads(run(tmp_path, "push", str(run_dir), *PUSH, "--json").stdout)
    assert (resumed["package_id"], resumed["sent"]) == (open_id, 3)

    stale_id = asyncio.run(interrupted("stale.txt"))
    refused = run(tmp_path, "push", str(run_dir), *PUSH, ok=False)
    assert refused.returncode == 1
    assert f"satchel packages rm {stale_id}" in refused.stderr
