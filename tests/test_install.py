"""What each set-up command installs: `make run` the runtime and the extras the configuration
uses, `make test` the development tools; the package builds as a wheel with its extras."""

from __future__ import annotations

import email
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from satchel.config import Settings
from satchel.extras import EXTRA_MODULES, missing_extras, needed_extras

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(
    ("environment", "extras"),
    [
        ({}, []),
        ({"SATCHEL_DATABASE_URL": "postgresql+asyncpg://u:p@db/x"}, ["postgres"]),
        ({"SESSION_PROVIDER": "redis"}, ["redis"]),
        ({"SATCHEL_REDIS_URL": "redis://cache:6379/0"}, ["redis"]),
        ({"ARTIFACT_PROVIDER": "s3"}, ["s3"]),
        ({"SATCHEL_STORAGE_BACKENDS": "filesystem,s3"}, ["s3"]),
        (
            {
                "SATCHEL_DATABASE_URL": "postgresql://u:p@db/x",
                "SATCHEL_SESSION_PROVIDER": "redis",
                "SATCHEL_BLOB_BACKEND": "vfs-s3",
            },
            ["postgres", "redis", "s3"],
        ),
    ],
)
def test_the_configuration_chooses_the_extras(
    environment: dict[str, str], extras: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert needed_extras(settings) == extras
    assert missing_extras(settings) == []  # the test environment has every extra


def test_make_run_installs_the_runtime_only_and_make_test_the_tools() -> None:
    def plan(target: str) -> str:
        dry = subprocess.run(
            ["make", "-n", "-B", target, "VENV=/nonexistent/venv"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        )
        return dry.stdout

    run = plan("run")
    assert "pip install --quiet -e .\n" in run
    assert "[dev]" not in run
    assert "satchel.extras" in run
    assert "pip install --quiet -e '.[dev]'" in plan("test")


def test_the_wheel_builds_with_its_extras(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(tmp_path), "."],
        cwd=ROOT,
        check=True,
        timeout=600,
    )
    [wheel] = tmp_path.glob("satchel-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        [meta_name] = [n for n in names if n.endswith(".dist-info/METADATA")]
        meta = email.message_from_bytes(archive.read(meta_name))
    assert set(meta.get_all("Provides-Extra") or []) >= {*EXTRA_MODULES, "all", "dev"}
    assert "satchel/server/app.py" in names
    assert any(n.startswith("satchel/catalog/migrations/") for n in names)
    shipped = {n.removeprefix("satchel/") for n in names if n.startswith("satchel/ui/static/")}
    in_tree = {
        str(p.relative_to(ROOT / "src" / "satchel"))
        for p in (ROOT / "src" / "satchel" / "ui" / "static").rglob("*")
        if p.is_file()
    }
    assert shipped == in_tree  # the web UI's every file, served from the package
    requires = [r.replace('"', "'") for r in meta.get_all("Requires-Dist") or []]
    for extra, module in EXTRA_MODULES.items():
        assert any(module in r and f"extra == '{extra}'" in r for r in requires), extra
        assert any(module in r and "extra == 'all'" in r for r in requires), extra


_WITHOUT_EXTRAS = """
import asyncio, importlib.abc, sys
blocked = set(sys.argv[1].split(","))
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name.split(".")[0] in blocked:
            raise ModuleNotFoundError(f"No module named {name!r}")
sys.meta_path.insert(0, Block())
from satchel.cli.app import app
from satchel.config import Settings
from satchel.server import create_app
from satchel import ArtifactStore, Satchel, connect
create_app(Settings(data_dir=sys.argv[2]))
async def main():
    async with ArtifactStore() as store:
        made = await store.store(b"x", mime="text/plain", scope="sandbox")
        await store.set_policy(made, "public")
        assert await store.read_file(made, user_id="anonymous") == b"x"
asyncio.run(main())
print("imported")
"""


def test_the_runtime_imports_and_runs_without_the_extras(tmp_path: Path) -> None:
    """What `make run` installs (no extras) loads every face: an extra's package is imported
    only where its backend is used (a module importing one at the top broke `make run`)."""
    blocked = {*EXTRA_MODULES.values(), "boto3", "botocore", "aioboto3"}
    ran = subprocess.run(
        [sys.executable, "-c", _WITHOUT_EXTRAS, ",".join(sorted(blocked)), str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert ran.returncode == 0, ran.stderr[-3000:]
    assert ran.stdout.strip() == "imported"
