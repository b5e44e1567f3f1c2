"""`halo demo` posts the whole corpus, non-UTF-8 and malformed mail included, as signed Mailgun
webhooks that the real edge function stores byte for byte; it refuses to start without a signing
key (naming the file to edit) or with a rate of 0."""

from __future__ import annotations

import subprocess
import sys

import psycopg

from halo_supabase.demo import fresh_message_id
from tests.conftest import scratch_dir
from tests.stack.conftest import Stack
from tests.stack.email_support import CORPUS, email_gateway, functions_project, new_inbox

__all__ = ["email_gateway"]


def halo_demo(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "halo_supabase.cli", "demo", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )


def test_demo_posts_the_whole_corpus_byte_for_byte(stack: Stack, email_gateway: str) -> None:
    inbox = new_inbox(stack.db_url)
    corpus = sorted(CORPUS.glob("*.eml"))
    assert any(path.name.startswith("malformed_") for path in corpus)
    env = {
        **stack.env,
        "HALO_API_PORT": email_gateway.rsplit(":", 1)[1],
        "HALO_FUNCTIONS_DIR": str(functions_project(scratch_dir("demo"))),
    }
    result = halo_demo(env, "--rate", "200", "--to", inbox.address)
    assert result.returncode == 0, result.stderr
    assert f"{len(corpus)} accepted, 0 refused" in result.stderr
    with psycopg.connect(stack.db_url) as conn:
        sizes = [
            size
            for (size,) in conn.execute(
                "select size_bytes from halo.inbound_emails"
                " where recipient = %s and payload_format = 'mime'",
                (inbox.address,),
            )
        ]
    # Each message as sent, its Message-ID replaced by one of a fixed length: a body decoded and
    # re-encoded on the way (a Latin-1 byte becoming U+FFFD) would change its size.
    assert sorted(sizes) == sorted(len(fresh_message_id(p.read_bytes(), "abcdef")) for p in corpus)

    zero = halo_demo(env, "--rate", "0", "--to", inbox.address)
    assert zero.returncode == 2
    assert "Invalid value for '--rate'" in zero.stderr
    assert "Traceback" not in zero.stderr

    missing = scratch_dir("demo-nokey") / "functions"
    missing.mkdir()
    refused = halo_demo({**env, "HALO_FUNCTIONS_DIR": str(missing)})
    assert refused.returncode != 0
    assert "MAILGUN_WEBHOOK_SIGNING_KEY is not set" in refused.stderr
