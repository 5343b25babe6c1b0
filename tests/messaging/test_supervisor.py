"""The supervisor: a worker that raises comes back after its backoff; one that stops beating, or waits
to be restarted, is reported (what ``/healthz`` says)."""

from __future__ import annotations

import asyncio

from bot.messaging.supervisor import Heartbeat, Supervisor, where


async def test_a_worker_that_raises_is_restarted_and_reported_until_then() -> None:
    runs: list[int] = []

    async def flaky(beat: Heartbeat) -> None:
        runs.append(len(runs))
        if len(runs) < 3:
            raise ConnectionError("database unreachable")
        await asyncio.Event().wait()  # the third run keeps going

    supervisor = Supervisor(backoff=(0.2,))
    supervisor.add("inbox", flaky)
    supervisor.start()
    try:
        await asyncio.sleep(0.05)
        (problem,) = supervisor.problems()
        assert problem.startswith("worker inbox is down (ConnectionError at test_supervisor.py:")
        await asyncio.sleep(0.5)
        assert len(runs) == 3
        assert supervisor.problems() == []
        assert supervisor.workers["inbox"].restarts == 2
    finally:
        await supervisor.stop()


async def test_a_worker_that_stops_beating_is_stalled() -> None:
    now = [0.0]
    supervisor = Supervisor(clock=lambda: now[0])

    async def stuck(beat: Heartbeat) -> None:
        await asyncio.Event().wait()

    supervisor.add("sender", stuck, stall_after=60)
    supervisor.add("retention", stuck, stall_after=None)
    supervisor.start()
    try:
        await asyncio.sleep(0)
        now[0] = 59
        assert supervisor.problems() == []
        now[0] = 61
        assert supervisor.problems() == ["worker sender is stalled (61 s silent)"]
    finally:
        await supervisor.stop()


async def test_a_worker_that_returns_is_started_again() -> None:
    runs: list[int] = []

    async def once(beat: Heartbeat) -> None:
        runs.append(1)

    supervisor = Supervisor(backoff=(0.05,))
    supervisor.add("polling", once)
    supervisor.start()
    try:
        await asyncio.sleep(0.3)
        assert len(runs) >= 3
    finally:
        await supervisor.stop()
    assert supervisor.workers["polling"].last_error == "returned"


async def test_stop_cancels_every_worker() -> None:
    async def forever(beat: Heartbeat) -> None:
        while True:
            beat.beat()
            await asyncio.sleep(0.01)

    supervisor = Supervisor()
    supervisor.add("inbox", forever)
    supervisor.start()
    await asyncio.sleep(0.05)
    await supervisor.stop()
    task = supervisor.workers["inbox"].task
    assert task is not None and task.cancelled()


def test_where_names_the_type_and_line_never_the_message() -> None:
    try:
        raise KeyError("a user's private words")
    except KeyError as exc:
        described = where(exc)
    assert described.startswith("KeyError at test_supervisor.py:")
    assert "private" not in described
