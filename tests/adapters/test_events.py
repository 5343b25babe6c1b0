"""The in-memory ticket news broker: a listener gets its ticket's news and the "*" listener every one."""

from __future__ import annotations

from bot.adapters.events import MemoryTicketEvents
from bot.core.tickets import TicketEvent


async def test_listeners_get_their_tickets_news_until_they_stop_listening() -> None:
    events = MemoryTicketEvents()
    one, other = TicketEvent("CE-2026-0001", "entry", "caserta"), TicketEvent("RM-2026-0001", "new", "roma")
    async with events.listen("CE-2026-0001") as mine, events.listen() as everything:
        events.publish(one)
        events.publish(other)
        assert [mine.get_nowait()] == [one] and mine.empty()
        assert [everything.get_nowait(), everything.get_nowait()] == [one, other]
    events.publish(one)  # nobody listens: nothing queued, nothing raised
    assert mine.empty() and everything.empty()
