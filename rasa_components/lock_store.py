"""Rasa's Redis lock store in two round trips a message instead of seven.

Several Rasa servers sharing one tracker must not work one conversation at once: Rasa holds a lock per
conversation around each message. Its ``RedisLockStore`` keeps a ticket queue in one JSON value, read and
written again at each step (issue a ticket: GET, SET; acquire: GET; finish: GET, SET; clean up: GET,
DEL), each a blocking call on Rasa's event loop. Here a lock is one key: ``SET key token NX PX lifetime``
takes it, a script deletes it only if it still holds our token (a late release never frees someone
else's lock). A Rasa server that dies holding a lock loses it when its lifetime runs out, as in Rasa.

What this gives up is the queue's first-come order among messages waiting for the same conversation:
the gateway already sends a user's next message only once the previous one is answered, so a
conversation has at most one message waiting (an HTTP API call beside it, at most).
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from rasa.core.lock import TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, LockError, RedisLockStore
from rasa.utils.endpoints import EndpointConfig

POLL_SECONDS = 0.02  # between attempts while another server works the conversation (Rasa's: 1 s)
RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then
    return redis.call('del', KEYS[1])
end
return 0
"""


class RedisConversationLockStore(RedisLockStore):
    """``lock_store: type: rasa_components.lock_store.RedisConversationLockStore`` in endpoints.yml, with
    the same settings as Rasa's ``redis`` type (url, port, db, key_prefix, ...)."""

    def __init__(self, endpoint_config: EndpointConfig | None = None, **kwargs: Any) -> None:
        if endpoint_config is not None:  # how Rasa builds a lock store named by its module path
            kwargs = {"host": endpoint_config.url, **endpoint_config.kwargs, **kwargs}
        super().__init__(**kwargs)
        self._release = self.red.register_script(RELEASE)

    @asynccontextmanager
    async def lock(
        self,
        conversation_id: str,
        lock_lifetime: float = LOCK_LIFETIME,
        wait_time_in_seconds: float = POLL_SECONDS,
    ) -> AsyncIterator[TicketLock]:
        """Hold the conversation's lock for the block; wait while another holds it, at most its
        lifetime (then LockError, as Rasa: the gateway sends the message again)."""
        key = self.key_prefix + conversation_id
        token = secrets.token_hex(8)
        milliseconds = max(1, int(lock_lifetime * 1000))
        deadline = time.monotonic() + lock_lifetime
        while not self.red.set(key, token, nx=True, px=milliseconds):
            if time.monotonic() > deadline:
                raise LockError(f"Could not acquire lock for conversation_id '{conversation_id}'.")
            await asyncio.sleep(min(wait_time_in_seconds, POLL_SECONDS))
        try:
            yield TicketLock(conversation_id)
        finally:
            self._release(keys=[key], args=[token])
