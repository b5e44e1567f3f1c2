from __future__ import annotations

import shutil
from pathlib import Path

from click.testing import CliRunner
from rich.console import Console

from halo_supabase.bench.email import run_email_benchmark
from halo_supabase.cli import main

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


def test_halo_bench_email_command(tmp_path: Path) -> None:
    shutil.copy(CORPUS / "new_plain_en.eml", tmp_path / "one.eml")
    runner = CliRunner()
    done = runner.invoke(main, ["bench", "email", "--rounds", "1", "--corpus", str(tmp_path)])
    assert done.exit_code == 0, done.output
    assert "1 messages x 1 rounds" in done.output
    empty = tmp_path / "empty"
    empty.mkdir()
    refused = runner.invoke(main, ["bench", "email", "--corpus", str(empty)])
    assert refused.exit_code == 2
    assert "no .eml files" in refused.output
