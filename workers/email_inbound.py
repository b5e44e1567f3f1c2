"""`email.inbound`: one stored webhook delivery → a ticket update, through the Supabase APIs.

Reads the delivery's bytes (inline in the job for small text deliveries, else from Storage,
service key), rebuilds and parses the mail
(`halo_supabase.inbound`), stores attachments, decides spam (trusted senders, then the AI
provider's classifier, unless the workspace turned detection off), and applies it once through
`api.apply_inbound_emails`, grouped with the other emails parsed meanwhile. Idempotent: the SQL
function returns the first outcome when a delivery is applied again, and attachment uploads
overwrite their own paths.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from uuid import UUID

from halo_supabase.ai import AIProvider, EmailForSpam
from halo_supabase.client import HaloClient
from halo_supabase.client.documents import (
    InboundAttachment,
    InboundEmailDocument,
    InboundOutcome,
)
from halo_supabase.errors import InboundApplyError
from halo_supabase.grouped_calls import GroupedCall
from halo_supabase.inbound import StoredFile, delivery_email, inbound_document, is_trusted
from halo_supabase.runtime import JobContext
from halo_supabase.worker_host import WorkerDefinition, WorkerResources, job_worker
from workers import email_ack

__all__ = ["DEFINITION", "KIND", "EmailInbound", "WorkspaceConfigs"]

KIND = "email.inbound"
BUCKET = "inbound-email"
# Emails parsed while an apply call is in flight go together in the next one
# (`api.apply_inbound_emails`): one request and one commit per group.
APPLY_GROUP_MAX = 100
log = logging.getLogger("halo.worker.email_inbound")
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class WorkspaceConfig:
    """What the worker needs of a workspace's settings."""

    secrets: list[bytes]
    spam_detection: bool
    trusted: list[str]
    auto_acknowledge: bool
    acknowledge_text: str | None
    read_at: float


@dataclass
class WorkspaceConfigs:
    """Per-workspace settings, read again after `ttl_seconds`: they change rarely and every
    email needs them (a setting changed in the dashboard applies within the TTL)."""

    ttl_seconds: float = 30.0
    _read: dict[UUID, WorkspaceConfig] = field(default_factory=dict)

    async def get(self, api: HaloClient, workspace: UUID) -> WorkspaceConfig:
        cached = self._read.get(workspace)
        if cached is not None and time.monotonic() - cached.read_at < self.ttl_seconds:
            return cached
        secrets = await api.email_secrets(workspace)
        settings = await api.workspace_settings(workspace_id=workspace)
        trusted = await api.trusted_senders(workspace_id=workspace)
        email_settings = settings[0].email_settings if settings else {}
        config = WorkspaceConfig(
            secrets=[secret.encode() for secret in secrets],
            spam_detection=not settings or settings[0].spam_detection_enabled,
            trusted=[row.pattern for row in trusted],
            auto_acknowledge=bool(email_settings.get("auto_acknowledge", False)),
            acknowledge_text=email_settings.get("auto_acknowledge_text"),
            read_at=time.monotonic(),
        )
        self._read[workspace] = config
        return config


class EmailInbound:
    """The `email.inbound` handler of one worker: its client, AI provider and settings cache.

    `own_domains`: Message-IDs on these domains are our own mail come back (a loop); the
    `HALO_EMAIL_DOMAIN` setting, not the inbox's domain by default, since colleagues mailing
    the inbox from that domain would look like a loop.
    """

    def __init__(
        self,
        api: HaloClient,
        provider: AIProvider,
        own_domains: Sequence[str] = (),
        configs: WorkspaceConfigs | None = None,
    ) -> None:
        self.api = api
        self.provider = provider
        self.own_domains = list(own_domains)
        self.configs = configs or WorkspaceConfigs()
        self._applier: GroupedCall[tuple[UUID, InboundEmailDocument], InboundOutcome] = GroupedCall(
            self._apply_group, APPLY_GROUP_MAX
        )

    async def _apply_group(
        self, items: list[tuple[UUID, InboundEmailDocument]]
    ) -> list[InboundOutcome | BaseException]:
        outcomes: list[InboundOutcome | InboundApplyError] = await self.api.apply_inbound_emails(
            items
        )
        return list(outcomes)

    async def handle(self, context: JobContext) -> None:
        payload = context.job.payload
        inbound_id = UUID(str(payload["inbound_id"]))
        delivery = payload
        if "storage_path" not in payload and "raw" not in payload:  # an old job: read the row
            [row] = await self.api.inbound_emails(id=inbound_id)
            delivery = row.model_dump(mode="json")
        if context.job.workspace_id is None:
            raise ValueError(f"inbound job {context.job.id} has no workspace")
        workspace = context.job.workspace_id
        bucket = self.api.supabase.storage.from_(BUCKET)
        if "raw" in delivery:  # small text deliveries are stored inline
            stored = str(delivery["raw"]).encode()
        else:
            stored = await bucket.download(delivery["storage_path"])
        files: list[StoredFile] = []
        if delivery["payload_format"] == "form":
            for entry in json.loads(stored).get("files", []):
                data = await bucket.download(entry["path"])
                files.append(
                    StoredFile(entry["field"], entry["filename"], entry["content_type"], data)
                )
        email = delivery_email(delivery["provider"], delivery["payload_format"], stored, files)

        config = await self.configs.get(self.api, workspace)
        first = inbound_document(email, config.secrets, own_domains=self.own_domains)
        spam, reasons = await self._spam_verdict(config, first.document)
        attachments = []
        for index, attachment in enumerate(first.parsed.attachments):
            name = _UNSAFE.sub("_", attachment.filename or f"part-{index}")[:120]
            path = f"attachments/{workspace}/{inbound_id}/{index}-{name}"
            await bucket.upload(
                path,
                attachment.data,
                {
                    "content-type": attachment.content_type or "application/octet-stream",
                    "upsert": "true",
                },
            )
            attachments.append(
                InboundAttachment(
                    name=attachment.filename,
                    content_type=attachment.content_type,
                    size=attachment.size,
                    storage_path=f"{BUCKET}/{path}",
                    content_id=attachment.content_id,
                    inline=attachment.inline,
                )
            )
        automatic = first.classification.kind.automatic
        document = first.document.model_copy(
            update={
                "attachments": attachments,
                # Bounces and auto-replies only ever join existing threads; spam is about new
                # tickets.
                "spam": spam and not automatic,
                "spam_reasons": reasons,
            }
        )
        outcome = await self._applier((inbound_id, document))
        if (
            outcome.result == "applied"
            and document.kind in ("new", "forward")
            and not document.spam
            and not first.classification.suppress_auto_response
            and config.auto_acknowledge
            and document.customer_email
        ):
            await self._acknowledge(context, workspace, outcome, document.customer_email, config)
        log.info(
            "inbound applied",
            extra={
                "action": "email.inbound.applied",
                "inbound_id": str(inbound_id),
                "result": outcome.result,
                "kind": document.kind,
                "ticket_id": str(outcome.ticket_id) if outcome.ticket_id else None,
                "spam": document.spam,
                "rejected_ids": first.rejected_ids,
                "defects": len(first.parsed.defects),
            },
        )

    async def _acknowledge(
        self,
        context: JobContext,
        workspace: UUID,
        outcome: InboundOutcome,
        customer: str,
        config: WorkspaceConfig,
    ) -> None:
        """Enqueue the acknowledgement, capped: one per ticket (dedupe key), a few per sender a
        day."""
        since = datetime.now(UTC) - timedelta(days=1)
        recent = await self.api.jobs(
            kind=email_ack.KIND, workspace_id=workspace, at_least={"created_at": since}
        )
        sent = sum(1 for job in recent if job.payload.get("sender") == customer.lower())
        if sent >= email_ack.ACK_CAP_PER_SENDER:
            log.info("acknowledgement capped", extra={"action": "email.ack.capped"})
            return
        await context.queue.enqueue(
            email_ack.KIND,
            {
                "message_id": str(outcome.message_id),
                "sender": customer.lower(),
                "text": config.acknowledge_text,
            },
            dedupe_key=f"ack:{outcome.ticket_id}",
            workspace_id=workspace,
        )

    async def _spam_verdict(
        self, config: WorkspaceConfig, document: InboundEmailDocument
    ) -> tuple[bool, list[str]]:
        """Workspace settings first (detection off, trusted senders), then the classifier."""
        if not config.spam_detection:
            return False, []
        if is_trusted(document.from_email, config.trusted):
            return False, ["trusted_sender"]
        verdict = await self.provider.classify_spam(
            EmailForSpam(
                sender=document.from_email,
                subject=document.subject,
                body=document.body_text,
                headers={k: v for k, v in document.headers.items() if isinstance(v, str)},
            )
        )
        return verdict.is_spam, list(verdict.reasons)


def _handler(shared: WorkerResources, api: HaloClient) -> EmailInbound:
    domain = shared.settings.email_domain
    return EmailInbound(api, shared.provider, [domain] if domain else [])


DEFINITION: WorkerDefinition = job_worker(
    "email-inbound", KIND, lambda shared, api: _handler(shared, api).handle
)
