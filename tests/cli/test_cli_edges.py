"""What a new user trips over first (issue 16's list): options out of range are refused naming
the option, `--version`, `get` never overwrites a file silently, `rm` deletes what it can and
says what it could not, and expired keys are listed as expired."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest
from tests.cli.helpers import run, run_fresh

from satchel._version import __version__


def test_options_out_of_range_are_refused_naming_the_option(tmp_path: Path) -> None:
    for args, option in (
        (["serve", "--port", "70000"], "--port"),
        (["serve", "--workers", "0"], "--workers"),
        (["keys", "create", "--user", "u", "--ttl", "0"], "--ttl"),
    ):
        refused = run_fresh(tmp_path, *args, ok=False)
        assert refused.returncode == 2, (args, refused.stderr)
        assert option in refused.stderr, (args, refused.stderr)
    assert run_fresh(tmp_path, "--version").stdout.strip() == __version__


def test_get_rm_and_keys_as_a_new_user_expects(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("first")
    stored = run(tmp_path, "put", "a.txt", "--scope", "sandbox").stdout.strip()
    listing = run(tmp_path, "ls").stdout
    assert "5 B" in listing  # sizes for people, and when it expires
    assert "never" in listing
    (tmp_path / "a.txt").write_text("mine, not to be overwritten")
    refused = run(tmp_path, "get", stored, ok=False)
    assert refused.returncode == 1
    assert "--force" in refused.stderr
    assert (tmp_path / "a.txt").read_text() == "mine, not to be overwritten"
    run(tmp_path, "get", stored, "--force")
    assert (tmp_path / "a.txt").read_text() == "first"

    missing = "0" * 32
    removed = run(tmp_path, "rm", missing, stored, ok=False)
    assert removed.returncode == 1
    assert f"deleted {stored}" in removed.stdout  # went on past the missing one
    assert missing in removed.stderr
    assert "1 of 2 not deleted" in removed.stderr

    run(tmp_path, "keys", "create", "--user", "ci", "--ttl", "1")
    time.sleep(1.2)
    [key] = json.loads(run(tmp_path, "keys", "list", "--json").stdout)
    assert key["state"] == "expired"
    assert "  expired  " in run(tmp_path, "keys", "list").stdout


def test_a_token_without_a_server_is_refused_naming_satchel_url(tmp_path: Path) -> None:
    refused = run(tmp_path, "ls", ok=False, SATCHEL_TOKEN="some-token")
    assert refused.returncode == 2
    assert "SATCHEL_URL" in refused.stderr
    assert not (tmp_path / "data").exists()  # nothing was created on the way


def test_sizes_read_as_people_read_them() -> None:
    from satchel.cli.common import human_size

    assert [human_size(n) for n in (0, 512, 4096, 1536 * 1024, 3 * 2**30)] == [
        "0 B",
        "512 B",
        "4.0 KiB",
        "1.5 MiB",
        "3.0 GiB",
    ]


def test_a_bad_setting_is_named_not_a_traceback(tmp_path: Path) -> None:
    for args, env in (
        (["serve"], {"SATCHEL_PORT": "70000"}),
        (["serve"], {"SATCHEL_WORKERS": "0"}),
        (["ls"], {"SATCHEL_DEFAULT_TTL": "soon"}),
        (["put", "x"], {"SATCHEL_MAX_UPLOAD_BYTES": "-1"}),
    ):
        refused = run(tmp_path, *args, ok=False, **env)
        [variable] = env
        assert refused.returncode == 2, refused.stderr
        assert variable in refused.stderr
        assert "Traceback" not in refused.stderr
    from satchel import InvalidRequestError, Settings

    with pytest.raises(InvalidRequestError, match="SATCHEL_PORT='99999'"):
        Settings(port="99999")


def test_every_help_page_reads_cleanly() -> None:
    """No literal markup in any help page: backticks, typer's <bool>/<str>, {file}."""
    from typer.main import get_command
    from typer.testing import CliRunner

    from satchel.cli.app import app

    runner = CliRunner()
    pages = 0

    def walk(command: object, path: list[str]) -> None:
        nonlocal pages
        shown = runner.invoke(app, [*path, "--help"])
        assert shown.exit_code == 0, (path, shown.output)
        assert not re.search(r"`|<[a-z]+(\[\w+\])?>|\{[a-z_.]+\}", shown.output), (
            path,
            shown.output,
        )
        pages += 1
        for name, sub in getattr(command, "commands", {}).items():
            walk(sub, [*path, name])

    walk(get_command(app), [])
    assert pages > 60


def test_every_command_speaks_json() -> None:
    """--json on every command but serve and mcp (servers), cat (raw bytes) and the three that print
    JSON whatever is asked (a manifest, a package, an aspect)."""
    exempt = (["serve"], ["mcp"], ["cat"], ["manifest"], ["packages", "show"], ["aspects", "get"])
    from typer.main import get_command

    from satchel.cli.app import app

    missing = []

    def walk(command: object, path: list[str]) -> None:
        subcommands = getattr(command, "commands", None)
        if subcommands:
            for name, sub in subcommands.items():
                walk(sub, [*path, name])
            return
        options = {o for p in getattr(command, "params", []) for o in getattr(p, "opts", [])}
        if "--json" not in options and path not in exempt:
            missing.append(" ".join(path))

    walk(get_command(app), [])
    assert missing == []
