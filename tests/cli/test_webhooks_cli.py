"""``satchel webhooks`` and ``satchel replay`` in subprocesses, on the embedded store, with a
receiver the test starts."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.cli.helpers import run, run_fresh
from tests.harness.receiver import Receiver

SECRET = "whsec_cli-tests-0123456789"
ALLOW = {"SATCHEL_WEBHOOK_ALLOWED_NETWORKS": "127.0.0.1/32"}


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    started = Receiver(SECRET)
    yield started
    started.stop()


def test_webhooks_from_the_command_line(tmp_path: Path, receiver: Receiver) -> None:
    refused = run(tmp_path, "webhooks", "add", receiver.url, ok=False)
    assert refused.returncode == 2
    assert "SATCHEL_WEBHOOK_ALLOWED_NETWORKS" in refused.stderr
    added = json.loads(
        run_fresh(
            tmp_path,
            "webhooks",
            "add",
            receiver.url,
            "--type",
            "v1.artifact.stored",
            "--secret",
            SECRET,
            "--max-attempts",
            "1",
            "--json",
            **ALLOW,
        ).stdout
    )
    webhook_id = added["webhook_id"]
    (tmp_path / "a.txt").write_text("a")
    run(tmp_path, "put", "a.txt", "--scope", "sandbox")
    delivered = run_fresh(tmp_path, "webhooks", "deliver", **ALLOW).stdout
    assert "delivered 1, failed 0, dead 0" in delivered
    assert [r["signed"] for r in receiver.requests] == [True]
    receiver.status = 500
    run(tmp_path, "put", "a.txt", "--scope", "sandbox", "--name", "b.txt")
    assert "dead 1" in run(tmp_path, "webhooks", "deliver", **ALLOW).stdout
    [letter] = json.loads(run(tmp_path, "webhooks", "dead", webhook_id, "--json").stdout)
    failing = run(
        tmp_path, "webhooks", "redeliver", webhook_id, str(letter["seq"]), ok=False, **ALLOW
    )
    assert failing.returncode == 1
    assert "HTTP 500" in failing.stderr
    receiver.status = 204
    assert (
        "redelivered"
        in run(tmp_path, "webhooks", "redeliver", webhook_id, str(letter["seq"]), **ALLOW).stdout
    )
    listed = run(tmp_path, "webhooks", "ls").stdout
    assert webhook_id in listed
    assert "delivered 1, failed 1, dead 1" in listed
    assert "paused" in run(tmp_path, "webhooks", "pause", webhook_id).stdout
    run(tmp_path, "webhooks", "rewind", webhook_id, "--after", "0")
    # the log rebuilds the catalog, subscriptions included
    checked = run(tmp_path, "replay", "--check")
    assert "checked" in checked.stdout
    assert "webhooks" in checked.stdout
    run(tmp_path, "webhooks", "rm", webhook_id)
    assert run(tmp_path, "webhooks", "ls").stdout.strip() == ""
