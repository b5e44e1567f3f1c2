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


@dataclass(frozen=True)
class ChannelAuth:
    """Who a channel acts as (its JWT) and what the RLS probes allowed on a private topic."""

    token: str
    claims: dict[str, Any]
    can_read: bool = True  # broadcasts; a private join may be allowed for presence only
    can_write_broadcast: bool = True
    can_write_presence: bool = True

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
