"""Local webhook secrets are filled in once, never overwritten."""

from __future__ import annotations

import stat
from pathlib import Path

from dotenv import dotenv_values

from halo_supabase.local.function_secrets import LOCAL_SECRETS, ensure_local_function_secrets


def test_a_fresh_checkout_gets_every_secret_in_an_owner_only_file(tmp_path: Path) -> None:
    assert ensure_local_function_secrets(tmp_path) == list(LOCAL_SECRETS)
    env_file = tmp_path / ".env"
    values = dotenv_values(env_file)
    assert set(values) == set(LOCAL_SECRETS)
    assert all(value and len(value) >= 32 for value in values.values())
    assert values["INBOUND_BASIC_AUTH"].startswith("inbound:")  # type: ignore[union-attr]
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600
    assert ensure_local_function_secrets(tmp_path) == []  # second run: nothing to add
    assert dotenv_values(env_file) == values


def test_values_the_developer_set_are_kept(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("MAILGUN_WEBHOOK_SIGNING_KEY=mine\nOTHER=1")  # no final newline
    assert ensure_local_function_secrets(tmp_path) == ["INBOUND_BASIC_AUTH", "INBOUND_RELAY_TOKEN"]
    values = dotenv_values(env_file)
    assert values["MAILGUN_WEBHOOK_SIGNING_KEY"] == "mine" and values["OTHER"] == "1"
    assert set(values) == {"MAILGUN_WEBHOOK_SIGNING_KEY", "OTHER", *LOCAL_SECRETS}


def test_no_functions_directory_writes_nothing(tmp_path: Path) -> None:
    missing = tmp_path / "absent"
    assert ensure_local_function_secrets(missing) == []
    assert not missing.exists()
