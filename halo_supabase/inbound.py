"""From a stored webhook delivery to the document `api.apply_inbound_email` applies.

Pure functions (no network), so the email worker stays a thin shell around them:

* :func:`delivery_email` rebuilds the provider's stored payload into an `InboundEmail` with the
  reference implementation (`email/webhooks.py`), so every provider is read by one parser;
* :func:`inbound_document` parses, classifies, strips quotes and threads, and returns the
  :class:`InboundEmailDocument` the SQL function takes (the worker adds the spam verdict). Threading evidence is verified here
  with the workspace secrets; the database only looks ids up and applies its guards.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import cast

from halo_supabase.client.documents import InboundCc, InboundEmailDocument, InboundEmailKind
from halo_supabase.email import (
    InboundEmail,
    ParsedEmail,
    UploadedFile,
    classify,
    mailgun_email,
    parse_email,
    postmark_email,
    raw_email,
    sendgrid_email,
    strip_quotes,
    threading_candidates,
)
from halo_supabase.email.classify import Classification, Kind
from halo_supabase.errors import WebhookPayloadError

__all__ = [
    "Inbound",
    "StoredFile",
    "delivery_email",
    "inbound_document",
    "is_trusted",
]

# Headers kept with the message (the rest stay in the raw delivery in Storage).
_KEPT_HEADERS = ("from", "to", "cc", "reply-to", "subject", "date", "auto-submitted", "precedence")


@dataclass(frozen=True, slots=True)
class StoredFile:
    """A file of a form delivery, read back from Storage."""

    field: str
    filename: str
    content_type: str
    data: bytes


def delivery_email(
    provider: str, payload_format: str, payload: bytes, files: Sequence[StoredFile] = ()
) -> InboundEmail:
    """The stored delivery as raw MIME, whichever provider sent it."""
    if payload_format == "mime":
        if provider == "mailgun":
            return mailgun_email({"body-mime": payload.decode("utf-8", "surrogateescape")})
        return raw_email(payload)
    try:
        document = json.loads(payload)
    except ValueError as exc:
        raise WebhookPayloadError(f"stored {provider} payload is not JSON: {exc}") from None
    if payload_format == "json":
        return postmark_email(document)
    fields = {str(k): str(v) for k, v in document.get("fields", {}).items()}
    uploads = [UploadedFile(f.field, f.filename, f.content_type, f.data) for f in files]
    if provider == "mailgun":
        return mailgun_email(fields, uploads)
    return sendgrid_email(dict(fields), uploads)


def is_trusted(sender: str, patterns: Sequence[str]) -> bool:
    """A trusted-sender pattern is `user@domain` (that address) or `@domain` (the whole domain)."""
    address = sender.lower()
    for pattern in (p.lower() for p in patterns):
        if pattern.startswith("@") and address.endswith(pattern):
            return True
        if address == pattern:
            return True
    return False


@dataclass(frozen=True, slots=True)
class Inbound:
    """A parsed delivery and what the worker decided about it."""

    parsed: ParsedEmail
    classification: Classification
    document: InboundEmailDocument
    rejected_ids: int


def inbound_document(
    email: InboundEmail,
    secrets: Sequence[bytes],
    *,
    own_domains: Sequence[str] = (),
) -> Inbound:
    """Everything `api.apply_inbound_email` needs from the raw message; the worker adds the
    spam verdict and the stored attachments."""
    parsed = parse_email(email.raw)
    classification = classify(parsed, own_domains=own_domains)
    stripped = strip_quotes(parsed.text)
    candidates = threading_candidates(
        parsed, secrets, envelope_recipients=email.envelope_recipients
    )
    message_ids = [c.message_id for c in candidates.candidates if c.message_id is not None]
    sender = parsed.from_ or parsed.sender
    customer = sender
    if classification.kind is Kind.FORWARD and classification.forwarded is not None:
        customer = classification.forwarded.original_from or sender
    document = InboundEmailDocument(
        kind=cast(InboundEmailKind, str(classification.kind)),
        message_id=parsed.message_id.strip("<>"),
        in_reply_to=parsed.in_reply_to[0].strip("<>") if parsed.in_reply_to else None,
        references=[r.strip("<>") for r in parsed.references],
        subject=parsed.subject,
        from_email=sender.addr if sender else "unknown@invalid.invalid",
        from_name=sender.name if sender else "",
        customer_email=customer.addr if customer else None,
        customer_name=customer.name if customer else None,
        cc=[InboundCc(email=a.addr) for a in parsed.cc],
        body_text=stripped.text,
        body_html=parsed.html,
        headers={
            name.lower(): value for name, value in parsed.headers if name.lower() in _KEPT_HEADERS
        }
        | {"defects": list(parsed.defects), "reasons": list(classification.reasons)},
        ticket_candidates=[c.ticket_id for c in candidates.candidates if c.ticket_id is not None],
        message_id_candidates=[m.strip("<>") for m in message_ids],
    )
    return Inbound(parsed, classification, document, len(candidates.rejected))
