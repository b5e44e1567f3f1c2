"""Every .eml of tests/fixtures/email against its expected outcome in expected.json.

The corpus was written for this project (invented people and companies, realistic client
formats). Keys checked per message, all optional except kind, text_first_line, attachments and
candidates: from, display_name, subject, quote_first_line, inline, charset (codec of the first body part),
charset_fallback, defects (each must be present), text_from_html, message_id_synthetic,
reasons (each must be present), suppress_auto_response, bounce, forwarded, rejected,
message_id, body_contains, body_excludes, attachment_sizes, attachment_sha256.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from halo_supabase.email import classify, parse_email, strip_quotes, threading_candidates
from halo_supabase.email.threading import Candidate

CORPUS = Path(__file__).resolve().parent.parent / "fixtures" / "email"
EXPECTED: dict[str, dict[str, Any]] = json.loads((CORPUS / "expected.json").read_text("utf-8"))
SECRETS = [b"fixture-workspace-secret"]
OWN_DOMAINS = ["mail.halo.test"]


def _describe(candidate: Candidate) -> str:
    if candidate.source == "reply_token":
        return f"token:{candidate.ticket_id}"
    if candidate.source == "body_marker":
        return f"marker:{candidate.ticket_id}"
    if candidate.source == "signed_id":
        return f"signed:{candidate.ticket_id}/{candidate.message_ref}"
    return f"id:{candidate.message_id}"


def test_the_corpus_is_complete() -> None:
    files = {p.stem for p in CORPUS.glob("*.eml")}
    assert len(files) >= 40
    assert files == set(EXPECTED), "every .eml needs an expected.json entry and vice versa"


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_fixture(name: str) -> None:
    expected = EXPECTED[name]
    msg = parse_email((CORPUS / f"{name}.eml").read_bytes())
    result = classify(msg, own_domains=OWN_DOMAINS)
    stripped = strip_quotes(msg.text)
    threads = threading_candidates(msg, SECRETS)

    assert result.kind == expected["kind"]
    assert stripped.text.splitlines()[0].strip() == expected["text_first_line"]
    assert [a.filename for a in msg.attachments if not a.inline] == expected["attachments"]
    assert [_describe(c) for c in threads.candidates] == expected["candidates"]
    if "from" in expected:
        assert msg.from_ is not None and msg.from_.addr == expected["from"]
    if "display_name" in expected:
        assert msg.from_ is not None and msg.from_.name == expected["display_name"]
    if "subject" in expected:
        assert msg.subject == expected["subject"]
    if "quote_first_line" in expected:
        assert stripped.quote.splitlines()[0].strip() == expected["quote_first_line"]
    if "inline" in expected:
        assert [a.content_id for a in msg.attachments if a.inline] == expected["inline"]
    if "charset" in expected:
        assert msg.charsets[0].used == expected["charset"]
        assert msg.charsets[0].fallback == expected.get("charset_fallback", False)
    for defect in expected.get("defects", []):
        assert defect in msg.defects
    if "text_from_html" in expected:
        assert msg.text_from_html == expected["text_from_html"]
    assert msg.message_id_synthetic == expected.get("message_id_synthetic", False)
    for reason in expected.get("reasons", []):
        assert reason in result.reasons
    if "suppress_auto_response" in expected:
        assert result.suppress_auto_response == expected["suppress_auto_response"]
    if "bounce" in expected:
        assert result.bounce is not None
        for key, value in expected["bounce"].items():
            actual = getattr(result.bounce, key)
            assert (list(actual) if isinstance(actual, tuple) else actual) == value
    if "forwarded" in expected:
        assert result.forwarded is not None
        assert result.forwarded.via == expected["forwarded"]["via"]
        original = result.forwarded.original_from
        assert (original.addr if original else None) == expected["forwarded"]["from"]
        if "original_recipient" in expected["forwarded"]:
            assert (
                result.forwarded.original_recipient == expected["forwarded"]["original_recipient"]
            )
    assert len(threads.rejected) == expected.get("rejected", 0)
    if "message_id" in expected:
        assert msg.message_id == expected["message_id"]
    if "body_contains" in expected:
        assert expected["body_contains"] in msg.text
    if "body_excludes" in expected:
        assert expected["body_excludes"] not in msg.text
    by_name = {a.filename: a for a in msg.attachments}
    for filename, size in expected.get("attachment_sizes", {}).items():
        assert by_name[filename].size == size
    for filename, digest in expected.get("attachment_sha256", {}).items():
        assert hashlib.sha256(by_name[filename].data).hexdigest() == digest
