"""Inbound provider payloads -> raw MIME.

The Deno edge function `inbound-email` authenticates each delivery (the Mailgun signature,
basic auth, the relay token: `supabase/functions/inbound-email/rules.ts`) and stores it as sent;
the email worker rebuilds it here. Every provider's payload becomes one `InboundEmail` whose
`raw` is RFC 5322 bytes, so exactly one parser (parse.py) ever interprets mail.

Rules:

* **Size**: a payload whose raw message exceeds `MESSAGE_MAX_BYTES` (`halo_supabase/limits.py`)
  is refused with `WebhookPayloadError` before any parsing.
* **Mailgun**: `body-mime` (MIME mode) is taken as is. Otherwise (forward mode) the message is
  rebuilt from `message-headers` (a JSON list of [name, value]), `body-plain`, `body-html` and the
  uploaded `attachment-N` files; `content-id-map` (JSON, "<cid>" -> "attachment-N") marks inline
  parts. The envelope `recipient` is kept for threading.
* **Postmark**: `RawEmail` when the server includes it; otherwise rebuilt from `FromFull`,
  `ToFull`, `CcFull`, `Subject`, `Date`, `ReplyTo`, `Headers` ([{Name, Value}]), `TextBody`,
  `HtmlBody` and `Attachments` ([{Name, Content (base64), ContentType, ContentID}]).
  `MessageID` is Postmark's own id: it becomes `provider_message_id`, never the Message-ID.
* **SendGrid**: raw mode's `email` field is taken as is; parsed mode is rebuilt from `headers`
  (the raw header block), `text`, `html`, `attachment-info` (JSON) and the `attachmentN` files;
  `envelope` (JSON {"to": [...], "from": ...}) gives the envelope recipients.
* When rebuilding, the original's structural headers (Content-Type, Content-Transfer-Encoding,
  MIME-Version) are dropped: the structure is new. Headers whose names are not RFC 5322 field
  names are dropped. A header value that cannot be set as given is
  RFC 2047-encoded; one that still fails is dropped (its name is logged, never its value); one
  that must stay unencoded but is not ASCII is written as UTF-8 (RFC 6532). An attachment's
  content type that is not `type/subtype` becomes application/octet-stream; control characters
  are removed from filenames and Content-IDs.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from email import policy
from email.header import Header
from email.message import EmailMessage
from email.parser import Parser
from typing import Literal

from halo_supabase.email.charsets import decode_bytes
from halo_supabase.email.headers import one_line, safe_content_type
from halo_supabase.errors import WebhookPayloadError
from halo_supabase.limits import MESSAGE_MAX_BYTES

__all__ = [
    "InboundEmail",
    "UploadedFile",
    "mailgun_email",
    "postmark_email",
    "raw_email",
    "sendgrid_email",
]

logger = logging.getLogger(__name__)

_FIELD_NAME = re.compile(r"^[\x21-\x39\x3b-\x7e]+$")  # RFC 5322 ftext
_STRUCTURAL = {"content-type", "content-transfer-encoding", "mime-version", "content-disposition"}


@dataclass(frozen=True, slots=True)
class UploadedFile:
    """One file of a multipart/form-data webhook (the form field it came in, and its content)."""

    field_name: str
    filename: str
    content_type: str
    data: bytes = field(repr=False)


@dataclass(frozen=True, slots=True)
class InboundEmail:
    """A provider delivery normalised to raw MIME, plus what only the envelope knows."""

    provider: Literal["mailgun", "postmark", "sendgrid", "raw"]
    raw: bytes = field(repr=False)
    provider_message_id: str | None = None
    envelope_recipients: tuple[str, ...] = ()
    envelope_sender: str | None = None


def _checked(raw: bytes) -> bytes:
    if len(raw) > MESSAGE_MAX_BYTES:
        raise WebhookPayloadError(
            f"the message is {len(raw)} bytes; the limit is {MESSAGE_MAX_BYTES}. "
            "Ask the sender to share large files by link."
        )
    return raw


def _as_bytes(value: str | bytes) -> bytes:
    return value if isinstance(value, bytes) else value.encode("utf-8", "surrogateescape")


def raw_email(raw: bytes, *, envelope_recipients: Sequence[str] = ()) -> InboundEmail:
    """Raw MIME from a relay (the edge function authenticates it)."""
    return InboundEmail("raw", _checked(raw), envelope_recipients=tuple(envelope_recipients))


@dataclass(frozen=True, slots=True)
class _Part:
    filename: str
    content_type: str
    data: bytes
    content_id: str | None


def _set_header(message: EmailMessage, name: str, value: str) -> None:
    if not _FIELD_NAME.match(name):
        # An invalid name would end the header block early and lose the rest of the message.
        logger.warning("dropped a header with an invalid name while rebuilding a webhook email")
        return
    value = " ".join(value.split())
    try:
        message[name] = value
        return
    except (ValueError, TypeError, IndexError):
        pass
    try:
        message[name] = Header(value, "utf-8").encode()
    except (ValueError, TypeError, IndexError):
        logger.warning("dropped unrepresentable header %s while rebuilding a webhook email", name)


def _assemble(
    headers: Sequence[tuple[str, str]], text: str | None, html: str | None, parts: Sequence[_Part]
) -> bytes:
    message = EmailMessage(policy=policy.default)
    for name, value in headers:
        if name.lower() not in _STRUCTURAL:
            _set_header(message, name, value)
    if text is not None or html is None:
        message.set_content(text or "")
        if html is not None:
            message.add_alternative(html, subtype="html")
    else:
        message.set_content(html, subtype="html")
    for part in parts:
        maintype, subtype = safe_content_type(part.content_type)
        cid = one_line(part.content_id or "").replace(" ", "").strip("<>")
        message.add_attachment(
            part.data,
            maintype=maintype,
            subtype=subtype,
            filename=one_line(part.filename) or "attachment",
            cid=f"<{cid}>" if cid else None,
            disposition="inline" if cid else "attachment",
        )
    try:
        raw = message.as_bytes()
    except UnicodeEncodeError:
        # A header that must stay unencoded (Message-ID, for one) carries non-ASCII text: write
        # it as UTF-8 (RFC 6532); parse.py reads 8-bit headers as UTF-8.
        raw = message.as_bytes(policy=policy.default.clone(utf8=True))
    return _checked(raw)


def _json(value: str | bytes | None, what: str) -> object:
    if value is None or value == "":
        return None
    try:
        return json.loads(value)
    except ValueError as exc:
        raise WebhookPayloadError(f"{what} is not valid JSON; check the webhook format.") from exc


def mailgun_email(fields: Mapping[str, str], files: Sequence[UploadedFile] = ()) -> InboundEmail:
    """A Mailgun Routes forward (form fields) or MIME-mode (`body-mime`) post."""
    recipients = tuple(r.strip() for r in fields.get("recipient", "").split(",") if r.strip())
    sender = fields.get("sender") or None
    if fields.get("body-mime"):
        raw = _checked(_as_bytes(fields["body-mime"]))
        return InboundEmail("mailgun", raw, None, recipients, sender)
    header_list = _json(fields.get("message-headers"), "message-headers")
    headers = [
        (str(item[0]), str(item[1]))
        for item in (header_list if isinstance(header_list, list) else [])
        if isinstance(item, list) and len(item) == 2
    ]
    if not headers:
        headers = [(k.title(), fields[k]) for k in ("from", "subject") if fields.get(k)]
    cid_map = _json(fields.get("content-id-map"), "content-id-map")
    cid_by_field = (
        {str(v): str(k).strip("<>") for k, v in cid_map.items()}
        if isinstance(cid_map, dict)
        else {}
    )
    parts = [
        _Part(f.filename, f.content_type, f.data, cid_by_field.get(f.field_name))
        for f in files
        if f.field_name.startswith("attachment")
    ]
    raw = _assemble(headers, fields.get("body-plain"), fields.get("body-html"), parts)
    return InboundEmail("mailgun", raw, None, recipients, sender)


def _postmark_address(entry: object) -> str | None:
    if not isinstance(entry, dict) or not entry.get("Email"):
        return None
    name = str(entry.get("Name") or "").replace('"', "")
    return f'"{name}" <{entry["Email"]}>' if name else str(entry["Email"])


def postmark_email(payload: Mapping[str, object]) -> InboundEmail:
    """A Postmark inbound webhook JSON document (already decoded from JSON)."""
    provider_id = str(payload["MessageID"]) if payload.get("MessageID") else None
    recipient = payload.get("OriginalRecipient")
    recipients = (str(recipient),) if recipient else ()
    raw_email_value = payload.get("RawEmail")
    if isinstance(raw_email_value, str) and raw_email_value:
        return InboundEmail(
            "postmark", _checked(_as_bytes(raw_email_value)), provider_id, recipients
        )

    headers: list[tuple[str, str]] = []
    from_value = _postmark_address(payload.get("FromFull")) or payload.get("From")
    if from_value:
        headers.append(("From", str(from_value)))
    for name, key in (("To", "ToFull"), ("Cc", "CcFull")):
        entries = payload.get(key)
        listed = (
            [a for e in entries if (a := _postmark_address(e))] if isinstance(entries, list) else []
        )
        if listed:
            headers.append((name, ", ".join(listed)))
    for name, key in (("Subject", "Subject"), ("Date", "Date"), ("Reply-To", "ReplyTo")):
        if payload.get(key):
            headers.append((name, str(payload[key])))
    present = {name.lower() for name, _ in headers}
    extra = payload.get("Headers")
    for item in extra if isinstance(extra, list) else []:
        if isinstance(item, dict) and item.get("Name") and str(item["Name"]).lower() not in present:
            headers.append((str(item["Name"]), str(item.get("Value") or "")))

    parts: list[_Part] = []
    attachments = payload.get("Attachments")
    for item in attachments if isinstance(attachments, list) else []:
        if not isinstance(item, dict):
            continue
        try:
            data = base64.b64decode(str(item.get("Content") or ""), validate=False)
        except (binascii.Error, ValueError) as exc:
            raise WebhookPayloadError("a Postmark attachment is not valid base64.") from exc
        cid = str(item.get("ContentID") or "").strip("<>") or None
        ctype = str(item.get("ContentType") or "application/octet-stream")
        parts.append(_Part(str(item.get("Name") or "attachment"), ctype, data, cid))
    text = payload.get("TextBody")
    html = payload.get("HtmlBody")
    raw = _assemble(
        headers,
        str(text) if text else None,
        str(html) if html else None,
        parts,
    )
    return InboundEmail("postmark", raw, provider_id, recipients)


def sendgrid_email(
    fields: Mapping[str, str | bytes], files: Sequence[UploadedFile] = ()
) -> InboundEmail:
    """A SendGrid Inbound Parse post, raw (`email`) or parsed."""
    envelope = _json(fields.get("envelope"), "envelope")
    recipients: tuple[str, ...] = ()
    sender = None
    if isinstance(envelope, dict):
        to = envelope.get("to")
        recipients = tuple(str(r) for r in to) if isinstance(to, list) else ()
        sender = str(envelope["from"]) if envelope.get("from") else None
    if fields.get("email"):
        raw = _checked(_as_bytes(fields["email"]))
        return InboundEmail("sendgrid", raw, None, recipients, sender)

    charsets = _json(fields.get("charsets"), "charsets")
    charset_of = charsets if isinstance(charsets, dict) else {}

    def text_field(name: str) -> str | None:
        value = fields.get(name)
        if value is None:
            return None
        if isinstance(value, str):
            return value
        return decode_bytes(value, str(charset_of.get(name) or "") or None)[0]

    header_block = text_field("headers") or ""
    parsed_headers = Parser(policy=policy.compat32).parsestr(header_block, headersonly=True)
    headers = [(name, str(value)) for name, value in parsed_headers.items()]
    info = _json(fields.get("attachment-info"), "attachment-info")
    info_map = info if isinstance(info, dict) else {}
    parts = []
    for f in files:
        meta = info_map.get(f.field_name)
        meta = meta if isinstance(meta, dict) else {}
        cid = str(meta.get("content-id") or "").strip("<>") or None
        filename = str(meta.get("filename") or meta.get("name") or f.filename)
        parts.append(_Part(filename, str(meta.get("type") or f.content_type), f.data, cid))
    raw = _assemble(headers, text_field("text"), text_field("html"), parts)
    return InboundEmail("sendgrid", raw, None, recipients, sender)
