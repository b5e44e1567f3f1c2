from __future__ import annotations

import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from halo_supabase.email.parse import parse_email
from halo_supabase.email.threading import (
    make_body_marker,
    make_message_id,
    make_reply_address,
    normalise_subject,
    threading_candidates,
    verify_message_id,
    verify_reply_address,
)

SECRET = b"workspace-secret"
DOMAIN = "mail.halo.test"
refs = st.from_regex(r"[A-Za-z0-9-]{1,64}", fullmatch=True)
secrets = st.binary(min_size=1, max_size=64)


@given(st.uuids(), refs, secrets)
def test_signed_message_id_round_trip(ticket: uuid.UUID, ref: str, secret: bytes) -> None:
    message_id = make_message_id(ticket, ref, secret, DOMAIN)
    signed = verify_message_id(message_id, [secret])
    assert signed is not None
    assert (signed.ticket_id, signed.message_ref) == (ticket, ref)
    assert len(message_id) < 200


@given(st.uuids(), refs, st.data())
def test_a_tampered_message_id_never_verifies(
    ticket: uuid.UUID, ref: str, data: st.DataObject
) -> None:
    message_id = make_message_id(ticket, ref, SECRET, DOMAIN).strip("<>")
    local = message_id.partition("@")[0]
    position = data.draw(st.integers(0, len(local) - 1))
    replacement = data.draw(st.sampled_from("0123456789abcdef-."))
    if local[position].lower() == replacement:
        return
    tampered = local[:position] + replacement + local[position + 1 :] + "@" + DOMAIN
    assert verify_message_id(tampered, [SECRET]) is None


@given(st.uuids(), refs, secrets, secrets)
def test_another_workspaces_secret_does_not_verify(
    ticket: uuid.UUID, ref: str, mine: bytes, theirs: bytes
) -> None:
    if mine == theirs:
        return
    assert verify_message_id(make_message_id(ticket, ref, theirs, DOMAIN), [mine]) is None


def test_a_rotated_secret_keeps_old_threads_working() -> None:
    ticket = uuid.uuid4()
    old = make_message_id(ticket, "7", b"old", DOMAIN)
    assert verify_message_id(old, [b"new", b"old"]) is not None
    assert verify_message_id(old, [b"new"]) is None


@given(st.uuids(), secrets)
def test_reply_address_round_trip_survives_case_changes(ticket: uuid.UUID, secret: bytes) -> None:
    address = make_reply_address(ticket, secret, DOMAIN)
    assert len(address.partition("@")[0]) <= 64
    assert verify_reply_address(address, [secret]) == ticket
    assert verify_reply_address(address.upper(), [secret]) == ticket


@given(st.uuids(), st.data())
def test_a_tampered_reply_address_never_verifies(ticket: uuid.UUID, data: st.DataObject) -> None:
    address = make_reply_address(ticket, SECRET, DOMAIN)
    local = address.partition("@")[0]
    position = data.draw(st.integers(len("reply+"), len(local) - 1))
    replacement = data.draw(st.sampled_from("0123456789abcdef"))
    if local[position].lower() == replacement:
        return
    tampered = local[:position] + replacement + local[position + 1 :] + "@" + DOMAIN
    assert verify_reply_address(tampered, [SECRET]) is None


def test_message_ref_must_fit_in_a_message_id() -> None:
    with pytest.raises(ValueError, match="message_ref"):
        make_message_id(uuid.uuid4(), "a.b", SECRET, DOMAIN)


def test_candidates_order_tokens_then_signed_ids_newest_first_then_foreign_ids() -> None:
    t1, t2 = uuid.uuid4(), uuid.uuid4()
    old_ours = make_message_id(t1, "1", SECRET, DOMAIN)
    new_ours = make_message_id(t1, "2", SECRET, DOMAIN)
    raw = (
        f"From: c@example.com\nTo: x@example.com, {make_reply_address(t2, SECRET, DOMAIN)}\n"
        f"X-Original-To: {make_reply_address(t2, SECRET, DOMAIN)}\n"
        f"In-Reply-To: <foreign-3@example.com>\n"
        f"References: <root@example.com> {old_ours} <foreign-2@example.com> {new_ours} "
        f"<foreign-3@example.com>\n\nbody\n"
    ).encode()
    found = threading_candidates(parse_email(raw), [SECRET])
    assert [(c.source, c.ticket_id, c.message_ref, c.message_id) for c in found.candidates] == [
        ("reply_token", t2, None, None),
        ("signed_id", t1, "2", new_ours.strip("<>")),
        ("signed_id", t1, "1", old_ours.strip("<>")),
        ("message_id", None, None, "foreign-3@example.com"),
        ("message_id", None, None, "foreign-2@example.com"),
        ("message_id", None, None, "root@example.com"),
    ]
    assert found.candidates[3].header == "in-reply-to"
    assert found.rejected == ()


def test_envelope_recipients_come_first() -> None:
    ticket = uuid.uuid4()
    msg = parse_email(b"From: c@example.com\nTo: support@acme.example\n\nx\n")
    found = threading_candidates(
        msg, [SECRET], envelope_recipients=[make_reply_address(ticket, SECRET, DOMAIN)]
    )
    assert [(c.source, c.header, c.ticket_id) for c in found.candidates] == [
        ("reply_token", "envelope", ticket)
    ]


def test_subjects_normalise_across_languages_and_counters() -> None:
    assert normalise_subject("Re: AW: Fwd:  Invoice  #12") == "invoice #12"
    assert normalise_subject("RE[2]: SV: VS: Tilaus") == "tilaus"
    assert normalise_subject("回复\uff1a问题") == "问题"  # full-width colon
    assert normalise_subject("Reply needed") == "reply needed"


def test_a_quoted_body_marker_threads_when_all_headers_were_lost() -> None:
    ticket = uuid.uuid4()
    html = (
        "<p>Still broken.</p><blockquote><p>Our answer</p>"
        f'<div style="display:none">{make_body_marker(ticket, SECRET)}</div></blockquote>'
    )
    raw = (
        "From: c@example.com\nTo: support@acme.example\nSubject: Re: x\n"
        "Content-Type: text/html; charset=utf-8\n\n" + html
    ).encode()
    found = threading_candidates(parse_email(raw), [SECRET])
    assert [(c.source, c.ticket_id) for c in found.candidates] == [("body_marker", ticket)]


def test_a_forged_body_marker_is_rejected() -> None:
    ticket = uuid.uuid4()
    raw = f"From: c@example.com\n\nhalo-ref:{ticket.hex}-0000000000000000\n".encode()
    found = threading_candidates(parse_email(raw), [SECRET])
    assert found.candidates == ()
    assert found.rejected == (f"halo-ref:{ticket.hex}-0000000000000000",)


def test_the_marker_never_duplicates_a_ticket_the_token_already_named() -> None:
    ticket = uuid.uuid4()
    raw = (
        f"From: c@example.com\nTo: {make_reply_address(ticket, SECRET, DOMAIN)}\n\n"
        f"> {make_body_marker(ticket, SECRET)}\n"
    ).encode()
    sources = [c.source for c in threading_candidates(parse_email(raw), [SECRET]).candidates]
    assert sources == ["reply_token"]
