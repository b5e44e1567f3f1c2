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
import weakref
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, cast
from uuid import UUID

from halo_supabase.ai import AIProvider, EmailForSpam, provider_from_settings
from halo_supabase.errors import InboundApplyError
from halo_supabase.grouped_calls import GroupedCall
from halo_supabase.inbound import StoredFile, delivery_email, inbound_document, is_trusted
from halo_supabase.runtime import JobContext
from halo_supabase.settings import get_settings
from supabase import AsyncClient
from workers import email_ack

__all__ = ["KIND", "handle"]

KIND = "email.inbound"
BUCKET = "inbound-email"
log = logging.getLogger("halo.worker.email_inbound")
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


async def _rows(context: JobContext, view: str, **equal: str) -> list[dict[str, Any]]:
    query = context.client.schema("api").from_(view).select("*")
    for column, value in equal.items():
        query = query.eq(column, value)
    return cast("list[dict[str, Any]]", (await query.execute()).data)


async def handle(context: JobContext) -> None:
    payload: dict[str, Any] = context.job.payload
    inbound_id = str(payload["inbound_id"])
    delivery = payload
    if "storage_path" not in payload and "raw" not in payload:  # enqueued before 20261124120300
        [delivery] = await _rows(context, "inbound_emails", id=inbound_id)
    workspace = str(context.job.workspace_id)
    bucket = context.client.storage.from_(BUCKET)
    if "raw" in delivery:  # small text deliveries are stored inline (20261124150100)
        stored = str(delivery["raw"]).encode()
    else:
        stored = await bucket.download(delivery["storage_path"])
    files: list[StoredFile] = []
    if delivery["payload_format"] == "form":
        for entry in json.loads(stored).get("files", []):
            data = await bucket.download(entry["path"])
            files.append(StoredFile(entry["field"], entry["filename"], entry["content_type"], data))
    email = delivery_email(delivery["provider"], delivery["payload_format"], stored, files)

    config = await _workspace_config(context, workspace)
    # Mail whose Message-ID is on HALO_EMAIL_DOMAIN is our own come back (a loop). Not the inbox's
    # domain by default: colleagues mailing the inbox from that domain would look like a loop.
    domain = get_settings().email_domain
    own_domains = [domain] if domain else []
    first = inbound_document(email, config.secrets, own_domains=own_domains)

    spam, reasons = await _spam_verdict(config, first.document)
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
            {
                "name": attachment.filename,
                "content_type": attachment.content_type,
                "size": attachment.size,
                "storage_path": f"{BUCKET}/{path}",
                "content_id": attachment.content_id,
                "inline": attachment.inline,
            }
        )
    automatic = first.classification.kind.automatic
    document = {
        **first.document,
        "attachments": attachments,
        # Bounces and auto-replies only ever join existing threads; spam is about new tickets.
        "spam": spam and not automatic,
        "spam_reasons": reasons,
    }
    outcome = await _applier(context.client)({"inbound_id": inbound_id, "email": document})
    if (
        outcome.get("result") == "applied"
        and first.document["kind"] in ("new", "forward")
        and not document["spam"]
        and not first.classification.suppress_auto_response
        and config.auto_acknowledge
    ):
        await _acknowledge(
            context, workspace, outcome, str(first.document["customer_email"]), config
        )
    log.info(
        "inbound applied",
        extra={
            "action": "email.inbound.applied",
            "inbound_id": inbound_id,
            "result": outcome.get("result"),
            "kind": first.document["kind"],
            "ticket_id": outcome.get("ticket_id"),
            "spam": document["spam"],
            "rejected_ids": first.rejected_ids,
            "defects": len(first.parsed.defects),
        },
    )


# Emails parsed while an apply call is in flight go together in the next one
# (`api.apply_inbound_emails`, 20261124160100): one request and one commit per group.
APPLY_GROUP_MAX = 100
_appliers: weakref.WeakKeyDictionary[AsyncClient, GroupedCall[dict[str, Any], dict[str, Any]]]
_appliers = weakref.WeakKeyDictionary()


def _applier(client: AsyncClient) -> GroupedCall[dict[str, Any], dict[str, Any]]:
    group = _appliers.get(client)
    if group is None:

        async def send(items: list[dict[str, Any]]) -> list[dict[str, Any] | BaseException]:
            response = await (
                client.schema("api")
                # postgrest-py annotates params as dict[str, str] but sends any JSON unchanged.
                .rpc("apply_inbound_emails", cast("dict[str, str]", {"p_items": items}))
                .execute()
            )
            outcomes = cast("list[dict[str, Any]]", response.data)
            return [
                InboundApplyError(item["inbound_id"], o["error"]["code"], o["error"]["message"])
                if "error" in o
                else o
                for item, o in zip(items, outcomes, strict=True)
            ]

        group = _appliers[client] = GroupedCall(send, APPLY_GROUP_MAX)
    return group


@dataclass(frozen=True)
class _WorkspaceConfig:
    secrets: list[bytes]
    spam_detection: bool
    trusted: list[str]
    auto_acknowledge: bool
    acknowledge_text: str | None
    read_at: float


# Per-workspace settings change rarely and every email reads them: keep them for a short while
# (a setting changed in the dashboard applies within CONFIG_TTL_SECONDS).
CONFIG_TTL_SECONDS = 30.0
_configs: dict[str, _WorkspaceConfig] = {}
_provider: AIProvider | None = None


async def _workspace_config(context: JobContext, workspace: str) -> _WorkspaceConfig:
    cached = _configs.get(workspace)
    if cached is not None and time.monotonic() - cached.read_at < CONFIG_TTL_SECONDS:
        return cached
    api = context.client.schema("api")
    secrets = (await api.rpc("email_secrets", {"p_workspace_id": workspace}).execute()).data
    settings_rows = await _rows(context, "workspace_settings", workspace_id=workspace)
    trusted = await _rows(context, "trusted_senders", workspace_id=workspace)
    email_settings: dict[str, Any] = settings_rows[0]["email_settings"] if settings_rows else {}
    config = _WorkspaceConfig(
        secrets=[str(s).encode() for s in cast("list[str]", secrets or [])],
        spam_detection=not settings_rows or bool(settings_rows[0]["spam_detection_enabled"]),
        trusted=[str(row["pattern"]) for row in trusted],
        auto_acknowledge=bool(email_settings.get("auto_acknowledge", False)),
        acknowledge_text=email_settings.get("auto_acknowledge_text"),
        read_at=time.monotonic(),
    )
    _configs[workspace] = config
    return config


async def _acknowledge(
    context: JobContext,
    workspace: str,
    outcome: dict[str, Any],
    customer: str,
    config: _WorkspaceConfig,
) -> None:
    """Enqueue the acknowledgement, capped: one per ticket (dedupe key), a few per sender a day."""
    since = datetime.now(UTC) - timedelta(days=1)
    response = (
        await context.client.schema("api")
        .from_("jobs")
        .select("payload")
        .eq("kind", email_ack.KIND)
        .eq("workspace_id", workspace)
        .gte("created_at", since.isoformat())
        .execute()
    )
    recent = cast("list[dict[str, Any]]", response.data)
    sent = sum(1 for row in recent if row["payload"].get("sender") == customer.lower())
    if sent >= email_ack.ACK_CAP_PER_SENDER:
        log.info("acknowledgement capped", extra={"action": "email.ack.capped"})
        return
    await context.queue.enqueue(
        email_ack.KIND,
        {
            "message_id": outcome["message_id"],
            "sender": customer.lower(),
            "text": config.acknowledge_text,
        },
        dedupe_key=f"ack:{outcome['ticket_id']}",
        workspace_id=UUID(workspace),
    )


async def _spam_verdict(
    config: _WorkspaceConfig, document: dict[str, object]
) -> tuple[bool, list[str]]:
    """Workspace settings first (detection off, trusted senders), then the classifier."""
    global _provider
    if not config.spam_detection:
        return False, []
    sender = str(document["from_email"])
    if is_trusted(sender, config.trusted):
        return False, ["trusted_sender"]
    if _provider is None:
        _provider = provider_from_settings(get_settings())
    headers = cast("dict[str, Any]", document["headers"])
    verdict = await _provider.classify_spam(
        EmailForSpam(
            sender=sender,
            subject=str(document["subject"]),
            body=str(document["body_text"]),
            headers={k: str(v) for k, v in headers.items() if isinstance(v, str)},
        )
    )
    return verdict.is_spam, list(verdict.reasons)
