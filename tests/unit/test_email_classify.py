from __future__ import annotations

import pytest

from halo_supabase.email.classify import Kind, classify
from halo_supabase.email.parse import parse_email


def mail(headers: str, body: str = "Hello\n") -> bytes:
    base = "From: Jane <jane@example.com>\nTo: support@acme.example\nSubject: Question\n"
    return (base + headers + "\n" + body).encode()


def kind_of(headers: str, body: str = "Hello\n", own: tuple[str, ...] = ()) -> Kind:
    return classify(parse_email(mail(headers, body)), own_domains=own).kind


def test_auto_submitted_no_is_a_person() -> None:
    assert kind_of("Auto-Submitted: no\n") == Kind.NEW


@pytest.mark.parametrize(
    "header",
    [
        "Auto-Submitted: auto-generated\n",
        'Auto-Submitted: auto-replied; owner-email="x@example.com"\n',
        "X-Autoreply: yes\n",
        "X-Autorespond: Out of office\n",
        "X-Autoresponder: 1\n",
        "X-Amazon-Auto-Reply: true\n",
        "Precedence: bulk\n",
        "Precedence: junk\n",
        "X-Precedence: auto_reply\n",
        "List-Id: <news.example.com>\n",
        "List-Unsubscribe: <mailto:leave@example.com>\n",
        "X-Loop: helpdesk.example.com\n",
    ],
)
def test_auto_reply_markers(header: str) -> None:
    assert kind_of(header) == Kind.AUTO_REPLY


def test_x_auto_response_suppress_only_asks_us_not_to_answer() -> None:
    result = classify(parse_email(mail("X-Auto-Response-Suppress: All\n")))
    assert result.kind == Kind.NEW
    assert result.suppress_auto_response


def test_precedence_first_class_is_not_bulk() -> None:
    assert kind_of("Precedence: first-class\n") == Kind.NEW


def test_our_own_message_id_coming_back_is_a_loop() -> None:
    own = ("mail.halo.test",)
    assert kind_of("Message-ID: <abc@mail.halo.test>\n", own=own) == Kind.AUTO_REPLY
    assert kind_of("Message-ID: <abc@example.com>\n", own=own) == Kind.NEW


def test_null_return_path_is_a_bounce_unless_it_is_an_rfc3834_responder() -> None:
    assert kind_of("Return-Path: <>\n") == Kind.BOUNCE
    assert kind_of("Return-Path: <>\nAuto-Submitted: auto-replied\n") == Kind.AUTO_REPLY
    assert kind_of("Return-Path: <jane@example.com>\n") == Kind.NEW


def test_mailer_daemon_and_postmaster_senders_bounce() -> None:
    for sender in ("MAILER-DAEMON@mx.example.com", "postmaster@example.com"):
        raw = f"From: {sender}\nTo: a@acme.example\nSubject: x\n\nfailed\n".encode()
        assert classify(parse_email(raw)).kind == Kind.BOUNCE


def test_a_bounce_subject_alone_is_not_enough() -> None:
    raw = b"From: jane@example.com\nSubject: Undeliverable package - what now?\n\nhi\n"
    assert classify(parse_email(raw)).kind == Kind.NEW


def test_bounce_without_status_counts_as_permanent() -> None:
    result = classify(parse_email(mail("Return-Path: <>\n")))
    assert result.bounce is not None and result.bounce.permanent


def test_outlook_reply_with_original_message_block_is_a_reply_not_a_forward() -> None:
    body = "Thanks\n\n-----Original Message-----\nFrom: Support <s@acme.example>\nSent: today\n"
    assert kind_of("In-Reply-To: <x@acme.example>\n", body) == Kind.REPLY


def test_the_same_block_under_a_forward_subject_is_a_forward() -> None:
    raw = (
        b"From: agent@acme.example\nSubject: FW: Need help\n\nFYI\n\n-----Original Message-----\n"
        b"From: Customer Name [mailto:customer@example.org]\nSent: today\nSubject: Need help\n"
    )
    result = classify(parse_email(raw))
    assert result.kind == Kind.FORWARD
    assert result.forwarded is not None and result.forwarded.original_from is not None
    assert result.forwarded.original_from.addr == "customer@example.org"
    assert result.forwarded.original_subject == "Need help"


def test_a_forward_subject_without_any_original_is_a_new_message() -> None:
    assert (
        classify(parse_email(b"From: a@example.com\nSubject: Fwd: hi\n\nno block\n")).kind
        == Kind.NEW
    )


def test_reply_token_recipient_makes_a_reply() -> None:
    raw = b"From: a@example.com\nTo: reply+abc@mail.halo.test\nSubject: hi\n\nx\n"
    assert classify(parse_email(raw)).kind == Kind.REPLY


def test_bounce_wins_over_auto_reply_markers() -> None:
    raw = b"From: MAILER-DAEMON@x.example\nAuto-Submitted: auto-replied\nSubject: x\n\nfailed\n"
    assert classify(parse_email(raw)).kind == Kind.BOUNCE


def test_a_bounce_whose_attached_original_has_8bit_headers_is_read() -> None:
    raw = (
        b"From: MAILER-DAEMON@mx.example.com\nSubject: failed\n"
        b"Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n\nfailed\n"
        b"--b\nContent-Type: message/rfc822\n\nFrom: J\xc3\xa9r\xc3\xb4me <j@example.fr>\n"
        b"Message-ID: <orig\xe9@example.fr>\n\nhello\n--b--\n"
    )
    result = classify(parse_email(raw))
    assert result.kind == Kind.BOUNCE
    assert result.bounce is not None and result.bounce.original_message_id == "origé@example.fr"
