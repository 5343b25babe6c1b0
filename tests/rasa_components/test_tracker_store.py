"""The windowed tracker store, in Rasa's own environment with Rasa's real classes: a long conversation is
rebuilt from a window of events and the slots' latest values, and saving stores each event once."""

from __future__ import annotations

from pathlib import Path

from tests.helpers.rasa_env import run_in_rasa


def test_a_long_conversation_is_read_through_a_window_and_keeps_its_slots(tmp_path: Path) -> None:
    found = run_in_rasa(Path(__file__).with_name("windowed_store_check.py"), str(tmp_path / "t.db"))
    assert found["events_in_tracker"] <= 20, "the tracker holds the window, not the history"
    assert found["slots"] == {"awaiting": "consent", "last_topic": "tax_code"}, "slots set long ago survive"
    assert found["latest_text"] == "question 59"
    assert found["stored"] == 60 * 4 + 2 == found["full_history"], "each event stored once, none lost"
    assert found["user_ids"] == [str(n) for n in range(60)], "in order"
    assert found["saved_twice"] == found["stored"], "a tracker saved again adds nothing"
    assert found["after_rebuilt"] == found["stored"] + 1, "a tracker it did not read: only the new event"
    assert found["new_session_events"] == 6, "a session shorter than the window: read whole"
    assert found["new_session_slots"] == {"awaiting": None, "last_topic": "tax_code"}, "reset, carried over"
    assert found["new_session_text"] == "question 60"
    assert found["found_inside_wrappers"]
    # a replay check: a message among the last 20 events may have been answered, one long ago or never not
    assert found["seen"] == [True, True, False, False]  # "55": 21 events back
