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
from dataclasses import dataclass
from uuid import UUID

from halo_supabase.email import Address, SenderIdentity, build_reply, reply_subject
from halo_supabase.mail_senders import MailSender
from halo_supabase.runtime import JobContext
from halo_supabase.worker_host import WorkerDefinition, job_worker

__all__ = ["ACK_CAP_PER_SENDER", "DEFAULT_TEXT", "DEFINITION", "KIND", "EmailAck"]

KIND = "email.ack"
ACK_CAP_PER_SENDER = 3
DEFAULT_TEXT = (
    "Thanks for your message: it reached our support team and has been given a ticket. "
    "We will get back to you as soon as we can. Simply reply to this email to add anything."
)
log = logging.getLogger("halo.worker.email_ack")


@dataclass(frozen=True)
class EmailAck:
    """Sends acknowledgements with `sender`; Message-IDs on `email_domain` (default: the domain
    of the workspace's address)."""

    sender: MailSender
    email_domain: str | None = None

    async def handle(self, context: JobContext) -> None:
        payload = context.job.payload
        data = await context.api.outbound_email_context(UUID(str(payload["message_id"])))
        if data is None or data.contact is None or not data.contact.email or data.identity is None:
            return  # the ticket or its customer is gone: nothing to acknowledge
        ticket, contact, identity = data.ticket, data.contact, data.identity
        customer = data.contact.email
        secrets = await context.api.email_secrets(data.message.workspace_id)
        replied = data.replied
        email = build_reply(
            identity=SenderIdentity(identity.address, identity.name, show_agent_name=False),
            to=[Address(customer, contact.name or "")],
            subject=reply_subject(ticket.subject),
            text=str(payload.get("text") or DEFAULT_TEXT),
            ticket_id=ticket.id,
            message_ref=f"ack-{payload['message_id']}",
            secret=secrets[0].encode(),
            domain=self.email_domain or identity.address.rpartition("@")[2],
            replied_message_id=replied.email_message_id if replied else None,
            replied_references=replied.email_references if replied else [],
            automatic=True,
        )
        await self.sender.send(email, [customer])
        log.info(
            "acknowledgement sent",
            extra={
                "action": "email.ack.sent",
                "job_id": context.job.id,
                "ticket_id": str(ticket.id),
            },
        )


DEFINITION: WorkerDefinition = job_worker(
    "email-ack",
    KIND,
    lambda shared, _: EmailAck(shared.sender, shared.settings.email_domain).handle,
)
