"""The Dockerfile and compose.yaml, checked without a container runtime (none is available
here): parsed, linted for what a production image must have, their configuration read by
Satchel's own settings, and the image's health check run against a real server."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from satchel.config import Settings
from satchel.extras import needed_extras

ROOT = Path(__file__).resolve().parent.parent


def _instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of the Dockerfile, continuation lines joined."""
    joined = re.sub(r"\\\n", " ", (ROOT / "Dockerfile").read_text())
    found = []
    for line in joined.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            found.append((word.upper(), rest.strip()))
    return found


def _final_stage() -> list[tuple[str, str]]:
    steps = _instructions()
    last_from = max(i for i, (word, _) in enumerate(steps) if word == "FROM")
    return steps[last_from:]


def _env(stage: list[tuple[str, str]]) -> dict[str, str]:
    env: dict[str, str] = {}
    for word, rest in stage:
        if word == "ENV":
            for item in shlex.split(rest):
                name, _, value = item.partition("=")
                env[name] = value
    return env


def test_the_dockerfile_builds_a_non_root_image_with_a_volume_and_a_healthcheck() -> None:
    steps = _instructions()
    known = {"FROM", "RUN", "COPY", "ENV", "VOLUME", "WORKDIR", "USER", "EXPOSE", "CMD"}
    known |= {"HEALTHCHECK", "STOPSIGNAL", "ARG", "LABEL"}
    assert {word for word, _ in steps} <= known
    for word, rest in steps:
        if word == "FROM":
            image = rest.split()[0]
            assert ":" in image, f"{image}: pin a tag"
            assert not image.endswith(":latest"), image
        if word == "COPY" and not rest.startswith("--from"):
            for source in shlex.split(rest)[:-1]:
                assert (ROOT / source).exists(), source
    final = _final_stage()
    env = _env(final)
    [user] = [rest for word, rest in final if word == "USER"]
    assert user.split(":")[0] not in ("root", "0")
    assert env["SATCHEL_HOST"] == "0.0.0.0"  # reachable from outside the container
    [volume] = [rest for word, rest in final if word == "VOLUME"]
    assert env["SATCHEL_DATA_DIR"] in volume
    [exposed] = [rest for word, rest in final if word == "EXPOSE"]
    assert exposed == env["SATCHEL_PORT"]
    [cmd] = [rest for word, rest in final if word == "CMD"]
    assert json.loads(cmd) == ["satchel", "serve"]  # exec form (a JSON array), so signals reach it
    extras = re.findall(r'"satchel\[([a-z,]+)\]"', (ROOT / "Dockerfile").read_text())
    assert extras
    assert set(extras) == {"all"}
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert not {"src", "pyproject.toml", "README.md"} & set(ignored)


def _healthcheck_argv() -> list[str]:
    [check] = [rest for word, rest in _final_stage() if word == "HEALTHCHECK"]
    argv = json.loads(check.split("CMD", 1)[1].strip())  # exec form: a JSON array
    assert isinstance(argv, list)
    return [str(part) for part in argv]


def test_the_image_healthcheck_passes_on_a_live_server_and_fails_on_a_dead_one(
    fresh_server: Any,
) -> None:
    argv = _healthcheck_argv()
    assert argv[0] == "python"
    port = fresh_server.url.rsplit(":", 1)[1]
    env = {**os.environ, "SATCHEL_PORT": port}
    command = [sys.executable, *argv[1:]]
    assert subprocess.run(command, env=env, timeout=30).returncode == 0
    fresh_server.stop()
    dead = subprocess.run(command, env=env, timeout=30, capture_output=True)
    assert dead.returncode != 0


def _compose() -> dict[str, Any]:
    loaded = yaml.safe_load((ROOT / "compose.yaml").read_text())
    assert isinstance(loaded, dict)
    return loaded


def _interpolate(value: str) -> str:
    """Compose's ${NAME:?message} and ${NAME:-default}, with a stand-in for required ones."""

    def one(match: re.Match[str]) -> str:
        name, rule = match.group(1), match.group(2) or ""
        if rule.startswith(":-"):
            return rule[2:]
        return f"stand-in-{name.lower()}-0123456789"

    return re.sub(r"\$\{([A-Z_]+)(:[?-][^}]*)?\}", one, value).replace("$$", "$")


def test_compose_runs_two_replicas_over_postgres_redis_and_s3(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    compose = _compose()
    services = compose["services"]
    assert set(services) == {"satchel-1", "satchel-2", "postgres", "redis", "minio", "bucket"}
    replicas = [services["satchel-1"], services["satchel-2"]]
    assert replicas[0]["environment"] == replicas[1]["environment"]
    for replica in replicas:
        assert replica["build"] == "."
        for port in replica["ports"]:
            assert port.startswith("127.0.0.1:")
        for dependency, condition in replica["depends_on"].items():
            wanted = "service_completed_successfully" if dependency == "bucket" else "healthy"
            assert wanted in condition["condition"]
            if dependency != "bucket":
                assert "healthcheck" in services[dependency], dependency
    for name, value in replicas[0]["environment"].items():
        monkeypatch.setenv(name, _interpolate(str(value)))
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert needed_extras(settings) == ["postgres", "redis", "s3"]
    assert settings.storage_routing().backends == ("s3",)
    assert settings.bucket == "satchel"
    assert settings.s3_endpoint_url == "http://minio:9000"
    assert settings.signing_key  # the same on every replica, or presigned URLs break
    # the S3 credentials are references the settings resolve from the container's environment
    secret_ref = str(settings.s3_secret_key_ref)
    assert secret_ref.startswith("env:")
    assert os.environ[secret_ref.removeprefix("env:")]
    # the bucket job creates the bucket the replicas use
    command = " ".join(services["bucket"]["command"])
    assert f"local/{settings.bucket}" in command
    # every secret comes from the operator's environment, never from the file
    text = (ROOT / "compose.yaml").read_text()
    for secret in ("POSTGRES_PASSWORD", "S3_SECRET_KEY", "SATCHEL_SIGNING_KEY"):
        assert f"${{{secret}:?" in text, secret
