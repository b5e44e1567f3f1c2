"""Signed Message-IDs and reply tokens, and the ordered threading candidates of an inbound mail.

Formats (the TypeScript port must produce and accept exactly these):

* Outbound Message-ID: ``<t.{ticket_uuid}.m.{message_ref}.{mac}@{domain}>`` where `ticket_uuid` is
  the canonical lower-case hyphenated UUID, `message_ref` our message's id (letters, digits,
  hyphens) and `mac` the first 16 hex digits of
  ``HMAC-SHA256(secret, "halo:message-id:{ticket_uuid}:{message_ref}")``.
* Reply address: ``reply+{ticket_hex}-{mac}@{domain}`` where `ticket_hex` is the UUID's 32 hex
  digits and `mac` the first 16 hex digits of ``HMAC-SHA256(secret, "halo:reply:{ticket_uuid}")``.
  Hex only, because some relays lower-case local parts. 55 characters, under the 64 allowed.

`secret` is the workspace's secret (bytes); verification accepts a list so a rotated secret keeps
old threads working. Macs are compared with `hmac.compare_digest`. 64 bits of MAC makes forging
one by trial infeasible over SMTP. The domain is not signed: it may legitimately change (a
workspace moving to its own domain) and the worker scopes lookups to the inbox anyway.

* Body marker: ``halo-ref:{ticket_hex}-{mac}`` with the reply address's MAC, hidden in the HTML of
  our replies; it survives providers and clients that rewrite or drop Message-IDs and Reply-To,
  as long as the customer's client quotes our HTML.

Candidate order (3.4 of the inbox anchors): reply tokens in the envelope recipient, To, Cc,
Delivered-To, X-Original-To and the forwarding headers; then our signed ids in In-Reply-To, then
References newest to oldest; then the other ids in that same order, for the worker to look up
among the inbox's stored Message-IDs; last, body markers (HTML first, then text). An id, token or
marker in our format whose MAC fails is dropped and reported in `rejected`: it is either forged
or from another workspace.
"""

from __future__ import annotations

import hmac
import re
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from hashlib import sha256
from typing import Literal

from halo_supabase.email.message import ParsedEmail

__all__ = [
    "REPLY_LOCAL_PREFIX",
    "Candidate",
    "SignedMessageId",
    "ThreadingCandidates",
    "make_body_marker",
    "make_message_id",
    "make_reply_address",
    "normalise_subject",
    "threading_candidates",
    "verify_message_id",
    "verify_reply_address",
]

REPLY_LOCAL_PREFIX = "reply+"
_MAC_HEX = 16
_MESSAGE_REF = re.compile(r"^[A-Za-z0-9-]{1,64}$")
_SIGNED_ID = re.compile(
    r"^t\.([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})"
    r"\.m\.([A-Za-z0-9-]{1,64})\.([0-9a-f]{16})@[^@\s]+$",
    re.IGNORECASE,
)
_REPLY_TOKEN = re.compile(r"^reply\+([0-9a-f]{32})-([0-9a-f]{16})@", re.IGNORECASE)
_BODY_MARKER = re.compile(r"halo-ref:([0-9a-f]{32})-([0-9a-f]{16})", re.IGNORECASE)
_TOKEN_HEADERS = (
    "to", "cc", "delivered-to", "x-original-to", "x-forwarded-to", "x-forwarded-for",
    "x-gm-original-to", "envelope-to",
)  # fmt: skip
_ADDR = re.compile(r"[^\s<>,;\"']+@[^\s<>,;\"']+")
_SUBJECT_PREFIX = re.compile(
    r"^\s*((re|aw|sv|vs|antw|ant|odp|r|rif|ref|réf|fwd?|wg|tr|rv|enc|doorst|i|回复|答复|転送)"
    r"\s*(\[\d+\]|\(\d+\))?\s*[:\uff1a]\s*)+",  # ASCII or full-width colon (CJK clients)
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class SignedMessageId:
    ticket_id: uuid.UUID
    message_ref: str


@dataclass(frozen=True, slots=True)
class Candidate:
    """One way this mail may belong to an existing ticket, strongest first in the list.

    `source` says what kind of evidence: a verified reply token or signed id carries `ticket_id`
    (and `message_ref` for ids); a `message_id` candidate must be looked up in the inbox's stored
    Message-IDs. `header` names where it was found.
    """

    source: Literal["reply_token", "signed_id", "message_id", "body_marker"]
    header: str
    ticket_id: uuid.UUID | None = None
    message_ref: str | None = None
    message_id: str | None = None


@dataclass(frozen=True, slots=True)
class ThreadingCandidates:
    candidates: tuple[Candidate, ...]
    rejected: tuple[str, ...]


def _mac(secret: bytes, purpose: str, *fields: str) -> str:
    payload = ":".join(("halo", purpose, *fields)).encode()
    return hmac.new(secret, payload, sha256).hexdigest()[:_MAC_HEX]


def make_message_id(ticket_id: uuid.UUID, message_ref: str, secret: bytes, domain: str) -> str:
    """Our Message-ID for an outbound message, with angle brackets."""
    if not _MESSAGE_REF.match(message_ref):
        raise ValueError(
            "message_ref must be 1-64 letters, digits or hyphens (it goes in a Message-ID)"
        )
    mac = _mac(secret, "message-id", str(ticket_id), message_ref)
    return f"<t.{ticket_id}.m.{message_ref}.{mac}@{domain}>"


def verify_message_id(value: str, secrets: Sequence[bytes]) -> SignedMessageId | None:
    """The ticket and message of one of our Message-IDs (brackets optional); None if the value is
    not in our format or its MAC matches none of `secrets`."""
    match = _SIGNED_ID.match(value.strip().strip("<>"))
    if not match:
        return None
    ticket = str(uuid.UUID(match.group(1)))
    message_ref, mac = match.group(2), match.group(3).lower()
    for secret in secrets:
        if hmac.compare_digest(_mac(secret, "message-id", ticket, message_ref), mac):
            return SignedMessageId(uuid.UUID(ticket), message_ref)
    return None


def _reply_mac(ticket_id: uuid.UUID, secret: bytes) -> str:
    return _mac(secret, "reply", str(ticket_id))


def _verify_ticket_mac(ticket_hex: str, mac: str, secrets: Sequence[bytes]) -> uuid.UUID | None:
    ticket = uuid.UUID(ticket_hex)
    for secret in secrets:
        if hmac.compare_digest(_reply_mac(ticket, secret), mac.lower()):
            return ticket
    return None


def make_reply_address(ticket_id: uuid.UUID, secret: bytes, domain: str) -> str:
    """The Reply-To address that routes a customer's answer back to this ticket."""
    return f"{REPLY_LOCAL_PREFIX}{ticket_id.hex}-{_reply_mac(ticket_id, secret)}@{domain}"


def verify_reply_address(address: str, secrets: Sequence[bytes]) -> uuid.UUID | None:
    """The ticket a reply address names, if its MAC matches one of `secrets`."""
    match = _REPLY_TOKEN.match(address.strip().strip("<>"))
    return _verify_ticket_mac(match.group(1), match.group(2), secrets) if match else None


def make_body_marker(ticket_id: uuid.UUID, secret: bytes) -> str:
    """The marker outbound.py hides in the HTML of our replies."""
    return f"halo-ref:{ticket_id.hex}-{_reply_mac(ticket_id, secret)}"


def _looks_signed(message_id: str) -> bool:
    return bool(_SIGNED_ID.match(message_id))


def _recipient_addresses(msg: ParsedEmail, envelope: Iterable[str]) -> Iterable[tuple[str, str]]:
    for addr in envelope:
        yield "envelope", addr
    for name in _TOKEN_HEADERS:
        for value in msg.header_all(name):
            for addr in _ADDR.findall(value):
                yield name, addr


def threading_candidates(
    msg: ParsedEmail, secrets: Sequence[bytes], *, envelope_recipients: Iterable[str] = ()
) -> ThreadingCandidates:
    """Ordered threading evidence for `msg`; the worker tries them in order (see module doc)."""
    candidates: list[Candidate] = []
    rejected: list[str] = []
    seen_tickets: set[uuid.UUID] = set()
    for header, addr in _recipient_addresses(msg, envelope_recipients):
        if not addr.lower().startswith(REPLY_LOCAL_PREFIX):
            continue
        ticket = verify_reply_address(addr, secrets)
        if ticket is None:
            rejected.append(addr)
        elif ticket not in seen_tickets:
            seen_tickets.add(ticket)
            candidates.append(Candidate("reply_token", header, ticket_id=ticket))

    ordered = [("in-reply-to", i) for i in msg.in_reply_to]
    ordered += [("references", i) for i in reversed(msg.references)]
    foreign: list[Candidate] = []
    seen_ids: set[str] = set()
    for header, message_id in ordered:
        if message_id in seen_ids:
            continue
        seen_ids.add(message_id)
        if _looks_signed(message_id):
            signed = verify_message_id(message_id, secrets)
            if signed is None:
                rejected.append(message_id)
                continue
            candidates.append(
                Candidate(
                    "signed_id",
                    header,
                    ticket_id=signed.ticket_id,
                    message_ref=signed.message_ref,
                    message_id=message_id,
                )
            )
        else:
            foreign.append(Candidate("message_id", header, message_id=message_id))
    markers: list[Candidate] = []
    for body in (msg.html or "", msg.text):
        for match in _BODY_MARKER.finditer(body):
            ticket = _verify_ticket_mac(match.group(1), match.group(2), secrets)
            if ticket is None:
                rejected.append(match.group(0))
            elif ticket not in seen_tickets:
                seen_tickets.add(ticket)
                markers.append(Candidate("body_marker", "body", ticket_id=ticket))
    return ThreadingCandidates(
        tuple(candidates + foreign + markers), tuple(dict.fromkeys(rejected))
    )


def normalise_subject(subject: str) -> str:
    """The subject without reply/forward prefixes (any language, any count), case-folded, with
    whitespace collapsed: what the worker compares to decide whether a thread changed topic."""
    return " ".join(_SUBJECT_PREFIX.sub("", subject).split()).casefold()
