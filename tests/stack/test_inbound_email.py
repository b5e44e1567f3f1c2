"""Inbound email end to end: signed webhooks through the real `inbound-email` edge function
(Deno) and gateway, stored in Storage, recorded with their job, applied by the email worker on
the real runtime into tickets."""

from __future__ import annotations

import json
import time
import uuid

import httpx
import psycopg
import pytest

from halo_supabase.email import make_reply_address
from halo_supabase.limits import INLINE_RAW_MAX_BYTES, MESSAGE_MAX_BYTES
from tests.stack.conftest import Stack
from tests.stack.email_support import (
    CORPUS,
    deliveries,
    email_gateway,
    email_worker,
    mailgun_signature,
    new_inbox,
    post_mailgun,
    signed_fields,
    wait_applied,
)

__all__ = ["email_gateway"]  # the fixture, imported so pytest finds it

pytestmark = pytest.mark.asyncio(loop_scope="session")


def message(sender: str, to: str, subject: str, body: str, **headers: str) -> str:
    extra = "".join(f"{name.replace('_', '-')}: {value}\r\n" for name, value in headers.items())
    return (
        f"From: Ada Customer <{sender}>\r\nTo: {to}\r\nSubject: {subject}\r\n"
        f"Message-ID: <{uuid.uuid4().hex}@mail.example>\r\nDate: Tue, 24 Nov 2026 10:00:00 +0000\r\n"
        f"{extra}Content-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n"
    )


def tickets(db_url: str, workspace_id: str) -> list[tuple[str, str, str]]:
    with psycopg.connect(db_url) as conn:
        return [
            (str(r[0]), r[1], r[2])
            for r in conn.execute(
                "select id, subject, status_category from halo.tickets where workspace_id = %s"
                " order by number",
                (workspace_id,),
            )
        ]


def thread(db_url: str, ticket_id: str) -> list[tuple[str, str]]:
    with psycopg.connect(db_url) as conn:
        return [
            (r[0], r[1])
            for r in conn.execute(
                "select body_text, email_headers->>'halo_kind' from halo.messages"
                " where ticket_id = %s and kind = 'email' order by created_at",
                (ticket_id,),
            )
        ]


async def test_a_signed_mailgun_mime_post_becomes_a_ticket(
    stack: Stack, email_gateway: str
) -> None:
    inbox = new_inbox(stack.db_url)
    raw = (CORPUS / "new_plain_en.eml").read_text(errors="replace")
    async with (
        httpx.AsyncClient(timeout=60) as http,
        email_worker(email_gateway, stack.service_role_key),
    ):
        response = await post_mailgun(
            http, email_gateway, signed_fields(inbox.address, **{"body-mime": raw})
        )
        assert response.status_code == 200, response.text
        [(_, state, outcome)] = await wait_applied(stack.db_url, inbox.address, 1)
    assert state == "applied"
    assert outcome is not None and outcome["kind"] == "new"
    [(ticket_id, subject, status)] = tickets(stack.db_url, inbox.workspace_id)
    assert status == "open"
    assert subject
    [(body, kind)] = thread(stack.db_url, ticket_id)
    assert body and kind == "new"


async def test_forward_mode_form_posts_are_rebuilt_by_the_worker(
    stack: Stack, email_gateway: str
) -> None:
    inbox = new_inbox(stack.db_url)
    headers = json.dumps(
        [
            ["From", "Bo Buyer <bo@customer.example>"],
            ["To", inbox.address],
            ["Subject", "Invoice copy"],
            ["Message-Id", f"<fwd-{uuid.uuid4().hex}@customer.example>"],
        ]
    )
    async with (
        httpx.AsyncClient(timeout=60) as http,
        email_worker(email_gateway, stack.service_role_key),
    ):
        response = await http.post(
            f"{email_gateway}/functions/v1/inbound-email/mailgun",
            data=signed_fields(
                inbox.address,
                **{"message-headers": headers, "body-plain": "Please resend invoice 42."},
            ),
            files={"attachment-1": ("invoice.pdf", b"%PDF-1.4 fake", "application/pdf")},
        )
        assert response.status_code == 200, response.text
        await wait_applied(stack.db_url, inbox.address, 1)
    [(ticket_id, subject, _)] = tickets(stack.db_url, inbox.workspace_id)
    assert subject == "Invoice copy"
    with psycopg.connect(stack.db_url) as conn:
        row = conn.execute(
            "select body_text, attachments from halo.messages where ticket_id = %s", (ticket_id,)
        ).fetchone()
    assert row is not None
    assert "invoice 42" in row[0]
    assert [a["name"] for a in row[1]] == ["invoice.pdf"]


async def test_the_same_email_delivered_twice_is_stored_once(
    stack: Stack, email_gateway: str
) -> None:
    inbox = new_inbox(stack.db_url)
    raw = message("ada@customer.example", inbox.address, "Printer on fire", "It is on fire.")
    async with (
        httpx.AsyncClient(timeout=60) as http,
        email_worker(email_gateway, stack.service_role_key),
    ):
        for _ in range(2):  # a provider retry: same mail, new token and signature
            response = await post_mailgun(
                http, email_gateway, signed_fields(inbox.address, **{"body-mime": raw})
            )
            assert response.status_code == 200
        rows = await wait_applied(stack.db_url, inbox.address, 2)
    assert sorted(state for _, state, _ in rows) == ["applied", "duplicate"]
    [(ticket_id, _, _)] = tickets(stack.db_url, inbox.workspace_id)
    assert len(thread(stack.db_url, ticket_id)) == 1


async def test_bad_signatures_replays_and_oversize_posts_are_refused_and_not_stored(
    stack: Stack, email_gateway: str
) -> None:
    inbox = new_inbox(stack.db_url)
    raw = message("ada@customer.example", inbox.address, "Hello", "Hi")
    async with httpx.AsyncClient(timeout=60) as http:
        forged = signed_fields(inbox.address, **{"body-mime": raw})
        forged["signature"] = mailgun_signature(forged["timestamp"], forged["token"], "wrong")
        assert (await post_mailgun(http, email_gateway, forged)).status_code == 406

        stale = signed_fields(inbox.address, **{"body-mime": raw})
        stale["timestamp"] = str(int(time.time()) - 3600)
        stale["signature"] = mailgun_signature(stale["timestamp"], stale["token"])
        refused = await post_mailgun(http, email_gateway, stale)
        assert (refused.status_code, refused.json()["error"]) == (406, "stale")

        once = signed_fields(inbox.address, **{"body-mime": raw})
        assert (await post_mailgun(http, email_gateway, once)).status_code == 200
        replay = await post_mailgun(http, email_gateway, once)
        assert (replay.status_code, replay.json()["error"]) == (406, "replayed")

        huge = signed_fields(inbox.address, **{"body-mime": "x" * (MESSAGE_MAX_BYTES + 1)})
        assert (await post_mailgun(http, email_gateway, huge)).status_code == 406

        unauthorized = await http.post(
            f"{email_gateway}/functions/v1/inbound-email/postmark", json={"MessageID": "x"}
        )
        assert unauthorized.status_code == 403
    assert len(deliveries(stack.db_url, inbox.address)) == 1  # only the genuine first post


async def test_replies_thread_reopen_and_auto_replies_do_not(
    stack: Stack, email_gateway: str
) -> None:
    inbox = new_inbox(stack.db_url)
    first = message("ada@customer.example", inbox.address, "Broken login", "I cannot log in.")
    async with (
        httpx.AsyncClient(timeout=60) as http,
        email_worker(email_gateway, stack.service_role_key),
    ):
        await post_mailgun(
            http, email_gateway, signed_fields(inbox.address, **{"body-mime": first})
        )
        await wait_applied(stack.db_url, inbox.address, 1)
        [(ticket_id, _, _)] = tickets(stack.db_url, inbox.workspace_id)
        with psycopg.connect(stack.db_url) as conn:
            conn.execute(
                "update halo.tickets set status_category = 'resolved', resolved_by = 'human',"
                " resolved_at = now() where id = %s",
                (ticket_id,),
            )
            [secret] = conn.execute(
                "select api.email_secrets(%s)", (inbox.workspace_id,)
            ).fetchone()[0][:1]
        reply_to = make_reply_address(
            uuid.UUID(ticket_id), secret.encode(), "inbox.halo-test.example"
        )

        auto = message(
            "ada@customer.example",
            reply_to,
            "Automatic reply: Broken login",
            "I am away.",
            Auto_Submitted="auto-replied",
        )
        await post_mailgun(http, email_gateway, signed_fields(reply_to, **{"body-mime": auto}))
        await wait_applied(stack.db_url, reply_to, 1)
        assert tickets(stack.db_url, inbox.workspace_id)[0][2] == "resolved"

        stranger = message("mallory@evil.example", reply_to, "Re: Broken login", "Let me in.")
        await post_mailgun(http, email_gateway, signed_fields(reply_to, **{"body-mime": stranger}))

        reply = message(
            "ada@customer.example",
            reply_to,
            "Re: Broken login",
            "Still broken!\n\n> I cannot log in.",
        )
        await post_mailgun(http, email_gateway, signed_fields(reply_to, **{"body-mime": reply}))
        await wait_applied(stack.db_url, reply_to, 3)

    listed = tickets(stack.db_url, inbox.workspace_id)
    assert listed[0][2] == "open"  # reopened by the customer's reply
    assert len(listed) == 2  # the stranger's mail did not join Ada's ticket: a new one
    bodies = thread(stack.db_url, ticket_id)
    assert [kind for _, kind in bodies] == ["new", "auto_reply", "reply"]
    assert bodies[2][0] == "Still broken!"  # the quote is stripped for display


async def test_postmark_sendgrid_and_relay_deliveries_become_tickets(
    stack: Stack, email_gateway: str
) -> None:
    from tests.stack.email_support import BASIC_AUTH, RELAY_TOKEN

    inbox = new_inbox(stack.db_url)
    user, password = BASIC_AUTH.split(":")
    async with (
        httpx.AsyncClient(timeout=60) as http,
        email_worker(email_gateway, stack.service_role_key),
    ):
        postmark = {
            "MessageID": f"pm-{uuid.uuid4()}",
            "OriginalRecipient": inbox.address,
            "FromFull": {"Email": "pat@customer.example", "Name": "Pat"},
            "ToFull": [{"Email": inbox.address, "Name": ""}],
            "Subject": "Postmark question",
            "Date": "Tue, 24 Nov 2026 10:00:00 +0000",
            "Headers": [
                {"Name": "Message-ID", "Value": f"<pm-{uuid.uuid4().hex}@customer.example>"}
            ],
            "TextBody": "Sent through Postmark.",
        }
        sent = await http.post(
            f"{email_gateway}/functions/v1/inbound-email/postmark",
            json=postmark,
            auth=(user, password),
        )
        assert sent.status_code == 200, sent.text
        again = await http.post(
            f"{email_gateway}/functions/v1/inbound-email/postmark",
            json=postmark,
            auth=(user, password),
        )
        assert again.json()["duplicate"] is True  # Postmark's retry of the same MessageID

        sendgrid_raw = message("sam@customer.example", inbox.address, "SendGrid raw", "Raw mode.")
        sent = await http.post(
            f"{email_gateway}/functions/v1/inbound-email/sendgrid",
            data={"email": sendgrid_raw, "envelope": f'{{"to": ["{inbox.address}"]}}'},
            auth=(user, password),
        )
        assert sent.status_code == 200, sent.text

        relayed = message("rio@customer.example", inbox.address, "Relayed", "Via a relay.")
        sent = await http.post(
            f"{email_gateway}/functions/v1/inbound-email/raw",
            params={"to": inbox.address},
            content=relayed.encode(),
            headers={"Authorization": f"Bearer {RELAY_TOKEN}"},
        )
        assert sent.status_code == 200, sent.text
        wrong = await http.post(
            f"{email_gateway}/functions/v1/inbound-email/raw",
            params={"to": inbox.address},
            content=relayed.encode(),
            headers={"Authorization": "Bearer nope"},
        )
        assert wrong.status_code == 401
        await wait_applied(stack.db_url, inbox.address, 3)
    subjects = sorted(subject for _, subject, _ in tickets(stack.db_url, inbox.workspace_id))
    assert subjects == ["Postmark question", "Relayed", "SendGrid raw"]


def stored_where(db_url: str, recipient: str) -> list[tuple[bool, int]]:
    """(kept inline, objects in the bucket) of each delivery to `recipient`, oldest first."""
    with psycopg.connect(db_url) as conn:
        return [
            (r[0], r[1])
            for r in conn.execute(
                "select i.raw_inline is not null, (select count(*) from storage.objects o"
                "  where o.bucket_id = 'inbound-email' and o.name = i.storage_path)"
                " from halo.inbound_emails i where i.recipient = %s order by i.received_at",
                (recipient,),
            )
        ]


async def test_small_text_mail_is_stored_inline_and_the_rest_in_storage(
    stack: Stack, email_gateway: str
) -> None:
    from tests.stack.email_support import RELAY_TOKEN

    inbox = new_inbox(stack.db_url)
    small = message("ina@customer.example", inbox.address, "Small", "Short question. Grüße!")
    big = message("bo@customer.example", inbox.address, "Big", "x" * 70_000)
    latin1 = message("lu@customer.example", inbox.address, "Latin-1", "Caf\xe9").replace(
        "charset=utf-8", "charset=iso-8859-1"
    )
    async with (
        httpx.AsyncClient(timeout=60) as http,
        email_worker(email_gateway, stack.service_role_key),
    ):
        for raw in (small, big):
            sent = await post_mailgun(
                http, email_gateway, signed_fields(inbox.address, **{"body-mime": raw})
            )
            assert sent.status_code == 200, sent.text
        sent = await http.post(
            f"{email_gateway}/functions/v1/inbound-email/raw",
            params={"to": inbox.address},
            content=latin1.encode("latin-1"),  # not UTF-8: kept byte for byte in Storage
            headers={"Authorization": f"Bearer {RELAY_TOKEN}"},
        )
        assert sent.status_code == 200, sent.text
        await wait_applied(stack.db_url, inbox.address, 3)
    # Inline: no object in the bucket; the others: exactly their one object.
    assert stored_where(stack.db_url, inbox.address) == [(True, 0), (False, 1), (False, 1)]
    subjects = sorted(subject for _, subject, _ in tickets(stack.db_url, inbox.workspace_id))
    assert subjects == ["Big", "Latin-1", "Small"]
    bodies = [
        body
        for ticket_id, subject, _ in tickets(stack.db_url, inbox.workspace_id)
        if subject in ("Small", "Latin-1")
        for body, _ in thread(stack.db_url, ticket_id)
    ]
    assert sorted(bodies) == ["Café", "Short question. Grüße!"]


async def test_the_edge_function_keeps_inline_exactly_up_to_the_declared_limit(
    stack: Stack, email_gateway: str
) -> None:
    from tests.stack.email_support import RELAY_TOKEN

    inbox = new_inbox(stack.db_url)
    header = message("ed@customer.example", inbox.address, "Edge", "")
    async with httpx.AsyncClient(timeout=60) as http:
        for size in (INLINE_RAW_MAX_BYTES, INLINE_RAW_MAX_BYTES + 1):
            raw = header + "x" * (size - len(header.encode()))
            assert len(raw.encode()) == size
            sent = await http.post(
                f"{email_gateway}/functions/v1/inbound-email/raw",
                params={"to": inbox.address},
                content=raw.encode(),
                headers={"Authorization": f"Bearer {RELAY_TOKEN}"},
            )
            assert sent.status_code == 200, sent.text
    assert stored_where(stack.db_url, inbox.address) == [(True, 0), (False, 1)]
