"""Webhook delivery when things go wrong: a subscription whose sends fail in unexpected ways, a
receiver that never answers, a subscription changed or deleted mid-delivery, bad positions, idle
rounds, and the secret kept out of the log (embedded, SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select
from tests.harness.receiver import Receiver
from tests.store.conftest import MakeStore

from satchel.catalog.replay import replay
from satchel.catalog.tables import events
from satchel.core.errors import ArtifactNotFoundError, InvalidRequestError

SECRET = "whsec_fault-tests-0123456789"
LOOPBACK = {"webhook_allowed_networks": "127.0.0.1/32", "webhook_retry_base_seconds": 10}
pytestmark = [
    pytest.mark.embedded_only("reaches into the deliverer and the catalog"),
    pytest.mark.not_on("memory", "sqlite", "s3", reason="a catalog test: filesystem + postgres"),
]


@pytest.fixture
def receivers() -> Iterator[tuple[Receiver, Receiver]]:
    pair = (Receiver(SECRET), Receiver(SECRET))
    yield pair
    for receiver in pair:
        receiver.stop()


async def _stored(store: Any, count: int, prefix: str = "f") -> list[str]:
    return [
        await store.store(f"{prefix}{n}".encode(), mime="text/plain", summary="", scope="sandbox")
        for n in range(count)
    ]


async def test_a_subscription_that_breaks_does_not_hold_up_the_others(
    make_store: MakeStore, receivers: tuple[Receiver, Receiver], monkeypatch: pytest.MonkeyPatch
) -> None:
    store = await make_store(**LOOPBACK)
    good, bad = receivers
    await store.create_webhook(good.url, types=["v1.artifact.stored"], secret=SECRET)
    broken = await store.create_webhook(bad.url, types=["v1.artifact.stored"], secret=SECRET)
    deliverer = store._webhooks.deliverer
    real = deliverer._post

    async def sometimes_raises(webhook: Any, secret: str, event: dict[str, Any]) -> Any:
        if webhook.webhook_id == broken["webhook_id"]:
            raise UnicodeEncodeError("ascii", "ü", 0, 1, "no")  # say, an odd host name
        return await real(webhook, secret, event)

    monkeypatch.setattr(deliverer, "_post", sometimes_raises)
    made = await _stored(store, 3)
    counts = await store.deliver_webhooks()
    assert counts == {"delivered": 3, "failed": 1, "dead": 0}
    assert [e["subject"] for e in good.delivered()] == made
    status = (await store.get_webhook(broken["webhook_id"]))["status"]
    assert status["attempts"] == 1
    assert "UnicodeEncodeError" in status["last_error"]


async def test_a_receiver_that_never_answers_is_a_failed_attempt(
    make_store: MakeStore, receivers: tuple[Receiver, Receiver]
) -> None:
    store = await make_store(webhook_timeout_seconds=0.5, **LOOPBACK)
    slow, _ = receivers
    slow.delay = 3
    hook = await store.create_webhook(slow.url, types=["v1.artifact.stored"], secret=SECRET)
    await _stored(store, 1)
    started = asyncio.get_running_loop().time()
    assert (await store.deliver_webhooks())["failed"] == 1
    assert asyncio.get_running_loop().time() - started < 2.5
    status = (await store.get_webhook(hook["webhook_id"]))["status"]
    assert status["last_error"] == "no answer within 0.5 s"


async def test_a_change_mid_delivery_takes_effect_before_the_next_event(
    make_store: MakeStore, receivers: tuple[Receiver, Receiver]
) -> None:
    store = await make_store(**LOOPBACK)
    first, second = receivers
    first.delay = second.delay = 0.1
    hook = await store.create_webhook(first.url, types=["v1.artifact.stored"], secret=SECRET)
    made = await _stored(store, 8)

    async def repoint() -> None:
        while len(first.requests) < 2:  # noqa: ASYNC110 - the receiver is another thread
            await asyncio.sleep(0.01)
        await store.update_webhook(hook["webhook_id"], url=second.url)

    await asyncio.gather(store.deliver_webhooks(), repoint())
    await store.deliver_webhooks()  # the next round reads the new URL
    old, new = first.delivered(), second.delivered()
    assert 2 <= len(old) <= 3
    assert old
    assert new
    assert [e["subject"] for e in old + new] == made  # each once, in order


async def test_positions_past_the_log_are_refused(
    make_store: MakeStore, receivers: tuple[Receiver, Receiver]
) -> None:
    store = await make_store(**LOOPBACK)
    head = (await store.list_events(limit=1000))["next_after"]
    with pytest.raises(InvalidRequestError, match="past the log"):
        await store.create_webhook(receivers[0].url, after=head + 1000)
    hook = await store.create_webhook(receivers[0].url, after=0)
    with pytest.raises(InvalidRequestError, match="past the log"):
        await store.rewind_webhook(hook["webhook_id"], head + 1000)


async def test_a_redelivery_whose_webhook_is_deleted_meanwhile_is_not_found(
    make_store: MakeStore, receivers: tuple[Receiver, Receiver], monkeypatch: pytest.MonkeyPatch
) -> None:
    store = await make_store(**LOOPBACK)
    receiver = receivers[0]
    receiver.status = 500
    hook = await store.create_webhook(
        receiver.url, types=["v1.artifact.stored"], secret=SECRET, max_attempts=1
    )
    await _stored(store, 1)
    await store.deliver_webhooks()
    [letter] = await store.list_dead_letters(hook["webhook_id"])
    deliverer = store._webhooks.deliverer
    real = deliverer.post

    async def deleted_meanwhile(*args: Any) -> Any:
        outcome = await real(*args)
        await store.delete_webhook(hook["webhook_id"])
        return outcome

    monkeypatch.setattr(deliverer, "post", deleted_meanwhile)
    with pytest.raises(ArtifactNotFoundError):
        await store.redeliver_dead_letter(hook["webhook_id"], letter["seq"])


async def test_idle_rounds_write_nothing(
    make_store: MakeStore, receivers: tuple[Receiver, Receiver], catalog_dialect: str
) -> None:
    store = await make_store(**LOOPBACK)
    for receiver in receivers:
        await store.create_webhook(receiver.url, types=["v1.package."], secret=SECRET)
    await _stored(store, 2)  # events no subscription wants
    await store.deliver_webhooks()  # moves the cursors past them, once
    catalog = store._context.catalog
    writes: list[int] = []
    original = catalog.write

    def counting_write() -> Any:
        writes.append(1)
        return original()

    catalog.write = counting_write  # type: ignore[method-assign]
    try:
        for _ in range(5):
            assert await store.deliver_webhooks() == {"delivered": 0, "failed": 0, "dead": 0}
    finally:
        catalog.write = original  # type: ignore[method-assign]
    assert writes == []


async def test_the_secret_stays_out_of_the_log_and_survives_replay(
    make_store: MakeStore, receivers: tuple[Receiver, Receiver]
) -> None:
    store = await make_store(**LOOPBACK)
    receiver = receivers[0]
    hook = await store.create_webhook(receiver.url, types=["v1.artifact.stored"], secret=SECRET)
    rotated = SECRET + "-rotated"
    await store.update_webhook(hook["webhook_id"], secret=rotated)
    catalog = store._context.catalog
    async with catalog.read() as reader:
        rows = (await reader.conn.execute(select(events.c.payload, events.c.changes))).all()
    logged = json.dumps([list(row) for row in rows])
    assert SECRET not in logged
    assert "whsec_" not in logged
    report = await replay(catalog, check=True)
    assert report.differences == {}
    await replay(catalog)
    receiver.secret = rotated
    await _stored(store, 1)
    assert (await store.deliver_webhooks())["delivered"] == 1
    assert [r["signed"] for r in receiver.requests] == [True]
