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
from dataclasses import dataclass
from uuid import UUID

from halo_supabase.email import Address, SenderIdentity, build_reply, reply_subject
from halo_supabase.mail_senders import MailSender
from halo_supabase.runtime import JobContext
from halo_supabase.worker_host import WorkerDefinition, job_worker

__all__ = ["DEFINITION", "KIND", "EmailSend"]

KIND = "email.send"
log = logging.getLogger("halo.worker.email_send")


@dataclass(frozen=True)
class EmailSend:
    """Sends agents' email replies with `sender`; Message-IDs on `email_domain` (default: the
    domain of the workspace's address)."""

    sender: MailSender
    email_domain: str | None = None

    async def handle(self, context: JobContext) -> None:
        message_id = UUID(str(context.job.payload["message_id"]))
        data = await context.api.outbound_email_context(message_id)
        if data is None:
            log.warning(
                "message gone", extra={"action": "email.send.missing", "job_id": context.job.id}
            )
            return
        message, ticket = data.message, data.ticket
        if message.email_message_id:
            return  # sent by an earlier attempt
        contact, identity = data.contact, data.identity
        if contact is None or not contact.email or identity is None:
            raise ValueError("the ticket has no customer email or the workspace no inbound address")
        secrets = await context.api.email_secrets(message.workspace_id)
        replied = data.replied
        domain = self.email_domain or identity.address.rpartition("@")[2]
        cc = [Address(str(addr)) for addr in ticket.metadata.get("participants", [])]
        email = build_reply(
            identity=SenderIdentity(identity.address, identity.name),
            to=[Address(contact.email, contact.name or "")],
            cc=cc,
            subject=reply_subject(ticket.subject),
            text=message.body_text or "",
            html=message.body_html,
            ticket_id=ticket.id,
            message_ref=str(message.id),
            secret=secrets[0].encode(),
            domain=domain,
            agent_name=data.agent_name,
            replied_message_id=replied.email_message_id if replied else None,
            replied_references=replied.email_references if replied else [],
            automatic=message.automatic,
        )
        recipients = [contact.email, *(a.addr for a in cc)]
        await self.sender.send(email, recipients)
        references = [r.strip("<>") for r in str(email.get("References", "")).split()]
        await context.api.mark_email_sent(
            message_id,
            str(email["Message-ID"]).strip("<>"),
            in_reply_to=replied.email_message_id if replied else None,
            references=references or None,
        )
        log.info(
            "email sent",
            extra={
                "action": "email.send.sent",
                "job_id": context.job.id,
                "ticket_id": str(ticket.id),
                "recipients": len(recipients),
                "sender": type(self.sender).__name__,
            },
        )


DEFINITION: WorkerDefinition = job_worker(
    "email-send",
    KIND,
    lambda shared, _: EmailSend(shared.sender, shared.settings.email_domain).handle,
)
