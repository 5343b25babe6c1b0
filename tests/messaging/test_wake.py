"""The intake process wakes the workers' process with a datagram on localhost: at once, never blocking,
and harmless when nobody listens."""

from __future__ import annotations

import asyncio
import socket

from bot.messaging.wake import RemoteWake, listen_for_wakes
from bot.ops.processes import free_port


async def test_a_wake_reaches_every_listener_call_within_milliseconds() -> None:
    port = free_port()
    woken = asyncio.Event()
    transport = await listen_for_wakes(port, woken.set)
    wake = RemoteWake(port)
    try:
        wake()
        await asyncio.wait_for(woken.wait(), timeout=2)
        assert wake.sent == 1
    finally:
        wake.close()
        transport.close()


async def test_a_datagram_that_is_not_our_signal_wakes_nobody() -> None:
    port = free_port()
    calls: list[int] = []
    transport = await listen_for_wakes(port, lambda: calls.append(1))
    stranger = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        stranger.sendto(b"x" * 100, ("127.0.0.1", port))
        RemoteWake(port)()
        for _ in range(100):
            if calls:
                break
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.05)
        assert calls == [1]  # the stranger's datagram did nothing, ours woke once
    finally:
        stranger.close()
        transport.close()


def test_waking_with_nobody_listening_neither_raises_nor_blocks() -> None:
    wake = RemoteWake(free_port())
    try:
        for _ in range(1000):  # a refused datagram may surface as an error on the next send
            wake()
    finally:
        wake.close()
