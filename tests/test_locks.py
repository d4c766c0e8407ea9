"""Per-key locks serialise holders of one key and are forgotten when nobody holds them."""

from __future__ import annotations

import asyncio

from satchel._locks import KeyedLocks


async def test_holders_of_one_key_take_turns_and_the_lock_is_forgotten() -> None:
    locks = KeyedLocks()
    inside: list[str] = []
    peak = 0

    async def hold(key: str) -> None:
        nonlocal peak
        async with locks.hold(key):
            inside.append(key)
            peak = max(peak, inside.count("a"))
            await asyncio.sleep(0.01)
            inside.remove(key)

    await asyncio.gather(*(hold("a") for _ in range(5)), hold("b"))
    assert peak == 1
    assert len(locks) == 0


async def test_many_keys_leave_nothing_behind_even_when_holders_fail() -> None:
    locks = KeyedLocks()

    async def fail(key: str) -> None:
        async with locks.hold(key):
            raise ValueError(key)

    results = await asyncio.gather(*(fail(f"k{n}") for n in range(1000)), return_exceptions=True)
    assert all(isinstance(result, ValueError) for result in results)
    assert len(locks) == 0
