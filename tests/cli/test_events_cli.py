"""``satchel events``: the feed printed, filtered, as JSON Lines, and followed, embedded and
against a server (where a user's token shows only that user's events)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.cli.helpers import cli_env, run, run_fresh


def _lines(result: subprocess.CompletedProcess[str]) -> list[dict[str, Any]]:
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_events_embedded(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("a")
    stored = json.loads(run(tmp_path, "put", "a.txt", "--json").stdout)["artifact_id"]
    every = _lines(run_fresh(tmp_path, "events", "--json"))
    assert [e["type"] for e in every] == ["v1.session.created", "v1.artifact.stored"]
    assert every[1]["subject"] == stored
    assert every[1]["payload"]["record"]["filename"] == "a.txt"
    text = run(tmp_path, "events", "--type", "v1.artifact.").stdout.splitlines()
    assert len(text) == 1
    assert f"v1.artifact.stored  {stored}" in text[0]
    after = str(every[0]["seq"])
    assert _lines(run(tmp_path, "events", "--json", "--after", after)) == every[1:]
    assert _lines(run(tmp_path, "events", "--json", "--limit", "1")) == every[:1]
    bad = run(tmp_path, "events", "--type", "artifact.stored", ok=False)
    assert bad.returncode == 2
    assert "unknown event type" in bad.stderr


def test_follow_against_a_server(server: Any, tmp_path: Path) -> None:
    env = {"SATCHEL_URL": server.url, "SATCHEL_TOKEN": server.token("alice")}
    (tmp_path / "first.txt").write_text("1")
    run(tmp_path, "put", "first.txt", "--scope", "user", **env)
    follow = subprocess.Popen(
        [sys.executable, "-m", "satchel", "events", "--follow", "--json", "--limit", "2",
         "--type", "v1.artifact.stored"],
        cwd=tmp_path,
        env=cli_env(tmp_path, **env),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        assert follow.stdout is not None
        first = json.loads(follow.stdout.readline())
        assert first["payload"]["record"]["filename"] == "first.txt"
        (tmp_path / "second.txt").write_text("2")
        bob = {"SATCHEL_URL": server.url, "SATCHEL_TOKEN": server.token("bob")}
        run(tmp_path, "put", "second.txt", "--scope", "user", **bob)  # not alice's to see
        run(tmp_path, "put", "second.txt", "--scope", "user", **env)
        out, err = follow.communicate(timeout=60)
    finally:
        follow.kill()
    assert follow.returncode == 0, err
    [second] = [json.loads(line) for line in out.splitlines()]
    assert second["payload"]["record"]["owner_id"] == "alice"
    assert second["seq"] > first["seq"]
