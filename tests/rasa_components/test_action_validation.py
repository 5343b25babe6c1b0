"""Rasa's check of the action server's responses, with the validator built once: the same verdicts and
messages as Rasa's own (run in Rasa's environment)."""

from __future__ import annotations

from pathlib import Path

from tests.helpers.rasa_env import run_in_rasa


def test_our_check_of_action_responses_agrees_with_rasas() -> None:
    found = run_in_rasa(Path(__file__).with_name("action_validation_check.py"))
    assert found["installed"], "loading our channel installs it"
    results = found["results"]
    assert results["valid"] == ["valid", "valid"]
    for name in ("events not a list", "an event without its type"):
        theirs, ours = results[name]
        assert theirs.startswith("invalid: ") and ours == theirs, name
