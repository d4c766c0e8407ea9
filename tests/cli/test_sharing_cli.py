"""``satchel policy``, ``satchel collections``, ``ls --collection`` and ``presign --flavor`` in
subprocesses, on the embedded store."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.helpers import lines, run, run_fresh


def _put(tmp_path: Path, name: str) -> str:
    (tmp_path / name).write_text(name)
    made = json.loads(run(tmp_path, "put", name, "--scope", "sandbox", "--json").stdout)
    return str(made["artifact_id"])


def test_policies_collections_and_url_flavors(tmp_path: Path) -> None:
    first, second = _put(tmp_path, "a.csv"), _put(tmp_path, "b.csv")
    urn = f"urn:satchel:artifact:{second}"
    assert run_fresh(tmp_path, "collections", "add", "reef", first, urn)
    assert run(tmp_path, "collections", "add", "reef", first).stdout == "added 0 to reef\n"
    members = lines(run(tmp_path, "ls", "--collection", "reef", "--json").stdout)
    assert {item["artifact_id"] for item in members} == {first, second}
    listed = lines(run(tmp_path, "collections", "ls", "--json").stdout)
    assert listed == [{"collection": "reef", "urn": "urn:satchel:collection:reef", "artifacts": 2}]
    assert run(tmp_path, "collections", "show", first).stdout == "reef\n"
    assert run(tmp_path, "collections", "rm", "reef", first).stdout == "removed 1 from reef\n"
    mixed = run(tmp_path, "ls", "--collection", "reef", "--session", "s1", ok=False)
    assert mixed.returncode == 2
    assert "--collection" in mixed.stderr

    refused = run(tmp_path, "presign", first, "--flavor", "public", ok=False)
    assert refused.returncode == 1
    assert "private" in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1  # one line, no traceback
    assert run_fresh(tmp_path, "policy", first, "public").stdout == f"{first}  public\n"
    public = json.loads(run_fresh(tmp_path, "presign", first, "--json").stdout)
    assert public == {
        "url": f"http://127.0.0.1:8000/v1/artifacts/{first}/content",
        "expires_at": None,
    }
    signed = json.loads(run(tmp_path, "presign", first, "--flavor", "presigned", "--json").stdout)
    assert "/v1/signed/" in signed["url"]
    assert signed["expires_at"] is not None
    bad = run(tmp_path, "policy", first, "everyone", ok=False)
    assert (bad.returncode, "unknown policy" in bad.stderr) == (2, True)  # bad input
    assert json.loads(run(tmp_path, "policy", first, "private", "--json").stdout)["policy"] is None
