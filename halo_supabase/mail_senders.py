"""Where outbound email goes: an SMTP relay, or Mailgun's HTTP API (`messages.mime`).

Both take the finished message (built by `email/outbound.py`) and its envelope recipients, and
either hand it over or raise: `MailRejected` when the provider refused it for good (a retry would
be refused again: the job should dead-letter with the reason), `RetryLater` when it may work
later (connection refused, 4xx SMTP replies, HTTP 429/5xx).
"""

from __future__ import annotations

import asyncio
import smtplib
from collections.abc import Sequence
from email.message import EmailMessage
from typing import Protocol

import httpx

from halo_supabase.errors import HaloError
from halo_supabase.runtime import RetryLater
from halo_supabase.settings import Settings

__all__ = ["MailRejected", "MailSender", "MailgunSender", "SmtpSender", "sender_from_settings"]

_RETRY_SECONDS = 60


class MailRejected(HaloError):
    """The provider refused the message permanently (bad recipient, auth, policy)."""


class MailSender(Protocol):
    async def send(self, message: EmailMessage, recipients: Sequence[str]) -> str:
        """Hand the message over; returns the provider's id for it (or the Message-ID)."""
        ...


class SmtpSender:
    """Any SMTP relay (smtplib in a thread: one connection per message keeps failures local)."""

    def __init__(
        self,
        host: str,
        port: int,
        username: str | None = None,
        password: str | None = None,
        starttls: bool = False,
        timeout: float = 30,
    ) -> None:
        self.host, self.port, self.timeout = host, port, timeout
        self.username, self.password, self.starttls = username, password, starttls

    def _send(self, message: EmailMessage, recipients: Sequence[str]) -> str:
        with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
            if self.starttls:
                smtp.starttls()
            if self.username:
                smtp.login(self.username, self.password or "")
            smtp.send_message(message, to_addrs=list(recipients))
        return str(message["Message-ID"])

    async def send(self, message: EmailMessage, recipients: Sequence[str]) -> str:
        try:
            return await asyncio.to_thread(self._send, message, recipients)
        except smtplib.SMTPResponseException as exc:
            if 400 <= exc.smtp_code < 500:
                raise RetryLater(f"SMTP {exc.smtp_code}", _RETRY_SECONDS) from None
            raise MailRejected(f"SMTP {exc.smtp_code}: the relay refused the message") from None
        except smtplib.SMTPRecipientsRefused as exc:
            codes = sorted({code for code, _ in exc.recipients.values()})
            if all(400 <= code < 500 for code in codes):
                raise RetryLater(f"SMTP recipients deferred {codes}", _RETRY_SECONDS) from None
            raise MailRejected(f"SMTP recipients refused {codes}") from None
        except (OSError, smtplib.SMTPException) as exc:
            raise RetryLater(
                f"SMTP relay unreachable: {type(exc).__name__}", _RETRY_SECONDS
            ) from None


class MailgunSender:
    """Mailgun's `POST /v3/{domain}/messages.mime`: our MIME as is, so headers stay ours."""

    def __init__(self, api_base: str, domain: str, api_key: str, timeout: float = 30) -> None:
        self.url = f"{api_base.rstrip('/')}/v3/{domain}/messages.mime"
        self.api_key, self.timeout = api_key, timeout

    async def send(self, message: EmailMessage, recipients: Sequence[str]) -> str:
        async with httpx.AsyncClient(timeout=self.timeout, trust_env=False) as http:
            try:
                response = await http.post(
                    self.url,
                    auth=("api", self.api_key),
                    data={"to": ",".join(recipients)},
                    files={"message": ("message.mime", message.as_bytes(), "message/rfc822")},
                )
            except httpx.TransportError as exc:
                raise RetryLater(
                    f"Mailgun unreachable: {type(exc).__name__}", _RETRY_SECONDS
                ) from None
        if response.status_code == 429 or response.status_code >= 500:
            raise RetryLater(f"Mailgun {response.status_code}", _RETRY_SECONDS)
        if response.status_code >= 400:
            raise MailRejected(
                f"Mailgun {response.status_code}: {response.text[:200]} (check MAILGUN_API_KEY "
                "and MAILGUN_DOMAIN)"
            )
        return str(response.json().get("id", message["Message-ID"]))


def sender_from_settings(settings: Settings) -> MailSender:
    if settings.mail_sender == "mailgun":
        assert settings.mailgun_api_key is not None and settings.mailgun_domain is not None
        return MailgunSender(
            settings.mailgun_api_base,
            settings.mailgun_domain,
            settings.mailgun_api_key.get_secret_value(),
        )
    return SmtpSender(
        settings.smtp_host,
        settings.smtp_port,
        settings.smtp_username,
        settings.smtp_password.get_secret_value() if settings.smtp_password else None,
        settings.smtp_starttls,
    )
