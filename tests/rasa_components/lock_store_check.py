"""Run by test_lock_store.py in Rasa's own environment (.venv-rasa): RedisConversationLockStore on the
real Redis (127.0.0.1:6379, a key prefix of its own), two stores standing for two Rasa servers; prints
what it found as JSON."""

from __future__ import annotations

import asyncio
import json
import secrets
import time

from rasa.core.lock_store import LockError
from rasa.utils.endpoints import EndpointConfig

from rasa_components.lock_store import RedisConversationLockStore

PREFIX = "check" + secrets.token_hex(4)


def server() -> RedisConversationLockStore:
    """As Rasa builds it from endpoints.yml (``type: <module path>``)."""
    config = EndpointConfig(url="127.0.0.1", port=6379, db=1, key_prefix=PREFIX)
    return RedisConversationLockStore(endpoint_config=config)


async def two_servers_one_conversation(
    first: RedisConversationLockStore, second: RedisConversationLockStore
) -> list[str]:
    order: list[str] = []

    async def work(store: RedisConversationLockStore, name: str, delay: float) -> None:
        await asyncio.sleep(delay)
        async with store.lock("telegram:1"):
            order.append(f"{name} in")
            await asyncio.sleep(0.2)
            order.append(f"{name} out")

    await asyncio.gather(work(first, "a", 0), work(second, "b", 0.05))
    return order


async def main() -> None:
    first, second = server(), server()
    order = await two_servers_one_conversation(first, second)

    async with first.lock("telegram:2"), second.lock("telegram:3"):
        other_conversations = True  # different conversations do not wait for each other

    # a server that died holding the lock: the other waits out the lock's lifetime, no longer
    dead = first.lock("telegram:4", lock_lifetime=0.5)
    await dead.__aenter__()
    started = time.monotonic()
    async with second.lock("telegram:4", lock_lifetime=5):
        waited = time.monotonic() - started
        await dead.__aexit__(None, None, None)  # the dead one's late release frees nothing of ours
        still_held = bool(second.red.get(second.key_prefix + "telegram:4"))
    released = second.red.get(second.key_prefix + "telegram:4") is None

    # a lock held longer than the waiter's patience: LockError, which our channel answers 503
    async with first.lock("telegram:5", lock_lifetime=5):
        try:
            async with second.lock("telegram:5", lock_lifetime=0.3):
                gave_up = False
        except LockError:
            gave_up = True
    left = first.red.keys(first.key_prefix + "*")
    print(
        json.dumps(
            {
                "order": order,
                "other_conversations": other_conversations,
                "waited": round(waited, 2),
                "still_held": still_held,
                "released": released,
                "gave_up": gave_up,
                "keys_left": len(left),
            }
        )
    )


if __name__ == "__main__":
    asyncio.run(main())
