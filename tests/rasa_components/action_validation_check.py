"""Run by test_action_validation.py in Rasa's own environment: Rasa's check of an action server response
and ours (installed by loading our channel) agree on valid and invalid responses, message included."""

from __future__ import annotations

import json
from typing import Any

from jsonschema import ValidationError
from rasa.core.actions.action import RemoteAction

ORIGINAL = RemoteAction._validate_action_result

import rasa_components.channel  # noqa: E402,F401 - installs ours

RESPONSES: dict[str, Any] = {
    "valid": {
        "events": [{"event": "slot", "name": "awaiting", "value": None}],
        "responses": [{"text": "ok"}],
    },
    "empty": {},
    "events not a list": {"events": "slot"},
    "an event without its type": {"events": [{"name": "awaiting"}]},
}


def outcome(check: Any, response: Any) -> str:
    action = RemoteAction("action_answer_topic", None)
    try:
        return "valid" if check(action, json.loads(json.dumps(response))) else "false"
    except ValidationError as error:
        return f"invalid: {error.message}"


if __name__ == "__main__":
    ours = RemoteAction._validate_action_result
    print(
        json.dumps(
            {
                "installed": ours is not ORIGINAL,
                "results": {name: [outcome(ORIGINAL, r), outcome(ours, r)] for name, r in RESPONSES.items()},
            }
        )
    )
