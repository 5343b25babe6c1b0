"""Waking the workers of another gateway process on this machine: one UDP datagram to localhost.

With ``SPORTELLO_INTAKE_PROCESS`` the gateway that stores the webhooks' updates does not answer them: a
second gateway process (the workers) does, so that a busy worker never delays an acknowledgement. The
intake tells the workers at once that a row waits. A datagram never blocks and needs no answer; one that
is lost (nobody listening yet, a full buffer) costs only time: the workers look at the inbox every second
anyway.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Callable

log = logging.getLogger(__name__)
LOCALHOST = "127.0.0.1"
SIGNAL = b"wake"


class RemoteWake:
    """``wake()``: tell the workers' process that inbox or outbox rows wait."""

    def __init__(self, port: int) -> None:
        self.address = (LOCALHOST, port)
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._socket.setblocking(False)
        self.sent = 0

    def __call__(self) -> None:
        try:
            self._socket.sendto(SIGNAL, self.address)
            self.sent += 1
        except OSError as exc:  # nobody listening yet (refused), or a full buffer: the poll covers it
            log.debug("workers not woken (%s): they look again within a second", exc.strerror)

    def close(self) -> None:
        self._socket.close()


class _Listener(asyncio.DatagramProtocol):
    def __init__(self, wake: Callable[[], None]) -> None:
        self.wake = wake

    def datagram_received(self, data: bytes, addr: tuple[str | object, ...]) -> None:
        if data == SIGNAL:  # anything else on the port is not ours
            self.wake()


async def listen_for_wakes(port: int, wake: Callable[[], None]) -> asyncio.DatagramTransport:
    """Call ``wake`` for each signal on localhost ``port``; several worker processes may listen on it."""
    loop = asyncio.get_running_loop()
    transport, _ = await loop.create_datagram_endpoint(
        lambda: _Listener(wake), local_addr=(LOCALHOST, port), reuse_port=True
    )
    return transport
