"""``satchel ls`` against a server answers on a lean path (:mod:`satchel.cli.fastls`: no typer,
pydantic or httpx) exactly as the full command line does: every case runs both ways on the same
server, in fresh processes, and compares stdout, stderr and the exit status byte for byte, and
checks which way answered (the modules each run loaded), so a lean path that quietly handed
everything to the full one would fail."""

from __future__ import annotations

import http.server
import os
import pty
import re
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
import typer
from tests.cli.helpers import cli_env
from tests.harness.processes import free_port

from satchel.cli import fastls

# What a run loaded tells which way answered: the lean path alone, the lean path that handed a
# request to the client library (httpx, pydantic), or the full command line (typer).
LEAN, LIBRARY, FULL = "lean", "library", "full"

SCRIPT = """
import atexit, os, sys

def record():
    with open(os.environ["SATCHEL_TEST_LOADED"], "w") as out:
        out.write(" ".join(m for m in ("typer", "httpx", "pydantic") if m in sys.modules))

atexit.register(record)
from satchel.cli import {entry}
{entry}()
"""

Outcome = tuple[int, bytes, bytes]


@pytest.fixture(scope="module")
def srv(server_pool: Any) -> Any:
    """A server holding alice's artifacts: names rich would mark up or turn into emoji, wide
    characters, a long name, sizes from bytes to MiB, one that expires, a session's three and a
    collection of two."""
    server = server_pool.take()
    ids = []
    with server.client("alice") as client:
        for name, body, params in [
            ("docs/report [bold]draft[/bold].txt", b"a" * 5000, {}),
            ("emoji :smile: :thumbs_up:.txt", b"b" * 1_200_000, {}),
            ("数据 \uff21\uff22\uff23.csv", b"c" * 300, {"mime": "text/csv"}),
            ("pic.png", b"\x89PNG" + b"d" * 100, {"mime": "image/png"}),
            ("soon.txt", b"e", {"ttl": "3600"}),
            ("x" * 150 + ".txt", b"f", {}),
            ("s1/a.txt", b"g", {"session_id": "s-one", "scope": "session"}),
            ("s1/b.bin", b"h" * 70, {"session_id": "s-one", "scope": "session"}),
            ("s1/c.txt", b"i" * 7, {"session_id": "s-one", "scope": "session"}),
        ]:
            params = {"filename": name, "scope": "user", **params}
            answer = client.post("/v1/artifacts", params=params, content=body)
            answer.raise_for_status()
            ids.append(answer.json()["artifact_id"])
        client.post("/v1/collections/reef/add", json={"artifact_ids": ids[:2]}).raise_for_status()
    return server


def _env(tmp_path: Path, srv: Any, **extra: str) -> dict[str, str]:
    env = cli_env(tmp_path, SATCHEL_URL=srv.url, SATCHEL_TOKEN=srv.token("alice"))
    for name in list(env):  # the tests' own proxy settings would send ls to the full CLI
        if name.lower() in ("http_proxy", "all_proxy") or name.endswith("_COMPLETE"):
            del env[name]
    env.update(extra)
    return {name: value for name, value in env.items() if value}  # "" unsets


def _way(loaded: str) -> str:
    modules = set(loaded.split())
    if "typer" in modules:
        return FULL
    return LIBRARY if modules else LEAN


def _run(
    tmp_path: Path, entry: str, args: list[str], env: dict[str, str], *, tty: bool = False
) -> tuple[Outcome, str]:
    """``satchel ls ARGS`` through *entry* (``main``: the console script; ``run_app``: the full
    command line); its outcome and which way it answered."""
    loaded = tmp_path / f"loaded-{entry}"
    argv = [sys.executable, "-c", SCRIPT.format(entry=entry), "ls", *args]
    env = {**env, "SATCHEL_TEST_LOADED": str(loaded)}
    if tty:
        outcome = _on_a_terminal(argv, env, tmp_path)
    else:
        done = subprocess.run(argv, env=env, cwd=tmp_path, capture_output=True, timeout=120)
        outcome = (done.returncode, done.stdout, done.stderr)
    return outcome, loaded.read_text()


def _on_a_terminal(argv: list[str], env: dict[str, str], cwd: Path) -> Outcome:
    """Run *argv* with stdout on a pseudo-terminal (rich draws for a terminal there)."""
    main, terminal = pty.openpty()
    process = subprocess.Popen(argv, env=env, cwd=cwd, stdout=terminal, stderr=subprocess.PIPE)
    os.close(terminal)
    out = b""
    while True:
        try:
            chunk = os.read(main, 65536)
        except OSError:  # EIO: the terminal's last holder exited
            break
        if not chunk:
            break
        out += chunk
    os.close(main)
    _, err = process.communicate(timeout=60)
    return process.returncode, out, err


def both(
    tmp_path: Path, args: list[str], env: dict[str, str], *, way: str, tty: bool = False
) -> Outcome:
    """Run ``ls ARGS`` both ways; they must agree byte for byte, the console script answering
    *way*."""
    lean, loaded = _run(tmp_path, "main", args, env, tty=tty)
    full, full_loaded = _run(tmp_path, "run_app", args, env, tty=tty)
    assert lean == full
    assert _way(full_loaded) == FULL
    assert _way(loaded) == way, loaded
    return lean


def _lines(text: bytes) -> list[str]:
    return text.decode().splitlines()


@pytest.mark.parametrize(
    ("args", "rows", "every_format"),
    [
        ([], 9, True),
        (["--long"], 9, False),
        (["-lra", "--limit", "3"], 9, False),
        (["--limit", "2"], 2, False),
        (["--limit=4", "--all", "--sort", "name"], 9, True),
        (["--sort", "size", "-r"], 9, False),
        (["--session", "s-one"], 3, False),
        (["--session", "s-one", "--name", "*.txt", "--limit", "1", "-a"], 2, True),
        (["--user", "alice", "--scope", "user"], 6, False),
        (["--scope", "session", "--mime-prefix", "text/"], 2, False),
        (["--prefix", "docs/"], 1, False),
        (["--name", "*.png"], 1, False),
        (["--mime", "image/"], 1, False),
        (["--collection", "reef"], 2, True),
        (["--name", "nothing-*"], 0, True),
    ],
)
def test_tables_notes_ids_and_json_lines(
    tmp_path: Path, srv: Any, args: list[str], rows: int, every_format: bool
) -> None:
    """The table (and its notes); with *every_format* also ``--json`` and ``-q``."""
    env = _env(tmp_path, srv)
    code, out, err = both(tmp_path, args, env, way=LEAN)
    assert code == 0
    assert len([line for line in _lines(out) if not line.startswith("artifact_id ")]) == rows
    if rows == 0:
        assert err == b"no artifacts\n"
    for extra in (["--json"], ["-q"]) if every_format else ():
        code, out, err = both(tmp_path, [*args, *extra], env, way=LEAN)
        assert code == 0
        assert len(_lines(out)) == rows
        assert err == b""  # no note: these end on their page


def test_the_table_is_rich_s_on_a_terminal_too(tmp_path: Path, srv: Any) -> None:
    """On a terminal rich bolds the header and cuts what does not fit; both ways alike."""
    env = _env(tmp_path, srv, COLUMNS="70")
    for args in ([], ["--long"]):
        code, out, _ = both(tmp_path, args, env, way=LEAN, tty=True)
        assert code == 0
        assert b"\x1b[1m" in out
        assert "…" in out.decode()
    _, out, _ = both(tmp_path, [], _env(tmp_path, srv), way=LEAN)
    assert "emoji 😄 👍.txt" in out.decode()  # rich's emoji codes, as the table always showed


def test_a_cursor_continues_the_listing(tmp_path: Path, srv: Any) -> None:
    env = _env(tmp_path, srv)
    _, first, note = both(tmp_path, ["--limit", "4", "-q"], env, way=LEAN)
    more = re.fullmatch(rb"more: --cursor (\S+) \(or --all\)\n", note)
    assert more is not None
    cursor = more.group(1).decode()
    _, rest, _ = both(tmp_path, ["--limit", "4", "-q", "--all", "--cursor", cursor], env, way=LEAN)
    _, every, _ = both(tmp_path, ["-q"], env, way=LEAN)
    assert first + rest == every


@pytest.mark.parametrize(
    ("args", "code", "error"),
    [
        (["--sort", "colour"], 2, "error: --sort is one of time, name, size"),
        (["--name", "a", "--prefix", "b"], 2, "error: --name and --prefix both name files"),
        (["--collection", "reef", "--session", "s-one"], 2, "error: --collection searches"),
        (["--scope", "bogus"], 2, "error: invalid_request: unknown scope 'bogus'"),
        (["--session", "--json"], 2, "error: invalid_request: session_id '--json'"),
        (["--cursor", "-abc"], 2, "error: invalid_request: malformed page cursor"),
        (["--token", "wrong-token"], 1, "error: unauthorized: "),
    ],
)
def test_usage_and_server_errors_read_alike(
    tmp_path: Path, srv: Any, args: list[str], code: int, error: str
) -> None:
    outcome = both(tmp_path, args, _env(tmp_path, srv), way=LEAN)
    assert outcome[:2] == (code, b"")
    assert outcome[2].decode().startswith(error)
    assert outcome[2].count(b"\n") == 1


def test_a_server_under_another_path_answers_not_found(tmp_path: Path, srv: Any) -> None:
    outcome = both(tmp_path, ["--url", f"{srv.url}/elsewhere/"], _env(tmp_path, srv), way=LEAN)
    assert outcome[0] == 1
    assert outcome[2].startswith(b"error: not_found: ")


def test_an_unreachable_server_is_the_client_library_s_to_report(tmp_path: Path, srv: Any) -> None:
    """A refused connection goes to the client library, which tries again and words the error."""
    url = f"http://127.0.0.1:{free_port()}"
    outcome = both(tmp_path, ["--url", url], _env(tmp_path, srv), way=LIBRARY)
    assert outcome[:2] == (1, b"")
    assert outcome[2].startswith(f"error: provider_unavailable: cannot reach {url}: ".encode())


def test_a_parameter_that_is_not_utf8_is_the_client_library_s(tmp_path: Path, srv: Any) -> None:
    outcome = both(tmp_path, ["--name", "\udcff"], _env(tmp_path, srv), way=LIBRARY)
    error = b"error: invalid_request: GET /v1/artifacts: a parameter is not UTF-8\n"
    assert outcome == (2, b"", error)


class _Gateway(http.server.BaseHTTPRequestHandler):
    """A proxy in front of a server that is down: 502 and a page of HTML."""

    def do_GET(self) -> None:
        self.send_response(502)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", "22")
        self.end_headers()
        self.wfile.write(b"<h1>Bad Gateway</h1>\r\n")

    def log_message(self, *args: Any) -> None:
        pass


def test_an_error_answer_without_json_is_its_status(tmp_path: Path, srv: Any) -> None:
    gateway = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Gateway)
    thread = threading.Thread(target=gateway.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{gateway.server_address[1]}"
        outcome = both(tmp_path, ["--url", url], _env(tmp_path, srv), way=LEAN)
    finally:
        gateway.shutdown()
        gateway.server_close()
    assert outcome == (1, b"", b"error: provider_error: HTTP 502 from /v1/artifacts\n")


@pytest.mark.parametrize(
    ("args", "env"),
    [
        (["--limit", "0"], {}),
        (["--limit", " 5"], {}),
        (["--limit"], {}),
        (["--bogus"], {}),
        (["--json=1"], {}),
        (["--help"], {}),
        (["stray"], {}),
        (["--"], {}),
        (["-lx"], {}),
        ([], {"SATCHEL_TOKEN": ""}),  # no token: ./.env may name one
        ([], {"SATCHEL_URL": "", "SATCHEL_TOKEN": ""}),  # no server: the embedded store
        (["--url", "https://127.0.0.1:1"], {}),
        (["--url", "http://user@127.0.0.1:1"], {}),
        ([], {"http_proxy": "http://127.0.0.1:1"}),
    ],
)
def test_what_the_lean_path_leaves_to_the_full_command_line(
    tmp_path: Path, srv: Any, args: list[str], env: dict[str, str]
) -> None:
    both(tmp_path, args, _env(tmp_path, srv, **env), way=FULL)


def test_a_reader_that_went_away_ends_it_quietly(tmp_path: Path, srv: Any) -> None:
    env = _env(tmp_path, srv)
    for entry in ("main", "run_app"):
        for args in ([], ["--json"], ["-q"]):
            reading, writing = os.pipe()
            os.close(reading)
            argv = [sys.executable, "-c", SCRIPT.format(entry=entry), "ls", *args]
            env["SATCHEL_TEST_LOADED"] = str(tmp_path / "loaded")
            done = subprocess.run(
                argv,
                env=env,
                stdout=writing,
                capture_output=False,
                stderr=subprocess.PIPE,
                timeout=120,
            )
            os.close(writing)
            assert (done.returncode, done.stderr) == (1, b""), (entry, args)


def test_a_full_disk_is_one_error_line(tmp_path: Path, srv: Any) -> None:
    env = _env(tmp_path, srv)
    for entry in ("main", "run_app"):
        argv = [sys.executable, "-c", SCRIPT.format(entry=entry), "ls"]
        env["SATCHEL_TEST_LOADED"] = str(tmp_path / "loaded")
        with open("/dev/full", "wb") as full:
            done = subprocess.run(argv, env=env, stdout=full, stderr=subprocess.PIPE, timeout=120)
        assert (done.returncode, done.stderr) == (1, b"error: No space left on device\n"), entry


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_interrupted_while_waiting_it_exits_130_silently(tmp_path: Path, srv: Any) -> None:
    """^C while the server has not answered: status 130 and nothing printed, as the full command
    line ends (its stderr is not compared: its ^C stops an event-loop thread with a request in
    flight, and what that teardown may print depends on timing)."""
    env = _env(tmp_path, srv)
    ended = {}
    for entry in ("main", "run_app"):
        with socket.create_server(("127.0.0.1", 0)) as silent:
            url = f"http://127.0.0.1:{silent.getsockname()[1]}"
            argv = [sys.executable, "-c", SCRIPT.format(entry=entry), "ls", "--url", url]
            env["SATCHEL_TEST_LOADED"] = str(tmp_path / "loaded")
            process = subprocess.Popen(
                argv,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                # a terminal's ^C reaches a process whose SIGINT is not ignored; a test
                # worker may run with it ignored, which a child would inherit
                preexec_fn=_default_sigint,
            )
            connection, _ = silent.accept()
            with connection:
                assert connection.recv(65536).startswith(b"GET /v1/artifacts?")
                process.send_signal(signal.SIGINT)
                try:
                    out, err = process.communicate(timeout=60)
                except subprocess.TimeoutExpired:
                    process.kill()  # reaped here: a hang fails this test alone
                    out, err = process.communicate()
                    pytest.fail(f"{entry}: still running 60 s after ^C; stderr: {err[-2000:]!r}")
        ended[entry] = (process.returncode, out, err)
    assert ended["main"] == (130, b"", b"")
    assert ended["run_app"][:2] == (130, b"")


# -- the lean path's own description of ls, held to the typer command's ------------------------


def _click_ls() -> Any:
    """The click command typer makes of ``ls`` (typer carries its own copy of click)."""
    from typer.main import get_command

    from satchel.cli.app import app

    return get_command(app).commands["ls"]


def test_the_lean_options_are_the_command_s() -> None:
    command = _click_ls()
    names: dict[str, str] = {}
    for param in command.params:
        assert param.param_type_name == "option"
        if param.name == "help":
            continue
        assert param.name is not None
        assert fastls.OPTIONS[param.name] == param.default, param.name
        kind = fastls.FLAGS if param.is_flag else fastls.VALUE_OPTIONS
        names.update(dict.fromkeys(param.opts, param.name))
        assert all(kind[opt] == param.name for opt in param.opts), param.opts
        assert not param.secondary_opts
        assert not param.multiple
        assert param.envvar is None
        if param.name == "limit":
            assert (param.type.min, param.type.max) == fastls.LIMIT
    assert names == {**fastls.VALUE_OPTIONS, **fastls.FLAGS}
    assert set(fastls.OPTIONS) == set(names.values())


def _click_reads(argv: list[str]) -> dict[str, Any] | None:
    """The options as click reads *argv*, or None when it refuses them (or shows the help)."""
    try:
        return dict(_click_ls().make_context("ls", list(argv)).params)
    except typer.Exit:  # --help
        return None
    except Exception as exc:
        if getattr(exc, "exit_code", None) == 2:  # a usage error
            return None
        raise


@pytest.mark.parametrize(
    ("argv", "lean_reads_it"),
    [
        ([], True),
        (["--session", "--json", "-lr", "--limit", "5", "--limit=7", "--cursor", "-abc"], True),
        (["-rlqa", "--mime-prefix", "image/", "--mime=text/", "--name="], True),
        (["--url", "http://x", "--token", "t", "--sort", "size", "--user", "u"], True),
        (["--prefix", "p", "--collection", "c", "--json", "--json", "-a", "--limit", "1000"], True),
        (["--scope", "user", "--limit", "001"], True),
        (["--limit", "+5"], False),  # click takes it; the lean path leaves it to click
        (["--limit", "0"], False),
        (["--limit", "1001"], False),
        (["--limit", "x"], False),
        (["--limit"], False),
        (["--json=yes"], False),
        (["--nope"], False),
        (["-z"], False),
        (["-lz"], False),
        (["--"], False),
        (["-"], False),
        (["word"], False),
        (["--help"], False),
        (["--sess", "s"], False),
    ],
)
def test_the_lean_path_reads_options_as_click_does(argv: list[str], lean_reads_it: bool) -> None:
    """Whatever the lean path takes, click takes alike; what click refuses it leaves alone."""
    lean = fastls._options(argv)
    clicks = _click_reads(argv)
    assert (lean is not None) == lean_reads_it
    if lean is not None:
        assert lean == clicks


def test_the_lean_path_knows_an_artifact_s_fields() -> None:
    from satchel.core.models import ArtifactMetadata

    assert tuple(ArtifactMetadata.model_fields) == fastls.ARTIFACT_FIELDS
