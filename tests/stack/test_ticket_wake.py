"""A snoozed ticket wakes on its timer with the registered `ticket-wake` worker running: a member
subscribed to the workspace topic hears `ticket.woken` within 2 s of the snooze's end."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

import psycopg
from realtime import RealtimeSubscribeStates

from halo_supabase.models import Ticket
from halo_supabase.settings import Settings
from halo_supabase.worker_host import WorkerResources
from supabase import acreate_client
from tests.stack.conftest import Stack
from tests.stack.email_support import service_api
from tests.stack.inbox_support import Inbox, inbox
from workers import REGISTRY

__all__ = ["inbox"]


@asynccontextmanager
async def registered_worker(stack: Stack, name: str) -> AsyncIterator[None]:
    """The worker `halo worker NAME` runs, built from the registry, in this event loop."""
    stop = asyncio.Event()
    worker = REGISTRY[name].build(
        WorkerResources.from_settings(Settings()),
        await service_api(stack.url, stack.service_role_key),
    )
    task = asyncio.create_task(worker.run(stop))
    try:
        yield
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=30)


async def test_a_snoozed_ticket_wakes_within_two_seconds_of_its_time(
    stack: Stack, inbox: Inbox
) -> None:
    ticket = inbox.ticket("Snooze for two seconds")
    dashboard = await acreate_client(stack.url, stack.anon_key)
    await dashboard.realtime.set_auth(inbox.agent_token)
    heard: asyncio.Queue[tuple[float, dict[str, object]]] = asyncio.Queue()
    channel = dashboard.channel(f"workspace:{inbox.workspace}", {"config": {"private": True}})
    channel.on_broadcast("ticket.woken", lambda message: heard.put_nowait((time.time(), message)))
    states: list[RealtimeSubscribeStates] = []
    await channel.subscribe(lambda state, _error: states.append(state))
    assert states[0] == RealtimeSubscribeStates.SUBSCRIBED
    try:
        async with registered_worker(stack, "ticket-wake"):
            until = datetime.now(UTC) + timedelta(seconds=2)
            snoozed = await asyncio.to_thread(
                inbox.manager.transition_ticket, ticket.id, "snooze", snoozed_until=until
            )
            assert snoozed.status == "snoozed"
            while True:
                heard_at, message = await asyncio.wait_for(heard.get(), timeout=10)
                payload = message["payload"]
                assert isinstance(payload, dict)
                if payload.get("ticket_id") == str(ticket.id):
                    break
    finally:
        await dashboard.realtime.close()
    assert payload["reason"] == "timer"
    late = heard_at - until.timestamp()
    print(f"woken {late:.2f}s after the snooze ended")
    assert 0 <= late < 2, f"woken {late:.2f}s after the snooze ended"
    [woken] = inbox.agent.rows(Ticket, id=ticket.id)
    assert woken.status == "open"


async def test_a_wake_job_for_a_deleted_ticket_is_done_not_retried(
    stack: Stack, inbox: Inbox
) -> None:
    """The ticket a wake-up was scheduled for may be deleted before its time: the job ends done
    on its first attempt (api.wake_ticket's P0002 means nothing is left to wake)."""
    ticket = inbox.ticket("Snoozed, then deleted")
    until = datetime.now(UTC) + timedelta(seconds=1)
    await asyncio.to_thread(
        inbox.manager.transition_ticket, ticket.id, "snooze", snoozed_until=until
    )
    with psycopg.connect(stack.db_url, autocommit=True) as conn:
        row = conn.execute(
            "select id from halo.jobs where kind = 'ticket.wake' and payload ->> 'ticket_id' = %s",
            (str(ticket.id),),
        ).fetchone()
        assert row is not None
        job_id = row[0]
        conn.execute("delete from halo.tickets where id = %s", (ticket.id,))
    async with registered_worker(stack, "ticket-wake"):
        deadline = time.monotonic() + 10
        while True:
            with psycopg.connect(stack.db_url) as conn:
                state = conn.execute(
                    "select state::text, attempts, last_error from halo.jobs where id = %s",
                    (job_id,),
                ).fetchone()
            if state is not None and state[0] != "queued" and state[0] != "running":
                break
            assert time.monotonic() < deadline, f"the wake job is still {state}"
            await asyncio.sleep(0.1)
    assert state == ("done", 1, None)
