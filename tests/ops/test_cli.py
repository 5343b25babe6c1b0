"""The command line, as staff and cron run it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from bot.core.settings import PROJECT_DIR


def test_retention_purge_command(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot", "tickets", "purge", "--days", "180"],
        capture_output=True,
        text=True,
        cwd=PROJECT_DIR,
        env={"SPORTELLO_DATA_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 0, result.stderr
    assert "purged the transcripts of 0 closed tickets older than 180 days" in result.stdout
