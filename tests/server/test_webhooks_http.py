"""Webhooks over HTTP: admin-only routes with clear 4xx errors, and two `satchel serve` replicas on
one PostgreSQL catalog delivering one subscription: every event once, in order, never two
requests at once, through an outage of the receiver."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.harness.postgres import PostgresServer
from tests.harness.receiver import Receiver

SECRET = "whsec_http-tests-0123456789"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    started = Receiver(SECRET)
    yield started
    started.stop()


def test_webhook_routes_are_for_admins_and_refuse_bad_input(server: Any) -> None:
    with server.client("alice") as user, server.client("admin") as admin:
        denied = user.post("/v1/admin/webhooks", json={"url": "https://example.com/x"})
        assert denied.status_code == 403, denied.text
        assert user.get("/v1/admin/webhooks").status_code == 403
        loopback = admin.post("/v1/admin/webhooks", json={"url": "http://127.0.0.1:9/x"})
        assert loopback.status_code == 400, loopback.text
        assert "SATCHEL_WEBHOOK_ALLOWED_NETWORKS" in loopback.json()["message"]
        for body in (
            {"url": "http://example.com/x", "extra": 1},
            {"url": 5},
            {"url": "http://example.com/x", "types": ["nope"]},
            {"url": "http://example.com/x", "max_attempts": 0},
        ):
            answer = admin.post("/v1/admin/webhooks", json=body)
            assert answer.status_code in (400, 422), (body, answer.text)
        assert admin.get("/v1/admin/webhooks/wh-bad").status_code == 400
        assert admin.get("/v1/admin/webhooks/wh-" + "0" * 24).status_code == 404
        assert admin.get("/v1/admin/webhooks").json() == {"webhooks": []}


def _wait(predicate: Callable[[], bool], seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.1)


def test_two_replicas_deliver_each_event_once_in_order_through_an_outage(
    launch_server: Callable[..., Any],
    postgres_server: PostgresServer,
    postgres_database: str,
    receiver: Receiver,
    tmp_path: Path,
) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    env = {
        "SATCHEL_DATA_DIR": str(shared),
        "SATCHEL_DATABASE_URL": postgres_server.url(postgres_database),
        "SATCHEL_PURGE_INTERVAL_SECONDS": "0",
        "SATCHEL_WEBHOOK_ALLOWED_NETWORKS": "127.0.0.1/32",
        "SATCHEL_WEBHOOK_POLL_SECONDS": "0.1",
        "SATCHEL_WEBHOOK_RETRY_BASE_SECONDS": "0.2",
        "SATCHEL_WEBHOOK_RETRY_CAP_SECONDS": "1",
    }
    first, second = (launch_server(**env) for _ in range(2))
    receiver.delay = 0.02  # a request takes a while: overlapping senders would show
    with first.client("admin") as admin:
        created = admin.post(
            "/v1/admin/webhooks",
            json={
                "url": receiver.url,
                "types": ["v1.artifact.stored"],
                "secret": SECRET,
                "max_attempts": 50,  # a slow machine's outage outlasts 8 quick retries
            },
        )
        assert created.status_code == 201, created.text
        webhook_id = created.json()["webhook_id"]

    made: list[str] = []

    def store(replica: Any, n: int) -> None:
        with replica.client("admin") as http:
            answer = http.post(
                "/v1/artifacts",
                params={"filename": f"f{n}", "mime": "text/plain", "scope": "sandbox"},
                content=f"{n}".encode(),
            )
            assert answer.status_code == 201, answer.text
            made.append(answer.json()["artifact_id"])

    for n in range(10):
        store((first, second)[n % 2], n)
    _wait(lambda: len(receiver.delivered()) >= 10)
    receiver.stop()  # an outage
    for n in range(10, 20):
        store((first, second)[n % 2], n)
    time.sleep(1.5)  # both replicas try, fail and back off
    receiver.start()
    _wait(lambda: len(receiver.delivered()) >= 20)
    time.sleep(0.5)  # anything sent twice would arrive now
    delivered = [event["subject"] for event in receiver.delivered()]
    assert delivered == made
    assert receiver.most_in_flight == 1
    assert all(request["signed"] for request in receiver.requests)
    with second.client("admin") as admin:
        status = admin.get(f"/v1/admin/webhooks/{webhook_id}").json()["status"]
    assert status["delivered"] == 20
    assert status["failed"] >= 1
    assert status["dead"] == 0
