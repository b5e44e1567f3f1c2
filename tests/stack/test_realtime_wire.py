"""Realtime at the frame level, with a raw WebSocket: exact shapes the clients depend on, both
serializers, and bad input (which must cost only the offending socket or channel)."""

from __future__ import annotations

import asyncio
import json
import struct
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from tests.stack.conftest import Stack
from tests.stack.realtime_support import rt_stack, user_token

__all__ = ["rt_stack"]  # the fixture, imported so pytest finds it

pytestmark = pytest.mark.asyncio(loop_scope="session")


def ws_url(stack: Stack, vsn: str = "1.0.0", key: str | None = None) -> str:
    base = stack.url.replace("http://", "ws://")
    return f"{base}/realtime/v1/websocket?apikey={key or stack.anon_key}&vsn={vsn}"


async def next_json(ws: ClientConnection, timeout: float = 3.0) -> Any:
    return json.loads(await asyncio.wait_for(ws.recv(), timeout))


async def join_v1(
    ws: ClientConnection, topic: str, config: dict[str, Any] | None = None, **extra: Any
) -> Any:
    payload = {"config": config or {}, **extra}
    await ws.send(
        json.dumps(
            {"topic": topic, "event": "phx_join", "payload": payload, "ref": "1", "join_ref": "1"}
        )
    )
    return await next_json(ws)


async def test_heartbeat_reply_has_the_exact_v1_shape(rt_stack: Stack) -> None:
    async with connect(ws_url(rt_stack)) as ws:
        await ws.send(
            json.dumps({"event": "heartbeat", "topic": "phoenix", "payload": {}, "ref": None})
        )
        assert await next_json(ws) == {
            "topic": "phoenix",
            "event": "phx_reply",
            "payload": {"status": "ok", "response": {}},
            "ref": None,
        }


async def test_join_reply_echoes_bindings_and_leave_closes(rt_stack: Stack) -> None:
    binding = {"event": "INSERT", "schema": "rtfx", "table": "notes", "filter": "priority=gt.1"}
    async with connect(ws_url(rt_stack)) as ws:
        reply = await join_v1(ws, "realtime:wire-join", {"postgres_changes": [binding]})
        assert reply["event"] == "phx_reply" and reply["ref"] == "1"
        (echoed,) = reply["payload"]["response"]["postgres_changes"]
        assert {k: v for k, v in echoed.items() if k != "id"} == binding
        assert isinstance(echoed["id"], int) and echoed["id"] != 0
        system = await next_json(ws)
        assert system == {
            "topic": "realtime:wire-join",
            "event": "system",
            "payload": {
                "channel": "wire-join",
                "extension": "postgres_changes",
                "status": "ok",
                "message": "Subscribed to PostgreSQL",
            },
            "ref": None,
        }
        await ws.send(
            json.dumps(
                {
                    "topic": "realtime:wire-join",
                    "event": "phx_leave",
                    "payload": {},
                    "ref": "2",
                    "join_ref": "1",
                }
            )
        )
        assert (await next_json(ws))["payload"] == {"status": "ok", "response": {}}
        assert await next_json(ws) == {
            "topic": "realtime:wire-join",
            "event": "phx_close",
            "payload": {},
            "ref": "1",
        }


async def test_unjoined_topic_and_empty_topic_are_refused(rt_stack: Stack) -> None:
    async with connect(ws_url(rt_stack)) as ws:
        await ws.send(
            json.dumps(
                {
                    "topic": "realtime:nowhere",
                    "event": "broadcast",
                    "payload": {"type": "broadcast", "event": "e", "payload": {}},
                    "ref": "9",
                }
            )
        )
        reply = await next_json(ws)
        assert reply["payload"] == {"status": "error", "response": {"reason": "unmatched topic"}}
        reply = await join_v1(ws, "realtime:")
        assert reply["payload"]["status"] == "error"
        assert reply["payload"]["response"]["reason"].startswith("TopicNameRequired")


async def test_bad_tokens(rt_stack: Stack) -> None:
    with pytest.raises(InvalidStatus) as refused:
        async with connect(ws_url(rt_stack, key="not-a-jwt")):
            pass
    assert refused.value.response.status_code == 401
    assert "error" in json.loads(refused.value.response.body or b"{}")

    async with connect(ws_url(rt_stack)) as ws:
        reply = await join_v1(ws, "realtime:wire-token", access_token=user_token(ttl=-5))
        assert reply["payload"]["status"] == "error"
        assert reply["payload"]["response"]["reason"].startswith(
            "InvalidJWTToken: Token has expired"
        )
        valid = rt_stack.service_role_key  # the same socket goes on serving
        reply = await join_v1(ws, "realtime:wire-token", access_token=valid)
        assert reply["payload"]["status"] == "ok"


async def test_malformed_and_oversized_frames_cost_only_their_socket(rt_stack: Stack) -> None:
    async with connect(ws_url(rt_stack)) as healthy, connect(ws_url(rt_stack)) as sender:
        await join_v1(healthy, "realtime:wire-bad")
        await join_v1(sender, "realtime:wire-bad")
        async with connect(ws_url(rt_stack)) as broken:
            await broken.send("{not json")
            with pytest.raises(ConnectionClosed) as closed:
                await asyncio.wait_for(broken.recv(), 3)
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 1007
        async with connect(ws_url(rt_stack), max_size=None) as huge:
            await huge.send(
                json.dumps(
                    {
                        "topic": "phoenix",
                        "event": "heartbeat",
                        "payload": {"x": "y" * 2_000_000},
                        "ref": "1",
                    }
                )
            )
            with pytest.raises(ConnectionClosed) as closed:
                await asyncio.wait_for(huge.recv(), 3)
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009
        await sender.send(
            json.dumps(
                {
                    "topic": "realtime:wire-bad",
                    "event": "broadcast",
                    "payload": {"type": "broadcast", "event": "still", "payload": {"ok": True}},
                    "ref": "2",
                    "join_ref": "1",
                }
            )
        )
        assert await next_json(healthy) == {
            "topic": "realtime:wire-bad",
            "event": "broadcast",
            "payload": {"type": "broadcast", "event": "still", "payload": {"ok": True}},
            "ref": None,
        }


def user_broadcast_push(join_ref: str, ref: str, topic: str, event: str, payload: Any) -> bytes:
    """Kind 3, as supabase-js's V2 serializer encodes `channel.send({type: "broadcast"})`."""
    head = [join_ref.encode(), ref.encode(), topic.encode(), event.encode(), b""]
    return bytes([3, *map(len, head), 1]) + b"".join(head) + json.dumps(payload).encode()


async def test_v2_arrays_and_binary_broadcasts(rt_stack: Stack) -> None:
    topic = "realtime:wire-v2"
    config = {"config": {"broadcast": {"ack": True, "self": False}}}
    async with (
        connect(ws_url(rt_stack, "2.0.0")) as sender,
        connect(ws_url(rt_stack, "2.0.0")) as listener,
        connect(ws_url(rt_stack, "1.0.0")) as v1_listener,
    ):
        await sender.send(json.dumps(["1", "1", topic, "phx_join", config]))
        assert await next_json(sender) == [
            "1",
            "1",
            topic,
            "phx_reply",
            {"status": "ok", "response": {"postgres_changes": []}},
        ]
        await listener.send(json.dumps(["5", "5", topic, "phx_join", {"config": {}}]))
        await next_json(listener)
        await join_v1(v1_listener, topic)

        await sender.send(user_broadcast_push("1", "2", topic, "moved", {"x": 1}))
        assert await next_json(sender) == [
            "1",
            "2",
            topic,
            "phx_reply",
            {"status": "ok", "response": {}},
        ]

        frame = await asyncio.wait_for(listener.recv(), 3)
        assert isinstance(frame, bytes) and frame[0] == 4
        topic_size, event_size, meta_size, encoding = struct.unpack("4B", frame[1:5])
        offset = 5
        assert frame[offset : offset + topic_size].decode() == topic
        offset += topic_size
        assert frame[offset : offset + event_size] == b"moved"
        offset += event_size + meta_size
        assert encoding == 1 and json.loads(frame[offset:]) == {"x": 1}

        assert (await next_json(v1_listener))["payload"] == {
            "type": "broadcast",
            "event": "moved",
            "payload": {"x": 1},
        }


async def test_expired_access_token_update_closes_the_channel(rt_stack: Stack) -> None:
    topic = "realtime:wire-refresh"
    async with connect(ws_url(rt_stack)) as ws:
        assert (await join_v1(ws, topic, access_token=user_token()))["payload"]["status"] == "ok"
        update = {"access_token": user_token(ttl=-30)}
        await ws.send(
            json.dumps(
                {
                    "topic": topic,
                    "event": "access_token",
                    "payload": update,
                    "ref": "2",
                    "join_ref": "1",
                }
            )
        )
        system = await next_json(ws)
        assert system["event"] == "system" and system["ref"] is None
        assert system["payload"]["status"] == "error"
        assert system["payload"]["extension"] == "system"
        assert system["payload"]["message"].startswith("Token has expired")
        assert await next_json(ws) == {
            "topic": topic,
            "event": "phx_close",
            "payload": {},
            "ref": "1",
        }
        # The socket itself stays usable.
        await ws.send(
            json.dumps({"event": "heartbeat", "topic": "phoenix", "payload": {}, "ref": "3"})
        )
        assert (await next_json(ws))["ref"] == "3"
