"""A channel: one socket's membership of one topic, with the options its join asked for."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from halo_supabase.local.gateway.realtime.protocol import Frame, Wire

if TYPE_CHECKING:
    from halo_supabase.local.gateway.realtime.changes import Binding
    from halo_supabase.local.gateway.realtime.connection import Connection

__all__ = ["Channel", "ChannelAuth", "TopicKey", "flag"]

# Private and public channels with the same name are different topics.
TopicKey = tuple[str, bool]


def flag(value: Any, default: bool = False) -> bool:
    """Join options are booleans, but clients may send them as strings ("true")."""
    if value is None:
        return default
    if isinstance(value, str):
        return value.strip().lower() == "true"
    return bool(value)


@dataclass
class ChannelAuth:
    """Who a channel acts as (its JWT) and what RLS on `realtime.messages` allowed it.

    A public channel may do everything. On a private one the reads are evaluated at join (presence
    only when the join enabled it) and each write when first needed; None means not evaluated yet.
    """

    token: str
    claims: dict[str, Any]
    read_broadcast: bool = True  # a private join may be allowed for presence only
    read_presence: bool | None = True
    write_broadcast: bool | None = True
    write_presence: bool | None = True

    @classmethod
    def private(
        cls, token: str, claims: dict[str, Any], readable: frozenset[str], presence: bool
    ) -> ChannelAuth:
        return cls(
            token,
            claims,
            read_broadcast="broadcast" in readable,
            read_presence=("presence" in readable) if presence else None,
            write_broadcast=None,
            write_presence=None,
        )

    @property
    def role(self) -> str:
        return str(self.claims.get("role") or "anon")


@dataclass(eq=False)
class Channel:
    connection: Connection
    topic: str  # as on the wire: "realtime:<name>"
    join_ref: str | None
    private: bool
    auth: ChannelAuth
    broadcast_self: bool = False
    broadcast_ack: bool = False
    presence_enabled: bool = False
    presence_key: str = ""
    bindings: list[Binding] = field(default_factory=list)
    expiry: asyncio.TimerHandle | None = None

    @property
    def name(self) -> str:
        return self.topic.removeprefix("realtime:")

    @property
    def key(self) -> TopicKey:
        return (self.name, self.private)

    def push(self, event: str, payload: Any) -> None:
        """A server push on this channel (`ref` null, as clients require)."""
        self.connection.send(Frame(self.topic, event, payload, None, self.join_ref))

    def deliver(self, wire: Wire) -> None:
        self.connection.deliver(wire)

    def system(self, extension: str, status: str, message: str) -> None:
        self.push(
            "system",
            {"channel": self.name, "extension": extension, "status": status, "message": message},
        )
