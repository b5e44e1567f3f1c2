"""`halo demo` posts the corpus as signed Mailgun webhooks that the real edge function accepts,
and refuses to start without a signing key, naming the file to edit."""

from __future__ import annotations

import shutil
import subprocess
import sys

import psycopg

from tests.conftest import scratch_dir
from tests.stack.conftest import Stack
from tests.stack.email_support import CORPUS, email_gateway, functions_project, new_inbox

__all__ = ["email_gateway"]


def test_demo_posts_signed_webhooks(stack: Stack, email_gateway: str) -> None:
    inbox = new_inbox(stack.db_url)
    corpus = scratch_dir("demo-corpus")
    names = ["new_plain_en.eml", "gmail_reply_de.eml", "auto_reply_vacation.eml"]
    for name in names:
        shutil.copy(CORPUS / name, corpus / name)
    env = {
        **stack.env,
        "HALO_API_PORT": email_gateway.rsplit(":", 1)[1],
        "HALO_FUNCTIONS_DIR": str(functions_project(scratch_dir("demo"))),
    }
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "halo_supabase.cli",
            "demo",
            "--rate",
            "50",
            "--corpus",
            str(corpus),
            "--to",
            inbox.address,
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "3 accepted, 0 refused" in result.stderr
    with psycopg.connect(stack.db_url) as conn:
        row = conn.execute(
            "select count(*) from halo.inbound_emails where recipient = %s", (inbox.address,)
        ).fetchone()
    assert row == (3,)

    missing = scratch_dir("demo-nokey") / "functions"
    missing.mkdir()
    refused = subprocess.run(
        [sys.executable, "-m", "halo_supabase.cli", "demo", "--corpus", str(corpus)],
        env={**env, "HALO_FUNCTIONS_DIR": str(missing)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert refused.returncode != 0
    assert "MAILGUN_WEBHOOK_SIGNING_KEY is not set" in refused.stderr
