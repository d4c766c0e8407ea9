"""The artifact commands as mc and `aws s3` users expect them: several items per call, -r,
cp/mv/stat/update, ls sorting and filters, sync both ways, JSON lines, exit codes 0/1/2."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

from tests.cli.helpers import cli_env, lines, run, run_fresh


def _tree(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)


def test_put_several_and_recursive_get_several(tmp_path: Path) -> None:
    _tree(tmp_path, {"one.txt": "1", "two.csv": "a,b\n", "dir/x.txt": "xx", "dir/sub/y.md": "y"})
    made = run_fresh(tmp_path, "put", "one.txt", "two.csv", "--json", "--prefix", "p/")
    first, second = lines(made.stdout)  # one JSON object per line, in order
    assert (first["filename"], second["filename"]) == ("p/one.txt", "p/two.csv")
    assert (second["mime"], first["path"]) == ("text/csv", "one.txt")

    partial = run(tmp_path, "put", "dir", "missing.txt", "one.txt", ok=False)
    assert partial.returncode == 1  # the good file was still uploaded
    assert len(partial.stdout.split()) == 1
    assert "dir: is a directory (-r uploads its files)" in partial.stderr
    assert "missing.txt: no such file" in partial.stderr
    assert "2 of 3 not uploaded" in partial.stderr

    tree = lines(run(tmp_path, "put", "-r", "dir", "--prefix", "tree/", "--json").stdout)
    assert sorted(item["filename"] for item in tree) == ["tree/sub/y.md", "tree/x.txt"]
    assert run(tmp_path, "put", "a", "b", "--name", "n", ok=False).returncode == 2

    ids = [item["artifact_id"] for item in tree]
    got = run_fresh(tmp_path, "get", *ids, "-o", "out/", "--json")
    assert sorted(Path(item["path"]).name for item in lines(got.stdout)) == ["x.txt", "y.md"]
    assert (tmp_path / "out" / "x.txt").read_text() == "xx"
    again = run(tmp_path, "get", *ids, "-o", "out", ok=False)
    assert again.returncode == 1
    assert "2 of 2 not downloaded" in again.stderr
    run(tmp_path, "get", *ids, "-o", "out", "--force")
    both = run(tmp_path, "cat", ids[0], "0" * 32, ok=False)
    assert both.returncode == 1
    assert both.stdout in ("xx", "y")


def test_cp_mv_stat_update_and_ls(tmp_path: Path) -> None:
    _tree(tmp_path, {"a.txt": "aaaa", "b.pdf": "b", "c.txt": "cc"})
    ids = run(tmp_path, "put", "a.txt", "b.pdf", "c.txt").stdout.split()
    a, b, c = ids
    newest = run(tmp_path, "ls", "-q").stdout.split()
    assert newest == [c, b, a]  # newest first
    assert run(tmp_path, "ls", "-q", "--reverse").stdout.split() == [a, b, c]
    assert run(tmp_path, "ls", "-q", "--sort", "name").stdout.split() == [a, b, c]
    assert run(tmp_path, "ls", "-q", "--sort", "size").stdout.split() == [a, c, b]
    assert run(tmp_path, "ls", "-q", "--name", "*.txt").stdout.split() == [c, a]
    assert run(tmp_path, "ls", "-q", "--mime", "application/pdf").stdout.split() == [b]
    assert run(tmp_path, "ls", "--sort", "colour", ok=False).returncode == 2
    paged = run(tmp_path, "ls", "-q", "--limit", "1", "--all")
    assert paged.stdout.split() == [c, b, a]
    long = run(tmp_path, "ls", "--long").stdout
    assert all(word in long for word in ("never", "application/pdf", "sandbox"))

    copied = run_fresh(tmp_path, "cp", a, "--name", "copy.txt").stdout.strip()
    assert copied not in ids
    moved = lines(run_fresh(tmp_path, "mv", b, "--name", "renamed.pdf", "--json").stdout)[0]
    assert (moved["artifact_id"], moved["filename"]) == (b, "renamed.pdf")
    assert run(tmp_path, "mv", b, ok=False).returncode == 2

    updated = lines(
        run(tmp_path, "update", c, "--meta", '{"k": 1}', "--ttl", "3600", "--json").stdout
    )[0]
    assert (updated["meta"], updated["ttl"]) == ({"k": 1}, 3600)
    merged = lines(run(tmp_path, "update", c, "--meta", '{"j": 2}', "--json").stdout)[0]
    assert merged["meta"] == {"k": 1, "j": 2}
    extended = lines(run(tmp_path, "update", c, "--extend", "60", "--json").stdout)[0]
    assert extended["expires_at"] > updated["expires_at"]
    assert run(tmp_path, "update", c, ok=False).returncode == 2  # nothing to change
    assert run(tmp_path, "update", c, "--ttl", "0", ok=False).returncode == 2

    shown = run_fresh(tmp_path, "stat", c, copied, "0" * 32, "--json", ok=False)
    assert shown.returncode == 1
    found = [item for item in lines(shown.stdout) if "artifact_id" in item]
    assert [item["artifact_id"] for item in found] == [c, copied]
    assert "1 of 3 not found" in shown.stderr
    assert "expires_at: " in run(tmp_path, "stat", c).stdout


def _digests(root: Path) -> dict[str, str]:
    return {
        path.relative_to(root).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def test_sync_both_ways(tmp_path: Path) -> None:
    src = tmp_path / "src"
    _tree(src, {"a.txt": "a", "deep/b.bin": "b" * 5000, "c.txt": "c"})
    first = run_fresh(tmp_path, "sync", "src", "store:run/", "--json")
    assert sorted(item["name"] for item in lines(first.stdout)) == [
        "run/a.txt",
        "run/c.txt",
        "run/deep/b.bin",
    ]
    assert run(tmp_path, "sync", "src", "store:run/").stdout == ""  # by sha256: unchanged
    before = {i["filename"]: i for i in lines(run(tmp_path, "ls", "--json").stdout)}

    (src / "a.txt").write_text("changed")
    (src / "c.txt").unlink()
    dry = run(tmp_path, "sync", "src", "store:run/", "--delete", "--dry-run")
    assert dry.stdout.splitlines() == ["(dry run) upload: run/a.txt", "(dry run) delete: run/c.txt"]
    assert {i["filename"]: i for i in lines(run(tmp_path, "ls", "--json").stdout)} == before
    done = lines(run(tmp_path, "sync", "src", "store:run/", "--delete", "--json").stdout)
    assert [(item["action"], item["name"]) for item in done] == [
        ("upload", "run/a.txt"),
        ("delete", "run/c.txt"),
    ]
    after = {i["filename"]: i for i in lines(run(tmp_path, "ls", "--json").stdout)}
    assert sorted(after) == ["run/a.txt", "run/deep/b.bin"]
    assert after["run/a.txt"]["artifact_id"] == before["run/a.txt"]["artifact_id"]  # replaced
    assert after["run/a.txt"]["version"] == before["run/a.txt"]["version"] + 1

    run_fresh(tmp_path, "sync", "store:run/", "copy")
    assert _digests(tmp_path / "copy") == _digests(src)
    (tmp_path / "copy" / "stray.txt").write_text("not in the store")
    (tmp_path / "copy" / "a.txt").write_text("edited here")
    back = lines(run(tmp_path, "sync", "store:run/", "copy", "--delete", "--json").stdout)
    assert sorted((item["action"], item["name"]) for item in back) == [
        ("delete", "run/stray.txt"),
        ("download", "run/a.txt"),
    ]
    assert _digests(tmp_path / "copy") == _digests(src)
    assert run(tmp_path, "sync", "src", "copy", ok=False).returncode == 2
    assert run(tmp_path, "sync", "store:a", "store:b", ok=False).returncode == 2


def test_sync_down_never_writes_outside_the_directory(tmp_path: Path) -> None:
    from satchel.cli.sync import _relative

    (tmp_path / "f").write_text("x")
    # the store refuses such names at the door (exit 2: bad input) ...
    for name in ("in/../../escape.txt", "in/..\\..\\escape.txt", "/in/abs.txt"):
        assert run(tmp_path, "put", "f", "--name", name, ok=False).returncode == 2, name
    # ... and sync checks again what it reads, for rows stored before the rules were strict
    for name in ("in/../x", "in//x", "in/", "in/a\\b", "in/x/", "in/./x", "in/\0"):
        assert _relative(name, "in/") is None, name
    assert _relative("in/a/b.txt", "in/") == "a/b.txt"


def test_usage_errors_exit_2_and_completion_works(tmp_path: Path) -> None:
    assert run_fresh(tmp_path, "put", ok=False).returncode == 2
    assert run(tmp_path, "ls", "--no-such-option", ok=False).returncode == 2

    env = {
        **cli_env(tmp_path),
        "_SATCHEL_COMPLETE": "complete_bash",
        "COMP_WORDS": "satchel sy",
        "COMP_CWORD": "1",
    }
    command = Path(sys.executable).with_name("satchel")  # completion keys on the program name
    completed = subprocess.run([str(command)], env=env, capture_output=True, text=True, timeout=60)
    assert completed.stdout.split() == ["sync"], completed.stderr
    assert os.environ.get("_SATCHEL_COMPLETE") is None


def test_what_callers_named_cannot_break_or_steer_the_cli(tmp_path: Path) -> None:
    """Found by review: names are text (never markup), sync keeps to its session and its
    directory (links included), a prefix is a directory, downloads get normal permissions."""
    (tmp_path / "f").write_text("x")
    odd = lines(run(tmp_path, "put", "f", "--name", "x/[/oops] tag[bold]y.txt", "--json").stdout)
    listing = run(tmp_path, "ls")
    assert "x/[/oops] tag[bold]y.txt" in listing.stdout
    assert "Traceback" not in listing.stderr
    missing = run(tmp_path, "stat", "[/x]", ok=False)
    assert missing.returncode in (1, 2)
    assert "[/x]" in missing.stderr
    assert "Traceback" not in missing.stderr

    for session, name in (("s-one", "runs/a.txt"), ("s-two", "runs/b.txt")):
        run(tmp_path, "put", "f", "--name", name, "--scope", "session", "--session", session)
    only = run(tmp_path, "sync", "store:runs", "one", "--session", "s-one", "--scope", "session")
    assert only.stdout.splitlines() == ["download: runs/a.txt"]  # s-two's is not this session's
    assert sorted(p.name for p in (tmp_path / "one").iterdir()) == ["a.txt"]
    assert (tmp_path / "one" / "a.txt").stat().st_mode & 0o777 == 0o666 & ~_umask()

    run(tmp_path, "put", "f", "--name", "mirror/sub/x.txt", "--scope", "sandbox")
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "sub").symlink_to(tmp_path / "elsewhere")
    escaped = run(tmp_path, "sync", "store:mirror/", "m", ok=False)
    assert escaped.returncode == 1
    assert "leads outside" in escaped.stderr
    assert list((tmp_path / "elsewhere").iterdir()) == []

    assert (
        run(
            tmp_path, "get", odd[0]["artifact_id"], odd[0]["artifact_id"], "-o", "f", ok=False
        ).returncode
        == 2
    )
    assert (tmp_path / "f").read_text() == "x"
    in_session = run(tmp_path, "ls", "-q", "--session", "s-one", "--name", "*.txt").stdout.split()
    assert len(in_session) == 1


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
