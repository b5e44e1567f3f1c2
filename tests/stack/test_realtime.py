"""Realtime through realtime-py (supabase-py's async client): broadcast, presence, private
channels, Postgres Changes with filters and RLS, Broadcast from Database, token refresh."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest
from realtime import AsyncRealtimeChannel, RealtimeSubscribeStates

from supabase import AsyncClient, acreate_client
from tests.stack.conftest import Stack
from tests.stack.realtime_support import Inbox, execute, rt_stack, user_token

__all__ = ["rt_stack"]  # the fixture, imported so pytest finds it

# Fixtures and tests share the session loop (the project default for async fixtures).
pytestmark = pytest.mark.asyncio(loop_scope="session")


Connect = Callable[..., Awaitable[AsyncClient]]


@pytest.fixture
async def connect(rt_stack: Stack) -> AsyncIterator[Connect]:
    """Clients as an application makes them; each may act as a user (a JWT we sign)."""
    clients: list[AsyncClient] = []

    async def make(token: str | None = None) -> AsyncClient:
        client = await acreate_client(rt_stack.url, rt_stack.anon_key)
        if token is not None:
            await client.realtime.set_auth(token)
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.realtime.close()


async def subscribe(channel: AsyncRealtimeChannel) -> tuple[str, Exception | None]:
    states: list[tuple[str, Exception | None]] = []
    await channel.subscribe(lambda state, error: states.append((state, error)))
    return states[0]


def topic() -> str:
    return f"room-{uuid.uuid4().hex[:8]}"


async def test_broadcast_reaches_others_and_self_only_when_asked(connect: Connect) -> None:
    name = topic()
    sender, listener = await connect(), await connect()
    mine, theirs = Inbox(), Inbox()
    sending = sender.channel(name, {"config": {"broadcast": {"self": True, "ack": True}}})
    sending.on_broadcast("ping", mine.callback())
    hearing = listener.channel(name).on_broadcast("ping", theirs.callback())
    assert (await subscribe(sending))[0] == RealtimeSubscribeStates.SUBSCRIBED
    assert (await subscribe(hearing))[0] == RealtimeSubscribeStates.SUBSCRIBED

    await sending.send_broadcast("ping", {"n": 1})
    await theirs.wait(1)
    await mine.wait(1)
    assert theirs.items[0]["payload"] == {"n": 1}
    assert mine.items[0]["event"] == "ping"

    # self defaults to false: the listener does not hear its own message.
    await hearing.send_broadcast("ping", {"n": 2})
    await mine.wait(2)
    assert [m["payload"]["n"] for m in await theirs.quiet(0.3)] == [1]


async def test_private_channel_join_follows_the_policy(connect: Connect) -> None:
    owner = str(uuid.uuid4())
    name = f"rtfx:owner:{owner}"
    allowed = (await connect(user_token(owner))).channel(name, {"config": {"private": True}})
    denied = (await connect(user_token())).channel(name, {"config": {"private": True}})
    anonymous = (await connect()).channel(name, {"config": {"private": True}})

    assert (await subscribe(allowed))[0] == RealtimeSubscribeStates.SUBSCRIBED
    state, error = await subscribe(denied)
    assert state == RealtimeSubscribeStates.CHANNEL_ERROR
    assert "Unauthorized: You do not have permissions to read from this Channel topic" in str(error)
    assert (await subscribe(anonymous))[0] == RealtimeSubscribeStates.CHANNEL_ERROR


async def test_private_broadcast_needs_insert_permission(connect: Connect) -> None:
    owner = str(uuid.uuid4())
    token = user_token(owner)
    writer, reader = await connect(token), await connect(token)
    heard = Inbox()
    for name in (f"rtfx:owner:{owner}", f"rtfx:readonly:{owner}"):
        listening = reader.channel(name, {"config": {"private": True}})
        listening.on_broadcast("note", heard.callback())
        assert (await subscribe(listening))[0] == RealtimeSubscribeStates.SUBSCRIBED
        talking = writer.channel(name, {"config": {"private": True}})
        assert (await subscribe(talking))[0] == RealtimeSubscribeStates.SUBSCRIBED
        await talking.send_broadcast("note", {"topic": name})

    await heard.wait(1)
    # The read-only topic lets the owner listen but not speak.
    assert [m["payload"]["topic"] for m in await heard.quiet()] == [f"rtfx:owner:{owner}"]


async def test_presence_sync_join_update_and_leave(connect: Connect) -> None:
    name = topic()
    alice, bob = await connect(), await connect()
    joins, leaves, syncs = Inbox(), Inbox(), Inbox()
    watching = bob.channel(name, {"config": {"presence": {"key": "bob"}}})
    watching.on_presence_join(lambda key, current, new: joins.add((key, new)))
    watching.on_presence_leave(lambda key, current, left: leaves.add((key, left)))
    watching.on_presence_sync(lambda: syncs.add(dict(watching.presence_state())))
    assert (await subscribe(watching))[0] == RealtimeSubscribeStates.SUBSCRIBED
    await syncs.wait(1)  # presence_state arrives right after the join, even when empty

    tracked = alice.channel(name, {"config": {"presence": {"key": "alice"}}})
    assert (await subscribe(tracked))[0] == RealtimeSubscribeStates.SUBSCRIBED
    await tracked.track({"status": "online"})
    await joins.wait(1)
    assert joins.items[0][0] == "alice"
    assert joins.items[0][1][0]["status"] == "online"
    assert watching.presence_state()["alice"][0]["status"] == "online"

    await tracked.track({"status": "away"})  # same key again: one leave and one join
    await joins.wait(2)
    await leaves.wait(1)
    assert joins.items[1][1][0]["status"] == "away"
    assert leaves.items[0][1][0]["status"] == "online"
    assert [m["status"] for m in watching.presence_state()["alice"]] == ["away"]

    await alice.realtime.close()  # a disconnect is a leave
    await leaves.wait(2)
    assert leaves.items[1][1][0]["status"] == "away"
    await syncs.wait(lambda items: "alice" not in items[-1])


def _changes(channel: AsyncRealtimeChannel, inbox: Inbox, event: str, **options: Any) -> None:
    channel.on_postgres_changes(event, inbox.callback(), schema="rtfx", **options)  # type: ignore[arg-type]


async def test_postgres_changes_each_event_with_filter_and_rls(
    rt_stack: Stack, connect: Connect
) -> None:
    me, stranger = str(uuid.uuid4()), str(uuid.uuid4())
    inserts, updates, deletes, everything = Inbox(), Inbox(), Inbox(), Inbox()
    channel = (await connect(user_token(me))).channel(topic())
    _changes(channel, inserts, "INSERT", table="notes", filter="priority=gt.5")
    _changes(channel, updates, "UPDATE", table="notes")
    _changes(channel, deletes, "DELETE", table="tasks")
    _changes(channel, everything, "*", table="tasks")
    system = Inbox()
    channel.on_system(system.callback())
    assert (await subscribe(channel))[0] == RealtimeSubscribeStates.SUBSCRIBED
    await system.wait(1)
    assert system.items[0].message == "Subscribed to PostgreSQL"

    insert = "insert into rtfx.notes (owner, body, priority, tags, meta) values (%s, %s, %s, %s, %s) returning id"
    execute(rt_stack.db_url, insert, stranger, "not mine", 9, ["x"], None)
    execute(rt_stack.db_url, insert, me, "too low", 1, [], None)
    (note_id,) = execute(rt_stack.db_url, insert, me, "mine", 7, ["a", "b c"], '{"k": [1]}')[0]
    execute(rt_stack.db_url, "update rtfx.notes set body = 'edited' where id = %s", note_id)
    execute(rt_stack.db_url, "update rtfx.notes set body = 'theirs' where owner = %s", stranger)
    execute(rt_stack.db_url, "insert into rtfx.tasks values (%s, %s, 'open')", hash(me) % 10**8, me)
    # Visibility is checked against the table when the change is read (as Realtime's apply_rls
    # does): a row deleted before that is not delivered, so let the insert be seen first.
    await everything.wait(1)
    execute(rt_stack.db_url, "delete from rtfx.tasks where owner = %s", me)

    (change,) = await inserts.wait(1)
    data = change["data"]
    assert {k: data[k] for k in ("schema", "table", "type", "errors")} == {
        "schema": "rtfx",
        "table": "notes",
        "type": "INSERT",
        "errors": None,
    }
    assert data["record"]["body"] == "mine"
    assert data["record"]["priority"] == 7
    assert data["record"]["tags"] == ["a", "b c"]
    assert data["record"]["meta"] == {"k": [1]}
    assert {"name": "priority", "type": "int4"} in data["columns"]
    assert data["commit_timestamp"].endswith("Z")
    assert "old_record" not in data

    (update,) = await updates.wait(1)
    assert update["data"]["record"]["body"] == "edited"
    assert update["data"]["old_record"] == {"id": note_id}  # default replica identity: the key

    await everything.wait(2)
    (delete,) = await deletes.wait(1)
    assert delete["data"]["type"] == "DELETE"
    # tasks has REPLICA IDENTITY FULL but RLS: a DELETE carries only the primary key.
    assert delete["data"]["old_record"] == {"id": hash(me) % 10**8}
    await inserts.quiet(0.3)
    assert len(inserts.items) == 1 and len(updates.items) == 1  # nothing of the stranger's


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ("priority=eq.5", [5]),
        ("priority=neq.5", [1, 9]),
        ("priority=lt.5", [1]),
        ("priority=lte.5", [1, 5]),
        ("priority=gt.5", [9]),
        ("priority=gte.5", [5, 9]),
        ("priority=in.(1,9)", [1, 9]),
        ("body=eq.five", [5]),
        ("priority=not.in.(1,9)", [5]),
        ("body=like.%i%", [5, 9]),
        ("body=ilike.N%", [9]),
        ("body=match.^o", [1]),
        ("body=imatch.^F", [5]),
        ("meta=is.null", [1, 5, 9]),
        ("priority=isdistinct.5", [1, 9]),
        ("priority=gt.1,body=neq.nine", [5]),
        ("priority=gte.1,priority=in.(1,5)", [1, 5]),
    ],
)
async def test_postgres_changes_filters(
    rt_stack: Stack, connect: Connect, condition: str, expected: list[int]
) -> None:
    me = str(uuid.uuid4())
    inbox = Inbox()
    channel = (await connect(user_token(me))).channel(topic())
    _changes(channel, inbox, "INSERT", table="notes", filter=condition)
    assert (await subscribe(channel))[0] == RealtimeSubscribeStates.SUBSCRIBED
    for priority, body in ((1, "one"), (5, "five"), (9, "nine")):
        execute(
            rt_stack.db_url,
            "insert into rtfx.notes (owner, body, priority) values (%s, %s, %s)",
            me,
            body,
            priority,
        )
    await inbox.wait(len(expected))
    await inbox.quiet(0.3)
    assert [c["data"]["record"]["priority"] for c in inbox.items] == expected


async def test_columns_the_role_cannot_select_are_left_out(
    rt_stack: Stack, connect: Connect
) -> None:
    user, service = Inbox(), Inbox()
    as_user = (await connect(user_token())).channel(topic())
    _changes(as_user, user, "INSERT", table="profiles")
    as_service = (await connect(rt_stack.service_role_key)).channel(topic())
    _changes(as_service, service, "INSERT", table="profiles")
    assert (await subscribe(as_user))[0] == RealtimeSubscribeStates.SUBSCRIBED
    assert (await subscribe(as_service))[0] == RealtimeSubscribeStates.SUBSCRIBED
    profile_id = uuid.uuid4().int % 10**8
    execute(rt_stack.db_url, "insert into rtfx.profiles values (%s, 'ada', 'hunter2')", profile_id)
    (seen_by_user,) = await user.wait(1)
    (seen_by_service,) = await service.wait(1)
    assert seen_by_user["data"]["record"] == {"id": profile_id, "name": "ada"}
    assert [c["name"] for c in seen_by_user["data"]["columns"]] == ["id", "name"]
    assert seen_by_service["data"]["record"]["secret"] == "hunter2"


async def test_rows_without_primary_key_come_as_an_error_without_values(
    rt_stack: Stack, connect: Connect
) -> None:
    inbox = Inbox()
    channel = (await connect(user_token())).channel(topic())
    _changes(channel, inbox, "INSERT", table="keyless")
    assert (await subscribe(channel))[0] == RealtimeSubscribeStates.SUBSCRIBED
    execute(rt_stack.db_url, "insert into rtfx.keyless values (gen_random_uuid(), 'hidden')")
    (change,) = await inbox.wait(1)
    assert change["data"]["errors"] == ["Error 400: Bad Request, no primary key"]
    assert "record" not in change["data"]


async def test_unpublished_table_is_refused_with_a_system_error(connect: Connect) -> None:
    inbox, system = Inbox(), Inbox()
    channel = (await connect(user_token())).channel(topic())
    _changes(channel, inbox, "*", table="unpublished")
    channel.on_system(system.callback())
    states: list[Any] = []
    await channel.subscribe(lambda state, error: states.append((state, error)))
    await asyncio.sleep(0.5)
    assert any(state == RealtimeSubscribeStates.CHANNEL_ERROR for state, _ in states)
    assert "Unable to subscribe to changes" in str(states[-1][1])


async def test_broadcast_from_database_trigger_in_commit_order(
    rt_stack: Stack, connect: Connect
) -> None:
    owner = str(uuid.uuid4())
    heard = Inbox()
    channel = (await connect(user_token(owner))).channel(
        f"rtfx:owner:{owner}", {"config": {"private": True}}
    )
    channel.on_broadcast("INSERT", heard.callback())
    channel.on_broadcast("DELETE", heard.callback())
    assert (await subscribe(channel))[0] == RealtimeSubscribeStates.SUBSCRIBED
    for n in range(20):
        execute(
            rt_stack.db_url,
            "insert into rtfx.notes (owner, body, priority) values (%s, %s, %s)",
            owner,
            f"n{n}",
            n,
        )
    execute(rt_stack.db_url, "delete from rtfx.notes where owner = %s and priority = 0", owner)
    await heard.wait(21)
    inserts = [m for m in heard.items if m["event"] == "INSERT"]
    assert [m["payload"]["record"]["priority"] for m in inserts] == list(range(20))
    first = inserts[0]["payload"]
    assert (
        first["operation"] == "INSERT" and first["table"] == "notes" and first["schema"] == "rtfx"
    )
    assert first["old_record"] is None and isinstance(first["id"], str)
    assert heard.items[-1]["payload"]["old_record"]["priority"] == 0


async def test_realtime_send_reaches_public_channel_only_when_not_private(
    rt_stack: Stack, connect: Connect
) -> None:
    name = topic()
    heard = Inbox()
    channel = (await connect()).channel(name).on_broadcast("hello", heard.callback())
    assert (await subscribe(channel))[0] == RealtimeSubscribeStates.SUBSCRIBED
    execute(rt_stack.db_url, "select realtime.send('{\"n\": 1}', 'hello', %s, true)", name)
    execute(rt_stack.db_url, "select realtime.send('{\"n\": 2}', 'hello', %s, false)", name)
    await heard.wait(1)
    assert [m["payload"]["n"] for m in await heard.quiet(0.3)] == [2]


async def test_rest_broadcast_single_and_batch(rt_stack: Stack, connect: Connect) -> None:
    name = topic()
    owner = str(uuid.uuid4())
    heard = Inbox()
    public = (await connect()).channel(name).on_broadcast("rest", heard.callback())
    private = (await connect(user_token(owner))).channel(
        f"rtfx:owner:{owner}", {"config": {"private": True}}
    )
    private.on_broadcast("rest", heard.callback())
    assert (await subscribe(public))[0] == RealtimeSubscribeStates.SUBSCRIBED
    assert (await subscribe(private))[0] == RealtimeSubscribeStates.SUBSCRIBED

    await public.http_send("rest", {"via": "http_send"})
    await heard.wait(1)

    url = f"{rt_stack.url}/realtime/v1/api/broadcast"
    message = {"topic": f"rtfx:owner:{owner}", "event": "rest", "private": True}
    async with httpx.AsyncClient() as http:
        as_anon = {"apikey": rt_stack.anon_key}
        denied = await http.post(
            url, headers=as_anon, json={"messages": [{**message, "payload": {"via": "anon"}}]}
        )
        service = {
            "apikey": rt_stack.anon_key,
            "Authorization": f"Bearer {rt_stack.service_role_key}",
        }
        accepted = await http.post(
            url, headers=service, json={"messages": [{**message, "payload": {"via": "service"}}]}
        )
        invalid = await http.post(url, headers=service, json={"messages": [{"topic": name}]})
        unauthorized = await http.post(url, headers={"apikey": "not-a-jwt"}, json={"messages": []})
    assert (denied.status_code, denied.content) == (202, b"")
    assert accepted.status_code == 202
    assert invalid.status_code == 422
    assert unauthorized.status_code == 401 and unauthorized.json() == {"message": "Unauthorized"}
    await heard.wait(2)
    assert [m["payload"]["via"] for m in await heard.quiet(0.3)] == ["http_send", "service"]


async def test_token_refresh_keeps_the_channel_and_expiry_closes_it(connect: Connect) -> None:
    name = topic()
    refreshed, expiring = Inbox(), Inbox()
    client = await connect(user_token(ttl=2))
    kept = client.channel(name).on_broadcast("tick", refreshed.callback())
    assert (await subscribe(kept))[0] == RealtimeSubscribeStates.SUBSCRIBED
    await client.realtime.set_auth(user_token(ttl=3600))

    other = await connect(user_token(ttl=2))
    closing = other.channel(name)
    closing.on_system(expiring.callback())
    states: list[Any] = []
    await closing.subscribe(lambda state, error: states.append((state, error)))

    await asyncio.sleep(2.5)
    speaker = (await connect()).channel(name)
    assert (await subscribe(speaker))[0] == RealtimeSubscribeStates.SUBSCRIBED
    await speaker.send_broadcast("tick", {"after": "expiry"})
    await refreshed.wait(1)
    errors = [
        str(error) for state, error in states if state == RealtimeSubscribeStates.CHANNEL_ERROR
    ]
    assert errors and "Token has expired" in errors[0], states


async def test_private_channel_replays_stored_broadcasts(rt_stack: Stack, connect: Connect) -> None:
    owner = str(uuid.uuid4())
    name = f"rtfx:owner:{owner}"
    (since,) = execute(rt_stack.db_url, "select (extract(epoch from now()) * 1000)::bigint")[0]
    for n in range(3):
        execute(
            rt_stack.db_url, "select realtime.send(jsonb_build_object('n', %s), 'old', %s)", n, name
        )
    heard = Inbox()
    replay = {"since": since - 1000, "limit": 2}
    channel = (await connect(user_token(owner))).channel(
        name, {"config": {"private": True, "broadcast": {"replay": replay}}}
    )
    channel.on_broadcast("old", heard.callback())
    assert (await subscribe(channel))[0] == RealtimeSubscribeStates.SUBSCRIBED
    await heard.wait(2)
    # The test cluster commits asynchronously, so the same rows may also arrive live once the WAL
    # writer flushes them; the replayed ones are marked.
    replayed = [m for m in await heard.quiet(0.3) if m.get("meta", {}).get("replayed")]
    assert [m["payload"]["n"] for m in replayed] == [0, 1]  # oldest first, up to the limit
    assert heard.items[0] is replayed[0]

    stranger = (await connect(user_token())).channel(
        name, {"config": {"private": True, "broadcast": {"replay": replay}}}
    )
    assert (await subscribe(stranger))[0] == RealtimeSubscribeStates.CHANNEL_ERROR


async def test_select_narrows_the_record_to_the_asked_columns(
    rt_stack: Stack, connect: Connect
) -> None:
    me = str(uuid.uuid4())
    inbox = Inbox()
    channel = (await connect(user_token(me))).channel(topic())
    _changes(channel, inbox, "INSERT", table="notes", select=["id", "body"])
    assert (await subscribe(channel))[0] == RealtimeSubscribeStates.SUBSCRIBED
    execute(rt_stack.db_url, "insert into rtfx.notes (owner, body) values (%s, 'short')", me)
    (change,) = await inbox.wait(1)
    assert set(change["data"]["record"]) == {"id", "body"}
    assert [c["name"] for c in change["data"]["columns"]] == ["id", "body"]
