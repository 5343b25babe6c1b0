"""Rasa's check of a custom action's response, with the schema's validator built once.

Rasa 3.6 checks every response of the action server with ``jsonschema.validate``, which first checks the
schema itself and builds a new validator, on every action: 37 % of the Rasa server's CPU with 50 web-chat
users (py-spy, 2026-12-04, ``scripts/bench_concurrency.py``). The check stays the same (the same schema,
the same best-matching error and message); only the schema's own check and the validator are made once.
``install()`` is called when our REST channel is loaded, in the Rasa server.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from jsonschema import ValidationError
from jsonschema.exceptions import best_match
from jsonschema.protocols import Validator
from jsonschema.validators import validator_for
from rasa.core.actions.action import RemoteAction
from rasa.shared.constants import DOCS_BASE_URL


@cache
def response_validator() -> Validator:
    schema = RemoteAction.action_response_format_spec()
    kind = validator_for(schema)
    kind.check_schema(schema)
    return kind(schema)


def validate_action_result(self: RemoteAction, result: dict[str, Any]) -> bool:
    """What ``RemoteAction._validate_action_result`` does, on the validator built once."""
    error: ValidationError | None = best_match(response_validator().iter_errors(result))
    if error is None:
        return True
    error.message += (
        f". Failed to validate Action server response from API, "
        f"make sure your response from the Action endpoint is valid. "
        f"For more information about the format visit "
        f"{DOCS_BASE_URL}/custom-actions"
    )
    raise error


def install() -> None:
    RemoteAction._validate_action_result = validate_action_result  # type: ignore[method-assign]
