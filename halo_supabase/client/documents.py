"""Pydantic models of the JSON documents `api` functions take and return.

The rows of views are in :mod:`halo_supabase.models` (one model per view, checked against the
catalog); this module holds the `jsonb` arguments and results of functions, whose shape the SQL
builds or reads key by key. :class:`InboundEmailDocument` is the contract of
`api.apply_inbound_email(s)`: its JSON schema names every key the SQL function reads, and a test
holds the two equal.
"""

from __future__ import annotations

from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from halo_supabase.models import AiAgentType

__all__ = [
    "ConversationFacts",
    "EscalationContext",
    "InboundAttachment",
    "InboundCc",
    "InboundEmailDocument",
    "InboundEmailKind",
    "InboundOutcome",
    "InboundReceipt",
    "OutboundContact",
    "OutboundEmailContext",
    "OutboundIdentity",
    "OutboundMessage",
    "OutboundTicket",
    "RepliedEmail",
    "SignalApplyStatus",
    "SignalClaim",
    "SignalItem",
    "SignalResult",
    "SignalWrite",
]


class _Document(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class _Answer(BaseModel):
    """A function's result: keys added to it later must not break a deployed worker."""

    model_config = ConfigDict(frozen=True, extra="ignore")


# -- inbound email -----------------------------------------------------------------------------

InboundEmailKind = Literal["new", "reply", "forward", "auto_reply", "bounce"]


class InboundCc(_Document):
    """A Cc'd address: kept as a participant of the ticket (unless it is the customer)."""

    email: str


class InboundAttachment(_Document):
    """An attachment the worker stored in the `inbound-email` bucket."""

    name: str | None
    content_type: str | None
    size: int
    storage_path: str = Field(description="<bucket>/<path> of the stored bytes")
    content_id: str | None = None
    inline: bool = False


class InboundEmailDocument(_Document):
    """One parsed, classified, threaded inbound email: what `api.apply_inbound_email` applies.

    Message-IDs are without angle brackets. Threading evidence (`ticket_candidates` from verified
    reply tokens and our own signed Message-IDs, `message_id_candidates` from In-Reply-To and
    References) is checked by the worker; the database only looks ids up and applies its guards.
    """

    kind: InboundEmailKind
    from_email: str
    from_name: str = ""
    customer_email: str | None = Field(
        None, description="the customer: the sender, or a forward's original sender"
    )
    customer_name: str | None = None
    subject: str = ""
    message_id: str | None = None
    in_reply_to: str | None = None
    references: list[str] = []
    cc: list[InboundCc] = []
    body_text: str = Field("", description="the new text, quoted history stripped")
    body_html: str | None = None
    headers: dict[str, Any] = Field(
        {}, description="kept headers (lower-case names), `defects` and classification `reasons`"
    )
    attachments: list[InboundAttachment] = []
    spam: bool = False
    spam_reasons: list[str] = []
    ticket_candidates: list[UUID] = []
    message_id_candidates: list[str] = []


class InboundOutcome(_Answer):
    """What applying an inbound email did; applying it again returns the first outcome."""

    result: Literal["applied", "duplicate", "ignored"]
    kind: str | None = None
    ticket_id: UUID | None = None
    message_id: UUID | None = None
    replayed: bool = False  # the delivery was applied before: this is that first outcome


class InboundReceipt(_Answer):
    """`api.receive_inbound_email`: the stored delivery (`routed` false: no workspace has the
    recipient address; `duplicate`: the provider's id was stored before)."""

    id: UUID
    duplicate: bool
    routed: bool | None = None


# -- outbound email ----------------------------------------------------------------------------


class OutboundMessage(_Answer):
    id: UUID
    ticket_id: UUID
    workspace_id: UUID
    kind: str
    direction: str
    author_kind: str
    body_text: str | None
    body_html: str | None
    email_message_id: str | None
    automatic: bool


class OutboundTicket(_Answer):
    id: UUID
    subject: str
    metadata: dict[str, Any]


class OutboundContact(_Answer):
    email: str | None
    name: str | None


class RepliedEmail(_Answer):
    """The customer's latest email before the reply: what the reply threads under."""

    email_message_id: str
    email_references: list[str]


class OutboundIdentity(_Answer):
    """The workspace address the reply is sent from."""

    address: str
    name: str


class OutboundEmailContext(_Answer):
    """Everything the email-send worker needs to build one reply (`api.outbound_email_context`)."""

    message: OutboundMessage
    ticket: OutboundTicket
    contact: OutboundContact | None
    replied: RepliedEmail | None
    identity: OutboundIdentity | None
    agent_name: str | None


# -- escalation --------------------------------------------------------------------------------


class EscalationContext(_Answer):
    """What the escalation worker decides on for one AI turn (`api.escalation_context`)."""

    conversation_id: UUID
    agent_type: AiAgentType
    settings: dict[str, Any]
    message_id: UUID | None = None
    reply: str = ""
    confidence: int | None = None
    tool_calls: list[str | None] = []  # the names of the tools the AI called
    escalate_reason: str | None = None
    customer_message: str | None = None
    ai_turns: int = 0
    knowledge_searched: bool = False
    web_searched: bool = False
    contact_traits: dict[str, Any] = {}


# -- conversation signals ----------------------------------------------------------------------

SignalApplyStatus = Literal["applied", "deferred", "conflict", "lease_lost", "gone"]


class SignalItem(_Answer):
    """A queued customer message to score, or a completed conversation to give its AI score."""

    id: int
    kind: Literal["message", "score"]
    conversation_id: str
    message_id: str | None = None
    text: str | None = None


class ConversationFacts(_Answer):
    """What the database knew of a conversation when the batch was claimed."""

    state: str
    outcome: str | None = None
    topic: str | None = None
    sentiment_state: dict[str, Any] | None = None
    ready_in_ms: float = 0
    thumbs_up: int = 0
    thumbs_down: int = 0

    @property
    def ready_in(self) -> float:
        """Seconds until the next mood update may be streamed."""
        return self.ready_in_ms / 1000


class SignalClaim(_Answer):
    """A leased batch of the signals queue (`api.claim_conversation_signals`)."""

    items: list[SignalItem]
    conversations: dict[str, ConversationFacts]
    dropped: int = Field(0, description="items that failed too often and were discarded")


class SignalWrite(_Document):
    """The new values of one conversation and the queue items they account for."""

    conversation_id: str
    base_messages: int
    item_ids: list[int]
    sentiment_state: dict[str, Any] | None = None
    sentiment: float | None = None
    mood: str | None = None
    scored_message_id: str | None = None
    topic: str | None = None
    ai_score: int | None = None


class SignalResult(_Answer):
    """One conversation's status after `api.apply_conversation_signals`."""

    conversation_id: str
    status: SignalApplyStatus
    retry_in_ms: float = 0

    @property
    def retry_in(self) -> float:
        """Seconds until a deferred write may be retried."""
        return self.retry_in_ms / 1000
