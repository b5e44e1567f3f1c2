"""The Mailgun signature vectors shared with the edge function's Deno tests
(`supabase/functions/inbound-email/rules_test.ts`): the Python reference and the TypeScript port
must give the same verdict on each, and a replayed token is refused after a valid first use."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from halo_supabase.email import MemorySeenTokens, verify_mailgun_signature
from halo_supabase.errors import WebhookSignatureError

VECTORS = json.loads(
    (Path(__file__).parent.parent / "fixtures" / "webhooks" / "mailgun_signatures.json").read_text()
)


@pytest.mark.parametrize("vector", VECTORS["vectors"], ids=lambda v: v["name"])
def test_mailgun_signature_vector(vector: dict[str, object]) -> None:
    def verify() -> None:
        verify_mailgun_signature(
            VECTORS["signing_key"],
            str(vector["timestamp"]),
            str(vector["token"]),
            str(vector["signature"]),
            seen=MemorySeenTokens(clock=lambda: float(str(vector["now"]))),
            now=float(str(vector["now"])),
            max_age=VECTORS["max_age"],
        )

    if vector["expected"] is None:
        verify()
    else:
        with pytest.raises(WebhookSignatureError) as caught:
            verify()
        assert caught.value.reason == vector["expected"]
