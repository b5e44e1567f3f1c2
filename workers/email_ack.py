"""`email.ack`: the automatic acknowledgement of a new ticket opened by email.

Enqueued by the email-inbound worker only when the workspace turned it on
(`workspace_settings.email_settings.auto_acknowledge`), the mail was a new conversation (not a
reply, bounce, auto-reply or spam) that did not ask for no automatic answers
(`X-Auto-Response-Suppress`), and the caps allow it: one per ticket (the job's dedupe key
`ack:<ticket>`) and `ACK_CAP_PER_SENDER` per sender per day. The reply carries
`Auto-Submitted: auto-replied`, `X-Loop` and `X-Auto-Response-Suppress: All`, so neither other
systems nor we ever answer it. It is not stored as a message: it is not a response (first
response time and "waiting since" stay the customer's), only a courtesy.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any, cast

from halo_supabase.email import Address, SenderIdentity, build_reply, reply_subject
from halo_supabase.mail_senders import MailSender
from halo_supabase.runtime import JobContext
from halo_supabase.settings import get_settings
from workers.email_send import configured_sender

__all__ = ["ACK_CAP_PER_SENDER", "DEFAULT_TEXT", "KIND", "handle"]

KIND = "email.ack"
ACK_CAP_PER_SENDER = 3
DEFAULT_TEXT = (
    "Thanks for your message: it reached our support team and has been given a ticket. "
    "We will get back to you as soon as we can. Simply reply to this email to add anything."
)
log = logging.getLogger("halo.worker.email_ack")


async def handle(context: JobContext, sender: MailSender | None = None) -> None:
    payload: dict[str, Any] = context.job.payload
    api = context.client.schema("api")
    response = await api.rpc(
        "outbound_email_context", {"p_message_id": str(payload["message_id"])}
    ).execute()
    data = cast("dict[str, Any] | None", response.data)
    if data is None or not data["contact"] or not data["identity"]:
        return  # the ticket or its customer is gone: nothing to acknowledge
    ticket, contact, identity = data["ticket"], data["contact"], data["identity"]
    workspace = str(data["message"]["workspace_id"])
    secrets = cast(
        "list[str]", (await api.rpc("email_secrets", {"p_workspace_id": workspace}).execute()).data
    )
    from_address = str(identity["address"])
    replied = data["replied"] or {}
    email = build_reply(
        identity=SenderIdentity(from_address, str(identity["name"]), show_agent_name=False),
        to=[Address(str(contact["email"]), str(contact.get("name") or ""))],
        subject=reply_subject(str(ticket["subject"])),
        text=str(payload.get("text") or DEFAULT_TEXT),
        ticket_id=uuid.UUID(str(ticket["id"])),
        message_ref=f"ack-{payload['message_id']}",
        secret=secrets[0].encode(),
        domain=get_settings().email_domain or from_address.rpartition("@")[2],
        replied_message_id=replied.get("email_message_id"),
        replied_references=replied.get("email_references") or [],
        automatic=True,
    )
    await (sender or configured_sender()).send(email, [str(contact["email"])])
    log.info(
        "acknowledgement sent",
        extra={"action": "email.ack.sent", "job_id": context.job.id, "ticket_id": ticket["id"]},
    )
