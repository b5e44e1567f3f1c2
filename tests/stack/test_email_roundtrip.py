"""Acceptance: a signed Mailgun webhook becomes a ticket that an agent's supabase-py client sees
over REST and receives as a `ticket.created` broadcast; the agent's email reply goes out threaded
(through the email-send worker to the local SMTP sink); the customer's reply to it, which keeps
only our Message-ID in In-Reply-To, lands on the same ticket."""

from __future__ import annotations

import asyncio
import time
import uuid
from pathlib import Path

import httpx
import psycopg
import pytest
from realtime import RealtimeSubscribeStates

from halo_supabase.client import HaloClient
from halo_supabase.local.mail_sink import MailSink, read_mailbox
from halo_supabase.mail_senders import SmtpSender
from halo_supabase.runtime import Worker, WorkerConfig
from tests.conftest import scratch_dir
from tests.stack.conftest import Stack
from tests.stack.email_support import (
    email_gateway,
    email_worker,
    new_inbox,
    post_mailgun,
    service_api,
    signed_fields,
    wait_applied,
)
from tests.stack.realtime_support import Inbox as Heard
from tests.stack.realtime_support import user_token
from workers import email_send

__all__ = ["email_gateway"]

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def wait_for_mail(directory: Path, count: int, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while len(read_mailbox(directory)) < count:
        assert time.monotonic() < deadline, "no mail reached the sink"
        await asyncio.sleep(0.1)


async def test_webhook_to_ticket_to_threaded_reply_and_back(
    stack: Stack, email_gateway: str
) -> None:
    inbox = new_inbox(stack.db_url)
    # A teammate of its own: adding a seed user to a second workspace would change what other
    # tests on this shared database see (their default workspace becomes ambiguous).
    agent_id = str(uuid.uuid4())
    with psycopg.connect(stack.db_url) as conn:
        conn.execute(
            "insert into auth.users (id, aud, role, email) "
            "values (%s, 'authenticated', 'authenticated', %s)",
            (agent_id, f"sam-{agent_id[:8]}@roundtrip.test"),
        )
        conn.execute(
            "insert into halo.members (workspace_id, user_id, role, inbox_permission, display_name)"
            " values (%s, %s, 'member', 'reply', 'Sam Agent')",
            (inbox.workspace_id, agent_id),
        )
    token = user_token(agent_id)
    api = await HaloClient.connect(email_gateway, stack.anon_key, access_token=token)
    agent = api.supabase
    await agent.realtime.set_auth(token)
    heard = Heard()
    channel = agent.channel(f"workspace:{inbox.workspace_id}", {"config": {"private": True}})
    channel.on_broadcast("ticket.created", heard.callback())
    states: list[object] = []
    await channel.subscribe(lambda state, _error: states.append(state))
    assert states[-1] == RealtimeSubscribeStates.SUBSCRIBED

    mail_dir = scratch_dir("sink") / "mail"
    sink = MailSink(mail_dir)
    await sink.start()
    stop = asyncio.Event()
    sender = Worker(
        WorkerConfig("email-send", email_send.KIND, poll_seconds=0.5),
        email_send.EmailSend(SmtpSender("127.0.0.1", sink.port)).handle,
        await service_api(email_gateway, stack.service_role_key),
    )
    sending = asyncio.create_task(sender.run(stop))
    customer_id = f"<first-{uuid.uuid4().hex}@customer.example>"
    first = (
        f"From: Ada Customer <ada@customer.example>\r\nTo: {inbox.address}\r\n"
        f"Subject: Printer on fire\r\nMessage-ID: {customer_id}\r\n"
        "Date: Tue, 24 Nov 2026 10:00:00 +0000\r\nContent-Type: text/plain\r\n\r\nHelp!\r\n"
    )
    try:
        async with (
            httpx.AsyncClient(timeout=60) as http,
            email_worker(email_gateway, stack.service_role_key),
        ):
            posted = await post_mailgun(
                http, email_gateway, signed_fields(inbox.address, **{"body-mime": first})
            )
            assert posted.status_code == 200
            [[created]] = [await heard.wait(1, timeout=20)]
            ticket_id = created["payload"]["ticket_id"]

            [ticket] = await api.tickets(id=ticket_id)
            assert (str(ticket.id), ticket.subject, ticket.status) == (
                ticket_id,
                "Printer on fire",
                "open",
            )

            await api.append_message(ticket.id, kind="email", body_text="We are on it.")
            await wait_for_mail(mail_dir, 1)
            [sent] = read_mailbox(mail_dir)
            assert sent.header("X-Halo-Envelope-To") == "ada@customer.example"
            assert sent.header("In-Reply-To") == customer_id
            assert customer_id in sent.header("References")
            assert sent.header("Reply-To").startswith("reply+" + uuid.UUID(ticket_id).hex)
            assert sent.header("From") == f'"Sam Agent (Inbound test)" <{inbox.address}>'
            assert sent.header("Subject") == "Re: Printer on fire"
            ours = sent.header("Message-ID")

            answer = (
                f"From: Ada Customer <ada@customer.example>\r\nTo: {inbox.address}\r\n"
                f"Subject: Re: Printer on fire\r\nMessage-ID: <second-{uuid.uuid4().hex}@customer.example>\r\n"
                f"In-Reply-To: {ours}\r\nReferences: {customer_id} {ours}\r\n"
                "Date: Tue, 24 Nov 2026 10:05:00 +0000\r\nContent-Type: text/plain\r\n\r\n"
                "Thanks, it works now.\r\n\r\nOn Tue, 24 Nov 2026 at 10:01, Sam Agent <support@acme.test> wrote:\r\n> We are on it.\r\n"
            )
            await post_mailgun(
                http, email_gateway, signed_fields(inbox.address, **{"body-mime": answer})
            )
            await wait_applied(stack.db_url, inbox.address, 2)
    finally:
        stop.set()
        await asyncio.wait_for(sending, timeout=30)
        await sink.stop()
        await agent.remove_all_channels()

    thread = await api.messages(ticket_id=ticket_id, kind="email", order_by="created_at")
    assert [(m.direction, m.body_text) for m in thread] == [
        ("inbound", "Help!"),
        ("outbound", "We are on it."),
        ("inbound", "Thanks, it works now."),
    ]
    assert thread[1].email_message_id == ours.strip("<>")
    with psycopg.connect(stack.db_url) as conn:
        row = conn.execute(
            "select count(*) from halo.tickets where workspace_id = %s", (inbox.workspace_id,)
        ).fetchone()
    assert row == (1,)


async def test_acknowledgements_are_automatic_capped_and_suppressible(
    stack: Stack, email_gateway: str
) -> None:
    from workers import email_ack

    inbox = new_inbox(stack.db_url)
    with psycopg.connect(stack.db_url) as conn:
        conn.execute(
            "update halo.workspace_settings set email_settings ="
            ' \'{"auto_acknowledge": true, "auto_acknowledge_text": "Got it!"}\''
            " where workspace_id = %s",
            (inbox.workspace_id,),
        )

    def mail(sender: str, subject: str, extra: str = "") -> str:
        return (
            f"From: {sender}\r\nTo: {inbox.address}\r\nSubject: {subject}\r\n"
            f"Message-ID: <{uuid.uuid4().hex}@customer.example>\r\n{extra}"
            "Date: Tue, 24 Nov 2026 10:00:00 +0000\r\nContent-Type: text/plain\r\n\r\nHello\r\n"
        )

    mail_dir = scratch_dir("ack-sink") / "mail"
    sink = MailSink(mail_dir)
    await sink.start()
    stop = asyncio.Event()
    acker = Worker(
        WorkerConfig("email-ack", email_ack.KIND, poll_seconds=0.5),
        email_ack.EmailAck(SmtpSender("127.0.0.1", sink.port)).handle,
        await service_api(email_gateway, stack.service_role_key),
    )
    acking = asyncio.create_task(acker.run(stop))
    try:
        async with (
            httpx.AsyncClient(timeout=60) as http,
            email_worker(email_gateway, stack.service_role_key),
        ):
            raws = [mail("eve@customer.example", f"Question {n}") for n in range(5)]
            raws.append(
                mail("ops@customer.example", "Please no", "X-Auto-Response-Suppress: All\r\n")
            )
            raws.append(
                mail("bot@customer.example", "Out of office", "Auto-Submitted: auto-replied\r\n")
            )
            for raw in raws:
                posted = await post_mailgun(
                    http, email_gateway, signed_fields(inbox.address, **{"body-mime": raw})
                )
                assert posted.status_code == 200
                await wait_applied(stack.db_url, inbox.address, len(raws[: raws.index(raw) + 1]))
            await wait_for_mail(mail_dir, 3)
            await asyncio.sleep(1.5)  # anything over the cap would arrive meanwhile
    finally:
        stop.set()
        await asyncio.wait_for(acking, timeout=30)
        await sink.stop()
    sent = read_mailbox(mail_dir)
    assert [m.header("X-Halo-Envelope-To") for m in sent] == ["eve@customer.example"] * 3
    assert all(m.header("Auto-Submitted") == "auto-replied" for m in sent)
    assert all("Got it!" in m.message.get_body(("plain",)).get_content() for m in sent)  # type: ignore[union-attr]
