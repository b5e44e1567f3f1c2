"""The topics of this gateway: which channels are joined where, and fan-out to them.

A message is encoded once per serializer and the same bytes are queued on every recipient's
socket, so fan-out costs one dict lookup and one queue append per subscriber.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from halo_supabase.local.gateway.realtime.channel import Channel, TopicKey
from halo_supabase.local.gateway.realtime.presence import PresenceDiff, PresenceRoom
from halo_supabase.local.gateway.realtime.protocol import Frame, Serializer, Wire

__all__ = ["Hub"]


class Hub:
    def __init__(self) -> None:
        self.topics: dict[TopicKey, set[Channel]] = {}
        self.rooms: dict[TopicKey, PresenceRoom] = {}
        # Channels with postgres_changes bindings; the change dispatcher reads it on every change.
        self.subscribers: set[Channel] = set()

    def add(self, channel: Channel) -> None:
        self.topics.setdefault(channel.key, set()).add(channel)
        if channel.bindings:
            self.subscribers.add(channel)

    def remove(self, channel: Channel) -> None:
        """Forget a channel; its presence (if tracked) leaves."""
        members = self.topics.get(channel.key)
        if members is not None:
            members.discard(channel)
            if not members:
                del self.topics[channel.key]
        self.subscribers.discard(channel)
        self.untrack(channel)

    def presence_state(self, key: TopicKey) -> dict[str, Any]:
        room = self.rooms.get(key)
        return room.state() if room else {}

    def track(self, channel: Channel, payload: dict[str, Any]) -> None:
        diff = self.rooms.setdefault(channel.key, PresenceRoom()).track(channel, payload)
        if diff is not None:
            self._presence_diff(channel.key, diff)

    def untrack(self, channel: Channel) -> None:
        room = self.rooms.get(channel.key)
        if room is None:
            return
        diff = room.untrack(channel)
        if not room:
            del self.rooms[channel.key]
        if diff is not None:
            self._presence_diff(channel.key, diff)

    def _presence_diff(self, key: TopicKey, diff: PresenceDiff) -> None:
        recipients = [
            c for c in self.topics.get(key, ()) if c.presence_enabled and c.auth.read_presence
        ]
        self._fan_out(recipients, lambda s, topic: s.encode(Frame(topic, "presence_diff", diff)))

    def broadcast(
        self,
        name: str,
        private: bool,
        payload: dict[str, Any],
        sender: Channel | None = None,
    ) -> int:
        """Deliver `{type: "broadcast", event, payload[, meta]}` to a topic; returns deliveries."""
        recipients = [
            c
            for c in self.topics.get((name, private), ())
            if (c is not sender or c.broadcast_self) and c.auth.read_broadcast
        ]
        return self._fan_out(recipients, lambda s, topic: s.encode_broadcast(topic, payload))

    @staticmethod
    def _fan_out(recipients: Iterable[Channel], encode: Callable[[Serializer, str], Wire]) -> int:
        wires: dict[int, Wire] = {}
        count = 0
        for channel in recipients:
            serializer = channel.connection.serializer
            wire = wires.get(id(serializer))
            if wire is None:
                wire = wires[id(serializer)] = encode(serializer, channel.topic)
            channel.deliver(wire)
            count += 1
        return count
