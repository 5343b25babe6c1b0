"""Short button ids for platforms with tight limits (Telegram callback_data: 64 bytes).

Rasa payloads look like ``/choose_city{"city":"caserta"}``; on the wire they become ``c:caserta``.
The mapping is deterministic, so no table is needed and an old button still works after a restart.
"""

from __future__ import annotations

import json
import re

from bot.core.messages import PAYLOAD, payload

MAX_BYTES = 64
_ENTITY = {"choose_city": ("c", "city"), "choose_language": ("l", "language"), "menu": ("m", "category")}
_BY_PREFIX = {prefix: (intent, entity) for intent, (prefix, entity) in _ENTITY.items()}


def encode(rasa_payload: str) -> str:
    """The short id of a Rasa payload (``/tax_code`` -> ``i:tax_code``)."""
    match = PAYLOAD.match(rasa_payload)
    if not match:
        raise ValueError(f"not a Rasa payload: {rasa_payload!r}")
    intent, entities = match["intent"], json.loads(match["entities"] or "{}")
    if intent in _ENTITY and set(entities) == {_ENTITY[intent][1]}:
        prefix, entity = _ENTITY[intent]
        short = f"{prefix}:{entities[entity]}"
    elif not entities:
        short = f"i:{intent}"
    else:
        raise ValueError(f"no short form for {rasa_payload!r}")
    if len(short.encode()) > MAX_BYTES:
        raise ValueError(f"{short!r} is longer than {MAX_BYTES} bytes")
    return short


def decode(short: str) -> str | None:
    """The Rasa payload of a short id, or None for anything we did not send."""
    prefix, _, value = short.partition(":")
    if not value or not re.fullmatch(r"[\w-]+", value):
        return None
    if prefix == "i":
        return payload(value)
    if prefix in _BY_PREFIX:
        intent, entity = _BY_PREFIX[prefix]
        return payload(intent, **{entity: value})
    return None
