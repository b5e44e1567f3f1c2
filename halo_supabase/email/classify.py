"""What kind of mail this is: a bounce, an automatic reply, a forward, a reply or a new message.

This module is the one place that decides whether mail is automatic (`Kind.automatic`: a bounce or
an automatic reply, which includes list and bulk mail). Everything downstream reads that answer:
the email worker (automatic mail is never spam and never acknowledged) and the database, which
receives the kind (automatic mail never opens or reopens a ticket; `tests/db/test_automatic_mail.py`
proves the database agrees with `Kind.automatic` for every kind).

The kinds are checked in this order and the first one that applies wins:

* **bounce** (never opens or reopens a ticket; updates recipient health):
  a `multipart/report` with `report-type=delivery-status` (RFC 3464/6522) or `feedback-report`
  (an ARF complaint, RFC 5965); a From local part `mailer-daemon` or `postmaster`; a null
  Return-Path (`<>`) on a message with no RFC 3834 marker (responders also send with a null
  return path, so that alone does not make an auto-reply a bounce); or a typical non-delivery
  subject together with an attached original (message/rfc822 or text/rfc822-headers).
* **auto_reply** (may attach to a ticket, never reopens it, never gets an auto-acknowledgement):
  `Auto-Submitted` other than `no` (RFC 3834); `X-Autoreply`, `X-Autorespond`, `X-Autoresponder`,
  `X-Amazon-Auto-Reply`; `Precedence`/`X-Precedence` bulk, junk, list or auto_reply; `List-Id` or
  `List-Unsubscribe` (RFC 2369/2919: list traffic); any `X-Loop`; a Message-ID on one of our own
  domains (our own mail came back); an "Automatic reply:"-style subject prefix.
  `X-Auto-Response-Suppress` is *not* a marker: Microsoft uses it to ask the receiver not to
  respond, so it only sets `suppress_auto_response`.
* **forward**: someone forwarded a customer's mail by hand: a forwarded-message block in the body
  (Gmail, Apple Mail, Thunderbird, Outlook "From:/Sent:" headers, in several languages) after a
  forward subject prefix or as the block's own marker, or a forward subject with an attached
  message/rfc822. The original sender is taken from the block's From line.
* **reply**: In-Reply-To or References present, or a reply-token recipient (not verified here:
  only threading.py knows the secret, and the worker threads by its verified candidates).
* **new**: anything else.

Mailbox auto-forwarding (a customer's own mailbox forwarding to us) is not a "forward": From is
still the customer; `X-Gm-Original-To`, `X-Forwarded-To` and `X-Forwarded-For` only tell which
address it was first sent to, reported in `forwarded.original_recipient` with `via="mailbox"`.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from email import policy
from email.parser import BytesParser
from enum import StrEnum
from typing import Literal

from halo_supabase.email.headers import decode_header_value, parse_message_ids
from halo_supabase.email.message import Address, ParsedEmail
from halo_supabase.email.threading import REPLY_LOCAL_PREFIX

__all__ = ["Bounce", "Classification", "Forwarded", "Kind", "classify"]


class Kind(StrEnum):
    BOUNCE = "bounce"
    AUTO_REPLY = "auto_reply"
    FORWARD = "forward"
    REPLY = "reply"
    NEW = "new"

    @property
    def automatic(self) -> bool:
        """Sent by a machine, not a person: it may join a thread but never opens or reopens one."""
        return self in (Kind.BOUNCE, Kind.AUTO_REPLY)


@dataclass(frozen=True, slots=True)
class Bounce:
    """What a bounce says, as far as it says it. `permanent` is true for 5.x.x statuses (or when
    no status is given: a bounce without details is treated as a hard failure)."""

    report_type: str | None
    recipients: tuple[str, ...]
    status: str | None
    action: str | None
    original_message_id: str | None

    @property
    def permanent(self) -> bool:
        return self.status is None or self.status.startswith("5")


@dataclass(frozen=True, slots=True)
class Forwarded:
    """The original of a forwarded mail: who first sent it, to whom, with which subject."""

    via: Literal["body", "attachment", "mailbox"]
    original_from: Address | None
    original_recipient: str | None
    original_subject: str | None


@dataclass(frozen=True, slots=True)
class Classification:
    kind: Kind
    reasons: tuple[str, ...]
    bounce: Bounce | None
    forwarded: Forwarded | None
    suppress_auto_response: bool


_BOUNCE_SENDERS = {"mailer-daemon", "postmaster"}
_BOUNCE_SUBJECT = re.compile(
    r"^\s*(undeliver(able|ed)|delivery status notification|mail delivery (failed|failure)"
    r"|returned mail|failure notice|delivery failure|unzustellbar|non remis|no se puede entregar"
    r"|non recapitabile|onbestelbaar|não entregue|kan inte levereras)",
    re.IGNORECASE,
)
_AUTO_SUBJECT = re.compile(
    r"^\s*(automatic reply|auto[- ]?reply|auto[- ]?response|out of (the )?office( autoreply)?"
    r"|abwesenheitsnotiz|automatische antwort|réponse automatique|respuesta automática"
    r"|risposta automatica|automatisch antwoord|resposta automática|autosvar|自動応答)\s*:",
    re.IGNORECASE,
)
_AUTORESPONDER_HEADERS = ("x-autoreply", "x-autorespond", "x-autoresponder", "x-amazon-auto-reply")
_BULK_PRECEDENCE = {"bulk", "junk", "list", "auto_reply"}
_FORWARD_SUBJECT = re.compile(r"^\s*(fwd?|wg|tr|rv|i|doorst|enc|vs|vb|fs|転送)\s*:", re.IGNORECASE)
_FORWARD_MARKER = re.compile(
    r"^\s*(-{2,}\s*(forwarded message|weitergeleitete nachricht|message transféré"
    r"|mensaje reenviado|messaggio inoltrato|doorgestuurd bericht|mensagem encaminhada"
    r"|vidarebefordrat meddelande|転送されたメッセージ)\s*-{2,}"
    r"|begin forwarded message\s*:|anfang der weitergeleiteten nachricht\s*:"
    r"|début du message (réexpédié|transféré)\s*:|inicio del mensaje reenviado\s*:"
    r"|inizio messaggio inoltrato\s*:|begin doorgestuurd bericht\s*:"
    r"|início da mensagem reencaminhada\s*:|vidarebefordrat brev\s*:|転送されたメッセージ\s*:)\s*$",
    re.IGNORECASE,
)
# Outlook writes the same header block (after a rule or "-----Original Message-----") for replies
# and forwards, so it only counts as a forward when the subject says so.
_WEAK_MARKER = re.compile(
    r"^\s*(_{8,}|-{2,}\s*(original message|ursprüngliche nachricht|message d'origine"
    r"|mensaje original|messaggio originale|oorspronkelijk bericht|mensagem original"
    r"|ursprungligt meddelande|元のメッセージ)\s*-{2,})\s*$",
    re.IGNORECASE,
)
_BLOCK_FROM = re.compile(
    r"^\s*[>*\s]*(from|von|de|da|van|från|差出人|送信者)\s*:\s*\**\s*(.+)$", re.IGNORECASE
)
_BLOCK_TO = re.compile(
    r"^\s*[>*\s]*(to|an|à|a|para|aan|till|宛先)\s*:\s*\**\s*(.+)$", re.IGNORECASE
)
_BLOCK_SUBJECT = re.compile(
    r"^\s*[>*\s]*(subject|betreff|objet|asunto|oggetto|onderwerp|assunto|ämne|件名)\s*:\s*\**\s*(.*)$",
    re.IGNORECASE,
)
_ANGLE_ADDR = re.compile(r"<\s*(?:mailto:)?([^<>\s]+@[^<>\s]+)\s*>|\[mailto:([^\]\s]+@[^\]\s]+)\]")
_BARE_ADDR = re.compile(r"[\w.!#$%&'*+/=?^`{|}~-]+@[\w-]+(\.[\w-]+)+")
_MAILBOX_FORWARD_HEADERS = ("x-gm-original-to", "x-forwarded-to", "x-forwarded-for")


def _is_null_return_path(msg: ParsedEmail) -> bool:
    values = msg.header_all("return-path")
    return bool(values) and all(v.strip() in {"<>", ""} for v in values)


def _delivery_status(msg: ParsedEmail) -> dict[str, list[str]]:
    """Fields of the message/delivery-status part, lower-cased names, values in order."""
    fields: dict[str, list[str]] = {}
    for att in msg.attachments:
        if att.content_type not in {"message/delivery-status", "message/global-delivery-status"}:
            continue
        text = att.data.decode("utf-8", "replace")
        for line in re.sub(r"\r?\n[ \t]+", " ", text).splitlines():
            name, sep, value = line.partition(":")
            if sep:
                fields.setdefault(name.strip().lower(), []).append(value.strip())
    return fields


def _attached_header(data: bytes, name: str) -> str:
    """One header of an attached message or header block, decoded ("" when absent)."""
    headers = BytesParser(policy=policy.compat32).parsebytes(data, headersonly=True)
    # raw_items keeps 8-bit bytes recoverable; get() would turn them into replacement characters.
    raw = next((str(v) for k, v in headers.raw_items() if k.lower() == name.lower()), "")
    value, _ = decode_header_value(raw)
    return value


def _original_message_id(msg: ParsedEmail) -> str | None:
    for att in msg.attachments:
        if att.content_type in {"message/rfc822", "text/rfc822-headers", "message/global"}:
            ids = parse_message_ids(_attached_header(att.data, "Message-ID"))
            if ids:
                return ids[0]
    return None


def _bounce(msg: ParsedEmail) -> tuple[Bounce, str] | None:
    content_type = (msg.header("content-type") or "").lower()
    report = re.search(r"report-type\s*=\s*\"?([\w-]+)", content_type)
    report_type = report.group(1) if report and msg.content_type == "multipart/report" else None
    sender = msg.from_.local_part.lower() if msg.from_ else ""
    has_original = any(
        a.content_type in {"message/rfc822", "text/rfc822-headers"} for a in msg.attachments
    )
    if report_type in {"delivery-status", "feedback-report"}:
        reason = f"report:{report_type}"
    elif sender in _BOUNCE_SENDERS:
        reason = f"sender:{sender}"
    elif has_original and _BOUNCE_SUBJECT.match(msg.subject):
        reason = "subject+original"
    else:
        return None
    status = _delivery_status(msg)
    recipients = tuple(
        value.partition(";")[2].strip() or value
        for value in status.get("final-recipient", status.get("original-recipient", []))
    )
    bounce = Bounce(
        report_type=report_type,
        recipients=recipients,
        status=next(iter(status.get("status", [])), None),
        action=next(iter(status.get("action", [])), None),
        original_message_id=_original_message_id(msg),
    )
    return bounce, reason


def _auto_reply_reasons(msg: ParsedEmail, own_domains: Collection[str]) -> list[str]:
    reasons: list[str] = []
    auto_submitted = (msg.header("auto-submitted") or "").partition(";")[0].strip().lower()
    if auto_submitted and auto_submitted != "no":
        reasons.append(f"auto-submitted:{auto_submitted}")
    reasons.extend(name for name in _AUTORESPONDER_HEADERS if msg.header(name) is not None)
    for name in ("precedence", "x-precedence"):
        value = (msg.header(name) or "").strip().lower()
        if value in _BULK_PRECEDENCE:
            reasons.append(f"{name}:{value}")
    reasons.extend(name for name in ("list-id", "list-unsubscribe") if msg.header(name))
    if msg.header("x-loop") is not None:
        reasons.append("x-loop")
    domain = msg.message_id.rpartition("@")[2].lower()
    if not msg.message_id_synthetic and domain in {d.lower() for d in own_domains}:
        reasons.append("own-message-id")
    if _AUTO_SUBJECT.match(msg.subject):
        reasons.append("subject")
    return reasons


def _address_in(value: str) -> Address | None:
    angle = _ANGLE_ADDR.search(value)
    if angle:
        addr = angle.group(1) or angle.group(2)
        name = value[: angle.start()].strip().strip('"').strip()
        return Address(addr=addr, name=name)
    bare = _BARE_ADDR.search(value)
    return Address(addr=bare.group(0)) if bare else None


def _forward_block(text: str, subject_says_forward: bool) -> Forwarded | None:
    """Find a forwarded-header block and read its From/To/Subject lines (up to 12 lines)."""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if _FORWARD_MARKER.match(line) or (subject_says_forward and _WEAK_MARKER.match(line)):
            window = lines[i + 1 : i + 12]
        elif subject_says_forward and _BLOCK_FROM.match(line):
            window = lines[i : i + 12]
        else:
            continue
        original_from = original_to = original_subject = None
        for candidate in window:
            if original_from is None and (m := _BLOCK_FROM.match(candidate)):
                original_from = _address_in(m.group(2))
            elif original_to is None and (m := _BLOCK_TO.match(candidate)):
                to = _address_in(m.group(2))
                original_to = to.addr if to else None
            elif original_subject is None and (m := _BLOCK_SUBJECT.match(candidate)):
                original_subject = m.group(2).strip()
        if original_from is not None:
            return Forwarded("body", original_from, original_to, original_subject)
    return None


def _forward_attachment(msg: ParsedEmail) -> Forwarded | None:
    for att in msg.attachments:
        if att.content_type != "message/rfc822":
            continue
        from_value = _attached_header(att.data, "From")
        subject = _attached_header(att.data, "Subject")
        to = _address_in(_attached_header(att.data, "To"))
        return Forwarded("attachment", _address_in(from_value), to.addr if to else None, subject)
    return None


def _is_reply(msg: ParsedEmail) -> bool:
    if msg.in_reply_to or msg.references:
        return True
    recipients = (*msg.to, *msg.cc)
    return any(a.local_part.lower().startswith(REPLY_LOCAL_PREFIX) for a in recipients)


def classify(msg: ParsedEmail, *, own_domains: Collection[str] = ()) -> Classification:
    """Classify a parsed inbound message. `own_domains` are the domains our Message-IDs use."""
    suppress = bool((msg.header("x-auto-response-suppress") or "").strip())
    mailbox_to = next((v for n in _MAILBOX_FORWARD_HEADERS if (v := msg.header(n))), None)
    mailbox = None
    if mailbox_to:
        found = _address_in(mailbox_to)
        mailbox = Forwarded("mailbox", msg.from_, found.addr if found else None, None)

    bounced = _bounce(msg)
    if bounced is None and _is_null_return_path(msg) and not _auto_reply_reasons(msg, own_domains):
        bounced = (
            Bounce(None, (), None, None, _original_message_id(msg)),
            "null-return-path",
        )
    if bounced is not None:
        return Classification(Kind.BOUNCE, (bounced[1],), bounced[0], None, True)

    reasons = _auto_reply_reasons(msg, own_domains)
    if reasons:
        return Classification(Kind.AUTO_REPLY, tuple(reasons), None, mailbox, True)

    subject_forward = bool(_FORWARD_SUBJECT.match(msg.subject))
    forwarded = _forward_block(msg.text, subject_forward)
    if forwarded is None and subject_forward:
        forwarded = _forward_attachment(msg)
    if forwarded is not None:
        return Classification(
            Kind.FORWARD, ("forward:" + forwarded.via,), None, forwarded, suppress
        )

    kind = Kind.REPLY if _is_reply(msg) else Kind.NEW
    return Classification(kind, (), None, mailbox, suppress)
