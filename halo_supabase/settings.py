"""Typed settings, read once from the environment and `.env`.

Two stacks are supported: ``HALO_STACK=local`` (the default) runs against the embedded
Supabase-compatible stack and every Supabase value has the Supabase CLI's local default;
``HALO_STACK=remote`` points at a real Supabase project, where the URL and both keys are required.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from halo_supabase.errors import ConfigError
from halo_supabase.limits import JOB_BATCH_MAX, JOB_LEASE_MAX_SECONDS

__all__ = [
    "LOCAL_ANON_KEY",
    "LOCAL_JWT_SECRET",
    "LOCAL_PUBLISHABLE_KEY",
    "LOCAL_SECRET_KEY",
    "LOCAL_SERVICE_ROLE_KEY",
    "Settings",
    "get_settings",
    "load_settings",
]

# The Supabase CLI's local demo credentials (public, identical on every developer machine), so a
# `.env` written for `supabase start` works here unchanged and vice versa.
LOCAL_JWT_SECRET = "super-secret-jwt-token-with-at-least-32-characters-long"
LOCAL_ANON_KEY = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJzdXBhYmFzZS1kZW1vIiwicm9sZSI6ImFub24iLCJleHAiOjE5"
    "ODM4MTI5OTZ9.CRXP1A7WOeoJeXxjNni43kdQwgnWNReilDMblYTn_I0"
)
LOCAL_SERVICE_ROLE_KEY = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJzdXBhYmFzZS1kZW1vIiwicm9sZSI6InNlcnZpY2Vfcm9sZSIs"
    "ImV4cCI6MTk4MzgxMjk5Nn0.EGIM96RAZx35lJzdJsyH-qQwv8Hdp7fsn3W0YpN81IU"
)
LOCAL_PUBLISHABLE_KEY = "sb_publishable_ACJWlzQHlZjBrEguHvfOxg_3BJgxAaH"
LOCAL_SECRET_KEY = "sb_secret_N7UND0UgjKTVK-Uodkm0Hg_xSvEMPvz"
LOCAL_DB_URL = "postgresql://postgres:postgres@127.0.0.1:54322/postgres"

_REMOTE_REQUIRED = ("SUPABASE_URL", "SUPABASE_ANON_KEY", "SUPABASE_SERVICE_ROLE_KEY")


class Settings(BaseSettings):
    """Every setting the service layer reads; see `.env.example` for the documented list."""

    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        frozen=True,
        case_sensitive=False,
    )

    stack: Literal["local", "remote"] = Field("local", alias="HALO_STACK")
    supabase_url: str | None = Field(None, alias="SUPABASE_URL")
    supabase_anon_key: SecretStr | None = Field(None, alias="SUPABASE_ANON_KEY")
    supabase_service_role_key: SecretStr | None = Field(None, alias="SUPABASE_SERVICE_ROLE_KEY")
    supabase_db_url: SecretStr | None = Field(None, alias="SUPABASE_DB_URL")
    jwt_secret: SecretStr = Field(SecretStr(LOCAL_JWT_SECRET), alias="SUPABASE_JWT_SECRET")

    home: Path = Field(Path(".halo"), alias="HALO_HOME")
    db_port: int = Field(54322, alias="HALO_DB_PORT", ge=1, le=65535)
    api_port: int = Field(54321, alias="HALO_API_PORT", ge=1, le=65535)
    postgres_binaries: str = Field("auto", alias="HALO_POSTGRES_BINARIES")
    db_os_user: str | None = Field(None, alias="HALO_DB_OS_USER")
    project_dir: Path = Field(Path("."), alias="HALO_PROJECT_DIR")
    functions_dir: Path | None = Field(None, alias="HALO_FUNCTIONS_DIR")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field("INFO", alias="HALO_LOG_LEVEL")
    # Schemas the REST API exposes besides config.toml's `[api] schemas` (comma-separated).
    api_extra_schemas: str = Field("", alias="HALO_API_EXTRA_SCHEMAS")
    rest_max_body_bytes: int = Field(10 * 1024 * 1024, alias="HALO_REST_MAX_BODY_BYTES", ge=1)

    # Worker runtime (`halo worker`): per worker process and job kind.
    worker_concurrency: int = Field(4, alias="HALO_WORKER_CONCURRENCY", ge=1, le=256)
    worker_batch: int = Field(10, alias="HALO_WORKER_BATCH", ge=1, le=JOB_BATCH_MAX)
    worker_lease_seconds: int = Field(
        60, alias="HALO_WORKER_LEASE_SECONDS", ge=3, le=JOB_LEASE_MAX_SECONDS
    )
    worker_poll_seconds: float = Field(2.0, alias="HALO_WORKER_POLL_SECONDS", gt=0, le=300)
    worker_shutdown_grace_seconds: float = Field(
        10.0, alias="HALO_WORKER_SHUTDOWN_GRACE_SECONDS", ge=0, le=3600
    )

    # Outbound email (the `email-send` worker).
    mail_sender: Literal["smtp", "mailgun"] = Field("smtp", alias="HALO_MAIL_SENDER")
    smtp_host: str = Field("127.0.0.1", alias="HALO_SMTP_HOST")
    smtp_port: int = Field(54325, alias="HALO_SMTP_PORT", ge=1, le=65535)
    smtp_username: str | None = Field(None, alias="HALO_SMTP_USERNAME")
    smtp_password: SecretStr | None = Field(None, alias="HALO_SMTP_PASSWORD")
    smtp_starttls: bool = Field(False, alias="HALO_SMTP_STARTTLS")
    mailgun_api_key: SecretStr | None = Field(None, alias="MAILGUN_API_KEY")
    mailgun_domain: str | None = Field(None, alias="MAILGUN_DOMAIN")
    mailgun_api_base: str = Field("https://api.mailgun.net", alias="MAILGUN_API_BASE")
    # Domain of our Message-IDs and reply addresses; default: the domain of the From address.
    email_domain: str | None = Field(None, alias="HALO_EMAIL_DOMAIN")

    ai_provider: Literal["offline", "openai"] = Field("offline", alias="HALO_AI_PROVIDER")
    ai_model: str = Field("gpt-4o-mini", alias="HALO_AI_MODEL", min_length=1)
    ai_timeout_seconds: float = Field(20.0, alias="HALO_AI_TIMEOUT_SECONDS", gt=0, le=600)
    ai_max_retries: int = Field(2, alias="HALO_AI_MAX_RETRIES", ge=0, le=10)
    openai_api_key: SecretStr | None = Field(None, alias="OPENAI_API_KEY")
    openai_base_url: str | None = Field(None, alias="OPENAI_BASE_URL")

    @model_validator(mode="after")
    def _check(self) -> Settings:
        if self.stack == "local":
            local_url = f"http://127.0.0.1:{self.api_port}"
            local_db = LOCAL_DB_URL.replace("54322", str(self.db_port))
            object.__setattr__(self, "supabase_url", self.supabase_url or local_url)
            for name, value in (
                ("supabase_anon_key", LOCAL_ANON_KEY),
                ("supabase_service_role_key", LOCAL_SERVICE_ROLE_KEY),
                ("supabase_db_url", local_db),
            ):
                if getattr(self, name) is None:
                    object.__setattr__(self, name, SecretStr(value))
        else:
            missing = [env for env in _REMOTE_REQUIRED if getattr(self, env.lower()) in (None, "")]
            if missing:
                raise ValueError(
                    f"HALO_STACK=remote needs {', '.join(missing)}: copy them from your Supabase "
                    "project's Settings → API page into .env or the environment"
                )
            if self.service_role_key == LOCAL_SERVICE_ROLE_KEY:
                raise ValueError(
                    "SUPABASE_SERVICE_ROLE_KEY is the public local demo key, "
                    "but HALO_STACK=remote: "
                    "set the project's own service role key"
                )
        if self.ai_provider == "openai" and not _reveal(self.openai_api_key):
            raise ValueError(
                "HALO_AI_PROVIDER=openai needs OPENAI_API_KEY (for an OpenAI-compatible server "
                "without keys, any non-empty value): set it, or use HALO_AI_PROVIDER=offline"
            )
        if self.mail_sender == "mailgun" and not (
            _reveal(self.mailgun_api_key) and self.mailgun_domain
        ):
            raise ValueError(
                "HALO_MAIL_SENDER=mailgun needs MAILGUN_API_KEY and MAILGUN_DOMAIN (Mailgun → "
                "Sending → Domain settings), or use HALO_MAIL_SENDER=smtp"
            )
        if self.openai_base_url:
            _check_url("OPENAI_BASE_URL", self.openai_base_url, ("http", "https"))
        _check_url("SUPABASE_URL", self.url, ("http", "https"))
        _check_url("SUPABASE_DB_URL", self.db_url, ("postgres", "postgresql"))
        return self

    @property
    def url(self) -> str:
        """The project URL, without a trailing slash."""
        assert self.supabase_url is not None
        return self.supabase_url.rstrip("/")

    @property
    def anon_key(self) -> str:
        return _reveal(self.supabase_anon_key)

    @property
    def service_role_key(self) -> str:
        return _reveal(self.supabase_service_role_key)

    @property
    def db_url(self) -> str:
        return _reveal(self.supabase_db_url)

    @property
    def state_dir(self) -> Path:
        """Where the local stack keeps its data, logs and pid files."""
        home = self.home if self.home.is_absolute() else self.project_dir / self.home
        return home.resolve()

    @property
    def supabase_dir(self) -> Path:
        return (self.project_dir / "supabase").resolve()

    @property
    def functions_path(self) -> Path:
        """Edge Functions to serve; their config.toml is the one beside this directory."""
        if self.functions_dir is None:
            return self.supabase_dir / "functions"
        directory = self.functions_dir
        return (directory if directory.is_absolute() else self.project_dir / directory).resolve()


def _reveal(secret: SecretStr | None) -> str:
    return "" if secret is None else secret.get_secret_value()


def _check_url(env: str, value: str, schemes: tuple[str, ...]) -> None:
    parts = urlsplit(value)
    if parts.scheme not in schemes or not parts.hostname:
        shown = value if env in ("SUPABASE_URL", "OPENAI_BASE_URL") else f"{parts.scheme}://…"
        raise ValueError(
            f"{env} must be a {' or '.join(s + '://' for s in schemes)} URL with a host, "
            f"got {shown!r}"
        )


def load_settings(**overrides: object) -> Settings:
    """Read settings now; a validation failure becomes a ConfigError naming each variable.

    Overrides are given by their variable names (`HALO_HOME=...`), as in the environment."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            names = [str(part) for part in error["loc"]]
            field = Settings.model_fields.get(names[0]) if names else None
            env = field.alias if field is not None and field.alias else ".".join(names)
            message = error["msg"].removeprefix("Value error, ")
            problems.append(f"{env}: {message}" if env else message)
        raise ConfigError("invalid configuration:\n  " + "\n  ".join(problems)) from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return load_settings()
