"""Presence on product topics through supabase-py's async Realtime client, as the dashboard uses it:
who is viewing and typing on `ticket:<id>`, who is composing a reply on `ticket:<id>:reply`
(Inbox: Reply only, decision 0028), who is online on `workspace:<id>`; other workspaces are refused.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from realtime import AsyncRealtimeChannel, RealtimeAcknowledgementStatus, RealtimeSubscribeStates

from supabase import AsyncClient, acreate_client
from tests.db.demo import ACME
from tests.stack.conftest import Stack
from tests.stack.realtime_support import Inbox, execute, user_token

pytestmark = pytest.mark.asyncio(loop_scope="session")

PRIVATE = {"config": {"private": True}}

Member = dict[str, Any]  # the presence payload of docs/realtime-events.md
Join = Callable[[Member, str], Awaitable[AsyncRealtimeChannel]]


def member(stack: Stack, email: str) -> Member:
    """A demo teammate's presence payload, as the dashboard builds it from the session."""
    [(user_id, name)] = execute(
        stack.db_url,
        "select u.id::text, m.display_name from auth.users u"
        " join halo.members m on m.user_id = u.id where u.email = %s",
        email,
    )
    return {"user_id": user_id, "name": name, "avatar_url": None, "state": "viewing"}


def new_ticket(stack: Stack) -> str:
    [(ticket_id,)] = execute(
        stack.db_url,
        "insert into halo.tickets (workspace_id, subject) values (%s, 'Presence') returning id::text",
        ACME,
    )
    return str(ticket_id)


@pytest.fixture
async def join(stack: Stack) -> AsyncIterator[Join]:
    """Join a private topic as a member (one client each), with presence keyed by user id."""
    clients: list[AsyncClient] = []

    async def make(who: Member, topic: str) -> AsyncRealtimeChannel:
        client = await acreate_client(stack.url, stack.anon_key)
        await client.realtime.set_auth(user_token(who["user_id"]))
        clients.append(client)
        config = {"config": {"private": True, "presence": {"key": who["user_id"]}}}
        return client.channel(topic, config)

    yield make
    for client in clients:
        await client.realtime.close()


async def subscribe(channel: AsyncRealtimeChannel) -> tuple[str, Exception | None]:
    states: list[tuple[str, Exception | None]] = []
    await channel.subscribe(lambda state, error: states.append((state, error)))
    return states[0]


def watch(channel: AsyncRealtimeChannel) -> tuple[Inbox, Inbox]:
    """Presence joins and leaves on `channel`, as (key, payloads) pairs."""
    joins, leaves = Inbox(), Inbox()
    channel.on_presence_join(lambda key, _current, new: joins.add((key, new)))
    channel.on_presence_leave(lambda key, _current, left: leaves.add((key, left)))
    return joins, leaves


async def track(channel: AsyncRealtimeChannel, payload: Member) -> dict[str, Any]:
    """Track presence and return the server's reply (`status` ok or error, and its response)."""
    replies = Inbox()
    push = await channel.push("presence", {"event": "track", "payload": payload})
    push.receive(RealtimeAcknowledgementStatus.Ok, lambda r: replies.add({"status": "ok"}))
    push.receive(
        RealtimeAcknowledgementStatus.Error, lambda r: replies.add({"status": "error", **r})
    )
    [reply] = await replies.wait(1)
    return dict(reply)


def states(channel: AsyncRealtimeChannel) -> dict[str, list[str]]:
    return {
        key: [meta["state"] for meta in metas] for key, metas in channel.presence_state().items()
    }


async def test_two_members_see_each_other_join_type_and_leave(stack: Stack, join: Join) -> None:
    ticket = new_ticket(stack)
    remy, manon = member(stack, "agent@acme.test"), member(stack, "manager@acme.test")
    remy_channel = await join(remy, f"ticket:{ticket}")
    remy_joins, remy_leaves = watch(remy_channel)
    assert (await subscribe(remy_channel))[0] == RealtimeSubscribeStates.SUBSCRIBED
    assert await track(remy_channel, remy) == {"status": "ok"}

    manon_channel = await join(manon, f"ticket:{ticket}")
    manon_joins, _ = watch(manon_channel)
    assert (await subscribe(manon_channel))[0] == RealtimeSubscribeStates.SUBSCRIBED
    # The one who comes later learns who is already there from the join's presence_state.
    await manon_joins.wait(lambda items: any(key == remy["user_id"] for key, _ in items))
    assert await track(manon_channel, manon) == {"status": "ok"}

    await remy_joins.wait(lambda items: any(key == manon["user_id"] for key, _ in items))
    [arrived] = [new for key, new in remy_joins.items if key == manon["user_id"]]
    assert {k: arrived[0][k] for k in ("user_id", "name", "avatar_url", "state")} == manon

    assert await track(manon_channel, {**manon, "state": "typing"}) == {"status": "ok"}
    await remy_joins.wait(
        lambda items: any(
            new[0]["state"] == "typing" for key, new in items if key == manon["user_id"]
        )
    )
    assert states(remy_channel)[manon["user_id"]] == ["typing"]

    await manon_channel.unsubscribe()
    await remy_leaves.wait(
        lambda items: any(
            left[0]["state"] == "typing" for key, left in items if key == manon["user_id"]
        )
    )
    assert manon["user_id"] not in remy_channel.presence_state()


async def test_a_member_of_another_workspace_cannot_join(stack: Stack, join: Join) -> None:
    ticket = new_ticket(stack)
    outsider = member(stack, "owner@globex.test")
    for topic in (f"ticket:{ticket}", f"ticket:{ticket}:reply", f"workspace:{ACME}"):
        state, error = await subscribe(await join(outsider, topic))
        assert state == RealtimeSubscribeStates.CHANNEL_ERROR, topic
        assert "Unauthorized: You do not have permissions to read from this Channel topic" in str(
            error
        )


async def test_a_viewer_is_present_but_cannot_be_composing_a_reply(
    stack: Stack, join: Join
) -> None:
    ticket = new_ticket(stack)
    viewer, remy = member(stack, "viewer@acme.test"), member(stack, "agent@acme.test")
    remy_ticket = await join(remy, f"ticket:{ticket}")
    remy_joins, _ = watch(remy_ticket)
    remy_reply = await join(remy, f"ticket:{ticket}:reply")
    remy_composers, _ = watch(remy_reply)
    for channel in (remy_ticket, remy_reply):
        assert (await subscribe(channel))[0] == RealtimeSubscribeStates.SUBSCRIBED

    viewer_ticket = await join(viewer, f"ticket:{ticket}")
    assert (await subscribe(viewer_ticket))[0] == RealtimeSubscribeStates.SUBSCRIBED
    assert await track(viewer_ticket, viewer) == {"status": "ok"}
    await remy_joins.wait(lambda items: any(key == viewer["user_id"] for key, _ in items))

    # The viewer may watch who composes, but tracking there is refused by the insert policy.
    viewer_reply = await join(viewer, f"ticket:{ticket}:reply")
    viewer_composers, _ = watch(viewer_reply)
    assert (await subscribe(viewer_reply))[0] == RealtimeSubscribeStates.SUBSCRIBED
    refused = await track(viewer_reply, {**viewer, "state": "composing"})
    assert refused == {"status": "error", "reason": "Unauthorized: presence track is not allowed"}

    # A member with Inbox: Reply composes; the viewer sees it, and never sees itself composing.
    assert await track(remy_reply, {**remy, "state": "composing"}) == {"status": "ok"}
    await viewer_composers.wait(lambda items: any(key == remy["user_id"] for key, _ in items))
    assert states(viewer_reply) == {remy["user_id"]: ["composing"]}
    await remy_composers.quiet(0.3)
    assert {key for key, _ in remy_composers.items} == {remy["user_id"]}


async def test_members_see_who_is_online_in_their_workspace(stack: Stack, join: Join) -> None:
    topic = f"workspace:{ACME}"
    viewer, remy = member(stack, "viewer@acme.test"), member(stack, "agent@acme.test")
    remy_channel = await join(remy, topic)
    remy_joins, _ = watch(remy_channel)
    assert (await subscribe(remy_channel))[0] == RealtimeSubscribeStates.SUBSCRIBED
    viewer_channel = await join(viewer, topic)
    assert (await subscribe(viewer_channel))[0] == RealtimeSubscribeStates.SUBSCRIBED
    online = {**viewer, "state": "online", "session": uuid.uuid4().hex}
    assert await track(viewer_channel, online) == {"status": "ok"}
    await remy_joins.wait(
        lambda items: any(new[0].get("session") == online["session"] for _, new in items)
    )
