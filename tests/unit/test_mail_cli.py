"""`halo mail show N` prints message N of the local SMTP sink and names a number it does not hold."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def halo_mail(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "halo_supabase.cli", "mail", *args],
        env={**os.environ, "HALO_HOME": str(home), "COLUMNS": "200"},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_mail_show_prints_a_message_and_names_one_it_does_not_hold(tmp_path: Path) -> None:
    (tmp_path / "mail").mkdir()
    (tmp_path / "mail" / "0001.eml").write_text("Subject: Printer on fire\r\n\r\nWe are on it.\r\n")
    shown = halo_mail(tmp_path, "show", "1")
    assert shown.returncode == 0, shown.stderr
    assert "Printer on fire" in shown.stdout

    missing = halo_mail(tmp_path, "show", "999")
    assert missing.returncode == 2
    assert "there is no message 999: the sink holds 1 message;" in missing.stderr

    (tmp_path / "mail" / "0002.eml").write_text("Subject: Second\r\n\r\nx\r\n")
    assert "the sink holds 2 messages;" in halo_mail(tmp_path, "show", "3").stderr
