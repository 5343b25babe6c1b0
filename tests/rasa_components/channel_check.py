"""Run by test_channel.py in Rasa's own environment (.venv-rasa): calls our REST channel's real webhook
handler (from its Sanic blueprint) with a Rasa that fails in three ways, and prints the HTTP statuses it
answered as JSON."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any

from rasa.core.channels.channel import UserMessage
from rasa.core.lock_store import LockError
from redis.exceptions import ConnectionError as RedisConnectionError

from rasa_components.channel import SportelloInput

FAILURES: dict[str, Exception | None] = {
    "lock store": LockError("Could not acquire lock"),
    "redis": RedisConnectionError("Error 111 connecting to 127.0.0.1:6379"),
    "a bug": KeyError("slot"),
    "nothing": None,
}


@dataclass
class PostedJson:
    """What the handler reads of a request: its JSON body (no message_id, so no tracker is read)."""

    json: dict[str, Any]


async def statuses() -> dict[str, int]:
    found: dict[str, int] = {}
    for name, failure in FAILURES.items():

        async def on_new_message(message: UserMessage, failure: Exception | None = failure) -> None:
            if failure is not None:
                raise failure
            await message.output_channel.send_text_message(message.sender_id, "ok")

        blueprint = SportelloInput().blueprint(on_new_message)
        (webhook,) = [route.handler for route in blueprint._future_routes if route.uri == "/webhook"]
        answer = await webhook(PostedJson({"sender": "telegram:1", "message": "ciao"}))
        found[name] = answer.status
    return found


if __name__ == "__main__":
    print(json.dumps(asyncio.run(statuses())))
