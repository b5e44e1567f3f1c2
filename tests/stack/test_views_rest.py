"""Views through the REST API with real member JWTs: built-in views, list rows, search, keyset
pagination, custom inboxes, segments, the sidebar counts and unread state in realtime."""

from __future__ import annotations

import uuid
from typing import Any
from uuid import UUID

from realtime import RealtimeSubscribeStates

from halo_supabase.models import Contact, CustomInbox, Segment, Ticket
from supabase import acreate_client
from tests.db.demo import AGENT, MANAGER
from tests.stack.conftest import Stack
from tests.stack.inbox_support import Inbox, inbox, refused
from tests.stack.realtime_support import Inbox as Heard

__all__ = ["inbox"]

BUILTIN = [
    "all",
    "agent_requests",
    "sales",
    "assigned_to_me",
    "mentions",
    "open",
    "priority",
    "in_progress",
    "snoozed",
    "resolved",
    "ai_resolved",
    "spam",
]


def token() -> str:
    return f"tok{uuid.uuid4().hex[:10]}"


def test_builtin_views_hold_what_their_name_says(inbox: Inbox) -> None:
    tag = token()
    made = {
        "open": inbox.ticket(f"{tag} a"),
        "priority": inbox.ticket(f"{tag} b", status="priority"),
        "in_progress": inbox.ticket(f"{tag} c", status="in_progress", assignee_id=UUID(AGENT)),
        "spam": inbox.ticket(f"{tag} d", status="spam"),
        "agent_requests": inbox.ticket(f"{tag} e", category="agent_request"),
        "sales": inbox.ticket(f"{tag} f", source="sales"),
    }
    made["snoozed"] = inbox.manager.transition_ticket(
        inbox.ticket(f"{tag} g").id, "snooze", "2999-01-01T00:00:00Z"
    )  # type: ignore[arg-type]
    made["resolved"] = inbox.manager.transition_ticket(inbox.ticket(f"{tag} h").id, "resolve")
    made["ai_resolved"] = inbox.service.transition_ticket(
        inbox.ticket(f"{tag} i").id, "resolve", resolved_by="ai"
    )
    mine = {"field": "subject", "cmp": "starts_with", "value": tag}
    for view in BUILTIN:
        rows = inbox.agent.list_tickets(view=view, filter=mine, limit=200)
        got = {t.id for t in rows}
        if view in made:
            assert made[view].id in got, view
        statuses = {t.status for t in rows}
        if view in (
            "open",
            "priority",
            "in_progress",
            "snoozed",
            "resolved",
            "ai_resolved",
            "spam",
        ):
            assert statuses <= {view}, view
        if view in ("all", "agent_requests", "sales", "assigned_to_me"):
            assert statuses <= {"open", "priority", "in_progress"}, view
    assert {t.id for t in inbox.agent.list_tickets(view="assigned_to_me", filter=mine)} == {
        made["in_progress"].id
    }
    error = refused(lambda: inbox.agent.list_tickets(view="nope"))
    assert error.code == "22023" and "unknown view nope" in str(error.message)
    assert refused(lambda: inbox.outsider.list_tickets(inbox.workspace)).code == "42501"


async def test_a_list_row_over_rest_and_its_unread_dot_in_realtime(
    stack: Stack, inbox: Inbox
) -> None:
    contact = inbox.service.insert(
        Contact,
        {"workspace_id": inbox.workspace, "email": f"{token()}@ex.test", "name": "Ada Byron"},
    )
    ticket = inbox.ticket("Printer jam", UUID(str(contact.id)), assignee_id=UUID(MANAGER))
    said = inbox.customer_says(ticket, "It jams on page two")
    [row] = [r for r in inbox.agent.list_tickets(view="all", limit=200) if r.id == ticket.id]
    assert (row.contact_name, row.contact_initials, row.assignee_name) == (
        "Ada Byron",
        "AB",
        "Maya",
    )
    assert (row.last_message_preview, row.last_message_author_name, row.unread) == (
        "It jams on page two",
        "Ada Byron",
        True,
    )

    dashboard = await acreate_client(stack.url, stack.anon_key)
    await dashboard.realtime.set_auth(inbox.agent_token)
    heard = Heard()
    channel = dashboard.channel(f"workspace:{inbox.workspace}", {"config": {"private": True}})
    channel.on_broadcast("ticket.read", heard.callback())
    states: list[str] = []
    await channel.subscribe(lambda state, _error: states.append(state))
    try:
        await Heard(states).wait(lambda got: RealtimeSubscribeStates.SUBSCRIBED in got)
        marker = inbox.agent.mark_ticket_read(ticket.id)
        [read] = await heard.wait(lambda got: bool(got), timeout=10)
    finally:
        await dashboard.realtime.close()
    assert marker.last_read_message_id == said.id
    assert (read["payload"]["ticket_id"], read["payload"]["user_id"]) == (str(ticket.id), AGENT)
    assert [
        r.unread for r in inbox.agent.list_tickets(view="all", limit=200) if r.id == ticket.id
    ] == [False]
    assert [
        r.unread for r in inbox.manager.list_tickets(view="all", limit=200) if r.id == ticket.id
    ] == [True]
    assert inbox.agent.ticket_reads(ticket_id=ticket.id)[0].last_read_message_id == said.id
    assert inbox.manager.ticket_reads(ticket_id=ticket.id) == []
    assert refused(lambda: inbox.outsider.unread_counts(inbox.workspace)).code == "42501"


def test_search_covers_subject_contact_and_message_text(inbox: Inbox) -> None:
    tag = token()
    contact = inbox.service.insert(
        Contact,
        {"workspace_id": inbox.workspace, "name": f"Zed {tag}n", "email": f"{tag}e@example.com"},
    )
    by_subject = inbox.ticket(f"Printer {tag}s")
    by_contact = inbox.ticket("Hello", contact.id)
    by_message = inbox.ticket("Question")
    inbox.customer_says(by_message, f"my code is {tag}m, thanks")

    def search(text: str) -> set[UUID]:
        return {t.id for t in inbox.viewer.list_tickets(view="everything", search=text)}

    assert search(f"{tag}s") == {by_subject.id}
    assert search(f"{tag}n") == {by_contact.id}
    assert search(f"{tag}e@example.com") == {by_contact.id}
    assert search(f"{tag}m") == {by_message.id}
    assert search(f"{tag}m -{tag}s") == {by_message.id}
    assert search(f"{tag}zzz") == set()


def test_keyset_pagination_returns_each_ticket_once_in_order(inbox: Inbox) -> None:
    tag = token()
    made = [inbox.ticket(f"{tag} {i}").id for i in range(7)]
    mine = {"field": "subject", "cmp": "starts_with", "value": tag}
    for sort in ("created_at.desc", "last_activity_at.asc", "number.desc"):
        seen: list[Ticket] = []
        after: dict[str, Any] = {}
        while True:
            page = inbox.agent.list_tickets(filter=mine, sort=sort, limit=3, **after)
            if not page:
                break
            seen += page
            column = sort.split(".")[0]
            last = page[-1]
            after = {
                "after_value": str(
                    getattr(last, column).isoformat() if column != "number" else last.number
                ),
                "after_id": last.id,
            }
        assert sorted(t.id for t in seen) == sorted(made)
        assert len(seen) == len(made)
        if sort == "number.desc":
            assert [t.number for t in seen] == sorted((t.number for t in seen), reverse=True)
    assert refused(lambda: inbox.agent.list_tickets(sort="subject.desc")).code == "22023"
    assert (
        refused(lambda: inbox.agent.list_tickets(after_value="x", after_id=made[0])).code == "22023"
    )


def test_custom_inboxes_are_shared_and_deleting_one_keeps_its_tickets(inbox: Inbox) -> None:
    label = token()
    ticket = inbox.ticket("Labelled")
    inbox.manager.set_ticket_labels(ticket.id, [label])
    created = inbox.manager.insert(
        CustomInbox,
        {
            "workspace_id": inbox.workspace,
            "name": "Label inbox",
            "emoji": "🏷️",
            "position": 9,
            "filter": {"field": "labels", "cmp": "contains", "value": label},
        },
    )
    view = f"custom:{created.id}"
    assert [t.id for t in inbox.agent.list_tickets(view=view)] == [ticket.id]
    assert inbox.agent.inbox_counts()["custom_inboxes"][str(created.id)] == 1
    assert (
        refused(
            lambda: inbox.agent.insert(CustomInbox, {"workspace_id": inbox.workspace, "name": "x"})
        ).code
        == "42501"
    )
    bad = refused(
        lambda: inbox.manager.insert(
            CustomInbox,
            {
                "workspace_id": inbox.workspace,
                "name": "Bad",
                "filter": {"field": "colour", "cmp": "eq", "value": 1},
            },
        )
    )
    assert bad.code == "22023" and "unknown field colour" in str(bad.message)
    assert [row.id for row in inbox.manager.delete(CustomInbox, id=created.id)] == [created.id]
    assert inbox.service.rows(Ticket, id=ticket.id)[0].labels == [label]
    assert refused(lambda: inbox.agent.list_tickets(view=view)).code == "P0002"


def test_segments_are_personal(inbox: Inbox) -> None:
    tag = token()
    ticket = inbox.ticket(f"{tag} segment", status="priority")
    created = inbox.agent.insert(
        Segment,
        {
            "workspace_id": inbox.workspace,
            "name": "Hot",
            "filter": {
                "op": "and",
                "children": [
                    {"field": "status", "cmp": "eq", "value": "priority"},
                    {"field": "subject", "cmp": "starts_with", "value": tag},
                ],
            },
        },
    )
    assert created.user_id == UUID(AGENT)
    assert [t.id for t in inbox.agent.list_tickets(view=f"segment:{created.id}")] == [ticket.id]
    assert inbox.agent.inbox_counts()["segments"] == {str(created.id): 1}
    assert str(created.id) not in inbox.manager.inbox_counts()["segments"]
    assert inbox.manager.segments(id=created.id) == []
    assert refused(lambda: inbox.manager.list_tickets(view=f"segment:{created.id}")).code == "P0002"
    inbox.agent.delete(Segment, id=created.id)


def test_inbox_counts_cover_every_view(inbox: Inbox) -> None:
    counts = inbox.agent.inbox_counts()
    assert set(counts["views"]) == set(BUILTIN)
    assert counts["workspace_id"] == str(inbox.workspace)
    before = counts["views"]["assigned_to_me"]
    ticket = inbox.ticket("Count me")
    inbox.manager.assign_ticket(ticket.id, UUID(AGENT))
    after = inbox.agent.inbox_counts()["views"]
    assert after["assigned_to_me"] == before + 1
    listed = inbox.agent.list_tickets(view="all", limit=200)
    assert after["all"] >= len(listed)
    assert counts["conversations"]["live"] >= 1
    assert refused(lambda: inbox.outsider.inbox_counts(inbox.workspace)).code == "42501"


def test_conversation_lists(inbox: Inbox) -> None:
    live = inbox.viewer.list_conversations(view="live")
    done = inbox.viewer.list_conversations(view="completed")
    assert live and {c.state for c in live} == {"live"}
    assert done and {c.state for c in done} == {"completed"}
    starts = [c.started_at for c in live]
    assert starts == sorted(starts, reverse=True)
    older = inbox.viewer.list_conversations(
        view="live", before=live[0].started_at, before_id=live[0].id
    )
    assert [c.id for c in older] == [c.id for c in live[1:]]
    assert refused(lambda: inbox.viewer.list_conversations(view="nope")).code == "22023"  # type: ignore[arg-type]
