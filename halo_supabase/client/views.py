"""One read per `api` view: rows where each keyword column equals its value.

    open_tickets = await client.tickets(workspace_id=acme, status="open", limit=50)

`order_by`/`descending` sort, `at_least` bounds columns from below; RLS decides which rows the
caller sees. The writable views are written with `insert`, `update` and `delete`
(`halo_supabase.client.calls.ApiCalls`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Generic, TypeVar, overload

from halo_supabase.client.calls import ApiCalls
from halo_supabase.models import (
    AiAgent,
    AiReply,
    AliasUser,
    ApiKey,
    Company,
    Contact,
    Conversation,
    ConversationFeedRow,
    CustomInbox,
    EscalationSettings,
    Event,
    InboundAddress,
    InboundDelivery,
    Job,
    Member,
    Mention,
    Message,
    MessageFeedback,
    Segment,
    SpamRule,
    Ticket,
    TicketRead,
    TicketRow,
    TrainingEntry,
    TrustedSender,
    ViewModel,
    Visitor,
    Workspace,
    WorkspaceSettings,
)

__all__ = ["View", "ViewQuery", "ViewReads"]

V = TypeVar("V", bound=ViewModel)


@dataclass(frozen=True)
class ViewQuery(Generic[V]):
    """A view's read, bound to a client."""

    calls: ApiCalls
    model: type[V]

    async def __call__(
        self,
        *,
        limit: int = 1000,
        order_by: str | None = None,
        descending: bool = False,
        at_least: Mapping[str, object] | None = None,
        **equal: object,
    ) -> list[V]:
        return await self.calls.rows(
            self.model,
            limit=limit,
            order_by=order_by,
            descending=descending,
            at_least=at_least,
            **equal,
        )


class View(Generic[V]):
    """Declares a client method that reads `model`'s view."""

    def __init__(self, model: type[V]) -> None:
        self.model = model

    @overload
    def __get__(self, instance: None, owner: type[ApiCalls]) -> View[V]: ...
    @overload
    def __get__(self, instance: ApiCalls, owner: type[ApiCalls]) -> ViewQuery[V]: ...
    def __get__(self, instance: ApiCalls | None, owner: type[ApiCalls]) -> View[V] | ViewQuery[V]:
        return self if instance is None else ViewQuery(instance, self.model)


class ViewReads(ApiCalls):
    """One read per `api` view."""

    workspaces = View(Workspace)
    members = View(Member)
    alias_users = View(AliasUser)  # names teammates may reply as
    events = View(Event)  # to catch up in order, `events_since`
    jobs = View(Job)  # service role
    companies = View(Company)
    contacts = View(Contact)
    visitors = View(Visitor)  # anonymous widget visitors
    ai_agents = View(AiAgent)
    escalation_settings = View(EscalationSettings)
    workspace_settings = View(WorkspaceSettings)
    spam_rules = View(SpamRule)
    trusted_senders = View(TrustedSender)
    inbound_addresses = View(InboundAddress)
    inbound_emails = View(InboundDelivery)  # service role
    api_keys = View(ApiKey)  # never the key itself
    conversations = View(Conversation)
    conversation_feed = View(ConversationFeedRow)  # `list_conversations` pages it
    tickets = View(Ticket)
    ticket_rows = View(TicketRow)  # `list_tickets` filters, sorts and pages them
    ticket_reads = View(TicketRead)  # the caller's own read markers
    messages = View(Message)
    ai_replies = View(AiReply)  # confidence and tool calls of AI messages
    mentions = View(Mention)
    message_feedback = View(MessageFeedback)
    training_entries = View(TrainingEntry)
    custom_inboxes = View(CustomInbox)
    segments = View(Segment)
