"""Webhooks: subscriptions, signed in-order delivery from a durable cursor, retries, dead letters,
redelivery and rewind, the address policy, and one sender at a time, against receivers the tests
start (tests/harness/receiver.py); embedded on SQLite and PostgreSQL, and through a server."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import Any

import pytest
from tests.harness.receiver import Receiver
from tests.store.conftest import MakeStore

from satchel.core.errors import ArtifactNotFoundError, InvalidRequestError
from satchel.testing import ManualClock

SECRET = "whsec_tests-0123456789abcdef"
LOOPBACK = {"webhook_allowed_networks": "127.0.0.1/32", "webhook_retry_base_seconds": 10}
EMBEDDED = pytest.mark.embedded_only("moves the store's clock between delivery rounds")
CATALOGS = pytest.mark.not_on("memory", "sqlite", "s3", reason="a catalog test")


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    started = Receiver(SECRET)
    yield started
    started.stop()


async def _stored(store: Any, count: int, prefix: str = "f") -> list[str]:
    return [
        await store.store(f"{prefix}{n}".encode(), mime="text/plain", summary="", scope="sandbox")
        for n in range(count)
    ]


@EMBEDDED
@CATALOGS
async def test_events_arrive_signed_in_order_filtered_by_type_and_subject(
    make_store: MakeStore, receiver: Receiver
) -> None:
    store = await make_store(**LOOPBACK)
    await _stored(store, 2, "before")  # before the subscription: not delivered
    hook = await store.create_webhook(receiver.url, types=["v1.artifact.stored"], secret=SECRET)
    assert hook["secret"] == SECRET
    assert hook["status"]["cursor"] > 0
    assert "secret" not in (await store.get_webhook(hook["webhook_id"]))
    made = await _stored(store, 5)
    await store.delete(made[0])  # another type: not delivered
    assert await store.deliver_webhooks() == {"delivered": 5, "failed": 0, "dead": 0}
    events = receiver.delivered()
    assert [e["subject"] for e in events] == made
    assert [e["seq"] for e in events] == sorted(e["seq"] for e in events)
    assert all(r["signed"] for r in receiver.requests)
    headers = receiver.requests[0]["headers"]
    assert headers["Idempotency-Key"] == headers["Satchel-Event-Seq"] == str(events[0]["seq"])
    assert headers["Satchel-Webhook-Id"] == hook["webhook_id"]
    assert abs(int(headers["Satchel-Timestamp"]) - time.time()) < 60
    assert await store.deliver_webhooks() == {"delivered": 0, "failed": 0, "dead": 0}
    status = (await store.get_webhook(hook["webhook_id"]))["status"]
    assert status["delivered"] == 5
    assert status["cursor"] >= events[-1]["seq"]
    # a subject prefix
    one = await store.create_webhook(
        receiver.url, types=["v1.artifact.deleted"], subject_prefix=made[1], secret=SECRET
    )
    await store.delete(made[2])
    await store.delete(made[1])
    await store.deliver_webhooks()
    got = [
        r["event"]
        for r in receiver.requests
        if r["headers"]["Satchel-Webhook-Id"] == one["webhook_id"]
    ]
    assert [(e["type"], e["subject"]) for e in got] == [("v1.artifact.deleted", made[1])]


@EMBEDDED
@CATALOGS
async def test_an_outage_then_recovery_loses_nothing_and_keeps_order(
    make_store: MakeStore, receiver: Receiver, clock: ManualClock
) -> None:
    store = await make_store(**LOOPBACK)
    hook = await store.create_webhook(receiver.url, types=["v1.artifact."], secret=SECRET)
    receiver.stop()  # the endpoint goes away
    made = await _stored(store, 3)
    counts = await store.deliver_webhooks()
    assert counts == {"delivered": 0, "failed": 1, "dead": 0}
    status = (await store.get_webhook(hook["webhook_id"]))["status"]
    assert status["attempts"] == 1
    assert status["next_attempt_at"] > clock()
    assert "ConnectError" in status["last_error"]
    assert await store.deliver_webhooks() == {"delivered": 0, "failed": 0, "dead": 0}  # waits
    made += await _stored(store, 2, "during")
    receiver.start()  # back, on the same port
    clock.advance(30)  # past the backoff (10 s base: at most 10 s)
    assert (await store.deliver_webhooks())["delivered"] == 5
    assert [e["subject"] for e in receiver.delivered()] == made
    # the store closes and opens again: the cursor was durable
    await store.close()
    again = await make_store(data_dir=store.settings.data_dir, **LOOPBACK)
    made += await _stored(again, 1, "after")
    assert (await again.deliver_webhooks())["delivered"] == 1
    assert [e["subject"] for e in receiver.delivered()] == made


@EMBEDDED
@CATALOGS
async def test_failures_back_off_then_dead_letter_and_redelivery_works(
    make_store: MakeStore, receiver: Receiver, clock: ManualClock
) -> None:
    store = await make_store(**LOOPBACK)
    hook = await store.create_webhook(
        receiver.url, types=["v1.artifact.stored"], secret=SECRET, max_attempts=3
    )
    webhook_id = hook["webhook_id"]
    made = await _stored(store, 3)
    seqs = [e["seq"] for e in (await store.list_events(types=["v1.artifact.stored"]))["events"]]
    poisoned = seqs[-2]  # the second of the three
    receiver.failing.add(poisoned)
    delays = []  # (earliest, latest) the backoff can have been: the clock runs underneath
    for _ in range(3):
        before = clock()
        await store.deliver_webhooks()
        after = clock()
        status = (await store.get_webhook(webhook_id))["status"]
        if status["next_attempt_at"] is not None:
            delays.append((status["next_attempt_at"] - after, status["next_attempt_at"] - before))
        clock.advance(100)
    assert len(delays) == 2
    assert delays[0][1] >= 5
    assert delays[0][0] <= 10
    assert delays[1][1] >= 10
    assert delays[1][0] <= 20
    assert [e["subject"] for e in receiver.delivered()] == [made[0], made[2]]
    assert receiver.seqs().count(poisoned) == 3
    letters = await store.list_dead_letters(webhook_id)
    assert [(d["seq"], d["attempts"], d["last_status"]) for d in letters] == [(poisoned, 3, 500)]
    status = (await store.get_webhook(webhook_id))["status"]
    assert (status["dead"], status["failed"], status["delivered"]) == (1, 3, 2)
    # still failing: it stays a dead letter
    still = await store.redeliver_dead_letter(webhook_id, poisoned)
    assert still["redelivered_at"] is None
    assert still["attempts"] == 4
    receiver.failing.clear()
    done = await store.redeliver_dead_letter(webhook_id, poisoned)
    assert done["redelivered_at"] is not None
    assert receiver.delivered()[-1]["seq"] == poisoned
    assert await store.list_dead_letters(webhook_id) == []
    assert len(await store.list_dead_letters(webhook_id, pending=False)) == 1
    with pytest.raises(ArtifactNotFoundError):
        await store.redeliver_dead_letter(webhook_id, seqs[0])


@EMBEDDED
@CATALOGS
async def test_rewind_redelivers_from_any_sequence(
    make_store: MakeStore, receiver: Receiver
) -> None:
    store = await make_store(**LOOPBACK)
    hook = await store.create_webhook(receiver.url, types=["v1.artifact.stored"], secret=SECRET)
    made = await _stored(store, 4)
    await store.deliver_webhooks()
    seqs = [e["seq"] for e in receiver.delivered()]
    await store.rewind_webhook(hook["webhook_id"], seqs[1])
    await store.deliver_webhooks()
    assert [e["subject"] for e in receiver.delivered()] == made + made[2:]
    paused = await store.update_webhook(hook["webhook_id"], active=False)
    assert paused["active"] is False
    await _stored(store, 1, "paused")
    assert (await store.deliver_webhooks())["delivered"] == 0
    await store.update_webhook(hook["webhook_id"], active=True)
    assert (await store.deliver_webhooks())["delivered"] == 1


@EMBEDDED
@CATALOGS
async def test_two_deliverers_never_send_one_subscription_at_once(
    make_store: MakeStore, receiver: Receiver
) -> None:
    first = await make_store(**LOOPBACK)
    second = await make_store(data_dir=first.settings.data_dir, **LOOPBACK)
    await first.create_webhook(receiver.url, types=["v1.artifact.stored"], secret=SECRET)
    made = await _stored(first, 8)
    receiver.delay = 0.05
    rounds = await asyncio.gather(
        first.deliver_webhooks(), second.deliver_webhooks(), first.deliver_webhooks()
    )
    assert sum(r["delivered"] for r in rounds) == 8
    assert receiver.most_in_flight == 1
    assert [e["subject"] for e in receiver.delivered()] == made  # each once, in order


async def test_targets_in_private_ranges_are_refused_unless_allowed(make_store: MakeStore) -> None:
    store = await make_store()
    for url in (
        "http://127.0.0.1:9/hook",
        "http://localhost/hook",
        "http://10.1.2.3/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/hook",
        "http://[::ffff:127.0.0.1]/hook",
        "http://0.0.0.0/hook",
    ):
        with pytest.raises(InvalidRequestError, match=r"refused|resolve"):
            await store.create_webhook(url)
    for url in ("ftp://example.com/x", "http://user:pw@example.com/x", "/relative", "http://"):
        with pytest.raises(InvalidRequestError):
            await store.create_webhook(url)
    for bad in ({"types": ["v9.nothing"]}, {"max_attempts": 0}, {"secret": "short"}):
        with pytest.raises(InvalidRequestError):
            await store.create_webhook("http://127.0.0.1:9/hook", **bad)
    assert await store.list_webhooks() == []
    with pytest.raises(InvalidRequestError):
        await store.get_webhook("not-a-webhook")
    with pytest.raises(ArtifactNotFoundError):
        await store.get_webhook("wh-" + "0" * 24)


@EMBEDDED
@pytest.mark.not_on("memory", reason="reopens the store's catalog")
async def test_a_target_no_longer_allowed_is_not_contacted(
    make_store: MakeStore, receiver: Receiver
) -> None:
    allowed = await make_store(**LOOPBACK)
    await allowed.create_webhook(receiver.url, secret=SECRET)
    await allowed.close()
    strict = await make_store(data_dir=allowed.settings.data_dir)
    await _stored(strict, 1)
    assert (await strict.deliver_webhooks())["failed"] == 1
    assert receiver.requests == []
    [hook] = await strict.list_webhooks()
    assert "refused" in hook["status"]["last_error"]


async def test_the_service_delivers_on_its_own(make_store: MakeStore, receiver: Receiver) -> None:
    store = await make_store(webhook_allowed_networks="127.0.0.1/32", webhook_poll_seconds=0.2)
    hook = await store.create_webhook(receiver.url, types=["v1.artifact.stored"], secret=SECRET)
    made = await _stored(store, 3)
    if not hasattr(store, "_context"):  # a server delivers in the background
        deadline = time.monotonic() + 20
        while len(receiver.delivered()) < 3 and time.monotonic() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.1)  # the receiver is another thread: poll it
    else:
        await store.deliver_webhooks()
    assert [e["subject"] for e in receiver.delivered()] == made
    updated = await store.update_webhook(hook["webhook_id"], description="ci", types=None)
    assert updated["description"] == "ci"
    assert updated["types"] == []
    await store.delete_webhook(hook["webhook_id"])
    assert await store.list_webhooks() == []
    kinds = [e["type"] for e in (await store.list_events(types=["v1.webhook."]))["events"]]
    assert kinds == ["v1.webhook.created", "v1.webhook.updated", "v1.webhook.deleted"]


@CATALOGS
async def test_a_test_delivery_is_signed_sent_once_and_never_logged(
    make_store: MakeStore, receiver: Receiver
) -> None:
    store = await make_store(**LOOPBACK)
    hook = await store.create_webhook(receiver.url, types=["v1.artifact."], secret=SECRET)
    before = await store.list_events(limit=1000)
    assert await store.test_webhook(hook["webhook_id"]) == {
        "delivered": True,
        "status": 204,
        "error": None,
    }
    [request] = receiver.requests
    assert request["signed"]
    assert request["headers"]["Satchel-Event-Type"] == "v1.webhook.test"
    assert (request["event"]["seq"], request["event"]["subject"]) == (0, hook["webhook_id"])
    receiver.status = 503
    failed = await store.test_webhook(hook["webhook_id"])
    assert (failed["delivered"], failed["status"]) == (False, 503)
    status = (await store.get_webhook(hook["webhook_id"]))["status"]
    assert (status["delivered"], status["failed"]) == (0, 0)  # not the subscription's record
    assert (await store.list_events(limit=1000))["events"] == before["events"]
    with pytest.raises(ArtifactNotFoundError):
        await store.test_webhook("wh-" + "0" * 24)
