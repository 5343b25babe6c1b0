"""One message through the conversation service on memory stores: what the turn decided is remembered,
non-text gets a fixed reply, and a turn's signals reach the handoff and privacy use cases."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.conversation.handoff import Handoff
from bot.conversation.language import LanguagePolicy
from bot.conversation.privacy import Privacy
from bot.conversation.review import Review
from bot.conversation.service import ConversationService
from bot.core.catalog import Catalog
from bot.core.errors import EngineUnavailable, InvalidMessage
from bot.core.i18n import Translations
from bot.core.messages import HandoffRequest, InboundMessage, Kind, Signals
from bot.core.overview import Miss, MissKind
from bot.core.settings import PROJECT_DIR
from bot.core.tickets import Mediator, Role
from bot.dialogue.turn import Turn
from bot.knowledge import KnowledgeStore
from tests.fakes.ports import FakeEngine, ScriptedEngine, control
from tests.fakes.reports import MemoryMissedMessages
from tests.fakes.stores import (
    MemoryInbox,
    MemoryOutbox,
    MemoryProfileStore,
    MemoryTicketEvents,
    MemoryTicketStore,
    MemoryTranscript,
)

USER = "telegram:5"


def said(text: str, kind: Kind = Kind.TEXT) -> InboundMessage:
    return InboundMessage("telegram", "5", text, kind, language_hint="fr")


@pytest.fixture()
def service(policy: LanguagePolicy, catalog: Catalog, translations: Translations) -> ConversationService:
    outbox = MemoryOutbox()
    tickets, transcript, profiles = MemoryTicketStore(), MemoryTranscript(), MemoryProfileStore()
    handoff = Handoff(
        tickets,
        transcript,
        MemoryTicketEvents(),
        outbox,
        translations,
        catalog,
        KnowledgeStore(PROJECT_DIR / "knowledge"),
    )
    privacy = Privacy(tickets, transcript, MemoryInbox(outbox), outbox, profiles, translations)
    return ConversationService(ScriptedEngine(), profiles, policy, catalog, translations, handoff, privacy)


def script(service: ConversationService) -> ScriptedEngine:
    assert isinstance(service.engine, ScriptedEngine)
    return service.engine


async def test_the_control_message_of_a_dialogue_turn_is_read_back_as_the_same_signals(
    service: ConversationService,
) -> None:
    """The wire between the action server and the gateway: Turn.control() in, Signals out."""
    turn = Turn(topic="eviction", city="roma", signals=Signals(handoff=HandoffRequest("eviction", True)))
    script(service).script = [
        [
            {"recipient_id": USER, "text": "Écrivez quelques mots"},
            {"recipient_id": USER, "custom": turn.control()},
        ]
    ]
    result = await service.handle(said("oui, je veux parler à une personne"))
    assert result.topic == "eviction" and [r.text for r in result.replies] == ["Écrivez quelques mots"]
    profile = await service.profiles.get(USER)
    assert profile.city == "roma" and profile.pending_handoff == HandoffRequest("eviction", True)


async def test_the_few_words_open_an_urgent_ticket_and_never_reach_the_engine(
    service: ConversationService,
) -> None:
    script(service).script = [[control(city="roma", handoff={"topic": "eviction", "urgent": True})]]
    await service.handle(said("/affirm"))
    result = await service.handle(said("le propriétaire a changé la serrure"))
    assert script(service).seen == ["/affirm"]
    assert len(result.replies) == 2 and "112" in result.replies[1].text
    assert service.handoff is not None
    [ticket] = await service.handoff.tickets.open_for_user(USER)
    assert (
        ticket.urgent
        and ticket.topic == "eviction"
        and ticket.due_at - ticket.created_at <= timedelta(hours=4)
    )
    assert (await service.profiles.get(USER)).pending_handoff is None


async def test_a_turn_writes_the_profile_only_when_it_changed_it(service: ConversationService) -> None:
    """The first turn decides the city (a write); the same answer again changes nothing (no write); a new
    city is written again."""
    profiles = service.profiles
    assert isinstance(profiles, MemoryProfileStore)
    in_rome = [[{"recipient_id": USER, "custom": Turn(topic="tax_code", city="roma").control()}]]
    script(service).script = in_rome * 2 + [
        [{"recipient_id": USER, "custom": Turn(topic="tax_code", city="milano").control()}]
    ]
    await service.handle(said("comment avoir le codice fiscale à Rome"))
    assert profiles.writes == 1 and (await profiles.get(USER)).city == "roma"
    await service.handle(said("et le codice fiscale pour mon fils ?"))
    assert profiles.writes == 1
    await service.handle(said("j'ai déménagé à Milan, le codice fiscale ?"))
    assert profiles.writes == 2 and (await profiles.get(USER)).city == "milano"


async def test_status_and_forget_signals_reach_privacy(service: ConversationService) -> None:
    script(service).script = [[control(status=True)], [control(forget=True)]]
    status = await service.handle(said("/check_status"))
    nothing = service.translations(status.language)._("You have no open requests.")
    assert [r.text for r in status.replies] == [nothing]
    forgotten = await service.handle(said("/affirm"))
    assert forgotten.forgotten and await service.profiles.get(USER) == (
        await service.profiles.get("nobody")
    ).with_changes(user_key=USER)


async def test_a_voice_message_gets_the_person_button_and_no_engine_call(
    policy: LanguagePolicy, catalog: Catalog, translations: Translations
) -> None:
    engine = FakeEngine()
    service = ConversationService(engine, MemoryProfileStore(), policy, catalog, translations)
    result = await service.answer(said("", Kind.VOICE))
    assert result.replies[0].buttons[0].payload == "/ask_human" and engine.seen == []
    photo = await service.answer(said("", Kind.MEDIA))
    assert photo.replies[0].text == translations(photo.language)._(
        "I can only read text messages. Please write your question in words."
    )


async def test_an_engine_outage_carries_the_language_of_the_turn(
    policy: LanguagePolicy, catalog: Catalog, translations: Translations
) -> None:
    service = ConversationService(FakeEngine(down=True), MemoryProfileStore(), policy, catalog, translations)
    with pytest.raises(EngineUnavailable) as raised:
        await service.handle(said("Bonjour, comment renouveler mon titre de séjour ?"))
    assert raised.value.language == "fr"
    assert service.outage_notice("fr").text == translations("fr")._(
        "We received your message. We will answer shortly."
    )


async def test_an_unknown_city_or_language_is_refused(service: ConversationService) -> None:
    for message in (
        InboundMessage("webchat", "b", "ciao", city="atlantis"),
        InboundMessage("webchat", "b", "ciao", language="tlh"),
    ):
        with pytest.raises(InvalidMessage):
            await service.handle(message)


async def test_a_command_in_a_group_gets_one_line_asking_to_write_privately(
    policy: LanguagePolicy, catalog: Catalog, translations: Translations
) -> None:
    engine = FakeEngine()
    service = ConversationService(engine, MemoryProfileStore(), policy, catalog, translations)
    group = InboundMessage("telegram", "-1001234567890", "", Kind.GROUP, language_hint="ar")
    result = await service.answer(group)
    line = translations(result.language)._("I can only help in a private chat. Please write to me directly.")
    assert [r.text for r in result.replies] == [line] and result.replies[0].buttons == ()
    assert engine.seen == []


async def test_forget_and_status_reach_the_assistant_while_a_mediator_holds_the_ticket(
    service: ConversationService,
) -> None:
    """A user can always leave: /forget, its confirmation and /status never go into the held ticket."""
    assert service.handoff is not None
    tickets = service.handoff.tickets
    script(service).script = [[control(city="caserta", handoff={"topic": "eviction", "urgent": False})]]
    await service.handle(said("/affirm"))
    await service.handle(said("il proprietario vuole cacciarmi"))
    [ticket] = await tickets.open_for_user(USER)
    amal = Mediator(1, "amal@caserta.example", "Amal", Role.MEDIATOR, ("caserta",), ("fr",))
    await tickets.claim(amal, ticket.id)
    await service.handle(said("merci, j'attends"))
    assert script(service).seen == ["/affirm"], "held: the bot is quiet"

    script(service).script = [
        [control(status=True)],
        [{"recipient_id": USER, "text": "Tout supprimer ?"}, control(asking_forget=True)],
        [{"recipient_id": USER, "text": "C'est fait."}, control(forget=True)],
    ]
    status = await service.handle(said("/check_status"))
    assert ticket.id in status.replies[0].text
    asked = await service.handle(said("/forget_me"))
    assert asked.replies[0].text == "Tout supprimer ?"
    done = await service.handle(said("/affirm"))
    assert done.forgotten and script(service).seen[-3:] == ["/check_status", "/forget_me", "/affirm"]
    kept = await tickets.get(ticket.id)
    assert [e.text for e in kept.transcript] == [], "nothing of the user is left in the ticket"


async def test_an_affirm_that_answers_nothing_of_ours_still_goes_to_the_held_ticket(
    service: ConversationService,
) -> None:
    assert service.handoff is not None
    tickets = service.handoff.tickets
    script(service).script = [[control(city="caserta", handoff={"topic": None, "urgent": False})]]
    await service.handle(said("/affirm"))
    await service.handle(said("j'ai besoin d'aide"))
    [ticket] = await tickets.open_for_user(USER)
    amal = Mediator(1, "amal@caserta.example", "Amal", Role.MEDIATOR, ("caserta",), ("fr",))
    await tickets.claim(amal, ticket.id)
    await service.handle(said("/affirm"))  # a Yes pressed on an old message: for the mediator
    assert (await tickets.get(ticket.id)).transcript[-1].text == "/affirm"


async def ask_for_a_person(service: ConversationService, words: str, urgent: bool) -> list[str]:
    script(service).script = [[control(city="roma", handoff={"topic": "eviction", "urgent": urgent})]]
    await service.handle(said("/affirm"))
    return [reply.text for reply in (await service.handle(said(words))).replies]


async def test_a_second_urgent_request_joins_the_first_and_a_flood_opens_no_more_tickets(
    service: ConversationService, translations: Translations
) -> None:
    assert service.handoff is not None
    tickets, tr = service.handoff.tickets, translations("fr")
    await ask_for_a_person(service, "on me met dehors demain", urgent=True)
    [first] = await tickets.open_for_user(USER)
    again = await ask_for_a_person(service, "ils ont changé la serrure", urgent=True)
    assert again[0] == tr._(
        "We added your message to your request {ticket}. A person will answer you here.", ticket=first.id
    )
    assert [t.id for t in await tickets.open_for_user(USER)] == [first.id]
    assert (await tickets.get(first.id)).transcript[-1].text == "ils ont changé la serrure"
    for number in range(2):
        await ask_for_a_person(service, f"une autre question {number}", urgent=False)
    refused = await ask_for_a_person(service, "encore une", urgent=False)
    open_now = await tickets.open_for_user(USER)
    assert len(open_now) == 3 == service.handoff.max_open_tickets
    assert refused == [
        tr._(
            "You already have open requests: {tickets}. A person will answer you here. "
            "Write /status to see them.",
            tickets=", ".join(t.id for t in open_now),
        )
    ]


# what the desk misses -------------------------------------------------------------------------------
async def test_a_missed_message_is_recorded_with_language_guess_and_city_but_no_user(
    service: ConversationService,
) -> None:
    missed = MemoryMissedMessages()
    service.review = Review(missed, ("tax_code",))
    turn = Turn(city="caserta", signals=Signals(missed=Miss(MissKind.NOT_UNDERSTOOD, "tax_code", 0.3)))
    script(service).script = [
        [
            {"recipient_id": USER, "text": "Pardon, je n'ai pas compris"},
            {"recipient_id": USER, "custom": turn.control()},
        ],
        [{"recipient_id": USER, "text": "Voici"}],
    ]
    await service.handle(said("ou je fais le code fiscal pour travailler svp"))
    await service.handle(said("merci beaucoup pour la réponse"))  # answered: nothing recorded
    [kept] = missed.messages
    assert (kept.text, kept.language, kept.topic, kept.city) == (
        "ou je fais le code fiscal pour travailler svp",
        "fr",
        "tax_code",
        "caserta",
    )
    assert kept.confidence == 0.3 and USER not in repr(kept) and "telegram" not in repr(kept)
