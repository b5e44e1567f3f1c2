from __future__ import annotations

import uuid
from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from halo_supabase.email.classify import Kind, classify
from halo_supabase.email.message import Address
from halo_supabase.email.outbound import (
    MAX_REFERENCES,
    OutboundAttachment,
    SenderIdentity,
    build_reply,
    reply_subject,
)
from halo_supabase.email.parse import parse_email
from halo_supabase.email.threading import threading_candidates, verify_message_id

SECRET = b"workspace-secret"
DOMAIN = "mail.halo.test"
TICKET = uuid.UUID("5b0c6f0e-2d7a-4c51-9a6e-1f3b8c2d4e70")
IDENTITY = SenderIdentity("support@acme.example", "Acme")


def reply(**overrides: object) -> bytes:
    args: dict[str, object] = {
        "identity": IDENTITY,
        "to": [Address("juergen@example.de", "Jürgen Weiß")],
        "subject": reply_subject("Lieferung"),
        "text": "Hallo Jürgen,\n\ndas Netzteil ist unterwegs.\n",
        "ticket_id": TICKET,
        "message_ref": "77",
        "secret": SECRET,
        "domain": DOMAIN,
        "agent_name": "Mia",
        "replied_message_id": "customer-2@example.de",
        "replied_references": ["customer-1@example.de", "customer-2@example.de"],
        "date": datetime(2024, 6, 3, 10, 0, tzinfo=UTC),
    }
    args.update(overrides)
    return build_reply(**args).as_bytes()  # type: ignore[arg-type]


def test_threading_headers() -> None:
    msg = parse_email(reply())
    signed = verify_message_id(msg.message_id, [SECRET])
    assert signed is not None and (signed.ticket_id, signed.message_ref) == (TICKET, "77")
    assert msg.in_reply_to == ("customer-2@example.de",)
    assert msg.references == ("customer-1@example.de", "customer-2@example.de")
    assert msg.reply_to[0].addr.startswith("reply+")
    assert msg.from_ == Address("support@acme.example", "Mia (Acme)")
    assert msg.to == (Address("juergen@example.de", "Jürgen Weiß"),)
    assert reply().partition(b"\n\n")[0].isascii(), "ASCII addresses keep 7-bit headers"
    assert msg.subject == "Re: Lieferung"
    assert msg.text.startswith("Hallo Jürgen,")


def test_the_customers_answer_to_our_reply_threads_back_by_token_and_id() -> None:
    ours = parse_email(reply())
    answer = (
        f"From: jurgen@example.de\nTo: {ours.reply_to[0].addr}\nSubject: Re: Re: Lieferung\n"
        f"In-Reply-To: <{ours.message_id}>\nReferences: "
        + " ".join(f"<{i}>" for i in (*ours.references, ours.message_id))
        + "\n\nDanke!\n"
    ).encode()
    found = threading_candidates(parse_email(answer), [SECRET])
    assert [(c.source, c.ticket_id) for c in found.candidates[:2]] == [
        ("reply_token", TICKET),
        ("signed_id", TICKET),
    ]


def test_references_are_capped_but_keep_the_root() -> None:
    history = [f"m{i}@example.com" for i in range(40)]
    msg = parse_email(reply(replied_references=history, replied_message_id="m40@example.com"))
    assert len(msg.references) == MAX_REFERENCES
    assert msg.references[0] == "m0@example.com"
    assert msg.references[-1] == "m40@example.com"


def test_automatic_acknowledgements_are_marked_and_never_answered_by_us() -> None:
    raw = reply(automatic=True)
    msg = parse_email(raw)
    assert msg.header("Auto-Submitted") == "auto-replied"
    assert msg.header("X-Loop") == DOMAIN
    assert classify(msg, own_domains=[DOMAIN]).kind == Kind.AUTO_REPLY
    assert parse_email(reply()).header("Auto-Submitted") is None


def test_workspace_name_only_when_agents_are_hidden() -> None:
    hidden = SenderIdentity("support@acme.example", "Acme", show_agent_name=False)
    assert parse_email(reply(identity=hidden)).from_ == Address("support@acme.example", "Acme")


def test_html_alternative_and_attachments() -> None:
    raw = reply(
        html="<p>Hallo</p>",
        attachments=[OutboundAttachment("Rechnung.pdf", "application/pdf", b"%PDF-1.4")],
    )
    msg = parse_email(raw)
    assert msg.html is not None and "<p>Hallo</p>" in msg.html
    assert [(a.filename, a.data) for a in msg.attachments] == [("Rechnung.pdf", b"%PDF-1.4")]


def test_reply_subject_does_not_stack_prefixes() -> None:
    assert reply_subject("Re: Help") == "Re: Help"
    assert reply_subject("RE: Help") == "RE: Help"
    assert reply_subject("Help") == "Re: Help"


def test_an_internationalised_address_is_written_as_utf8() -> None:
    raw = reply(to=[Address("jürgen@example.de", "Jürgen")])
    assert "jürgen@example.de".encode() in raw
    assert parse_email(raw).to[0].addr == "jürgen@example.de"


def test_html_replies_carry_the_hidden_marker_and_text_replies_do_not() -> None:
    with_html = parse_email(reply(html="<p>Hallo</p>"))
    assert with_html.html is not None and "halo-ref:" in with_html.html
    assert "halo-ref:" not in with_html.text
    assert "halo-ref:" not in parse_email(reply()).text


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=60), st.text(max_size=30), st.lists(st.text(max_size=30), max_size=3))
def test_nothing_an_agent_types_can_add_a_header(subject: str, name: str, ids: list[str]) -> None:
    injected = f"{subject}\r\nBcc: victim@example.com\n"
    raw = reply(
        subject=injected,
        agent_name=name + "\nX-Injected: 1",
        to=[Address("a@example.com", name + "\r\nCc: x@example.com")],
        replied_message_id=ids[0] if ids else "a\nb@example.com",
        replied_references=ids,
        attachments=[OutboundAttachment("a\r\nb.txt", "text/plain\r\nX: y", b"x")],
    )
    msg = parse_email(raw)
    assert msg.header("bcc") is None
    assert msg.header("x-injected") is None
    assert msg.cc == ()
    assert [a.filename for a in msg.attachments] == ["a b.txt"]
