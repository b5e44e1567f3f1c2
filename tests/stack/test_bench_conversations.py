"""`halo bench conversations` runs end to end, small: a few conversations for a few seconds on
its own scratch servers, with the real `halo worker sentiment` process. No timing assertions:
it proves every message got a mood update and that the table reports what it measured."""

from __future__ import annotations

import io
import re

from rich.console import Console

from halo_supabase.bench.conversations import run_conversations_benchmark
from halo_supabase.settings import load_settings


def test_bench_conversations_measures_mood_updates() -> None:
    buffer = io.StringIO()
    run_conversations_benchmark(
        load_settings(), Console(file=buffer, width=200), conversations=4, seconds=3, escalations=1
    )
    text = buffer.getvalue()
    sent = re.search(r"customer messages sent\s*│\s*(\d+)", text)
    assert sent is not None and int(sent.group(1)) >= 8, text
    assert re.search(r"messages without an update\s*│\s*0\s", text), text
    assert re.search(r"message → mood update p50 / p95 / p99\s*│\s*\d+ / \d+ / \d+ ms", text), text
    assert "escalation" in text and "ticket.created" in text
    assert "server CPU ms per customer message" in text
