"""The email library: parse, classify, strip, thread, build replies, normalise webhooks.

Pure Python, no database or network: the email worker builds on it. Modules, one concept each:

    message.py     the parsed-message model (ParsedEmail, Address, Attachment)
    charsets.py    bytes -> text for any declared (or broken) charset
    html_text.py   HTML -> readable plain text
    headers.py     header values: RFC 2047, 8-bit bytes, addresses, Message-ID lists
    parse.py       raw MIME -> ParsedEmail, never raising
    classify.py    bounce / auto_reply / forward / reply / new
    quotes.py      the new text vs. quoted history and signature
    threading.py   signed Message-IDs, reply addresses, ordered threading candidates
    outbound.py    a threaded reply as an EmailMessage
    webhooks.py    Mailgun / Postmark / SendGrid payloads -> raw MIME
"""

from __future__ import annotations

from halo_supabase.email.classify import Bounce, Classification, Forwarded, Kind, classify
from halo_supabase.email.html_text import html_to_text
from halo_supabase.email.message import Address, Attachment, BodyCharset, ParsedEmail
from halo_supabase.email.outbound import (
    OutboundAttachment,
    SenderIdentity,
    build_reply,
    reply_subject,
)
from halo_supabase.email.parse import parse_email
from halo_supabase.email.quotes import StrippedText, strip_quotes
from halo_supabase.email.threading import (
    Candidate,
    ThreadingCandidates,
    make_message_id,
    make_reply_address,
    normalise_subject,
    threading_candidates,
    verify_message_id,
    verify_reply_address,
)
from halo_supabase.email.webhooks import (
    InboundEmail,
    UploadedFile,
    mailgun_email,
    postmark_email,
    raw_email,
    sendgrid_email,
)

__all__ = [
    "Address",
    "Attachment",
    "BodyCharset",
    "Bounce",
    "Candidate",
    "Classification",
    "Forwarded",
    "InboundEmail",
    "Kind",
    "OutboundAttachment",
    "ParsedEmail",
    "SenderIdentity",
    "StrippedText",
    "ThreadingCandidates",
    "UploadedFile",
    "build_reply",
    "classify",
    "html_to_text",
    "mailgun_email",
    "make_message_id",
    "make_reply_address",
    "normalise_subject",
    "parse_email",
    "postmark_email",
    "raw_email",
    "reply_subject",
    "sendgrid_email",
    "strip_quotes",
    "threading_candidates",
    "verify_message_id",
    "verify_reply_address",
]
