"""``satchel storage verify`` on the embedded store: exit 0 when every blob hashes right, 1 with
the failed ones listed when a blob's bytes are gone; ``--json`` and ``--sample``."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.helpers import run, run_fresh
from tests.harness.stored import remove_stored, stored_digests


def test_storage_verify(tmp_path: Path) -> None:
    for n in range(3):
        (tmp_path / f"f{n}.txt").write_text(f"file {n}")
        run(tmp_path, "put", f"f{n}.txt", "--ttl", "none")
    ok = run_fresh(tmp_path, "storage", "verify")
    assert "verified 3 on filesystem: 3 intact, 0 failed" in ok.stdout
    sampled = json.loads(run(tmp_path, "storage", "verify", "--sample", "1", "--json").stdout)
    assert sampled["checked"] == 1
    remove_stored(tmp_path / "data", next(iter(stored_digests(tmp_path / "data"))))
    failed = run(tmp_path, "storage", "verify", "--backend", "filesystem", ok=False)
    assert failed.returncode == 1
    assert "FAILED  filesystem  sha256:" in failed.stdout
    assert "missing" in failed.stdout
    assert "1 failed" in failed.stdout
    health = run(tmp_path, "health", ok=False)
    assert "failed_blobs" in health.stdout
