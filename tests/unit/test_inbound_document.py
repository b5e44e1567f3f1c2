"""What the email worker hands to `api.apply_inbound_email`, for every message of the corpus:
the kind, the customer (the original sender of a forward), the display text and the verified
ticket candidates, and the rebuilding of stored provider payloads."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from halo_supabase.email import raw_email
from halo_supabase.inbound import StoredFile, delivery_email, inbound_document, is_trusted

CORPUS = Path(__file__).parent.parent / "fixtures" / "email"
EXPECTED = json.loads((CORPUS / "expected.json").read_text())
SECRETS = [b"fixture-workspace-secret"]
OWN_DOMAINS = ["mail.halo.test"]


@pytest.mark.parametrize("name", sorted(EXPECTED), ids=str)
def test_document_of_each_corpus_message(name: str) -> None:
    expected = EXPECTED[name]
    inbound = inbound_document(
        raw_email((CORPUS / f"{name}.eml").read_bytes()), SECRETS, own_domains=OWN_DOMAINS
    )
    document = inbound.document.model_dump(mode="json")
    assert document["kind"] == expected["kind"]
    json.dumps(document)  # PostgREST sends it as JSON: it must serialise as is
    forwarded = expected.get("forwarded", {}).get("from")
    if forwarded:
        assert document["customer_email"] == forwarded
    elif expected.get("from"):
        assert document["from_email"] == expected["from"]
    tokens = {
        c.split(":", 1)[1].split("/")[0]
        for c in expected.get("candidates", [])
        if c.startswith(("token:", "signed:", "marker:"))
    }
    assert set(document["ticket_candidates"]) == tokens  # type: ignore[arg-type]
    first_line = expected.get("text_first_line")
    if first_line:
        assert str(document["body_text"]).lstrip().startswith(first_line)


def test_stored_payloads_are_rebuilt_like_the_reference() -> None:
    raw = (CORPUS / "new_plain_en.eml").read_bytes()
    assert delivery_email("mailgun", "mime", raw).raw == raw
    assert delivery_email("raw", "mime", raw).raw == raw
    form = json.dumps(
        {
            "fields": {
                "recipient": "support@acme.test",
                "message-headers": json.dumps([["From", "a@b.example"], ["Subject", "Hi"]]),
                "body-plain": "Hello",
            },
            "files": [],
        }
    ).encode()
    rebuilt = delivery_email(
        "mailgun", "form", form, [StoredFile("attachment-1", "a.txt", "text/plain", b"x")]
    )
    assert rebuilt.envelope_recipients == ("support@acme.test",)
    assert b"Subject: Hi" in rebuilt.raw and b"a.txt" in rebuilt.raw


def test_trusted_sender_patterns() -> None:
    assert is_trusted("Boss@Globex.example", ["@globex.example"])
    assert is_trusted("ceo@initech.example", ["CEO@initech.example"])
    assert not is_trusted("ceo@initech.example.evil", ["@initech.example"])
    assert not is_trusted("x@notglobex.example", ["@globex.example"])
