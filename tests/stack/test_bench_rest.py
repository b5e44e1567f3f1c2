"""`halo bench rest` runs end to end (tiny durations; the figures themselves are not asserted)."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from rich.console import Console

from halo_supabase.bench.rest import SCENARIOS, run_rest_benchmark
from halo_supabase.settings import load_settings


@pytest.mark.parametrize("driver", ["psycopg", "asyncpg"])
def test_every_request_is_measured_through_the_gateway_and_directly(
    tmp_path: Path, driver: str
) -> None:
    buffer = io.StringIO()
    settings = load_settings(HALO_HOME=str(tmp_path / "home"))
    run_rest_benchmark(settings, 0.2, Console(file=buffer, width=200), driver)
    text = buffer.getvalue()
    assert f"direct SQL over {driver}" in text
    for scenario in SCENARIOS:
        rows = [line for line in text.splitlines() if line.startswith(f"│ {scenario.name} ")]
        assert len(rows) == 2, (scenario.name, text)  # 1 and 16 clients
        for row in rows:
            cells = [cell.strip() for cell in row.strip("│").split("│")]
            gateway_rps, direct_rps = (int(cells[i].replace(",", "")) for i in (2, 5))
            assert gateway_rps > 0 and direct_rps > 0, row
            assert re.fullmatch(r"-?\d+\.\d\d", cells[8]), row  # p50 overhead in ms
    assert not (tmp_path / "home" / "bench-rest").exists()  # the scratch stack is gone
