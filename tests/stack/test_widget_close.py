"""Closing the chat widget completes the conversation (issue 14, item 8): the close enqueues a
`conversation.widget_closed` job due after the 60 s grace period, the widget-close worker runs it
on the real runtime, and a teammate hears `conversation.completed` on Realtime. The test moves the
close 61 s into the past instead of waiting a minute."""

from __future__ import annotations

import asyncio
import time
from typing import Any
from uuid import UUID

import psycopg
import pytest
from realtime import RealtimeSubscribeStates

from halo_supabase.models import Conversation, Job
from supabase import acreate_client
from tests.stack.conftest import Stack
from tests.stack.email_support import running_worker
from tests.stack.inbox_support import Inbox, inbox
from tests.stack.realtime_support import Inbox as Heard
from workers import REGISTRY, widget_close

__all__ = ["inbox"]  # the fixture, imported so pytest finds it

pytestmark = pytest.mark.asyncio(loop_scope="session")

# The grace period passes: the close (and its job's closed_at) 61 s earlier, the job due now.
GRACE_PASSED = """
with moved as (
  update halo.widget_states set changed_at = changed_at - interval '61 seconds'
   where conversation_id = %(conversation)s and not open
  returning changed_at
)
update halo.jobs
   set visible_at = now(),
       payload = payload || jsonb_build_object(
         'closed_at', coalesce((select changed_at from moved), (payload->>'closed_at')::timestamptz
                                                              - interval '61 seconds'))
 where kind = 'conversation.widget_closed' and payload->>'conversation_id' = %(conversation)s::text
"""


def let_grace_pass(stack: Stack, conversation: UUID) -> None:
    with psycopg.connect(stack.db_url) as conn:
        conn.execute(GRACE_PASSED, {"conversation": conversation})


async def jobs_done(inbox: Inbox, conversation: UUID, timeout: float = 10) -> list[Job]:
    deadline = time.monotonic() + timeout
    while True:
        jobs: list[Job] = inbox.service.jobs(
            kind=widget_close.KIND, **{"payload->>conversation_id": conversation}
        )
        if jobs and all(job.state == "done" for job in jobs):
            return jobs
        if time.monotonic() > deadline:
            raise AssertionError(f"widget-close jobs did not finish: {jobs}")
        await asyncio.sleep(0.05)


def state_of(inbox: Inbox, conversation: UUID) -> Conversation:
    rows: list[Conversation] = inbox.service.rows(Conversation, id=conversation)
    return rows[0]


async def test_halo_dev_runs_the_widget_close_worker() -> None:
    assert REGISTRY["widget-close"] is widget_close.DEFINITION


async def test_a_closed_quiet_widget_completes_and_a_reopened_one_stays_live(
    stack: Stack, inbox: Inbox
) -> None:
    dashboard = await acreate_client(stack.url, stack.anon_key)
    await dashboard.realtime.set_auth(inbox.agent_token)
    heard = Heard()
    channel = dashboard.channel(f"workspace:{inbox.workspace}", {"config": {"private": True}})
    channel.on_broadcast("conversation.completed", heard.callback())
    states: list[str] = []
    await channel.subscribe(lambda state, _error: states.append(state))
    assert states[0] == RealtimeSubscribeStates.SUBSCRIBED
    runtime = inbox.service
    try:
        async with running_worker(
            stack.url,
            stack.service_role_key,
            "widget-close",
            widget_close.KIND,
            lambda _api: widget_close.complete_if_still_closed,
        ):
            closed = runtime.start_conversation(inbox.workspace).id
            reopened = runtime.start_conversation(inbox.workspace).id
            for conversation in (closed, reopened):
                runtime.set_widget_open(conversation, False)
            runtime.set_widget_open(reopened, True)
            # Within the grace period nothing happens: the jobs are not due.
            assert [state_of(inbox, c).state for c in (closed, reopened)] == ["live", "live"]
            for conversation in (closed, reopened):
                let_grace_pass(stack, conversation)

            def completed(got: list[Any]) -> bool:
                return any(m["payload"].get("conversation_id") == str(closed) for m in got)

            await heard.wait(completed, timeout=10)
            await jobs_done(inbox, reopened)
    finally:
        await dashboard.realtime.close()
    done = state_of(inbox, closed)
    assert (done.state, done.outcome, done.metadata["end_reason"]) == (
        "completed",
        "resolved",
        "closed",
    )
    assert state_of(inbox, reopened).state == "live"
    assert not any(m["payload"].get("conversation_id") == str(reopened) for m in heard.items)
