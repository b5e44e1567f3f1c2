"""Pydantic models of the `api` views: what dashboards, API clients and workers read.

One model per view, fields in the view's column order; `VIEW` names the view. The test suite
checks every model against the database catalog and validates real seeded rows with it, so a
column added to a view without its field here fails the build.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict

__all__ = [
    "MODELS",
    "AiAgent",
    "AiAgentType",
    "AiReply",
    "AliasUser",
    "ApiKey",
    "ApiKeyCreated",
    "AuthorKind",
    "Channel",
    "Company",
    "Contact",
    "Conversation",
    "ConversationFeedRow",
    "ConversationMode",
    "CustomInbox",
    "Direction",
    "EscalationDecisionKind",
    "EscalationSettings",
    "Event",
    "InboundAddress",
    "InboundDelivery",
    "InboxPermission",
    "Job",
    "LastEscalationDecision",
    "Member",
    "Mention",
    "Message",
    "MessageFeedback",
    "MessageKind",
    "Mood",
    "Outcome",
    "Priority",
    "Segment",
    "SpamRule",
    "Ticket",
    "TicketRead",
    "TicketRow",
    "TicketStatus",
    "TrainingEntry",
    "TrustedSender",
    "ViewModel",
    "Visitor",
    "Workspace",
    "WorkspaceRole",
    "WorkspaceSettings",
]

WorkspaceRole = Literal["super_admin", "admin", "member"]
InboxPermission = Literal["none", "view", "reply", "manage"]
TicketStatus = Literal[
    "open", "priority", "in_progress", "snoozed", "resolved", "ai_resolved", "spam"
]
StatusCategory = Literal["open", "in_progress", "snoozed", "resolved", "spam"]
Priority = Literal["low", "normal", "high", "urgent"]
Resolver = Literal["human", "ai", "auto"]
Channel = Literal["email", "chat", "voice", "video", "api", "integration"]
MessageKind = Literal["chat", "email", "note", "system", "whisper"]
Direction = Literal["inbound", "outbound", "internal"]
AuthorKind = Literal["customer", "teammate", "ai_agent", "alias_user", "system"]
ConversationMode = Literal["chat", "voice", "video", "livehelp"]
ConversationState = Literal["live", "completed"]
Mood = Literal["happy", "neutral", "confused", "frustrated", "angry"]
Outcome = Literal["resolved", "escalated", "abandoned"]
EscalationDecisionKind = Literal["escalated", "not_escalated"]
JobState = Literal["queued", "running", "done", "dead"]
AiAgentType = Literal["customer_facing", "internal", "sales", "help_center"]
EscalationMode = Literal["off", "always", "conditional"]
Json = dict[str, Any]


class ViewModel(BaseModel):
    """A row of one `api` view."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    VIEW: ClassVar[str]


class Workspace(ViewModel):
    VIEW = "workspaces"
    id: UUID
    name: str
    created_at: datetime


class Member(ViewModel):
    VIEW = "members"
    workspace_id: UUID
    user_id: UUID
    role: WorkspaceRole
    inbox_permission: InboxPermission
    display_name: str
    email_alias: str | None
    online: bool
    created_at: datetime


class AliasUser(ViewModel):
    VIEW = "alias_users"
    id: UUID
    workspace_id: UUID
    name: str
    avatar_url: str | None
    created_at: datetime


class Event(ViewModel):
    VIEW = "events"
    workspace_id: UUID
    seq: int
    name: str
    ticket_id: UUID | None
    conversation_id: UUID | None
    actor_user_id: UUID | None
    data: Json
    created_at: datetime


class Job(ViewModel):
    VIEW = "jobs"
    id: int
    workspace_id: UUID | None
    kind: str
    payload: Json
    dedupe_key: str | None
    state: JobState
    visible_at: datetime
    attempts: int
    max_attempts: int
    lease_token: UUID | None
    locked_by: str | None
    last_error: str | None
    created_at: datetime
    updated_at: datetime
    finished_at: datetime | None


class Company(ViewModel):
    VIEW = "companies"
    id: UUID
    workspace_id: UUID
    external_id: str | None
    name: str
    domain: str | None
    industry: str | None
    plan: str | None
    traits: Json
    custom_fields: Json
    context: list[Json]
    created_at: datetime
    updated_at: datetime


class Contact(ViewModel):
    VIEW = "contacts"
    id: UUID
    workspace_id: UUID
    company_id: UUID | None
    external_id: str | None
    email: str | None
    name: str | None
    traits: Json
    custom_fields: Json
    context: list[Json]
    first_seen_at: datetime
    last_seen_at: datetime
    created_at: datetime
    updated_at: datetime


class Visitor(ViewModel):
    VIEW = "visitors"
    id: UUID
    workspace_id: UUID
    anonymous_id: str
    contact_id: UUID | None
    first_seen_at: datetime
    last_seen_at: datetime


class AiAgent(ViewModel):
    VIEW = "ai_agents"
    id: UUID
    workspace_id: UUID
    name: str
    type: AiAgentType
    active: bool
    created_at: datetime


class EscalationSettings(ViewModel):
    VIEW = "escalation_settings"
    ai_agent_id: UUID
    workspace_id: UUID
    mode: EscalationMode
    confidence_threshold: int
    max_attempts: int
    require_knowledge_search: bool
    require_web_search: bool
    escalation_filters: list[Json]
    priority_filters: list[Json]
    updated_at: datetime


class WorkspaceSettings(ViewModel):
    VIEW = "workspace_settings"
    workspace_id: UUID
    auto_assign_on_reply: bool
    spam_detection_enabled: bool
    offline_email_enabled: bool
    offline_email_delay_minutes: Literal[5, 15, 30, 60, 120]
    email_settings: Json
    updated_at: datetime


class SpamRule(ViewModel):
    VIEW = "spam_rules"
    id: UUID
    workspace_id: UUID
    description: str
    enabled: bool
    created_at: datetime


class TrustedSender(ViewModel):
    VIEW = "trusted_senders"
    id: UUID
    workspace_id: UUID
    pattern: str
    created_at: datetime


class InboundAddress(ViewModel):
    VIEW = "inbound_addresses"
    id: UUID
    workspace_id: UUID
    address: str
    display_name: str | None
    is_default: bool
    created_at: datetime


class InboundDelivery(ViewModel):
    """A stored webhook delivery and what applying it did (service role)."""

    VIEW = "inbound_emails"
    id: UUID
    workspace_id: UUID | None
    provider: Literal["mailgun", "postmark", "sendgrid", "raw"]
    provider_message_id: str | None
    recipient: str
    storage_path: str | None
    payload_format: Literal["mime", "form", "json"]
    size_bytes: int
    state: Literal["received", "applied", "duplicate", "ignored", "unroutable"]
    outcome: Json | None
    ticket_id: UUID | None
    message_id: UUID | None
    received_at: datetime
    applied_at: datetime | None


class ApiKey(ViewModel):
    VIEW = "api_keys"
    id: UUID
    workspace_id: UUID
    name: str
    prefix: str
    created_by: UUID | None
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class ConversationColumns(ViewModel):
    """The columns `api.conversations` and `api.conversation_feed` share, in their order."""

    id: UUID
    workspace_id: UUID
    session_id: str
    mode: ConversationMode
    ai_agent_id: UUID | None
    contact_id: UUID | None
    visitor_id: UUID | None
    state: ConversationState
    topic: str | None
    sentiment: float | None
    mood: Mood | None
    ai_confidence: int | None
    outcome: Outcome | None
    ai_score: int | None
    ai_paused: bool
    metadata: Json
    last_user_activity_at: datetime | None
    started_at: datetime
    ended_at: datetime | None


class LastEscalationDecision(BaseModel):
    """The escalation worker's last decision, the last columns of both conversation views.

    Listed first among a model's bases so that its fields come last (pydantic orders fields by
    the reversed method resolution order).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")
    escalation_decision: EscalationDecisionKind | None
    escalation_reason: str | None  # a code of halo_supabase.ai.escalation.Reason
    escalation_decided_at: datetime | None


class Conversation(LastEscalationDecision, ConversationColumns):
    VIEW = "conversations"


class ConversationFeedColumns(ConversationColumns):
    """The Live Feed's own columns, after those of `api.conversations`."""

    user_name: str  # the contact's name or email, or "Anonymous"
    agent_name: str | None
    user_active: bool  # user activity in the last 30 seconds


class ConversationFeedRow(LastEscalationDecision, ConversationFeedColumns):
    """A Live Feed or Completed row (`api.list_conversations`)."""

    VIEW = "conversation_feed"


class Ticket(ViewModel):
    VIEW = "tickets"
    id: UUID
    workspace_id: UUID
    number: int
    subject: str
    status: TicketStatus
    status_category: StatusCategory
    priority: Priority
    resolved_by: Resolver | None
    resolved_at: datetime | None
    snoozed_until: datetime | None
    category: str | None
    source: str
    channel: Channel
    assignee_id: UUID | None
    contact_id: UUID | None
    company_id: UUID | None
    conversation_id: UUID | None
    merged_into_id: UUID | None
    metadata: Json
    custom_fields: Json
    labels: list[str]
    ai_confidence: int | None
    escalation_reason: str | None
    ai_paused: bool
    auto_created: bool
    first_response_at: datetime | None
    last_customer_message_at: datetime | None
    last_activity_at: datetime
    waiting_since: datetime | None
    created_at: datetime
    updated_at: datetime


class TicketRow(Ticket):
    """A row of a ticket list (`api.list_tickets`): the ticket plus what the list shows of it."""

    VIEW = "ticket_rows"
    contact_name: str | None
    contact_email: str | None
    contact_initials: str | None  # "Hank Scorpio" -> "HS"; the email's local part without a name
    company_name: str | None
    assignee_name: str | None
    last_message_id: UUID | None  # the last message other than system rows
    last_message_kind: MessageKind | None
    last_message_author_kind: AuthorKind | None
    last_message_author_user_id: UUID | None
    last_message_author_name: str | None
    last_message_preview: str | None  # its first 140 characters on one line
    last_message_at: datetime | None
    last_read_at: datetime | None  # the caller's read marker
    unread: bool | None  # None without a signed-in member
    mood: Mood | None  # of the linked conversation
    conversation_ai_confidence: int | None


class TicketRead(ViewModel):
    """The caller's read marker on a ticket (`api.mark_ticket_read`)."""

    VIEW = "ticket_reads"
    user_id: UUID
    ticket_id: UUID
    workspace_id: UUID
    last_read_message_id: UUID | None
    last_read_at: datetime
    updated_at: datetime


class Message(ViewModel):
    VIEW = "messages"
    id: UUID
    workspace_id: UUID
    ticket_id: UUID | None
    conversation_id: UUID | None
    kind: MessageKind
    direction: Direction
    author_kind: AuthorKind
    author_user_id: UUID | None
    author_contact_id: UUID | None
    author_visitor_id: UUID | None
    author_ai_agent_id: UUID | None
    author_alias_user_id: UUID | None
    body_text: str | None
    body_html: str | None
    email_message_id: str | None
    email_in_reply_to: str | None
    email_references: list[str] | None
    email_headers: Json | None
    attachments: list[Json]
    mentions: list[UUID]
    activity: Json | None
    client_echo_id: str | None
    created_at: datetime
    merged_from_ticket_id: UUID | None  # the ticket a merge moved it from


class AiReply(ViewModel):
    """What the AI did on one of its messages: confidence and tool calls (`api.ai_replies`)."""

    VIEW = "ai_replies"
    message_id: UUID
    conversation_id: UUID
    workspace_id: UUID
    confidence: int | None
    tool_calls: list[Json]
    created_at: datetime


class Mention(ViewModel):
    VIEW = "mentions"
    message_id: UUID
    user_id: UUID
    workspace_id: UUID
    ticket_id: UUID | None
    created_at: datetime


class MessageFeedback(ViewModel):
    VIEW = "message_feedback"
    message_id: UUID
    user_id: UUID
    workspace_id: UUID
    rating: Literal[-1, 1] | None
    correction: str | None
    created_at: datetime


class TrainingEntry(ViewModel):
    """What the AI was taught: a whisper, a correction or a composer entry (Inbox Training)."""

    VIEW = "training_entries"
    id: UUID
    workspace_id: UUID
    scope: Literal["workspace", "contact", "company"]
    contact_id: UUID | None
    company_id: UUID | None
    source: Literal["whisper", "correction", "composer"]
    source_message_id: UUID | None
    conversation_id: UUID | None
    body_text: str
    created_by: UUID | None
    created_at: datetime
    updated_at: datetime


class CustomInbox(ViewModel):
    VIEW = "custom_inboxes"
    id: UUID
    workspace_id: UUID
    name: str
    emoji: str | None
    filter: Json
    position: int
    created_by: UUID | None
    created_at: datetime
    updated_at: datetime


class Segment(ViewModel):
    VIEW = "segments"
    id: UUID
    workspace_id: UUID
    user_id: UUID
    name: str
    filter: Json
    position: int
    created_at: datetime
    updated_at: datetime


class ApiKeyCreated(BaseModel):
    """What `api.create_api_key` returns: the only time the key itself is visible."""

    model_config = ConfigDict(frozen=True)
    id: UUID
    key: str


MODELS: tuple[type[ViewModel], ...] = (
    Workspace,
    Member,
    AliasUser,
    Event,
    Job,
    Company,
    Contact,
    Visitor,
    AiAgent,
    EscalationSettings,
    WorkspaceSettings,
    SpamRule,
    TrustedSender,
    InboundAddress,
    InboundDelivery,
    ApiKey,
    Conversation,
    ConversationFeedRow,
    Ticket,
    TicketRow,
    TicketRead,
    Message,
    AiReply,
    Mention,
    MessageFeedback,
    TrainingEntry,
    CustomInbox,
    Segment,
)
