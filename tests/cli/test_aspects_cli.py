"""``satchel aspects`` and ``satchel lineage`` in subprocesses, on the embedded store."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.helpers import run, run_fresh

USED_BY = "urn:satchel:schema:used-by.1"
PRODUCED_BY = "urn:satchel:schema:produced-by.1"


def test_aspects_and_lineage(tmp_path: Path) -> None:
    for name in ("in.txt", "out.txt"):
        (tmp_path / name).write_text(name)
    ids = {
        name: json.loads(run(tmp_path, "put", name, "--scope", "sandbox", "--json").stdout)[
            "artifact_id"
        ]
        for name in ("in.txt", "out.txt")
    }
    link = json.dumps({"job": "urn:ci:run:1"})
    run_fresh(tmp_path, "aspects", "add", ids["in.txt"], link, "--schema", USED_BY)
    (tmp_path / "made.json").write_text(json.dumps({"$schema": PRODUCED_BY, "job": "urn:ci:run:1"}))
    added = json.loads(
        run(tmp_path, "aspects", "add", ids["out.txt"], "@made.json", "--json").stdout
    )
    assert added["schema"] == PRODUCED_BY
    listed = run(tmp_path, "aspects", "ls", "--entity", ids["out.txt"]).stdout
    assert added["aspect_id"] in listed
    graph = json.loads(run_fresh(tmp_path, "lineage", ids["out.txt"], "--json").stdout)
    assert {node["id"] for node in graph["nodes"]} == {
        ids["out.txt"],
        "urn:ci:run:1",
        ids["in.txt"],
    }
    down = run(tmp_path, "lineage", ids["in.txt"], "--down").stdout.splitlines()
    assert f"{ids['out.txt']}  produced-by  urn:ci:run:1" in down
    run(tmp_path, "aspects", "retract", added["aspect_id"])
    assert run(tmp_path, "aspects", "ls", "--entity", ids["out.txt"]).stdout == ""
    shown = json.loads(run(tmp_path, "aspects", "get", added["urn"]).stdout)
    assert shown["state"] == "retracted"
    bad = run(tmp_path, "aspects", "add", ids["in.txt"], "{not json", ok=False)
    assert bad.returncode == 2
    bad = run(tmp_path, "aspects", "add", ids["in.txt"], "{}", "--schema", USED_BY, ok=False)
    assert bad.returncode == 2
    assert "job" in bad.stderr
