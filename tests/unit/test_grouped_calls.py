"""GroupedCall: callers that arrive while a call is in flight share the next call."""

from __future__ import annotations

import asyncio

import pytest

from halo_supabase.grouped_calls import GroupedCall


class Recorder:
    """A send that records its groups and answers each item doubled (odd items refused)."""

    def __init__(self) -> None:
        self.groups: list[list[int]] = []
        self.release = asyncio.Event()

    async def send(self, items: list[int]) -> list[int | BaseException]:
        self.groups.append(items)
        await self.release.wait()
        return [ValueError(f"odd {i}") if i % 2 else i * 2 for i in items]


async def test_callers_during_a_call_share_the_next_one() -> None:
    recorder = Recorder()
    group: GroupedCall[int, int] = GroupedCall(recorder.send, max_items=3)
    first = asyncio.create_task(group(0))
    await asyncio.sleep(0)  # the first call is in flight
    later = [asyncio.create_task(group(i)) for i in (2, 4, 6, 8)]
    await asyncio.sleep(0)
    recorder.release.set()
    assert await first == 0
    assert await asyncio.gather(*later) == [4, 8, 12, 16]
    # Sent at once when idle; then the waiting four in groups of at most three.
    assert recorder.groups == [[0], [2, 4, 6], [8]]


async def test_an_item_refused_is_raised_to_its_caller_only() -> None:
    recorder = Recorder()
    recorder.release.set()
    group: GroupedCall[int, int] = GroupedCall(recorder.send, max_items=10)
    outcomes = await asyncio.gather(group(2), group(3), group(4), return_exceptions=True)
    assert outcomes[0] == 4 and outcomes[2] == 8
    assert isinstance(outcomes[1], ValueError) and str(outcomes[1]) == "odd 3"


async def test_a_failed_call_fails_each_of_its_callers_and_the_next_call_runs() -> None:
    calls = 0

    async def flaky(items: list[int]) -> list[int | BaseException]:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise ConnectionError("gateway unreachable")
        return items

    group: GroupedCall[int, int] = GroupedCall(flaky, max_items=10)
    with pytest.raises(ConnectionError, match="gateway unreachable"):
        await group(1)
    assert await group(5) == 5


async def test_a_send_answering_the_wrong_number_of_outcomes_is_an_error() -> None:
    async def short(items: list[int]) -> list[int | BaseException]:
        return items[:-1]

    group: GroupedCall[int, int] = GroupedCall(short, max_items=10)
    results = await asyncio.gather(group(1), group(2), return_exceptions=True)
    assert all(isinstance(r, RuntimeError) and "answered" in str(r) for r in results)
