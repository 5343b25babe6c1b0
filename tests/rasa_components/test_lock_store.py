"""Rasa's conversation lock on Redis in two round trips (``rasa_components/lock_store.py``), in Rasa's own
environment, on the real Redis: one conversation is worked by one server at a time, a dead server's lock
runs out, a late release frees nothing of someone else's, and waiting too long is Rasa's LockError."""

from __future__ import annotations

from pathlib import Path

from tests.helpers.rasa_env import run_in_rasa


def test_one_conversation_one_server_at_a_time_and_a_dead_servers_lock_runs_out() -> None:
    found = run_in_rasa(Path(__file__).with_name("lock_store_check.py"))
    assert found["order"] == ["a in", "a out", "b in", "b out"], "the second server waited"
    assert found["other_conversations"]
    assert 0.3 < found["waited"] < 1.5, "the dead server's lock lasted its lifetime (0.5 s), no longer"
    assert found["still_held"], "the dead server's late release did not free the live one's lock"
    assert found["released"]
    assert found["gave_up"]
    assert found["keys_left"] == 0, "nothing left behind in Redis"
