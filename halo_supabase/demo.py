"""`halo demo`: a realistic stream of signed Mailgun webhooks into the running local stack.

Posts the email fixture corpus (`tests/fixtures/email/`: new mail in several languages and
charsets, replies, forwards, auto-replies, bounces, list mail, HTML-only, attachments) to the
`inbound-email` function as Mailgun would, signed with the key in `supabase/functions/.env`, so a
newcomer watching the dashboard (or `halo jobs list`, the tickets API) sees tickets appear and
update. Each message gets a fresh Message-ID per run, so running the demo again adds tickets
instead of being deduplicated away.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import bcrypt
import httpx
import psycopg
from dotenv import dotenv_values

from halo_supabase.errors import ConfigError
from halo_supabase.settings import Settings

__all__ = [
    "DEMO_ADDRESS",
    "DEMO_PASSWORD",
    "DemoLogin",
    "demo_logins",
    "fresh_message_id",
    "run_demo",
]

DEMO_ADDRESS = "support@acme.test"  # the seed's Acme Support inbox
DEMO_PASSWORD = "halo-demo-2026"  # every teammate of supabase/seed.sql signs in with it


@dataclass(frozen=True)
class DemoLogin:
    email: str
    workspace: str
    role: str
    inbox_permission: str


def demo_logins(db_url: str) -> list[DemoLogin]:
    """The teammates of the local database who sign in with DEMO_PASSWORD (checked against each
    stored hash, so a changed password or a real account is never listed)."""
    with psycopg.connect(db_url, autocommit=True) as conn:
        rows = conn.execute(
            "select u.email, w.name, m.role, m.inbox_permission, u.encrypted_password"
            " from halo.members m join auth.users u on u.id = m.user_id"
            " join halo.workspaces w on w.id = m.workspace_id"
            " where u.encrypted_password like '$2%' order by w.name, u.email limit 50"
        ).fetchall()
    return [
        DemoLogin(email, workspace, role, permission)
        for email, workspace, role, permission, encrypted in rows
        if _is_demo_password(encrypted)
    ]


def _is_demo_password(encrypted: str) -> bool:
    try:
        return bcrypt.checkpw(DEMO_PASSWORD.encode(), encrypted.encode("ascii"))
    except ValueError:
        return False


_MESSAGE_ID = re.compile(
    rb"^Message-ID:[^\r\n]*(\r?\n[ \t][^\r\n]*)*\r?\n", re.IGNORECASE | re.MULTILINE
)


def _signing_key(settings: Settings) -> str:
    env_file = settings.functions_path / ".env"
    key = dotenv_values(env_file).get("MAILGUN_WEBHOOK_SIGNING_KEY") if env_file.exists() else None
    if not key:
        raise ConfigError(
            f"MAILGUN_WEBHOOK_SIGNING_KEY is not set in {env_file}: add a line "
            "MAILGUN_WEBHOOK_SIGNING_KEY=<any long random string> (the function reads it on its "
            "next request), then run `halo demo` again"
        )
    return key


def fresh_message_id(raw: bytes, run: str) -> bytes:
    """The message with its Message-ID replaced (or added) by one unique to this run."""
    new = f"Message-ID: <demo-{run}-{uuid.uuid4().hex[:12]}@demo.halo.example>\r\n".encode()
    replaced, count = _MESSAGE_ID.subn(new, raw, count=1)
    return replaced if count else new + raw


def run_demo(
    settings: Settings,
    corpus: Path,
    rate: float,
    report: Callable[[str, int], None],
    recipient: str = DEMO_ADDRESS,
) -> tuple[int, int]:
    """Post every .eml in `corpus`, `rate` a second (> 0); returns (accepted, refused)."""
    key = _signing_key(settings)
    run = uuid.uuid4().hex[:6]
    accepted = refused = 0
    url = f"{settings.url}/functions/v1/inbound-email/mailgun"
    with httpx.Client(timeout=60, trust_env=False) as http:
        for path in sorted(corpus.glob("*.eml")):
            timestamp, token = str(int(time.time())), secrets.token_hex(25)
            signature = hmac.new(key.encode(), (timestamp + token).encode(), hashlib.sha256)
            raw = fresh_message_id(path.read_bytes(), run)
            # `body-mime` as a file part: the bytes arrive as they are, whatever charset the
            # message declares (a text field must be UTF-8, and some of the corpus is not).
            response = http.post(
                url,
                data={
                    "recipient": recipient,
                    "timestamp": timestamp,
                    "token": token,
                    "signature": signature.hexdigest(),
                },
                files={"body-mime": (path.name, raw, "message/rfc822")},
            )
            if response.status_code == 200:
                accepted += 1
            else:
                refused += 1
            report(path.name, response.status_code)
            time.sleep(1 / rate)
    return accepted, refused
