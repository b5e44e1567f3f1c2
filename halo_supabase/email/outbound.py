"""Build the outbound email for an agent's reply (or an automatic acknowledgement), threaded.

Headers set, and why:

* `Message-ID`: our signed id (threading.py), so the customer's answer finds the ticket even when
  their client drops Reply-To.
* `In-Reply-To`: the Message-ID being answered (normally the customer's last message);
  `References`: that message's References plus its id, de-duplicated, oldest first, at most
  `MAX_REFERENCES` ids (the first is kept: it names the thread's root for JWZ-style clients).
* `Reply-To`: the ticket's reply address; answers come back with the token in To.
* Subject and display names are folded onto one line (no header injection from what agents
  type); ids that are not `local@domain` without spaces or brackets are left out.
* `From`: the workspace's sender identity; when `show_agent_name` is set the display name is
  "{agent} ({workspace})" so customers see a person, while the address stays the inbox's.
* HTML replies end with a hidden `halo-ref:` marker (threading.py), the fallback when a client
  loses both Message-IDs and Reply-To but quotes our HTML.
* automatic mail (`automatic=True`): `Auto-Submitted: auto-replied` (RFC 3834) and
  `X-Loop: {domain}` so other systems, and our own classifier, never answer it; plus
  `X-Auto-Response-Suppress: All` so Exchange does not send out-of-office replies to it.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import policy
from email.headerregistry import Address as HeaderAddress
from email.message import EmailMessage
from email.utils import format_datetime

from halo_supabase.email.headers import one_line, safe_content_type
from halo_supabase.email.message import Address
from halo_supabase.email.threading import make_body_marker, make_message_id, make_reply_address

__all__ = ["MAX_REFERENCES", "OutboundAttachment", "SenderIdentity", "build_reply", "reply_subject"]

MAX_REFERENCES = 20
_MESSAGE_ID = re.compile(r"^[^\s<>]+@[^\s<>]+$")


@dataclass(frozen=True, slots=True)
class SenderIdentity:
    """A workspace's rules for From: its address, its name, whether agents' names are shown."""

    address: str
    workspace_name: str
    show_agent_name: bool = True

    def display_name(self, agent_name: str | None) -> str:
        if self.show_agent_name and agent_name:
            return one_line(f"{agent_name} ({self.workspace_name})")
        return one_line(self.workspace_name)


@dataclass(frozen=True, slots=True)
class OutboundAttachment:
    filename: str
    content_type: str
    data: bytes = field(repr=False)


def reply_subject(subject: str) -> str:
    """`Re: ` + the subject, unless it already starts with a reply prefix we would repeat."""
    stripped = one_line(subject)
    return stripped if stripped.lower().startswith("re:") else f"Re: {stripped}"


def _references(replied_references: Sequence[str], replied_id: str | None) -> list[str]:
    given = [*replied_references, *([replied_id] if replied_id else [])]
    ids = list(dict.fromkeys(i for i in given if _MESSAGE_ID.match(i)))
    if len(ids) > MAX_REFERENCES:
        ids = [ids[0], *ids[-(MAX_REFERENCES - 1) :]]
    return ids


def _hidden_marker(ticket_id: uuid.UUID, secret: bytes) -> str:
    # Invisible in every common client (mso-hide for Outlook), but kept when the customer's client
    # quotes our HTML: the last threading fallback when headers were lost (threading.py).
    style = "display:none;max-height:0;overflow:hidden;mso-hide:all;font-size:0"
    return f'<div style="{style}" aria-hidden="true">{make_body_marker(ticket_id, secret)}</div>'


def _address_list(addresses: Sequence[Address]) -> str | list[HeaderAddress]:
    if all(a.addr.isascii() for a in addresses):
        return [HeaderAddress(display_name=one_line(a.name), addr_spec=a.addr) for a in addresses]
    # headerregistry.Address refuses non-ASCII local parts; the SMTPUTF8 policy accepts the text.
    quoted = [(one_line(a.name).replace("\\", "").replace('"', ""), a.addr) for a in addresses]
    return ", ".join(f'"{name}" <{addr}>' if name else addr for name, addr in quoted)


def build_reply(
    *,
    identity: SenderIdentity,
    to: Sequence[Address],
    subject: str,
    text: str,
    ticket_id: uuid.UUID,
    message_ref: str,
    secret: bytes,
    domain: str,
    cc: Sequence[Address] = (),
    html: str | None = None,
    agent_name: str | None = None,
    replied_message_id: str | None = None,
    replied_references: Sequence[str] = (),
    automatic: bool = False,
    attachments: Sequence[OutboundAttachment] = (),
    date: datetime | None = None,
) -> EmailMessage:
    """The complete outbound message. `replied_message_id`/`replied_references` are those of the
    message being answered, without angle brackets, as ParsedEmail stores them."""
    # An internationalised address (EAI, RFC 6532) cannot be written in 7-bit headers: such a
    # message is serialised with UTF-8 headers and needs an SMTPUTF8-capable relay.
    international = any(not a.addr.isascii() for a in (*to, *cc))
    message = EmailMessage(policy=policy.SMTPUTF8 if international else policy.default)
    message["From"] = HeaderAddress(
        display_name=identity.display_name(agent_name), addr_spec=identity.address
    )
    message["To"] = _address_list(to)
    if cc:
        message["Cc"] = _address_list(cc)
    message["Reply-To"] = make_reply_address(ticket_id, secret, domain)
    message["Subject"] = one_line(subject)
    message["Date"] = format_datetime(date or datetime.now(UTC))
    message["Message-ID"] = make_message_id(ticket_id, message_ref, secret, domain)
    if replied_message_id and _MESSAGE_ID.match(replied_message_id):
        message["In-Reply-To"] = f"<{replied_message_id}>"
    references = _references(replied_references, replied_message_id)
    if references:
        message["References"] = " ".join(f"<{i}>" for i in references)
    if automatic:
        message["Auto-Submitted"] = "auto-replied"
        message["X-Loop"] = domain
        message["X-Auto-Response-Suppress"] = "All"
    message.set_content(text)
    if html is not None:
        message.add_alternative(html + _hidden_marker(ticket_id, secret), subtype="html")
    for attachment in attachments:
        maintype, subtype = safe_content_type(attachment.content_type)
        message.add_attachment(
            attachment.data,
            maintype=maintype,
            subtype=subtype,
            filename=one_line(attachment.filename) or "attachment",
        )
    return message
