"""The mediator's half of a handoff, without HTTP: the use case on the memory stores."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.conversation.mediation import Mediation
from bot.core.clock import utcnow
from bot.core.errors import InvalidInput, NotAllowed, RoleRequired, TicketNotFound
from bot.core.i18n import Translations
from bot.core.tickets import Author, Mediator, NewTicket, QueueFilter, Role, Status, Ticket
from tests.fakes.stores import MemoryMediatorStore, MemoryOutbox, MemoryTicketEvents, MemoryTicketStore

PASSWORD = "not checked by the memory store"


class Team:
    """A mediation use case on memory stores, and what it did."""

    def __init__(self, translations: Translations) -> None:
        self.tickets, self.mediators = MemoryTicketStore(), MemoryMediatorStore()
        self.events, self.outbox = MemoryTicketEvents(), MemoryOutbox()
        self.woken = 0
        self.mediation = Mediation(
            self.tickets, self.mediators, self.events, self.outbox, translations, self.wake, max_text_chars=50
        )

    def wake(self) -> None:
        self.woken += 1

    async def ticket(
        self, user_key: str = "telegram:42", city: str = "caserta", language: str = "ar"
    ) -> Ticket:
        new = NewTicket(
            city,
            "CE",
            language,
            "eviction",
            True,
            user_key.split(":")[0],
            user_key,
            "the landlord changed the lock",
            utcnow() + timedelta(hours=4),
        )
        return await self.tickets.open(new)

    async def mediator(self, email: str, cities: list[str], role: Role = Role.MEDIATOR) -> Mediator:
        return await self.mediators.add(email, email.split("@")[0].title(), role, cities, ["ar"], PASSWORD)


@pytest.fixture()
def team(translations: Translations) -> Team:
    return Team(translations)


async def test_claim_reply_close_reach_the_user_and_the_live_pages(
    team: Team, translations: Translations
) -> None:
    ticket = await team.ticket()
    amal = await team.mediator("amal@caserta.example", ["caserta"])
    await team.mediation.claim(amal, ticket.id)
    await team.mediation.reply(amal, ticket.id, "  مرحبا، أنا أمل  ")
    await team.mediation.close(amal, ticket.id, "resolved")
    closed = await team.tickets.get(ticket.id)
    assert closed.status is Status.CLOSED and closed.transcript[-1].author is Author.BOT
    back = translations("ar")._("You are talking with the assistant again.")
    assert [row.text for row in team.outbox.rows("telegram:42")] == ["مرحبا، أنا أمل", back]
    assert [e.kind for e in team.events.published] == ["status", "entry", "status"]
    assert team.woken == 2


async def test_another_citys_ticket_is_not_found_before_anything_else_is_checked(team: Team) -> None:
    ticket = await team.ticket()
    luca = await team.mediator("luca@roma.example", ["roma"])
    for attempt in (
        team.mediation.claim(luca, ticket.id),
        team.mediation.reply(luca, ticket.id, ""),  # an empty reply would be InvalidInput for Caserta
        team.mediation.close(luca, ticket.id, "no such outcome"),
        team.mediation.reassign(luca, ticket.id, "1"),
        team.mediation.view(luca, ticket.id),
    ):
        with pytest.raises(TicketNotFound):
            await attempt
    assert team.outbox.items == [] and team.events.published == []
    assert await team.mediation.queue(luca, QueueFilter()) == []


async def test_bad_input_is_refused_with_what_to_fix(team: Team) -> None:
    ticket = await team.ticket()
    amal = await team.mediator("amal@caserta.example", ["caserta"])
    with pytest.raises(InvalidInput, match="Write the reply first"):
        await team.mediation.reply(amal, ticket.id, "   ")
    with pytest.raises(InvalidInput, match="longer than 50"):
        await team.mediation.note(amal, ticket.id, "x" * 51)
    with pytest.raises(InvalidInput, match="outcome"):
        await team.mediation.close(amal, ticket.id, "finished")
    with pytest.raises(NotAllowed, match="nobody holds"):
        await team.mediation.release(amal, ticket.id)
    assert (await team.tickets.get(ticket.id)).status is Status.NEW


async def test_only_a_coordinator_reassigns_and_only_to_a_colleague_of_the_city(team: Team) -> None:
    ticket = await team.ticket()
    amal = await team.mediator("amal@caserta.example", ["caserta"])
    boss = await team.mediator("boss@caserta.example", ["caserta", "roma"], Role.COORDINATOR)
    luca = await team.mediator("luca@roma.example", ["roma"])
    with pytest.raises(RoleRequired):
        await team.mediation.reassign(amal, ticket.id, str(amal.id))
    with pytest.raises(InvalidInput):
        await team.mediation.reassign(boss, ticket.id, "not a number")
    with pytest.raises(NotAllowed):
        await team.mediation.reassign(boss, ticket.id, str(luca.id))
    await team.mediation.reassign(boss, ticket.id, str(amal.id))
    assert (await team.tickets.get(ticket.id)).assignee == amal.name
    assert await team.mediation.colleagues(amal, ticket) == []
    assert [m.name for m in await team.mediation.colleagues(boss, ticket)] == [amal.name, boss.name]


async def test_nothing_is_queued_for_the_web_chat_or_a_forgotten_user(team: Team) -> None:
    amal = await team.mediator("amal@caserta.example", ["caserta"])
    web = await team.ticket(user_key="webchat:browser-1")
    await team.mediation.reply(amal, web.id, "hello")
    forgotten = await team.ticket(user_key="telegram:7")
    await team.tickets.erase_user("telegram:7")
    assert not await team.mediation.send_to_user(await team.tickets.get(forgotten.id), "hello")
    assert team.outbox.items == [] and team.woken == 0
    assert (await team.tickets.get(web.id)).transcript[-1].text == "hello"  # kept for the mediator


async def test_every_look_and_every_login_is_audited(team: Team) -> None:
    ticket = await team.ticket()
    amal = await team.mediator("amal@caserta.example", ["caserta"])
    await team.mediation.logged_in(amal)
    await team.mediation.view(amal, ticket.id, "api")
    await team.mediation.logged_out(amal)
    assert team.tickets.audit_log == [
        (amal.id, "login", None, ""),
        (amal.id, "view", ticket.id, "api"),
        (amal.id, "logout", None, ""),
    ]


async def test_a_claimed_ticket_is_closed_or_released_by_its_holder_or_a_coordinator(team: Team) -> None:
    ticket = await team.ticket()
    amal = await team.mediator("amal@caserta.example", ["caserta"])
    marco = await team.mediator("marco@caserta.example", ["caserta"])
    boss = await team.mediator("boss@caserta.example", ["caserta"], Role.COORDINATOR)
    await team.mediation.claim(amal, ticket.id)
    with pytest.raises(RoleRequired, match="Amal"):
        await team.mediation.close(marco, ticket.id, "resolved")
    with pytest.raises(RoleRequired):
        await team.mediation.release(marco, ticket.id)
    assert (await team.tickets.get(ticket.id)).status is Status.ASSIGNED
    await team.mediation.release(boss, ticket.id)
    await team.mediation.close(marco, ticket.id, "resolved")  # nobody holds it now: any colleague
    assert (await team.tickets.get(ticket.id)).status is Status.CLOSED


async def test_refusals_and_failed_logins_are_audited_with_where_they_came_from(team: Team) -> None:
    amal = await team.mediator("amal@caserta.example", ["caserta"])
    await team.mediation.login_failed("203.0.113.7")
    await team.mediation.refused(amal, "ticket", "CE-2026-" + "9" * 40, "203.0.113.8")
    assert team.tickets.audit_log == [
        (None, "login_failed", None, "from 203.0.113.7"),
        (amal.id, "refused:ticket", "CE-2026-" + "9" * 12, "from 203.0.113.8"),
    ]
