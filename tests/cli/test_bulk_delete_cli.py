"""``satchel rm`` with many ids (bulk deletes) and ``satchel admin delete-prefix``."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.helpers import lines, run, run_fresh


def _put(tmp_path: Path, name: str, *args: str) -> str:
    (tmp_path / name).write_text(name)
    return run(tmp_path, "put", name, *(args or ("--scope", "sandbox"))).stdout.strip()


def test_rm_deletes_many_and_reports_each_with_a_summary(tmp_path: Path) -> None:
    first, second, held = (_put(tmp_path, f"{n}.txt") for n in ("a", "b", "c"))
    run(tmp_path, "hold", "apply", held, "case-7", "--reason", "keep", "--kind", "artifact")
    missing = "0" * 32

    removed = run_fresh(tmp_path, "rm", first, missing, held, second, first, ok=False)

    assert removed.returncode == 1  # some failed
    assert removed.stdout.splitlines() == [f"deleted {first}", f"deleted {second}"]
    assert f"{missing}: not_found" in removed.stderr
    assert f"{held}: retained" in removed.stderr
    assert "2 of 4 not deleted" in removed.stderr
    assert run(tmp_path, "cat", held).stdout == "c.txt"

    third, fourth = (_put(tmp_path, f"{n}.txt") for n in ("d", "e"))
    done = run(tmp_path, "rm", third, fourth, "--json")
    assert lines(done.stdout) == [
        {"artifact_id": third, "deleted": True},
        {"artifact_id": fourth, "deleted": True},
    ]
    summary = run(tmp_path, "rm", _put(tmp_path, "f.txt"), _put(tmp_path, "g.txt"))
    assert "2 deleted" in summary.stderr


def test_rm_reports_a_malformed_id_and_deletes_the_rest(tmp_path: Path) -> None:
    kept = _put(tmp_path, "a.txt")
    refused = run(tmp_path, "rm", "../etc", kept, ok=False)
    assert refused.returncode == 1
    assert refused.stdout.strip() == f"deleted {kept}"
    assert "../etc: invalid_request" in refused.stderr
    only_bad = run(tmp_path, "rm", "../etc", ok=False)
    assert only_bad.returncode == 2  # bad usage: nothing to do


def test_admin_delete_prefix_is_a_dry_run_until_applied(tmp_path: Path) -> None:
    inside = [_put(tmp_path, f"{n}.txt", "--scope", "session", "--session", "cli-s") for n in "abc"]
    sibling = _put(tmp_path, "d.txt", "--scope", "session", "--session", "cli-sx")
    stat = json.loads(run(tmp_path, "get", inside[0], "--meta", "--json").stdout)
    prefix = stat["key"].rsplit("/", 1)[0] + "/"
    assert prefix.endswith("/sessions/cli-s/")
    run(tmp_path, "hold", "apply", inside[2], "case-9", "--reason", "keep", "--kind", "artifact")

    preview = run_fresh(tmp_path, "admin", "delete-prefix", prefix)
    assert set(preview.stdout.splitlines()[:2]) == set(inside[:2])
    assert f"skipped  {inside[2]}  retained:" in preview.stdout
    assert "would delete 2 artifact(s), 10 B; skipped 1; 1 page(s)" in preview.stdout
    assert run(tmp_path, "cat", inside[0]).stdout == "a.txt"  # nothing deleted

    applied = run(tmp_path, "admin", "delete-prefix", prefix, "--apply", "--json", ok=False)
    assert applied.returncode == 1  # one was held back
    report = json.loads(applied.stdout)
    assert (report["count"], report["skipped"], report["dry_run"]) == (2, 1, False)
    assert run(tmp_path, "cat", inside[0], ok=False).returncode == 1
    assert run(tmp_path, "cat", inside[2]).stdout == "c.txt"
    assert run(tmp_path, "cat", sibling).stdout == "d.txt"

    refused = run(tmp_path, "admin", "delete-prefix", "grid/../etc/", ok=False)
    assert refused.returncode == 2
    assert "invalid_request" in refused.stderr
