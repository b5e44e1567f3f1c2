from __future__ import annotations

import base64
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from halo_supabase.email.parse import parse_email
from halo_supabase.email.webhooks import (
    UploadedFile,
    mailgun_email,
    postmark_email,
    raw_email,
    sendgrid_email,
)
from halo_supabase.errors import WebhookPayloadError
from halo_supabase.limits import MESSAGE_MAX_BYTES


def test_mailgun_mime_mode_is_taken_as_is() -> None:
    raw = b"From: a@example.com\r\nSubject: hi\r\n\r\nbody\r\n"
    inbound = mailgun_email(
        {"body-mime": raw.decode(), "recipient": "support@acme.example", "sender": "a@example.com"}
    )
    assert inbound.raw == raw
    assert inbound.envelope_recipients == ("support@acme.example",)
    assert inbound.envelope_sender == "a@example.com"


def test_mailgun_forward_mode_is_rebuilt_with_headers_bodies_and_attachments() -> None:
    headers = [
        ["From", "Zoë Adams <zoe@example.com>"],
        ["To", "support@acme.example"],
        ["Subject", "Broken export"],
        ["Message-Id", "<orig-42@example.com>"],
        ["In-Reply-To", "<t.x@mail.halo.test>"],
        ["Content-Type", 'multipart/mixed; boundary="gone"'],
    ]
    fields = {
        "recipient": "support@acme.example",
        "message-headers": json.dumps(headers),
        "body-plain": "The export fails.\n",
        "body-html": '<p>The export fails.</p><img src="cid:shot@example.com">',
        "content-id-map": json.dumps({"<shot@example.com>": "attachment-2"}),
        "attachment-count": "2",
    }
    files = [
        UploadedFile("attachment-1", "log.txt", "text/plain", b"error 500\n"),
        UploadedFile("attachment-2", "shot.png", "image/png", b"\x89PNG fake"),
    ]
    msg = parse_email(mailgun_email(fields, files).raw)
    assert msg.message_id == "orig-42@example.com"
    assert msg.from_ is not None and msg.from_.name == "Zoë Adams"
    assert msg.in_reply_to == ("t.x@mail.halo.test",)
    assert msg.text.strip() == "The export fails."
    assert [(a.filename, a.inline, a.content_id, a.data) for a in msg.attachments] == [
        ("log.txt", False, None, b"error 500\n"),
        ("shot.png", True, "shot@example.com", b"\x89PNG fake"),
    ]
    assert "gone" not in (msg.header("content-type") or "")


def test_postmark_json_is_rebuilt_and_its_message_id_is_the_provider_id() -> None:
    payload = {
        "MessageID": "22c74902-a0c1-4511-804f-341342852c90",
        "FromFull": {"Email": "ana@example.es", "Name": "Ana Pérez"},
        "ToFull": [{"Email": "support@acme.example", "Name": "", "MailboxHash": ""}],
        "CcFull": [{"Email": "boss@example.es", "Name": "Boss"}],
        "OriginalRecipient": "support@acme.example",
        "Subject": "Factura",
        "Date": "Mon, 3 Jun 2024 10:00:00 +0200",
        "Headers": [
            {"Name": "Message-ID", "Value": "<CAE123@mail.example.es>"},
            {"Name": "X-Spam-Status", "Value": "No"},
            {"Name": "Subject", "Value": "ignored duplicate"},
        ],
        "TextBody": "Hola, adjunto la factura.",
        "HtmlBody": "",
        "Attachments": [
            {
                "Name": "factura.pdf",
                "Content": base64.b64encode(b"%PDF").decode(),
                "ContentType": "application/pdf",
                "ContentLength": 4,
            }
        ],
    }
    inbound = postmark_email(payload)
    assert inbound.provider_message_id == "22c74902-a0c1-4511-804f-341342852c90"
    msg = parse_email(inbound.raw)
    assert msg.message_id == "CAE123@mail.example.es"
    assert msg.subject == "Factura"
    assert [a.addr for a in msg.cc] == ["boss@example.es"]
    assert msg.from_ is not None and msg.from_.name == "Ana Pérez"
    assert msg.text.strip() == "Hola, adjunto la factura."
    assert msg.header("x-spam-status") == "No"
    assert [(a.filename, a.data) for a in msg.attachments] == [("factura.pdf", b"%PDF")]


def test_postmark_raw_email_wins_when_present() -> None:
    raw = "From: a@example.com\r\nSubject: raw\r\n\r\nx\r\n"
    assert postmark_email({"MessageID": "p1", "RawEmail": raw}).raw == raw.encode()


def test_sendgrid_raw_and_parsed_modes() -> None:
    raw = b"From: a@example.com\r\nSubject: raw\r\n\r\nx\r\n"
    envelope = json.dumps({"to": ["support@acme.example"], "from": "a@example.com"})
    inbound = sendgrid_email({"email": raw, "envelope": envelope})
    assert inbound.raw == raw
    assert inbound.envelope_recipients == ("support@acme.example",)

    parsed = sendgrid_email(
        {
            "headers": "From: Kai <kai@example.de>\nSubject: =?utf-8?q?Gr=C3=BC=C3=9Fe?=\n"
            "Message-ID: <sg-1@example.de>\nContent-Type: multipart/mixed; boundary=x\n",
            "text": "Gr\xfc\xdfe aus Berlin".encode("latin-1"),
            "charsets": json.dumps({"text": "iso-8859-1", "subject": "UTF-8"}),
            "attachment-info": json.dumps(
                {"attachment1": {"filename": "a.txt", "type": "text/plain", "content-id": ""}}
            ),
        },
        [UploadedFile("attachment1", "upload.bin", "application/octet-stream", b"hello")],
    )
    msg = parse_email(parsed.raw)
    assert msg.message_id == "sg-1@example.de"
    assert msg.subject == "Grüße"
    assert msg.text.strip() == "Grüße aus Berlin"
    assert [(a.filename, a.content_type, a.data) for a in msg.attachments] == [
        ("a.txt", "text/plain", b"hello")
    ]


def test_oversize_and_malformed_payloads_are_refused() -> None:
    with pytest.raises(WebhookPayloadError, match="limit"):
        raw_email(b"x" * (MESSAGE_MAX_BYTES + 1))
    with pytest.raises(WebhookPayloadError, match="message-headers"):
        mailgun_email({"message-headers": "[not json"})


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.tuples(st.text(max_size=15), st.text(max_size=60)), max_size=5),
    st.text(max_size=50),
    st.text(max_size=20),
)
def test_rebuilding_arbitrary_provider_fields_yields_parseable_mime(
    headers: list[tuple[str, str]], text: str, odd: str
) -> None:
    rebuilt = [
        mailgun_email(
            {
                "message-headers": json.dumps(headers),
                "body-plain": text,
                "content-id-map": json.dumps({odd: "attachment-1"}),
            },
            [UploadedFile("attachment-1", odd, odd, b"data")],
        ),
        postmark_email(
            {
                "Headers": [{"Name": n, "Value": v} for n, v in headers],
                "TextBody": text,
                "Attachments": [
                    {"Name": odd, "Content": "aGk=", "ContentType": odd, "ContentID": odd}
                ],
            }
        ),
    ]
    for inbound in rebuilt:
        msg = parse_email(inbound.raw)
        assert len(msg.attachments) == 1
