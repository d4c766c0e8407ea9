"""Every example in README.md and docs/*.md runs as written, so the documents cannot drift.

Each fenced block says what it is, and is checked by what it is:

- ``python``: run as a script (``python example.py``) in a fresh directory, with no Satchel
  configuration in the environment;
- ``bash``: the blocks of one document run in order in one bash (``set -euo pipefail``) against
  a server this test starts (``SATCHEL_URL`` and an admin ``SATCHEL_TOKEN`` set; the
  virtualenv's ``satchel`` on PATH), in a scratch copy of the repository (README.md's are run
  from a fresh clone by tests/test_newcomer.py);
- ``dotenv``, ``toml``, ``yaml``: configuration, loaded by what Satchel loads it with (settings,
  retention classes, remotes) or, for Kubernetes manifests, checked against the settings;
- ``json``: parsed; an MCP client's configuration is started as the client would start it and
  asked for its tools (tests/mcp_face/test_mcp_docs.py);
- ``nginx``: a site configuration, run in front of a real ``satchel serve`` by
  tests/server/test_accel_nginx.py;
- ``text``: output, diagrams and HTTP exchanges shown for reading; not run.

A block with no kind, or another kind, fails the test: every example is one of these.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from tests.harness.origin import Origin

from satchel.config import Settings
from satchel.core.remotes import load_remotes
from satchel.core.retention import load_retention_classes
from satchel.extras import needed_extras
from satchel.testing.env import is_configuration

ROOT = Path(__file__).resolve().parent.parent
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
_FENCE = re.compile(r"^```([^\n`]*)\n(.*?)^```$", re.DOTALL | re.MULTILINE)
KINDS = {"python", "bash", "dotenv", "toml", "yaml", "json", "nginx", "text"}
VENV_BIN = Path(sys.executable).parent


def _blocks(kind: str | None = None) -> list[tuple[str, str, str]]:
    """(where, kind, source) of every fenced block (of *kind*)."""
    found = []
    for document in DOCUMENTS:
        text = document.read_text()
        for number, match in enumerate(_FENCE.finditer(text), start=1):
            if kind is None or match.group(1).strip() == kind:
                where = f"{document.relative_to(ROOT)}#{number}"
                found.append((where, match.group(1).strip(), match.group(2)))
    return found


def _clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not is_configuration(k)}
    env["PATH"] = f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}"
    env.update(extra)
    return env


def test_every_block_says_what_it_is() -> None:
    unknown = [(where, kind) for where, kind, _ in _blocks() if kind not in KINDS]
    assert not unknown, f"fenced blocks need one of {sorted(KINDS)}: {unknown}"
    assert len(_blocks("python")) >= 7
    assert len(_blocks("bash")) >= 8


PYTHON = _blocks("python")


@pytest.mark.parametrize(("where", "kind", "source"), PYTHON, ids=[w for w, _, _ in PYTHON])
def test_the_python_example_runs_as_a_script(
    where: str, kind: str, source: str, tmp_path: Path
) -> None:
    script = tmp_path / "example.py"
    script.write_text(source)
    ran = subprocess.run(
        [sys.executable, str(script)],
        cwd=tmp_path,
        env=_clean_env(),
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert ran.returncode == 0, f"{where}:\n{ran.stdout}\n{ran.stderr}"


def _scratch_repository(tmp_path: Path) -> Path:
    """A directory that looks like the repository (its files linked, not its .venv or var)."""
    copy = tmp_path / "repo"
    copy.mkdir()
    for entry in ROOT.iterdir():
        if entry.name not in {".venv", "var", ".git", ".mypy_cache", ".ruff_cache"}:
            (copy / entry.name).symlink_to(entry)
    return copy


# The documents whose shell examples run here, and the server each needs.
SHELL_DOCUMENTS = sorted(
    {where.split("#")[0] for where, _, _ in _blocks("bash") if not where.startswith("README")}
)

# What the proxy document's quick example fetches, served by a local origin in its place.
_RELEASE = "gruntwork-io/terragrunt/releases/download/v0.96.1/terragrunt_linux_amd64.tar.gz"


@pytest.mark.parametrize("document", SHELL_DOCUMENTS)
def test_the_shell_examples_run_in_order(document: str, tmp_path: Path, launch_server: Any) -> None:
    env: dict[str, str] = {}
    shell: dict[str, str] = {}
    origin = None
    if document == "docs/proxy.md":
        origin = Origin()
        origin.files[_RELEASE] = b"\x1f\x8b release bytes"
        remotes = tmp_path / "remotes.yaml"
        remotes.write_text(
            yaml.safe_dump(
                {
                    "remotes": {
                        "github": {"base_url": origin.url, "include_patterns": [".*terragrunt.*"]}
                    }
                }
            )
        )
        env["SATCHEL_REMOTES_FILE"] = str(remotes)
    if document == "docs/webhooks.md":  # a receiver on loopback, allowed for this server
        origin = Origin()
        shell["HOOK_URL"] = f"{origin.url}/hooks/satchel"
        env["SATCHEL_WEBHOOK_ALLOWED_NETWORKS"] = "127.0.0.1/32"
    try:
        server = launch_server(**env)
        script = "\n".join(
            source for where, _, source in _blocks("bash") if where.startswith(f"{document}#")
        )
        home = tmp_path / "home"
        home.mkdir()
        ran = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", script],
            cwd=_scratch_repository(tmp_path),
            env=_clean_env(
                SATCHEL_URL=server.url,
                SATCHEL_TOKEN=server.token("admin"),
                HOME=str(home),
                # pip still downloads into the machine's cache (a scratch HOME would refetch
                # every wheel each run)
                PIP_CACHE_DIR=os.environ.get("PIP_CACHE_DIR", str(Path.home() / ".cache" / "pip")),
                **shell,
            ),
            capture_output=True,
            text=True,
            timeout=600,
        )
    finally:
        if origin is not None:
            origin.stop()
    assert ran.returncode == 0, f"{document}:\n{ran.stdout[-3000:]}\n{ran.stderr[-3000:]}"


def _known_variables() -> set[str]:
    """Every environment variable the settings read (names and aliases, upper case)."""
    names = set()
    for name, field in Settings.model_fields.items():
        names.add(f"SATCHEL_{name}".upper())
        alias = field.validation_alias
        for choice in getattr(alias, "choices", None) or ([alias] if alias else []):
            if isinstance(choice, str):
                names.add(choice.upper())
    return names


def _settings_of(variables: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Settings:
    for name in list(os.environ):
        if is_configuration(name):
            monkeypatch.delenv(name)
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    return Settings(_env_file=None)  # type: ignore[call-arg]


DOTENV = _blocks("dotenv")


@pytest.mark.parametrize(("where", "kind", "source"), DOTENV, ids=[w for w, _, _ in DOTENV])
def test_the_environment_example_is_valid_configuration(
    where: str, kind: str, source: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in list(os.environ):
        if is_configuration(name):
            monkeypatch.delenv(name)
    (tmp_path / ".env").write_text(source)
    monkeypatch.chdir(tmp_path)
    settings = Settings()  # reads ./.env, as a replica would
    variables = dict(
        line.split("=", 1)
        for line in source.splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    )
    assert set(variables) <= _known_variables(), where
    assert settings.database_url == variables["SATCHEL_DATABASE_URL"]
    assert needed_extras(settings) == ["postgres", "redis"]


def test_the_toml_examples_load_as_retention_classes(tmp_path: Path) -> None:
    examples = _blocks("toml")
    assert examples
    for where, _, source in examples:
        path = tmp_path / "retention.toml"
        path.write_text(source)
        assert load_retention_classes(path), where


def test_the_yaml_examples_load(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    examples = _blocks("yaml")
    kinds = set()
    for where, _, source in examples:
        documents = [d for d in yaml.safe_load_all(source) if d is not None]
        if "remotes" in documents[0]:
            path = tmp_path / "remotes.yaml"
            path.write_text(source)
            assert load_remotes(path), where
            kinds.add("remotes")
            continue
        kinds.add("kubernetes")
        _check_kubernetes(where, documents, monkeypatch)
    assert kinds == {"remotes", "kubernetes"}


def _check_kubernetes(
    where: str, documents: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    [deployment] = [d for d in documents if d["kind"] == "Deployment"]
    [service] = [d for d in documents if d["kind"] == "Service"]
    pod = deployment["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    [container] = pod["containers"]
    assert container["readinessProbe"]["httpGet"]["path"] == "/health"
    assert service["spec"]["selector"] == deployment["spec"]["selector"]["matchLabels"]
    variables = {
        item["name"]: item.get("value", f"stand-in-{item['name'].lower()}-0123456789")
        for item in container["env"]
    }
    referenced = {
        value.removeprefix("env:") for value in variables.values() if value.startswith("env:")
    }
    assert set(variables) - referenced <= _known_variables(), where
    if "SATCHEL_DATABASE_URL" in variables:
        variables["SATCHEL_DATABASE_URL"] = "postgresql+asyncpg://u:p@db/satchel"
    settings = _settings_of(variables, monkeypatch)
    assert needed_extras(settings) == ["postgres", "redis", "s3"]
    assert settings.signing_key


def test_the_json_examples_parse() -> None:
    examples = _blocks("json")
    assert examples
    for where, _, source in examples:
        assert isinstance(json.loads(source), dict), where


def test_no_table_is_cut_by_a_blank_line() -> None:
    """A blank line inside a Markdown table ends it: the rows after it render as text."""
    for document in DOCUMENTS:
        lines = document.read_text().splitlines()
        for number in range(1, len(lines) - 1):
            cut = lines[number] == "" and lines[number - 1].startswith("|")
            assert not (cut and lines[number + 1].startswith("|")), f"{document}:{number + 1}"
