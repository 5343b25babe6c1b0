"""Our REST channel in Rasa's own environment: Rasa's stores unreachable (Redis stopped: the lock store
fails; the tracker's database restarting, which Rasa's fail-safe wrapper would hide) is a 503, an outage
the gateway waits out; a bug in one message is a 500, which it parks."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from bot.core.settings import PROJECT_DIR

RASA_PYTHON = PROJECT_DIR / ".venv-rasa" / "bin" / "python"


def test_a_store_outage_is_503_and_a_failing_message_is_500() -> None:
    result = subprocess.run(
        [str(RASA_PYTHON), str(Path(__file__).with_name("channel_check.py"))],
        capture_output=True,
        text=True,
        cwd=PROJECT_DIR,
        env={"PYTHONPATH": str(PROJECT_DIR), "RASA_TELEMETRY_ENABLED": "false", "PATH": "/usr/bin:/bin"},
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    found = json.loads(result.stdout.strip().splitlines()[-1])
    assert found == {"lock store": 503, "redis": 503, "a bug": 500, "nothing": 200, "tracker database": 503}
