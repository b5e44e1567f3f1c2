"""Pydantic models of the Realtime events, one per name in docs/realtime-events.md.

A broadcast arrives as an event name and a JSON payload; :func:`parse_event` turns the pair into
the event's model (a discriminated union on `event`):

    channel.on_broadcast("*", lambda message: handle(parse_event(message["event"], message["payload"])))

Domain events share :class:`DomainEvent`'s envelope (`seq`, `workspace_id`, …); the broadcasts that
are not events (`conversation.user_activity`, `ai.whisper`, `job_available`) have their own shape.
Fields a newer database adds are kept in `model_extra`, so an older client keeps working; a test
holds the models, the catalogue and the names the SQL emits equal.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal, get_args
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

__all__ = [
    "EVENT_MODELS",
    "AiWhisper",
    "ContactChanged",
    "ConversationChanged",
    "ConversationPauseChanged",
    "ConversationStarted",
    "ConversationUserActivity",
    "CustomInboxChanged",
    "DomainEvent",
    "JobAvailable",
    "MentionCreated",
    "MessageCreated",
    "RealtimeEvent",
    "TicketAiPauseChanged",
    "TicketChanged",
    "TicketCreated",
    "TicketMarkedRead",
    "TicketMergeChanged",
    "TicketSnoozed",
    "TicketWoken",
    "parse_event",
]


class _Broadcast(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True)
    id: UUID | None = None  # the realtime.messages row id that realtime.send adds


class DomainEvent(_Broadcast):
    """The envelope of every logged event (`halo.events`), numbered gap-free per workspace."""

    seq: int
    workspace_id: UUID
    ticket_id: UUID | None = None
    conversation_id: UUID | None = None


class TicketCreated(DomainEvent):
    event: Literal["ticket.created"]
    number: int
    status: str


class TicketChanged(DomainEvent):
    event: Literal["ticket.status_changed", "ticket.assigned", "ticket.updated"]
    changed: list[str]
    status: str
    assignee_id: UUID | None = None


class TicketSnoozed(DomainEvent):
    event: Literal["ticket.snoozed"]
    snoozed_until: datetime


class TicketWoken(DomainEvent):
    event: Literal["ticket.woken"]
    reason: Literal["customer_reply", "timer", "teammate"]


class TicketMergeChanged(DomainEvent):
    event: Literal["ticket.merged", "ticket.unmerged"]
    source_id: UUID
    target_id: UUID
    messages: int


class TicketAiPauseChanged(DomainEvent):
    event: Literal["ticket.ai_paused", "ticket.ai_resumed"]
    ai_paused: bool


class TicketMarkedRead(DomainEvent):
    """A member's read marker moved forward (api.mark_ticket_read): the ticket is read for them."""

    event: Literal["ticket.read"]
    user_id: UUID
    last_read_message_id: UUID | None = None
    last_read_at: datetime


class MessageCreated(DomainEvent):
    event: Literal["message.created"]
    message_id: UUID
    kind: str
    author_kind: str


class MentionCreated(DomainEvent):
    event: Literal["mention.created"]
    message_id: UUID
    user_id: UUID


class ConversationStarted(DomainEvent):
    event: Literal["conversation.started"]
    mode: str


class ConversationChanged(DomainEvent):
    event: Literal[
        "conversation.completed", "conversation.signal", "conversation.ai_paused_changed"
    ]
    changed: list[str]
    mood: str | None = None
    ai_confidence: int | None = None
    outcome: str | None = None
    sentiment: float | None = None
    topic: str | None = None
    ai_score: int | None = None
    scored_message_id: UUID | None = None


class ConversationPauseChanged(DomainEvent):
    event: Literal["conversation.paused", "conversation.resumed"]
    ai_paused: bool
    reason: Literal["takeover", "pass_back", "escalation", "manual"]


class ContactChanged(DomainEvent):
    event: Literal["contact.created", "contact.updated"]
    contact_id: UUID


class CustomInboxChanged(DomainEvent):
    event: Literal["custom_inbox.created", "custom_inbox.updated", "custom_inbox.deleted"]
    custom_inbox_id: UUID


class ConversationUserActivity(_Broadcast):
    """Not logged: `api.conversation_heartbeat`, at most every 2 s per conversation."""

    event: Literal["conversation.user_activity"]
    workspace_id: UUID
    conversation_id: UUID
    last_user_activity_at: datetime


class AiWhisper(_Broadcast):
    """Not logged: a teammate's whisper to the AI runtime (`api.whisper_to_ai`)."""

    event: Literal["ai.whisper"]
    conversation_id: UUID
    message_id: UUID
    text: str
    training_entry_id: UUID | None = None


class JobAvailable(_Broadcast):
    """Not logged: the workers' doorbell on `jobs:<kind>` (`kind` is empty for the signal queue)."""

    event: Literal["job_available"]
    kind: str = ""


RealtimeEvent = Annotated[
    TicketCreated
    | TicketChanged
    | TicketSnoozed
    | TicketWoken
    | TicketMergeChanged
    | TicketAiPauseChanged
    | TicketMarkedRead
    | MessageCreated
    | MentionCreated
    | ConversationStarted
    | ConversationChanged
    | ConversationPauseChanged
    | ContactChanged
    | CustomInboxChanged
    | ConversationUserActivity
    | AiWhisper
    | JobAvailable,
    Field(discriminator="event"),
]

_ADAPTER: TypeAdapter[RealtimeEvent] = TypeAdapter(RealtimeEvent)


def _names(model: type[BaseModel]) -> tuple[str, ...]:
    return get_args(model.model_fields["event"].annotation)


# Every event name and its model (several names may share one model).
EVENT_MODELS: dict[str, type[_Broadcast]] = {
    name: model for model in get_args(get_args(RealtimeEvent)[0]) for name in _names(model)
}


def parse_event(name: str, payload: dict[str, Any]) -> RealtimeEvent:
    """The model of a broadcast: its event name and payload (pydantic's ValidationError if unknown)."""
    return _ADAPTER.validate_python({**payload, "event": name})
