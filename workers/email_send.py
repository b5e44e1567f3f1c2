"""`email.send`: an outbound email message (an agent's reply) → a threaded email, sent once.

The reply RPC's message trigger enqueues this job in the message's transaction. The handler reads
what it needs (`api.outbound_email_context`), builds the reply with `email/outbound.py` (our
signed Message-ID, In-Reply-To and References of the customer's last email, Reply-To with the
ticket's token, From by the workspace's rules), hands it to the configured sender, and records
the Message-ID (`api.mark_email_sent`). A message that already has a Message-ID was sent by an
earlier attempt and is skipped. The Message-ID is derived from the message id, so if a worker
dies between sending and recording, the resent copy carries the same Message-ID and mail clients
show it once.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any, cast

from halo_supabase.email import Address, SenderIdentity, build_reply, reply_subject
from halo_supabase.mail_senders import MailSender, sender_from_settings
from halo_supabase.runtime import JobContext
from halo_supabase.settings import get_settings

__all__ = ["KIND", "configured_sender", "handle"]

KIND = "email.send"
log = logging.getLogger("halo.worker.email_send")
_sender: MailSender | None = None


def configured_sender() -> MailSender:
    """The sender the settings name, built once per process."""
    global _sender
    if _sender is None:
        _sender = sender_from_settings(get_settings())
    return _sender


async def handle(context: JobContext, sender: MailSender | None = None) -> None:
    message_id = str(context.job.payload["message_id"])
    api = context.client.schema("api")
    response = await api.rpc("outbound_email_context", {"p_message_id": message_id}).execute()
    data = cast("dict[str, Any] | None", response.data)
    if data is None:
        log.warning(
            "message gone", extra={"action": "email.send.missing", "job_id": context.job.id}
        )
        return
    message, ticket = data["message"], data["ticket"]
    if message["email_message_id"]:
        return  # sent by an earlier attempt
    contact, identity = data["contact"], data["identity"]
    if not contact or not contact.get("email") or not identity:
        raise ValueError("the ticket has no customer email or the workspace no inbound address")
    workspace = str(message["workspace_id"])
    secrets = cast(
        "list[str]",
        (await api.rpc("email_secrets", {"p_workspace_id": workspace}).execute()).data,
    )
    replied = data["replied"] or {}
    from_address = str(identity["address"])
    domain = get_settings().email_domain or from_address.rpartition("@")[2]
    cc = [Address(addr) for addr in ticket["metadata"].get("participants", [])]
    email = build_reply(
        identity=SenderIdentity(from_address, str(identity["name"])),
        to=[Address(str(contact["email"]), str(contact.get("name") or ""))],
        cc=cc,
        subject=reply_subject(str(ticket["subject"])),
        text=str(message["body_text"] or ""),
        html=message["body_html"],
        ticket_id=uuid.UUID(str(ticket["id"])),
        message_ref=str(message["id"]),
        secret=secrets[0].encode(),
        domain=domain,
        agent_name=data["agent_name"],
        replied_message_id=replied.get("email_message_id"),
        replied_references=replied.get("email_references") or [],
        automatic=bool(message["automatic"]),
    )
    recipients = [str(contact["email"]), *(a.addr for a in cc)]
    await (sender or configured_sender()).send(email, recipients)
    references = [r.strip("<>") for r in str(email.get("References", "")).split()]
    await api.rpc(
        "mark_email_sent",
        # postgrest-py annotates params as dict[str, str] but sends any JSON body unchanged.
        cast(
            "dict[str, str]",
            {
                "p_message_id": message_id,
                "p_email_message_id": str(email["Message-ID"]).strip("<>"),
                "p_in_reply_to": replied.get("email_message_id"),
                "p_references": references or None,
            },
        ),
    ).execute()
    log.info(
        "email sent",
        extra={
            "action": "email.send.sent",
            "job_id": context.job.id,
            "ticket_id": ticket["id"],
            "recipients": len(recipients),
            "sender": type(sender or configured_sender()).__name__,
        },
    )
