"""The handoff and privacy use cases on the SQL adapters and a real Rasa tracker file: consent signal ->
ticket with the conversation, held tickets, /status, /forget."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine as create_sync_engine
from sqlalchemy import inspect, text

from bot.adapters.events import MemoryTicketEvents
from bot.adapters.limits import MemoryRateLimiter
from bot.adapters.rasa.tracker import RasaTracker
from bot.adapters.sql.database import create_engine, migrate
from bot.adapters.sql.mediators import SqlMediatorStore
from bot.adapters.sql.profiles import SqlProfileStore
from bot.adapters.sql.tickets import SqlTicketStore
from bot.conversation.handoff import Handoff, read_words
from bot.conversation.language import LanguagePolicy
from bot.conversation.privacy import Privacy
from bot.conversation.service import ConversationService
from bot.core.catalog import Catalog
from bot.core.clock import utcnow
from bot.core.errors import EngineUnavailable
from bot.core.i18n import Translations
from bot.core.messages import HandoffRequest, InboundMessage, Reply, Understanding
from bot.core.settings import PROJECT_DIR
from bot.core.tickets import QueueFilter, Role, Status
from bot.dialogue.desk import Desk
from bot.dialogue.flows import office_contacts
from bot.dialogue.turn import TurnContext
from bot.knowledge import KnowledgeStore
from tests.fakes.ports import ScriptedEngine, control
from tests.helpers.databases import Mailbox

USER = "telegram:777"
WORDS = "my landlord wants me out on Monday"


def rasa_tracker(path: Path) -> RasaTracker:
    """A tracker file with Rasa 3.6's events table and a short conversation."""
    connection = sqlite3.connect(path)
    connection.execute(
        "create table events (id integer primary key, sender_id varchar(255), type_name "
        "varchar(255), timestamp float, intent_name varchar(255), action_name varchar(255), "
        "data text)"
    )
    for kind, said in (
        ("user", "I got a sfratto letter"),
        ("bot", "Here is what to do now"),
        ("user", "/ask_human"),
    ):
        connection.execute(
            "insert into events (sender_id, type_name, timestamp, data) values (?, ?, ?, ?)",
            (USER, kind, time.time(), json.dumps({"text": said})),
        )
    connection.commit()
    connection.close()
    return RasaTracker(path)


@dataclass
class World:
    conversation: ConversationService
    handoff: Handoff
    privacy: Privacy
    script: ScriptedEngine
    tickets: SqlTicketStore
    mediators: SqlMediatorStore
    mailbox: Mailbox
    url: str


@pytest.fixture()
async def world(
    tmp_path: Path, policy: LanguagePolicy, catalog: Catalog, translations: Translations
) -> AsyncIterator[World]:
    """The use cases on the SQL adapters and a Rasa tracker file: the gateway's wiring, minus HTTP."""
    url = f"sqlite:///{tmp_path / 'gateway.db'}"
    migrate(url)
    engine = create_engine(url)
    tickets, mediators = SqlTicketStore(engine), SqlMediatorStore(engine)
    profiles, mailbox = SqlProfileStore(engine), Mailbox(engine)
    tracker = rasa_tracker(tmp_path / "tracker.db")
    handoff = Handoff(
        tickets=tickets,
        transcript=tracker,
        events=MemoryTicketEvents(),
        outbox=mailbox.outbox,
        translations=translations,
        catalog=catalog,
        knowledge=KnowledgeStore(PROJECT_DIR / "knowledge"),
    )
    privacy = Privacy(tickets, tracker, mailbox.inbox, mailbox.outbox, profiles, translations)
    script = ScriptedEngine()
    conversation = ConversationService(script, profiles, policy, catalog, translations, handoff, privacy)
    yield World(conversation, handoff, privacy, script, tickets, mediators, mailbox, url)
    await engine.dispose()


def said(text: str) -> InboundMessage:
    return InboundMessage("telegram", "777", text, language_hint="en", city=None)


async def consent(world: World) -> None:
    conversations, script = world.conversation, world.script
    script.script = [
        [control(city="caserta")],
        [
            {"recipient_id": USER, "text": "Write a few words"},
            control(handoff={"topic": "eviction", "urgent": True}),
        ],
    ]
    await conversations.handle(said('/choose_city{"city":"caserta"}'))
    await conversations.handle(said("/affirm"))


async def test_consent_then_few_words_open_a_ticket_with_the_conversation(world: World) -> None:
    conversations, script = world.conversation, world.script
    tickets, mediators = world.tickets, world.mediators
    await consent(world)
    result = await conversations.handle(said(WORDS))
    assert script.seen == ['/choose_city{"city":"caserta"}', "/affirm"], "the few words never reach Rasa"
    year = utcnow().year
    assert f"CE-{year}-0001" in result.replies[0].text and "Caserta" in result.replies[0].text
    assert "112" in result.replies[1].text  # urgent
    amal = await mediators.add("amal@x.it", "Amal", Role.MEDIATOR, ["caserta"], ["ar"], "a long password 1")
    [ticket] = await tickets.queue(amal, QueueFilter())
    full = await tickets.get(ticket.id)
    assert full.urgent and full.topic == "eviction" and full.language == "en"
    assert [e.text for e in full.transcript] == ["I got a sfratto letter", "Here is what to do now", WORDS]
    assert full.due_at - full.created_at <= timedelta(hours=4)


async def test_held_ticket_takes_the_users_messages_and_the_bot_is_quiet(world: World) -> None:
    conversations, script = world.conversation, world.script
    tickets, mediators = world.tickets, world.mediators
    await consent(world)
    await conversations.handle(said(WORDS))
    amal = await mediators.add("amal@x.it", "Amal", Role.MEDIATOR, ["caserta"], ["ar"], "a long password 1")
    ticket_id = f"CE-{utcnow().year}-0001"
    await tickets.claim(amal, ticket_id)
    result = await conversations.handle(said("thank you, I am at home now"))
    assert result.replies == [] and script.seen[-1] == "/affirm"
    assert (await tickets.get(ticket_id)).transcript[-1].text == "thank you, I am at home now"
    status = await world.privacy.status(USER, "en")
    assert ticket_id in status[0].text


async def test_forget_leaves_no_row_with_the_users_text_or_id(world: World, tmp_path: Path) -> None:
    conversations, script, tickets, url = world.conversation, world.script, world.tickets, world.url
    await consent(world)
    await conversations.handle(said(WORDS))
    await world.mailbox.inbox.receive(InboundMessage("telegram", "777", WORDS, platform_id="u1"))
    earlier = await world.mailbox.inbox.next_for(USER)
    assert earlier is not None
    await world.mailbox.inbox.finish(earlier, "en", [Reply("an answer about the landlord")])  # answered
    script.script = [[{"recipient_id": USER, "text": "Done"}, control(forget=True)]]
    result = await conversations.handle(said("/affirm"))
    assert result.forgotten
    engine = create_sync_engine(url)
    with engine.connect() as connection:
        for table in inspect(engine).get_table_names():
            for row in connection.execute(text(f"select * from {table}")):
                flat = " ".join(str(v) for v in row)
                assert "777" not in flat and WORDS not in flat and "sfratto" not in flat, (table, flat)
    tracker = sqlite3.connect(tmp_path / "tracker.db")
    assert tracker.execute("select count(*) from events where sender_id = ?", (USER,)).fetchone() == (0,)
    ticket = await tickets.get(f"CE-{utcnow().year}-0001")
    assert (ticket.city, ticket.topic, ticket.status) == ("caserta", "eviction", Status.CLOSED)


async def test_staff_group_is_told_of_a_new_ticket_without_personal_data(world: World) -> None:
    handoff = world.handoff
    handoff.staff_chat = "telegram:-100200300"
    handoff.dashboard_url = "https://sportello.example"
    await consent(world)
    await world.conversation.handle(said(WORDS))
    [row] = await world.mailbox.outbox_rows("telegram:-100200300")
    ticket_id = f"CE-{utcnow().year}-0001"
    assert f"https://sportello.example/dashboard/tickets/{ticket_id}" in row.text
    assert WORDS not in row.text and "777" not in row.text


async def ask_for_a_person_without_topic(world: World) -> None:
    """Consent given straight from the menu: the conversation knows no topic and no danger."""
    world.script.script = [
        [control(city="caserta")],
        [
            {"recipient_id": USER, "text": "Write a few words"},
            control(handoff={"topic": None, "urgent": False}),
        ],
    ]
    await world.conversation.handle(said('/choose_city{"city":"caserta"}'))
    await world.conversation.handle(said("/affirm"))


async def test_few_words_describing_danger_make_the_ticket_urgent_with_its_topic(world: World) -> None:
    world.handoff.staff_chat = "telegram:-100200300"
    await ask_for_a_person_without_topic(world)
    world.script.readings[WORDS] = Understanding("rental_contract", 0.55, urgency="eviction")
    result = await world.conversation.handle(said(WORDS))
    assert world.script.understood == [WORDS] and WORDS not in world.script.seen  # parsed, not answered
    full = await world.tickets.get(f"CE-{utcnow().year}-0001")
    assert full.urgent and full.topic == "eviction"
    assert full.due_at - full.created_at <= timedelta(hours=4)
    urgent = result.replies[1].text
    assert "4" in urgent and "112" in urgent  # what urgent means, and 112 now
    [row] = await world.mailbox.outbox_rows("telegram:-100200300")
    assert "URGENTE" in row.text  # the staff line is in Italian


async def test_few_words_name_the_topic_of_an_ordinary_ticket(world: World) -> None:
    await ask_for_a_person_without_topic(world)
    world.script.readings[WORDS] = Understanding("rental_contract", 0.8)
    result = await world.conversation.handle(said(WORDS))
    full = await world.tickets.get(f"CE-{utcnow().year}-0001")
    assert (full.topic, full.urgent) == ("rental_contract", False) and len(result.replies) == 1


async def test_few_words_unread_when_the_engine_is_down_still_open_the_ticket(world: World) -> None:
    await ask_for_a_person_without_topic(world)

    async def down(text: str) -> Understanding:
        raise EngineUnavailable("Rasa unreachable: ClientConnectorError")

    world.script.understand = down  # type: ignore[method-assign]
    await world.conversation.handle(said(WORDS))
    full = await world.tickets.get(f"CE-{utcnow().year}-0001")
    assert (full.topic, full.urgent, full.details) == (None, False, WORDS)


async def ask_again(world: World, words: str, urgent: bool) -> list[str]:
    """Another request for a person from the same user, in Caserta (remembered), with these few words."""
    world.script.script = [[control(handoff={"topic": "eviction" if urgent else None, "urgent": urgent})]]
    await world.conversation.handle(said("/affirm"))
    return [reply.text for reply in (await world.conversation.handle(said(words))).replies]


async def test_past_the_tickets_of_a_day_nothing_opens_but_urgent_words_still_join(
    world: World, translations: Translations, desk: Desk
) -> None:
    world.handoff.max_tickets_per_day = 2
    await consent(world)
    await world.conversation.handle(said(WORDS))  # the first: urgent
    await ask_again(world, "a question about my permit", urgent=False)
    refused = await ask_again(world, "and one more question", urgent=False)
    tr = translations("en")
    contacts = office_contacts(desk, TurnContext("en", city="caserta"))
    assert refused == [
        tr._(
            "You have already sent many requests today, so I cannot open a new one now. The team will "
            "read the ones you sent. You can write again tomorrow, or contact the office directly."
        ),
        contacts.text,
    ]
    assert len(await world.tickets.open_for_user(USER)) == 2
    joined = await ask_again(world, "they changed the lock", urgent=True)
    first = f"CE-{utcnow().year}-0001"
    assert first in joined[0]
    assert (await world.tickets.get(first)).transcript[-1].text == "they changed the lock"
    assert len(await world.tickets.open_for_user(USER)) == 2


async def test_a_burst_in_one_city_alerts_the_staff_group_once_an_hour(
    world: World, translations: Translations
) -> None:
    now = [0.0]
    staff = "telegram:-100200300"
    handoff = world.handoff
    handoff.staff_chat, handoff.burst_per_hour = staff, 2
    handoff.alerts = MemoryRateLimiter(per_minute=1 / 60, burst=1, clock=lambda: now[0])
    ordinary = HandoffRequest(None, False)

    async def from_user(number: int, city: str = "caserta") -> None:
        message = InboundMessage("telegram", f"90{number}", "help", language_hint="en")
        await handoff.open_ticket(message, city, ordinary, "en")

    for number in range(4):
        await from_user(number)
    await from_user(9, city="roma")
    tr = translations("it")

    def alert(count: int) -> str:
        return tr._(
            "Unusual number of requests: {count} new ones for {city} in the last hour. Check the queue.",
            count=count,
            city="Caserta",
        )

    texts = [row.text for row in await world.mailbox.outbox_rows(staff)]
    assert len(texts) == 6 and texts[3] == alert(3), "5 new tickets, and one alert: after the third"
    assert "90" not in texts[3], "nothing of any user in the alert"
    now[0] = 3600.0
    await from_user(5)
    texts = [row.text for row in await world.mailbox.outbox_rows(staff)]
    assert len(texts) == 8 and texts[-1] == alert(5), "an hour later, a burst still going is told again"


@pytest.mark.parametrize(
    ("before", "words", "after"),
    [
        (HandoffRequest(None, False), Understanding("eviction", 0.9), HandoffRequest("eviction", True)),
        (HandoffRequest(None, False), Understanding("eviction", 0.2), HandoffRequest(None, False)),
        (HandoffRequest(None, False), Understanding(None, 0.0, "danger"), HandoffRequest(None, True)),
        (
            HandoffRequest("rental_contract", False),
            Understanding("tax_code", 0.9),
            HandoffRequest("rental_contract", False),
        ),
        (
            HandoffRequest("rental_contract", False),
            Understanding("rental_contract", 0.5, "eviction"),
            HandoffRequest("eviction", True),
        ),
        (HandoffRequest("eviction", True), Understanding("tax_code", 0.9), HandoffRequest("eviction", True)),
        (HandoffRequest(None, False), Understanding("greet", 0.99), HandoffRequest(None, False)),
    ],
)
def test_read_words_keeps_the_conversation_and_adds_what_the_words_say(
    catalog: Catalog, before: HandoffRequest, words: Understanding, after: HandoffRequest
) -> None:
    assert read_words(before, words, catalog) == after


async def test_the_opening_message_replayed_after_a_crash_opens_no_second_ticket(world: World) -> None:
    """The gateway crashed after the ticket was stored and before the message was marked answered: the
    same message comes again. Same ticket, same answer, the staff group told once."""
    handoff = world.handoff
    handoff.staff_chat = "telegram:-100200300"
    words = InboundMessage("telegram", "777", WORDS, platform_id="update-9001", language_hint="en")
    request = HandoffRequest("eviction", True)
    first = await handoff.open_ticket(words, "caserta", request, "en")
    again = await handoff.open_ticket(words, "caserta", request, "en")
    assert again == first
    assert await world.tickets.opened_since(utcnow() - timedelta(hours=1)) == 1
    assert len(await world.mailbox.outbox_rows("telegram:-100200300")) == 1
    other = replace(words, platform_id="update-9002")  # a new message is a new request (joined: urgent)
    assert "We added your message" in (await handoff.open_ticket(other, "caserta", request, "en"))[0].text


async def test_a_replay_tells_the_staff_group_if_the_first_run_did_not(world: World) -> None:
    handoff = world.handoff
    words = InboundMessage("telegram", "777", WORDS, platform_id="update-9003", language_hint="en")
    await handoff.open_ticket(words, "caserta", HandoffRequest("eviction", False), "en")  # no staff chat yet
    handoff.staff_chat = "telegram:-100200300"
    await handoff.open_ticket(words, "caserta", HandoffRequest("eviction", False), "en")
    await handoff.open_ticket(words, "caserta", HandoffRequest("eviction", False), "en")
    assert len(await world.mailbox.outbox_rows("telegram:-100200300")) == 1
