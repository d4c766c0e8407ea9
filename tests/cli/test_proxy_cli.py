"""``satchel proxy`` in subprocesses, on the embedded store, against an upstream the test starts;
and a remotes file with a mistake stops the CLI with the remote and key named."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.cli.helpers import run, run_fresh
from tests.harness.origin import Origin


@pytest.fixture
def origin() -> Iterator[Origin]:
    started = Origin()
    yield started
    started.stop()


def test_the_cache_from_the_command_line(tmp_path: Path, origin: Origin) -> None:
    remotes = tmp_path / "remotes.yaml"
    remotes.write_text(
        f'remotes:\n  hashicorp:\n    base_url: "{origin.url}"\n'
        '    include_patterns: ["terraform/.*\\\\.zip$"]\n',
        encoding="utf-8",
    )
    env = {"SATCHEL_REMOTES_FILE": str(remotes)}
    origin.files["terraform/1.6.0/terraform_1.6.0_linux_amd64.zip"] = b"PK zip"
    path = "terraform/1.6.0/terraform_1.6.0_linux_amd64.zip"
    assert "hashicorp  remote/generic" in run(tmp_path, "proxy", "remotes", **env).stdout
    fetched = run_fresh(
        tmp_path, "proxy", "prefetch", "hashicorp", path, "terraform/x.zip", ok=False, **env
    )
    assert fetched.returncode == 0, fetched.stderr
    assert fetched.stdout.splitlines() == [f"fetched  {path}", "missing  terraform/x.zip"]
    listed = json.loads(run(tmp_path, "proxy", "ls", "hashicorp", "--json", **env).stdout)
    assert [item["path"] for item in listed["items"]] == [path]
    got = run(tmp_path, "proxy", "get", "hashicorp", path, "-o", "t.zip", **env)
    assert (tmp_path / "t.zip").read_bytes() == b"PK zip"
    assert "cache: hashicorp/" in got.stderr
    (tmp_path / "t.zip").write_bytes(b"mine")
    refused = run(tmp_path, "proxy", "get", "hashicorp", path, "-o", "t.zip", ok=False, **env)
    assert refused.returncode == 1
    assert "--force" in refused.stderr
    assert (tmp_path / "t.zip").read_bytes() == b"mine"
    forced = run(tmp_path, "proxy", "get", "hashicorp", path, "-o", "t.zip", "-f", "--json", **env)
    assert json.loads(forced.stdout)["source"] == "cache"
    assert (tmp_path / "t.zip").read_bytes() == b"PK zip"
    assert not list(tmp_path.glob(".*.part"))
    assert origin.gets[path] == 1
    evicted = run(tmp_path, "proxy", "evict", "hashicorp", "--all", **env)
    assert "evicted 1, kept 0" in evicted.stdout
    assert (
        json.loads(run(tmp_path, "proxy", "ls", "hashicorp", "--json", **env).stdout)["items"] == []
    )


def test_a_remotes_file_with_a_mistake_names_the_remote_and_key(tmp_path: Path) -> None:
    remotes = tmp_path / "remotes.yaml"
    remotes.write_text(
        "remotes:\n  github:\n    base_url: https://github.com\n    include_patterns: ['(']\n",
        encoding="utf-8",
    )
    failed = run(tmp_path, "proxy", "remotes", ok=False, CONFIG_PATH=str(remotes))
    assert failed.returncode != 0
    assert "remote 'github': include_patterns[0]: not a regular expression" in failed.stderr
    assert "Traceback" not in failed.stderr
