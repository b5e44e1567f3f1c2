"""Inbound and outbound email (service role: the `inbound-email` edge function and the email
workers): store a delivery, apply parsed emails, build and record replies."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from halo_supabase.client.calls import ApiCalls
from halo_supabase.client.documents import (
    InboundEmailDocument,
    InboundOutcome,
    InboundReceipt,
    OutboundEmailContext,
)
from halo_supabase.errors import InboundApplyError

__all__ = ["EmailCalls"]


class EmailCalls(ApiCalls):
    """`api` functions of inbound and outbound email."""

    async def receive_inbound_email(
        self,
        provider: str,
        recipient: str,
        storage_path: str | None,
        payload_format: str,
        size_bytes: int,
        provider_message_id: str | None = None,
        token: str | None = None,
        raw: str | None = None,
    ) -> InboundReceipt:
        """Record a delivery whose bytes are in Storage (`storage_path`) or inline (`raw`), and
        enqueue its `email.inbound` job."""
        optional = {"provider_message_id": provider_message_id, "token": token, "raw": raw}
        receipt = await self._call_with_nulls(
            "receive_inbound_email",
            {
                "provider": provider,
                "recipient": recipient,
                # Sent even when None: the SQL parameter has no default.
                "storage_path": storage_path,
                "payload_format": payload_format,
                "size_bytes": size_bytes,
                **{k: v for k, v in optional.items() if v is not None},
            },
        )
        return InboundReceipt.model_validate(receipt)

    async def email_secrets(self, workspace_id: UUID) -> list[str]:
        """The workspace's signing secrets, newest first (reply tokens, our Message-IDs)."""
        return [
            str(secret) for secret in await self._call("email_secrets", workspace_id=workspace_id)
        ]

    async def apply_inbound_email(
        self, inbound_id: UUID, email: InboundEmailDocument
    ) -> InboundOutcome:
        """Apply one parsed email to its ticket (idempotent: again → the first outcome)."""
        return await self._one(
            InboundOutcome, "apply_inbound_email", inbound_id=inbound_id, email=email
        )

    async def apply_inbound_emails(
        self, items: Sequence[tuple[UUID, InboundEmailDocument]]
    ) -> list[InboundOutcome | InboundApplyError]:
        """Apply a group in one call, each email in its own subtransaction: an email's error
        (an `InboundApplyError` in its place) leaves the others applied."""
        entries = [{"inbound_id": inbound, "email": email} for inbound, email in items]
        outcomes = await self._call("apply_inbound_emails", items=entries)
        return [
            InboundApplyError(str(inbound), o["error"]["code"], o["error"]["message"])
            if "error" in o
            else InboundOutcome.model_validate(o)
            for (inbound, _), o in zip(items, outcomes, strict=True)
        ]

    async def outbound_email_context(self, message_id: UUID) -> OutboundEmailContext | None:
        """What a reply email needs, or None when the message is gone."""
        context = await self._call("outbound_email_context", message_id=message_id)
        return None if context is None else OutboundEmailContext.model_validate(context)

    async def mark_email_sent(
        self,
        message_id: UUID,
        email_message_id: str,
        in_reply_to: str | None = None,
        references: list[str] | None = None,
    ) -> bool:
        """Record the Message-ID a reply was sent with; False when an earlier attempt did."""
        return bool(
            await self._call(
                "mark_email_sent",
                message_id=message_id,
                email_message_id=email_message_id,
                in_reply_to=in_reply_to,
                references=references,
            )
        )
