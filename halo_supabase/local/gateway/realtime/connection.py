"""One WebSocket: Phoenix frames in, channel events handled, frames out through a queue.

Frames a socket receives are handled one at a time (as a Phoenix socket does). Frames it sends go
through its own queue and writer task, so a slow client never holds up a fan-out to the others; a
client that lets its queue grow past `MAX_QUEUED` is disconnected.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections import deque
from typing import TYPE_CHECKING, Any

from halo_supabase.local.gateway.http import Receive, Send
from halo_supabase.local.gateway.realtime.authorization import may_read, may_write
from halo_supabase.local.gateway.realtime.changes import parse_bindings, subscription_error
from halo_supabase.local.gateway.realtime.channel import Channel, ChannelAuth, flag
from halo_supabase.local.gateway.realtime.filters import FilterError
from halo_supabase.local.gateway.realtime.protocol import Frame, ProtocolError, Serializer, Wire
from halo_supabase.local.gateway.realtime.replay import replay, replay_options
from halo_supabase.local.gateway.realtime.tokens import TokenRejected, verify

if TYPE_CHECKING:
    from halo_supabase.local.gateway.realtime.service import RealtimeService

__all__ = ["Connection"]

log = logging.getLogger(__name__)

MAX_QUEUED = 10_000
_CLOSE_INVALID_PAYLOAD = 1007
_CLOSE_TOO_SLOW = 1008


class Connection:
    def __init__(
        self, service: RealtimeService, send: Send, serializer: Serializer, token: str
    ) -> None:
        self.service = service
        self._send = send
        self.serializer = serializer
        self.token = token  # the socket's apikey-derived JWT; joins without their own use it
        self.channels: dict[str, Channel] = {}
        self._outbox: deque[Wire] = deque()
        self._wakeup = asyncio.Event()
        self._closing: int | None = None

    # -- output -------------------------------------------------------------------------------

    def send(self, frame: Frame) -> None:
        self.deliver(self.serializer.encode(frame))

    def deliver(self, wire: Wire) -> None:
        if self._closing is not None:
            return
        if len(self._outbox) >= MAX_QUEUED:
            self.close(_CLOSE_TOO_SLOW)
            return
        self._outbox.append(wire)
        self._wakeup.set()

    def close(self, code: int) -> None:
        self._closing = code
        self._outbox.clear()
        self._wakeup.set()

    async def _write(self) -> None:
        while True:
            await self._wakeup.wait()
            self._wakeup.clear()
            while self._outbox:
                await self._send(self._outbox.popleft())
            if self._closing is not None:
                await self._send({"type": "websocket.close", "code": self._closing})
                return

    # -- input --------------------------------------------------------------------------------

    async def run(self, receive: Receive) -> None:
        writer = asyncio.create_task(self._write())
        try:
            while self._closing is None:
                message = await receive()
                if message["type"] == "websocket.disconnect":
                    break
                if message["type"] != "websocket.receive":
                    continue
                try:
                    frame = self.serializer.decode(message)
                except ProtocolError as exc:
                    # Phoenix cannot route an undecodable frame; it drops the connection.
                    log.info("realtime: closing socket on a malformed frame: %s", exc)
                    self.close(_CLOSE_INVALID_PAYLOAD)
                    break
                await self.handle(frame)
            if self._closing is not None:
                await asyncio.wait_for(asyncio.shield(writer), timeout=5)
        except (TimeoutError, OSError):
            pass
        finally:
            writer.cancel()
            for channel in list(self.channels.values()):
                self._drop(channel)

    async def handle(self, frame: Frame) -> None:
        if frame.topic == "phoenix":
            if frame.event == "heartbeat":
                self._reply(frame, "ok", {})
            return
        if frame.event == "phx_join":
            await self._join(frame)
            return
        channel = self.channels.get(frame.topic)
        if channel is None or channel.join_ref != (frame.join_ref or channel.join_ref):
            self._reply(frame, "error", {"reason": "unmatched topic"})
            return
        if frame.event == "broadcast":
            await self._broadcast(channel, frame)
        elif frame.event == "presence":
            await self._presence(channel, frame)
        elif frame.event == "access_token":
            await self._refresh(channel, frame)
        elif frame.event == "phx_leave":
            self._reply(frame, "ok", {})
            self._stop(channel)

    def _reply(self, frame: Frame, status: str, response: Any) -> None:
        payload = {"status": status, "response": response}
        self.send(Frame(frame.topic, "phx_reply", payload, frame.ref, frame.join_ref))

    # -- channel lifecycle --------------------------------------------------------------------

    async def _join(self, frame: Frame) -> None:
        if not frame.topic.startswith("realtime:"):
            self._reply(frame, "error", {"reason": "unmatched topic"})
            return
        name = frame.topic.removeprefix("realtime:")
        payload = frame.payload if isinstance(frame.payload, dict) else {}
        config = _section(payload, "config")
        if not name:
            self._reply(
                frame, "error", {"reason": "TopicNameRequired: You must provide a topic name"}
            )
            return
        token = payload.get("access_token") or payload.get("user_token")
        if not isinstance(token, str) or not token or token.startswith("sb_"):
            token = self.token
        try:
            claims = verify(self.service.tokens, token)
            bindings = parse_bindings(config.get("postgres_changes"))
        except TokenRejected as exc:
            self._reply(frame, "error", {"reason": f"InvalidJWTToken: {exc}"})
            return
        except (FilterError, ValueError) as exc:
            self._reply(frame, "error", {"reason": f"Invalid join payload: {exc}"})
            return
        previous = self.channels.pop(frame.topic, None)
        if previous is not None:
            self._stop(previous)
        broadcast = _section(config, "broadcast")
        presence = _section(config, "presence")
        private = flag(config.get("private"))
        presence_enabled = flag(presence.get("enabled"))
        auth = ChannelAuth(token, claims)
        if private:
            extensions = ["broadcast", "presence"] if presence_enabled else ["broadcast"]
            readable = await may_read(self.service.db, name, claims, extensions)
            if not readable:
                reason = f"Unauthorized: You do not have permissions to read from this Channel topic: {name}"
                self._reply(frame, "error", {"reason": reason})
                return
            auth = ChannelAuth.private(token, claims, readable, presence_enabled)
        key = presence.get("key")
        channel = Channel(
            connection=self,
            topic=frame.topic,
            join_ref=frame.join_ref or frame.ref,
            private=private,
            auth=auth,
            broadcast_self=flag(broadcast.get("self")),
            broadcast_ack=flag(broadcast.get("ack")),
            presence_enabled=presence_enabled,
            presence_key=str(key) if key not in (None, "") else str(uuid.uuid4()),
        )
        # Joined channels expect what is committed from now on: not before the slot exists.
        ready = await self.service.capture.wait_ready()
        problem = await subscription_error(self.service.db, bindings) if bindings else None
        if bindings and not ready:
            problem = "Replication is not ready yet; the channel will retry"
        if problem is None:
            channel.bindings = bindings
        self.channels[frame.topic] = channel
        self.service.hub.add(channel)
        self._reply(frame, "ok", {"postgres_changes": [b.echo for b in bindings]})
        self._schedule_expiry(channel)
        if presence_enabled and auth.read_presence:
            channel.push("presence_state", self.service.hub.presence_state(channel.key))
        replay_from = replay_options(broadcast) if private else None
        if replay_from is not None and auth.read_broadcast:
            await replay(self.service.db, channel, *replay_from)
        if bindings:
            if problem is None:
                channel.system("postgres_changes", "ok", "Subscribed to PostgreSQL")
            else:
                channel.system("postgres_changes", "error", problem)

    def _stop(self, channel: Channel) -> None:
        """End a channel as Phoenix does: `phx_close` with the join's ref."""
        self._drop(channel)
        self.send(Frame(channel.topic, "phx_close", {}, channel.join_ref, channel.join_ref))

    def _drop(self, channel: Channel) -> None:
        if self.channels.get(channel.topic) is channel:
            del self.channels[channel.topic]
        if channel.expiry is not None:
            channel.expiry.cancel()
        self.service.hub.remove(channel)

    def _fail(self, channel: Channel, message: str) -> None:
        channel.system("system", "error", message)
        self._stop(channel)

    def _schedule_expiry(self, channel: Channel) -> None:
        if channel.expiry is not None:
            channel.expiry.cancel()
        exp = channel.auth.claims.get("exp")
        if not isinstance(exp, (int, float)):
            return
        delay = max(0.0, float(exp) - time.time())
        channel.expiry = asyncio.get_running_loop().call_later(
            delay, self._fail, channel, "Token has expired 0 seconds ago"
        )

    # -- events on a joined channel -----------------------------------------------------------

    async def _broadcast(self, channel: Channel, frame: Frame) -> None:
        payload = frame.payload
        if not isinstance(payload, dict) or not isinstance(payload.get("event"), str):
            self._reply(frame, "error", {"reason": "broadcast needs a payload with an event"})
            return
        auth = channel.auth
        if auth.write_broadcast is None:
            auth.write_broadcast = await may_write(
                self.service.db, channel.name, auth.claims, "broadcast"
            )
        if auth.write_broadcast:
            message = {
                "type": "broadcast",
                "event": payload["event"],
                "payload": payload.get("payload"),
            }
            self.service.hub.broadcast(channel.name, channel.private, message, sender=channel)
        if channel.broadcast_ack and frame.ref is not None:
            self._reply(frame, "ok", {})

    async def _presence(self, channel: Channel, frame: Frame) -> None:
        payload = frame.payload if isinstance(frame.payload, dict) else {}
        event = payload.get("event")
        if event == "track":
            auth = channel.auth
            if auth.write_presence is None:
                # As Realtime: the first track checks presence read (when the join skipped it)
                # and presence write, an insert into realtime.messages as the user.
                if auth.read_presence is None:
                    readable = await may_read(
                        self.service.db, channel.name, auth.claims, ["presence"]
                    )
                    auth.read_presence = "presence" in readable
                auth.write_presence = await may_write(
                    self.service.db, channel.name, auth.claims, "presence"
                )
            if not auth.write_presence:
                self._reply(
                    frame, "error", {"reason": "Unauthorized: presence track is not allowed"}
                )
                return
            meta = payload.get("payload")
            newly_enabled = not channel.presence_enabled
            channel.presence_enabled = True
            if newly_enabled and auth.read_presence:
                # Presence starts with this track: the channel never had the join's state.
                channel.push("presence_state", self.service.hub.presence_state(channel.key))
            self.service.hub.track(channel, meta if isinstance(meta, dict) else {})
            self._reply(frame, "ok", {})
        elif event == "untrack":
            self.service.hub.untrack(channel)
            self._reply(frame, "ok", {})
        else:
            self._reply(frame, "error", {"reason": f"unknown presence event {event!r}"})

    async def _refresh(self, channel: Channel, frame: Frame) -> None:
        payload = frame.payload if isinstance(frame.payload, dict) else {}
        token = payload.get("access_token")
        if not isinstance(token, str) or not token or token.startswith("sb_"):
            token = self.token
        try:
            claims = verify(self.service.tokens, token)
        except TokenRejected as exc:
            self._fail(channel, str(exc))
            return
        auth = ChannelAuth(token, claims)
        if channel.private:
            presence = channel.presence_enabled
            extensions = ["broadcast", "presence"] if presence else ["broadcast"]
            readable = await may_read(self.service.db, channel.name, claims, extensions)
            if not readable:
                self._fail(
                    channel,
                    "You do not have permissions to read from this Channel topic: " + channel.name,
                )
                return
            auth = ChannelAuth.private(token, claims, readable, presence)
        channel.auth = auth
        self._schedule_expiry(channel)


def _section(options: dict[str, Any], name: str) -> dict[str, Any]:
    value = options.get(name)
    return value if isinstance(value, dict) else {}
