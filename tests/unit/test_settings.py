from __future__ import annotations

from pathlib import Path

import pytest

from halo_supabase.errors import ConfigError
from halo_supabase.settings import (
    LOCAL_ANON_KEY,
    LOCAL_SERVICE_ROLE_KEY,
    load_settings,
)

ENV_NAMES = (
    "HALO_STACK",
    "SUPABASE_URL",
    "SUPABASE_ANON_KEY",
    "SUPABASE_SERVICE_ROLE_KEY",
    "SUPABASE_DB_URL",
    "HALO_DB_PORT",
    "HALO_API_PORT",
    "HALO_HOME",
)


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ENV_NAMES:
        monkeypatch.delenv(name, raising=False)


def test_local_defaults_are_the_supabase_cli_demo_values() -> None:
    settings = load_settings(_env_file=None)
    assert settings.url == "http://127.0.0.1:54321"
    assert settings.anon_key == LOCAL_ANON_KEY
    assert settings.service_role_key == LOCAL_SERVICE_ROLE_KEY
    assert settings.db_url == "postgresql://postgres:postgres@127.0.0.1:54322/postgres"


def test_ports_flow_into_the_local_urls(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HALO_DB_PORT", "6000")
    monkeypatch.setenv("HALO_API_PORT", "6001")
    settings = load_settings(_env_file=None)
    assert settings.db_url.endswith("@127.0.0.1:6000/postgres")
    assert settings.url == "http://127.0.0.1:6001"


def test_secrets_are_hidden_in_repr() -> None:
    settings = load_settings(_env_file=None)
    shown = repr(settings) + str(settings)
    assert LOCAL_SERVICE_ROLE_KEY not in shown
    assert "postgres:postgres" not in shown
    assert "**********" in shown


def test_remote_stack_names_every_missing_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HALO_STACK", "remote")
    monkeypatch.setenv("SUPABASE_URL", "https://abc.supabase.co")
    with pytest.raises(ConfigError) as caught:
        load_settings(_env_file=None)
    message = str(caught.value)
    assert "SUPABASE_ANON_KEY" in message
    assert "SUPABASE_SERVICE_ROLE_KEY" in message
    assert "SUPABASE_URL," not in message


def test_remote_stack_refuses_the_public_demo_service_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HALO_STACK", "remote")
    monkeypatch.setenv("SUPABASE_URL", "https://abc.supabase.co")
    monkeypatch.setenv("SUPABASE_ANON_KEY", "anon")
    monkeypatch.setenv("SUPABASE_SERVICE_ROLE_KEY", LOCAL_SERVICE_ROLE_KEY)
    with pytest.raises(ConfigError, match="SUPABASE_SERVICE_ROLE_KEY is the public local demo key"):
        load_settings(_env_file=None)


def test_remote_stack_with_everything_set_loads(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HALO_STACK", "remote")
    monkeypatch.setenv("SUPABASE_URL", "https://abc.supabase.co/")
    monkeypatch.setenv("SUPABASE_ANON_KEY", "anon-key")
    monkeypatch.setenv("SUPABASE_SERVICE_ROLE_KEY", "service-key")
    monkeypatch.setenv(
        "SUPABASE_DB_URL", "postgresql://postgres:pw@db.abc.supabase.co:5432/postgres"
    )
    settings = load_settings(_env_file=None)
    assert settings.url == "https://abc.supabase.co"
    assert settings.service_role_key == "service-key"


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("HALO_DB_PORT", "not-a-port", "HALO_DB_PORT"),
        ("HALO_DB_PORT", "70000", "HALO_DB_PORT"),
        ("SUPABASE_URL", "127.0.0.1:54321", "SUPABASE_URL must be a http:// or https:// URL"),
        (
            "SUPABASE_DB_URL",
            "mysql://x@y/z",
            "SUPABASE_DB_URL must be a postgres:// or postgresql://",
        ),
        ("HALO_STACK", "cloud", "HALO_STACK"),
    ],
)
def test_invalid_values_name_the_variable(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, expected: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=expected):
        load_settings(_env_file=None)


def test_dotenv_file_is_read(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    env_file = tmp_path / ".env"
    env_file.write_text("HALO_DB_PORT=6543\n")
    settings = load_settings(_env_file=str(env_file))
    assert settings.db_port == 6543


def test_database_url_error_does_not_print_the_password(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SUPABASE_DB_URL", "mysql://user:hunter2@db/x")
    with pytest.raises(ConfigError) as caught:
        load_settings(_env_file=None)
    assert "hunter2" not in str(caught.value)


def test_unrelated_environment_variables_named_like_fields_are_ignored(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # HOME (and other variables named like a field) must never stand in for HALO_HOME etc.
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("STACK", "remote")
    monkeypatch.setenv("DB_PORT", "1")
    settings = load_settings(_env_file=None)
    assert settings.state_dir == (Path(".") / ".halo").resolve()
    assert settings.stack == "local"
    assert settings.db_port == 54322
