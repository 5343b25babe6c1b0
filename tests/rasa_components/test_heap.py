"""Rasa's loaded model is kept off the garbage collector (``rasa_components/heap.py``), in Rasa's own
environment, through the REST channel's blueprint that the server really registers."""

from __future__ import annotations

from pathlib import Path

from tests.helpers.rasa_env import run_in_rasa


def test_once_the_server_has_started_its_heap_is_frozen_and_garbage_freed_first() -> None:
    found = run_in_rasa(Path(__file__).with_name("heap_check.py"))
    assert found["listeners"] == 1, "one listener on after_server_start"
    assert found["frozen"] > 10_000, "Rasa's modules, at least, are frozen"
    assert found["garbage_freed"], "a cycle that was garbage before the freeze was collected, not kept"
