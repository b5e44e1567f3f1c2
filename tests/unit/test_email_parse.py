from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import halo_supabase.email.parse as parse_module
from halo_supabase.email.headers import parse_message_ids
from halo_supabase.email.parse import SYNTHETIC_ID_DOMAIN, parse_email

CORPUS = Path(__file__).resolve().parent.parent / "fixtures" / "email"
# The large attachment would make every mutation slow without testing anything new.
SMALL_FIXTURES = sorted(p for p in CORPUS.glob("*.eml") if p.stat().st_size < 100_000)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2000))
def test_arbitrary_bytes_never_raise(raw: bytes) -> None:
    msg = parse_email(raw)
    assert msg.message_id
    assert msg.raw_size == len(raw)


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from(SMALL_FIXTURES),
    st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255)), min_size=1, max_size=8),
    st.integers(0, 10**6),
)
def test_mutated_fixtures_never_raise(path: Path, flips: list[tuple[int, int]], cut: int) -> None:
    data = bytearray(path.read_bytes())
    for position, value in flips:
        data[position % len(data)] = value
    parse_email(bytes(data[: max(1, cut % (len(data) + 1))]))


@settings(max_examples=100, deadline=None)
@given(
    st.text(max_size=300), st.sampled_from(["Subject", "From", "To", "References", "Content-Type"])
)
def test_arbitrary_header_values_never_raise(value: str, name: str) -> None:
    raw = f"{name}: {value}\nMessage-ID: <x@y>\n\nbody\n".encode("utf-8", "surrogatepass")
    parse_email(raw)


def test_8bit_header_bytes_are_recovered_as_utf8_then_windows_1252() -> None:
    raw = b"From: J\xc3\xa9r\xc3\xb4me <j@example.fr>\nSubject: caf\xe9\n\nx\n"
    msg = parse_email(raw)
    assert msg.from_ is not None and msg.from_.name == "Jérôme"
    assert msg.subject == "café"
    assert "8bit-header" in msg.defects


def test_an_encoded_display_name_with_a_comma_stays_one_address() -> None:
    raw = b"To: =?utf-8?q?Doe=2C_Jane?= <jane@Example.COM>, bob@example.com\n\nx\n"
    msg = parse_email(raw)
    assert [(a.name, a.addr) for a in msg.to] == [
        ("Doe, Jane", "jane@example.com"),
        ("", "bob@example.com"),
    ]


def test_adjacent_encoded_words_join_even_when_a_character_is_split() -> None:
    raw = b"Subject: =?utf-8?q?caf=C3?= =?utf-8?q?=A9?= ok\n\nx\n"
    assert parse_email(raw).subject == "café ok"


def test_missing_message_id_gets_a_stable_synthetic_one() -> None:
    body = b"From: a@example.com\nSubject: hi\nDate: Mon, 3 Jun 2024 10:00:00 +0000\n\nhello\n"
    first = parse_email(b"Received: from relay-1\n" + body)
    second = parse_email(b"Received: from relay-2 by another hop\n" + body)
    third = parse_email(body.replace(b"hello", b"hello again"))
    assert first.message_id_synthetic
    assert first.message_id.endswith("@" + SYNTHETIC_ID_DOMAIN)
    assert first.message_id == second.message_id
    assert first.message_id != third.message_id


def test_message_ids_in_order_without_duplicates_or_brackets() -> None:
    assert parse_message_ids("<a@x> <b@y>\n <a@x>") == ("a@x", "b@y")
    assert parse_message_ids("bare@example.com") == ("bare@example.com",)
    assert parse_message_ids("<with space@example.com>") == ("withspace@example.com",)
    assert parse_message_ids("no id here") == ()
    assert parse_message_ids(None) == ()


def test_attachment_filenames_never_carry_a_path() -> None:
    raw = (
        b"Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n\nhi\n"
        b"--b\nContent-Type: application/pdf\n"
        b'Content-Disposition: attachment; filename="..\\\\..\\\\evil/../x.pdf"\n\n%PDF\n--b--\n'
    )
    assert [a.filename for a in parse_email(raw).attachments] == ["x.pdf"]


def test_a_forwarded_message_stays_one_attachment() -> None:
    raw = (
        b"Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n\nsee\n"
        b"--b\nContent-Type: message/rfc822\n\nFrom: x@example.com\nSubject: inner\n"
        b"Content-Type: multipart/mixed; boundary=c\n\n--c\nContent-Type: text/plain\n\ninner\n"
        b"--c\nContent-Type: image/png\n\nPNG\n--c--\n--b--\n"
    )
    msg = parse_email(raw)
    assert msg.text.strip() == "see"
    assert [(a.content_type, a.filename) for a in msg.attachments] == [
        ("message/rfc822", "message-2.eml")
    ]
    assert b"Subject: inner" in msg.attachments[0].data


def test_a_text_part_marked_as_attachment_is_not_the_body() -> None:
    raw = (
        b"Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n\nbody\n"
        b"--b\nContent-Type: text/plain\nContent-Disposition: attachment; filename=log.txt\n\n"
        b"log line\n--b--\n"
    )
    msg = parse_email(raw)
    assert msg.text.strip() == "body"
    assert [a.filename for a in msg.attachments] == ["log.txt"]


def test_unknown_charset_falls_back_and_says_so() -> None:
    raw = b"Content-Type: text/plain; charset=x-unheard-of\n\nna\xefve\n"
    msg = parse_email(raw)
    assert msg.text.strip() == "naïve"
    assert msg.charsets[0].fallback
    assert "charset-fallback" in msg.defects


def test_a_nul_in_a_charset_label_of_a_boundaryless_multipart_is_survived() -> None:
    raw = (
        b'Content-Type: multipart/mixed; charset="a\x00b"\n\n--x\nContent-Type: text/plain\n\nhi\n'
    )
    msg = parse_email(raw)
    assert "parser-error" not in msg.defects
    assert msg.text.strip() == "hi"


def test_an_unexpected_stdlib_failure_keeps_the_mail_as_text(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def explode(raw: bytes) -> None:
        raise RuntimeError("simulated stdlib bug")

    monkeypatch.setattr(parse_module, "_parse", explode)
    msg = parse_email(b"Subject: x\n\nstill readable\n")
    assert msg.defects == ("parser-error",)
    assert "still readable" in msg.text
    assert msg.message_id_synthetic


def test_a_truncated_disposition_parameter_keeps_the_structure() -> None:
    raw = (
        b"Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n\nbody\n"
        b"--b\nContent-Type: application/pdf\nContent-Disposition: attachment; filename*\n\n%PDF\n--b--\n"
    )
    msg = parse_email(raw)
    assert "parser-error" not in msg.defects
    assert msg.text.strip() == "body"
    assert len(msg.attachments) == 1


def test_8bit_text_in_a_boundaryless_multipart_is_survived() -> None:
    raw = (
        b"Content-Type: multipart/mixed\nContent-Transfer-Encoding: 8bit\n\n"
        b"--x\nContent-Type: text/plain; charset=utf-8\n\ncaf\xc3\xa9\n--x--\n"
    )
    msg = parse_email(raw)
    assert "parser-error" not in msg.defects
    assert "boundary-guessed" in msg.defects
