"""Run by test_heap.py in Rasa's own environment: our REST channel's blueprint freezes the heap once the
server has started, after freeing what is already garbage. Prints what it saw as JSON."""

from __future__ import annotations

import asyncio
import gc
import json
import weakref
from typing import Any

from rasa_components.channel import SportelloInput


class Node:
    other: Node | None = None


async def on_new_message(message: Any) -> None:
    """Never called: only the server's start is looked at."""


async def seen() -> dict[str, Any]:
    blueprint = SportelloInput().blueprint(on_new_message)
    listeners = [f.listener for f in blueprint._future_listeners if f.event == "after_server_start"]
    a, b = Node(), Node()
    a.other, b.other = b, a
    gone = weakref.ref(a)
    del a, b
    gc.unfreeze()
    for listener in listeners:
        await listener(None, asyncio.get_running_loop())
    return {"listeners": len(listeners), "frozen": gc.get_freeze_count(), "garbage_freed": gone() is None}


if __name__ == "__main__":
    print(json.dumps(asyncio.run(seen())))
