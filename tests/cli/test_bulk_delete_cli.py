"""``satchel rm`` with many ids (bulk deletes) and ``satchel admin delete-prefix``."""

from __future__ import annotations

from pathlib import Path

from tests.cli.helpers import lines, run


def _put(tmp_path: Path, name: str, *args: str) -> str:
    (tmp_path / name).write_text(name)
    return run(tmp_path, "put", name, "--scope", "sandbox", *args).stdout.strip()


def test_rm_deletes_many_and_reports_each_with_a_summary(tmp_path: Path) -> None:
    first, second, held = (_put(tmp_path, f"{n}.txt") for n in ("a", "b", "c"))
    run(tmp_path, "hold", "apply", held, "case-7", "--reason", "keep", "--kind", "artifact")
    missing = "0" * 32

    removed = run(tmp_path, "rm", first, missing, held, second, first, ok=False)

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
