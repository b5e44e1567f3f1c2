from __future__ import annotations

import shutil
from pathlib import Path

from rich.console import Console

from halo_supabase.bench.email import run_email_benchmark

CORPUS = Path(__file__).resolve().parent.parent / "fixtures" / "email"


def test_the_benchmark_prints_typical_and_total_rows(tmp_path: Path) -> None:
    for name in ("gmail_reply_en.eml", "bounce_postfix.eml"):
        shutil.copy(CORPUS / name, tmp_path / name)
    console = Console(record=True, width=200)
    run_email_benchmark(tmp_path, rounds=2, out=console)
    text = console.export_text()
    assert "2 messages x 2 rounds" in text
    typical = next(line for line in text.splitlines() if "typical" in line)
    assert "│     4 │" in typical
    assert not any("large" in line for line in text.splitlines()), "no large message, no row"
