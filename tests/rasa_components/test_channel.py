"""Our REST channel in Rasa's own environment: Rasa's stores unreachable (Redis stopped: the lock store
fails; the tracker's database restarting, which Rasa's fail-safe wrapper would hide) is a 503, an outage
the gateway waits out; a bug in one message is a 500, which it parks."""

from __future__ import annotations

from pathlib import Path

from tests.helpers.rasa_env import run_in_rasa


def test_a_store_outage_is_503_and_a_failing_message_is_500() -> None:
    found = run_in_rasa(Path(__file__).with_name("channel_check.py"))
    assert found == {"lock store": 503, "redis": 503, "a bug": 500, "nothing": 200, "tracker database": 503}
