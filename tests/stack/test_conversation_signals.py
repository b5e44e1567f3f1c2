"""The sentiment worker end to end: customer messages through the gateway's REST API, the worker
in-process against the gateway (service key), and a teammate's dashboard on the private workspace
topic through Realtime, as supabase-py clients."""

from __future__ import annotations

import asyncio
import itertools
import json
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from uuid import UUID

import psycopg
import pytest
from realtime import RealtimeSubscribeStates

from halo_supabase.ai import AIProvider, FallbackProvider, ai_score
from halo_supabase.ai.offline_provider import OfflineProvider
from halo_supabase.ai.openai_provider import OpenAIProvider
from halo_supabase.client import HaloClient
from supabase import AsyncClientOptions, acreate_client
from tests.db.demo import ACME, AGENT, AI_AGENT
from tests.stack.conftest import Stack
from tests.stack.realtime_support import Inbox as Heard
from tests.stack.realtime_support import user_token
from tests.unit.ai.fake_openai import API_KEY, Step, fake_openai
from workers.sentiment import SentimentWorker

pytestmark = pytest.mark.asyncio(loop_scope="session")

ANGRY = "This is ridiculous! I have been charged twice and nobody answers. Worst service ever!!"
CONFUSED = "I don't understand, where do I find this setting? What does that even mean?"
HAPPY = "Thanks a lot, that fixed it, you are great!"


async def service(stack: Stack) -> HaloClient:
    return await HaloClient.connect(
        stack.url,
        stack.service_role_key,
        AsyncClientOptions(realtime={"max_retries": 2, "initial_backoff": 0.2}),
    )


async def start_conversation(client: HaloClient, **extra: Any) -> str:
    row = await client.start_conversation(
        UUID(ACME), session_id=f"test-{uuid.uuid4().hex}", ai_agent_id=UUID(AI_AGENT), **extra
    )
    return str(row.id)


async def customer_says(client: HaloClient, conversation: str, text: str) -> str:
    row = await client.append_message(
        conversation_id=UUID(conversation), kind="chat", author_kind="customer", body_text=text
    )
    return str(row.id)


@asynccontextmanager
async def sentiment_worker(
    stack: Stack, provider: AIProvider | None = None
) -> AsyncIterator[SentimentWorker]:
    worker = SentimentWorker(await service(stack), provider or OfflineProvider(), poll_seconds=5)
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    await asyncio.sleep(0.5)
    try:
        yield worker
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=30)


@asynccontextmanager
async def dashboard(stack: Stack) -> AsyncIterator[Heard]:
    """A teammate (Inbox: Reply) listening to the workspace topic, as the dashboard does."""
    client = await acreate_client(stack.url, stack.anon_key)
    await client.realtime.set_auth(user_token(AGENT))
    heard = Heard()
    channel = client.channel(f"workspace:{ACME}", {"config": {"private": True}})
    channel.on_broadcast("conversation.signal", lambda message: heard.add(message["payload"]))
    states: list[object] = []
    await channel.subscribe(lambda state, _error: states.append(state))
    for _ in range(100):
        if states:
            break
        await asyncio.sleep(0.05)
    assert states[-1] == RealtimeSubscribeStates.SUBSCRIBED
    try:
        yield heard
    finally:
        await client.remove_all_channels()


def signals_of(heard: Heard, conversation: str) -> list[dict[str, Any]]:
    return [p for p in heard.items if p.get("conversation_id") == conversation]


def conversation_row(stack: Stack, conversation: str) -> dict[str, Any]:
    with psycopg.connect(stack.db_url) as conn:
        row = conn.execute(
            "select to_jsonb(c) from halo.conversations c where id = %s", (conversation,)
        ).fetchone()
    assert row is not None
    return dict(row[0])


async def test_a_dashboard_sees_the_mood_of_angry_and_confused_customers(stack: Stack) -> None:
    client = await service(stack)
    angry, confused = await start_conversation(client), await start_conversation(client)
    async with dashboard(stack) as heard, sentiment_worker(stack):
        angry_message = await customer_says(client, angry, ANGRY)
        confused_message = await customer_says(client, confused, CONFUSED)
        await heard.wait(lambda _: signals_of(heard, angry) and signals_of(heard, confused))
    angry_signal = signals_of(heard, angry)[-1]
    assert angry_signal["mood"] == "angry"
    assert angry_signal["sentiment"] < -0.5
    assert angry_signal["scored_message_id"] == angry_message
    assert signals_of(heard, confused)[-1]["mood"] == "confused"
    assert signals_of(heard, confused)[-1]["scored_message_id"] == confused_message
    # The first message also names the topic, and the running state is stored with the row.
    row = conversation_row(stack, angry)
    assert row["topic"] and row["mood"] == "angry"
    assert row["sentiment_state"]["messages"] == 1
    with psycopg.connect(stack.db_url) as conn:
        left = conn.execute(
            "select count(*) from halo.conversation_signal_queue where conversation_id = any(%s)",
            ([angry, confused],),
        ).fetchone()
    assert left == (0,)


async def test_updates_are_coalesced_to_two_a_second_and_keep_the_last_value(
    stack: Stack,
) -> None:
    client = await service(stack)
    conversation = await start_conversation(client)
    texts = [HAPPY, "ok", CONFUSED, "still waiting", ANGRY, ANGRY, "hello?", ANGRY]
    async with dashboard(stack) as heard, sentiment_worker(stack):
        started = time.monotonic()
        first = await customer_says(client, conversation, texts[0])
        await heard.wait(lambda _: bool(signals_of(heard, conversation)), timeout=10)
        assert signals_of(heard, conversation)[0]["scored_message_id"] == first
        last = first
        for text in texts[1:]:  # then a burst right behind the first update
            last = await customer_says(client, conversation, text)
        await heard.wait(
            lambda _: any(p["scored_message_id"] == last for p in signals_of(heard, conversation)),
            timeout=10,
        )
        elapsed = time.monotonic() - started
        await heard.quiet(0.8)  # nothing more arrives after the last value
    signals = signals_of(heard, conversation)
    seqs = [p["seq"] for p in signals]
    assert signals[-1]["scored_message_id"] == last
    assert signals[-1]["mood"] == "angry"
    assert 2 <= len(signals) < len(texts)  # the gaps below are checked on something
    assert len(signals) <= 2 * elapsed + 1
    # Spaced by the database's clock (event order = seq order): read the committed events.
    with psycopg.connect(stack.db_url) as conn:
        times = [
            row[0]
            for row in conn.execute(
                "select created_at from halo.events where workspace_id = %s and seq = any(%s)"
                " order by seq",
                (ACME, seqs),
            )
        ]
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(times)]
    assert all(gap >= 0.45 for gap in gaps), gaps
    assert conversation_row(stack, conversation)["sentiment_state"]["messages"] == len(texts)


async def test_a_completed_conversation_gets_its_ai_score_and_feedback_moves_it(
    stack: Stack,
) -> None:
    client = await service(stack)
    conversation = await start_conversation(client)
    async with sentiment_worker(stack):
        await customer_says(client, conversation, HAPPY)
        ai_message = await client.append_message(
            conversation_id=UUID(conversation),
            kind="chat",
            author_kind="ai_agent",
            author_ai_agent_id=UUID(AI_AGENT),
            body_text="Glad it works now!",
        )
        await wait_until(lambda: conversation_row(stack, conversation)["sentiment"] is not None)
        await client.complete_conversation(UUID(conversation), outcome="resolved")
        await wait_until(lambda: conversation_row(stack, conversation)["ai_score"] is not None)
        row = conversation_row(stack, conversation)
        assert row["ai_score"] == ai_score(row["sentiment"], "resolved")

        agent = await HaloClient.connect(stack.url, stack.anon_key)
        agent.supabase.postgrest.auth(user_token(AGENT))
        await agent.rate_ai_message(ai_message.id, rating=-1)
        expected = ai_score(row["sentiment"], "resolved", 0, 1)
        assert expected != row["ai_score"]
        await wait_until(lambda: conversation_row(stack, conversation)["ai_score"] == expected)


async def test_openai_scores_when_configured_and_offline_answers_when_it_fails(
    stack: Stack,
) -> None:
    client = await service(stack)
    first, second = await start_conversation(client), await start_conversation(client)
    for conversation in (first, second):  # a topic is set, so only sentiment calls the API
        await client.record_conversation_signal(UUID(conversation), topic="Order")
    with fake_openai() as server:
        remote = OpenAIProvider(
            API_KEY, "test-model", base_url=server.url, timeout=2, max_retries=0
        )
        # The model calls a plain message angry (the offline model would say neutral), then fails.
        server.then(Step(content=json.dumps({"polarity": -0.9, "mood": "Angry"})), Step(status=500))
        async with sentiment_worker(stack, FallbackProvider(remote)):
            await customer_says(client, first, "My order number is 1234.")
            await wait_until(lambda: conversation_row(stack, first)["mood"] is not None)
            await customer_says(client, second, CONFUSED)
            await wait_until(lambda: conversation_row(stack, second)["mood"] is not None)
        await remote.close()
    assert len(server.requests) == 2
    assert "My order number" in json.dumps(server.requests[0])
    assert conversation_row(stack, first)["mood"] == "angry"
    assert conversation_row(stack, second)["mood"] == "confused"  # the offline model's answer


async def wait_until(predicate: Any, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        await asyncio.sleep(0.1)


async def test_a_stopping_worker_gives_held_updates_back_to_the_queue(stack: Stack) -> None:
    client = await service(stack)
    conversation = await start_conversation(client)
    # As if an update had just been streamed: the next one is held for the 500 ms gap (here
    # pushed far out, so it is still held when the worker stops).
    with psycopg.connect(stack.db_url, autocommit=True) as conn:
        conn.execute(
            "update halo.conversations set signal_at = now() + interval '1 minute' where id = %s",
            (conversation,),
        )
    async with sentiment_worker(stack):
        message = await customer_says(client, conversation, ANGRY)

        def held() -> bool:
            with psycopg.connect(stack.db_url) as conn:
                row = conn.execute(
                    "select lease_token is not null from halo.conversation_signal_queue"
                    " where message_id = %s",
                    (message,),
                ).fetchone()
            return row == (True,)

        await wait_until(held)
    with psycopg.connect(stack.db_url) as conn:
        row = conn.execute(
            "select lease_token, attempts from halo.conversation_signal_queue where message_id = %s",
            (message,),
        ).fetchone()
    assert row == (None, 0)  # back in the queue, the attempt not counted
    assert conversation_row(stack, conversation)["mood"] is None  # nothing half-written
    with psycopg.connect(stack.db_url, autocommit=True) as conn:
        conn.execute(
            "update halo.conversations set signal_at = null where id = %s", (conversation,)
        )
    async with sentiment_worker(stack):  # the next worker picks it up
        await wait_until(lambda: conversation_row(stack, conversation)["mood"] == "angry")
