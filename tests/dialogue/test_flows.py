"""The dialogue functions on the real knowledge, without Rasa."""

from __future__ import annotations

import itertools
import re

import pytest

from bot.core.catalog import load_catalog
from bot.core.languages import LANGUAGES
from bot.core.messages import HandoffRequest, Reply, Signals
from bot.core.overview import Miss, MissKind
from bot.core.settings import PROJECT_DIR
from bot.dialogue import flows
from bot.dialogue.desk import Desk
from bot.dialogue.turn import Turn, TurnContext
from bot.knowledge.model import MAX_MESSAGE_CHARS, is_todo

CATALOG = load_catalog(PROJECT_DIR)
CITIES = [*CATALOG.cities, None]


def texts(replies: list[Reply]) -> str:
    return "\n".join(r.text for r in replies)


def payloads(reply: Reply) -> list[str]:
    return [b.payload for b in reply.buttons]


def todo_values(desk: Desk) -> set[str]:
    """Every ``todo`` a city file holds (whole offices and single fields)."""
    values = set()
    for city in desk.kb().cities.values():
        for office in city.offices.values():
            fields = [office] if isinstance(office, str) else [v for _, v in office if isinstance(v, str)]
            values |= {v for v in fields if is_todo(v) and v.strip().casefold() != "todo"}
    return values


@pytest.mark.parametrize("language", LANGUAGES)
def test_no_answer_ever_shows_a_placeholder_or_an_overlong_message(desk: Desk, language: str) -> None:
    todos = todo_values(desk)
    assert todos, "the city files still have unknowns, so this test means something"
    for topic_id, city in itertools.product(CATALOG.topics, CITIES):
        ctx = TurnContext(language=language, city=city, intent=topic_id)
        turn = flows.answer_topic(desk, ctx)
        assert turn.topic == topic_id
        for reply in turn.replies:
            assert not re.search(r"(^|\n)todo\b", reply.text, re.IGNORECASE), (topic_id, city)
            assert not any(todo in reply.text for todo in todos), (topic_id, city, reply.text)
            assert len(reply.text) <= MAX_MESSAGE_CHARS + 200, (topic_id, city)  # + office block


@pytest.mark.parametrize("language", LANGUAGES)
def test_answer_is_in_the_users_language(desk: Desk, language: str) -> None:
    turn = flows.answer_topic(desk, TurnContext(language=language, city="roma", intent="tax_code"))
    expected = desk.kb().texts[language].topics["tax_code"].answer[0]
    assert turn.replies[0].text == expected


@pytest.mark.parametrize("topic_id", ["eviction", "emergency_shelter", "emergency_health"])
def test_urgent_answer_starts_with_what_to_do_now_and_offers_a_person(desk: Desk, topic_id: str) -> None:
    turn = flows.answer_topic(desk, TurnContext(language="ar", city="caserta", intent=topic_id))
    first = turn.replies[0]
    assert first.text.startswith(desk.kb().texts["ar"].topics[topic_id].now or "")
    assert "/ask_human" in payloads(first)
    assert payloads(turn.replies[-1]) == ["/affirm", "/deny"], "and ends with the offer of a person"
    assert turn.slots[flows.AWAITING] == "handoff_consent"


def test_unknown_city_is_asked_with_buttons_and_remembered(desk: Desk) -> None:
    turn = flows.answer_topic(desk, TurnContext(language="en", intent="residence_permit_renewal"))
    last = turn.replies[-1]
    assert len(last.buttons) == 16
    assert '/choose_city{"city":"caserta"}' in payloads(last)
    assert turn.slots[flows.PENDING] == "residence_permit_renewal"

    chosen = flows.choose_city(
        desk,
        TurnContext(
            language="en",
            intent="choose_city",
            entities={"city": "caserta"},
            slots={flows.PENDING: "residence_permit_renewal"},
        ),
    )
    assert chosen.city == "caserta"
    assert chosen.topic == "residence_permit_renewal"
    assert "Caserta" in texts(chosen.replies)
    assert chosen.slots[flows.PENDING] is None


def test_national_topic_needs_no_city(desk: Desk) -> None:
    turn = flows.answer_topic(desk, TurnContext(language="en", intent="emergency_health"))
    assert flows.PENDING not in turn.slots or turn.slots[flows.PENDING] is None


@pytest.mark.parametrize(
    ("text", "city"),
    [
        ("I live in Caserta", "caserta"),
        ("я в Римі", "roma"),
        ("أنا في ميلانو", "milano"),
        ("sono a napoli", "napoli"),
    ],
)
def test_city_named_in_free_text(desk: Desk, text: str, city: str) -> None:
    turn = flows.choose_city(desk, TurnContext(language="en", intent="choose_city", text=text))
    assert turn.city == city


def test_city_not_recognised_offers_the_list(desk: Desk) -> None:
    turn = flows.choose_city(desk, TurnContext(language="fr", intent="choose_city", text="je suis à Paris"))
    assert turn.city is None and len(turn.replies[0].buttons) == 16


def test_explicit_language_choice_answers_in_the_new_language(desk: Desk) -> None:
    ctx = TurnContext(language="it", intent="choose_language", text="English please")
    turn = flows.choose_language(desk, ctx)
    assert turn.language == "en"
    assert turn.replies[0].text == desk.tr("en")._(
        "OK, I will write in {language}. What is your question?", language="English"
    )


def test_not_understood_says_so_and_offers_menu_and_person(desk: Desk) -> None:
    turn = flows.not_understood(desk, TurnContext(language="uk", slots={flows.MISSES: 0}))
    assert turn.topic is None
    assert turn.slots[flows.MISSES] == 1
    assert "/ask_human" in payloads(turn.replies[0])
    assert any(p.startswith("/menu") for p in payloads(turn.replies[0]))


def test_second_miss_in_a_row_offers_a_person_with_consent(desk: Desk) -> None:
    ctx = TurnContext(language="ar", city="caserta", slots={flows.MISSES: 1})
    turn = flows.not_understood(desk, ctx)
    assert turn.slots[flows.AWAITING] == "handoff_consent"
    assert payloads(turn.replies[0]) == ["/affirm", "/deny"]


def test_consent_then_details_signal_and_refusal_gives_contacts(desk: Desk) -> None:
    slots = {flows.AWAITING: "handoff_consent", flows.LAST_TOPIC: "eviction"}
    yes = flows.affirm(desk, TurnContext(language="it", city="caserta", slots=slots))
    assert yes.signals == Signals(handoff=HandoffRequest("eviction", urgent=True))
    no = flows.deny(desk, TurnContext(language="it", city="caserta", slots=slots))
    assert no.signals == Signals() and "Caserta" in texts(no.replies)


def test_forget_needs_confirmation(desk: Desk) -> None:
    asked = flows.forget_me(desk, TurnContext(language="en"))
    assert asked.slots[flows.AWAITING] == "forget" and asked.signals == Signals(asking_forget=True)
    done = flows.affirm(desk, TurnContext(language="en", slots={flows.AWAITING: "forget"}))
    assert done.signals == Signals(forget=True)
    kept = flows.deny(desk, TurnContext(language="en", slots={flows.AWAITING: "forget"}))
    assert kept.signals == Signals()


def test_category_menu_lists_its_topics(desk: Desk) -> None:
    turn = flows.menu(desk, TurnContext(language="zh", entities={"category": "health"}))
    listed = payloads(turn.replies[0])
    assert [f"/{t.id}" for t in CATALOG.topics_in("health")] == listed[:-1]


def test_ask_human_with_city_asks_for_consent(desk: Desk) -> None:
    turn = flows.ask_human(desk, TurnContext(language="en", city="roma"))
    assert "Roma" in turn.replies[0].text and turn.slots[flows.AWAITING] == "handoff_consent"


def test_city_chosen_for_a_person_asks_for_consent(desk: Desk) -> None:
    ctx = TurnContext(language="ar", entities={"city": "caserta"}, slots={flows.PENDING: "ask_human"})
    turn = flows.choose_city(desk, ctx)
    assert turn.slots[flows.AWAITING] == "handoff_consent"
    assert payloads(turn.replies[-1]) == ["/affirm", "/deny"]


def test_ask_human_without_city_asks_for_it(desk: Desk) -> None:
    turn = flows.ask_human(desk, TurnContext(language="ro"))
    assert turn.slots[flows.PENDING] == "ask_human"
    assert len(turn.replies[0].buttons) == 16


# danger first ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("intent", ["greet", "rental_contract", "nlu_fallback", "out_of_scope", "menu"])
def test_urgency_found_answers_urgent_first_whatever_the_intent(desk: Desk, intent: str) -> None:
    ctx = TurnContext(language="ar", city="caserta", intent=intent, entities={"urgency": "eviction"})
    flow = flows.greet if intent == "greet" else flows.answer_topic
    turn = flows.respond(desk, ctx, flow)
    assert turn.topic == "eviction" and turn.slots[flows.URGENT] == "eviction"
    assert turn.replies[0].text.startswith(desk.kb().texts["ar"].topics["eviction"].now or "")
    assert payloads(turn.replies[-1]) == ["/affirm", "/deny"], "ends with the offer of a person"


def test_without_urgency_the_intent_decides(desk: Desk) -> None:
    ctx = TurnContext(language="en", city="caserta", intent="greet")
    assert flows.respond(desk, ctx, flows.greet).topic is None
    assert flows.URGENT not in flows.respond(desk, ctx, flows.greet).slots


@pytest.mark.parametrize("intent", sorted(flows.FOLLOW_UPS))
def test_answers_to_the_bots_own_questions_are_never_overridden(desk: Desk, intent: str) -> None:
    slots = {flows.AWAITING: "handoff_consent", flows.LAST_TOPIC: None}
    ctx = TurnContext(
        language="en", city="caserta", intent=intent, entities={"urgency": "danger"}, slots=slots
    )
    sentinel = Turn(topic="sentinel")
    assert flows.respond(desk, ctx, lambda d, c: sentinel) is sentinel


@pytest.mark.parametrize("language", LANGUAGES)
def test_danger_says_112_first_then_offers_a_person(desk: Desk, language: str) -> None:
    ctx = TurnContext(language=language, city="caserta", intent="greet", entities={"urgency": "danger"})
    turn = flows.respond(desk, ctx, flows.greet)
    assert "112" in turn.replies[0].text and "/ask_human" in payloads(turn.replies[0])
    assert payloads(turn.replies[-1]) == ["/affirm", "/deny"]
    assert turn.slots[flows.URGENT] == "danger" and turn.topic is None
    consent = flows.affirm(desk, TurnContext(language=language, city="caserta", slots=turn.slots))
    assert consent.signals.handoff == HandoffRequest(None, urgent=True), "the ticket will be urgent"
    assert consent.slots[flows.URGENT] is None


def test_danger_without_a_city_still_says_112_and_asks_the_city(desk: Desk) -> None:
    turn = flows.danger(desk, TurnContext(language="en", intent="danger"))
    assert "112" in turn.replies[0].text
    assert turn.slots[flows.PENDING] == "ask_human"


def test_urgent_description_naming_a_city_answers_with_its_offices(desk: Desk) -> None:
    ctx = TurnContext(
        language="en",
        intent="greet",
        text="hi I sleep at the station in Caserta",
        entities={"urgency": "emergency_shelter"},
    )
    turn = flows.respond(desk, ctx, flows.greet)
    assert turn.city == "caserta" and turn.topic == "emergency_shelter"
    assert payloads(turn.replies[-1]) == ["/affirm", "/deny"]


def test_out_of_scope_says_so_lists_what_it_does_and_offers_a_person(desk: Desk) -> None:
    turn = flows.out_of_scope(desk, TurnContext(language="bn"))
    assert turn.topic is None and len(turn.replies) == 1
    buttons = payloads(turn.replies[0])
    assert "/ask_human" in buttons and sum(p.startswith("/menu") for p in buttons) == len(CATALOG.categories)


def test_urgent_answer_still_offers_the_topic_the_classifier_found(desk: Desk) -> None:
    ctx = TurnContext(language="it", city="roma", intent="lost_documents", entities={"urgency": "eviction"})
    turn = flows.respond(desk, ctx, flows.answer_topic)
    assert turn.topic == "eviction"
    assert payloads(turn.replies[0])[-1] == "/lost_documents", "one tap to the answer they may have meant"


# what the desk misses -------------------------------------------------------------------------------
RANKING = (("nlu_fallback", 0.4), ("greet", 0.35), ("tax_code", 0.31), ("eviction", 0.1))


def test_a_message_not_understood_is_a_miss_with_the_closest_topic(desk: Desk) -> None:
    ctx = TurnContext(language="it", intent="nlu_fallback", ranking=RANKING, slots={flows.MISSES: 0})
    missed = flows.not_understood(desk, ctx).signals.missed
    assert missed == Miss(MissKind.NOT_UNDERSTOOD, "tax_code", 0.31)  # greet is no topic
    second = flows.not_understood(
        desk, TurnContext(language="it", city="roma", ranking=RANKING, slots={flows.MISSES: 1})
    )
    assert second.signals.missed == missed  # the offer of a person does not hide the miss


def test_out_of_scope_is_a_miss_and_a_topic_answer_is_not(desk: Desk) -> None:
    ranking = (("out_of_scope", 0.8), ("tax_code", 0.1))
    turn = flows.out_of_scope(desk, TurnContext(language="en", intent="out_of_scope", ranking=ranking))
    assert turn.signals.missed == Miss(MissKind.OUT_OF_SCOPE, "tax_code", 0.1)
    answered = flows.answer_topic(
        desk, TurnContext(language="en", intent="tax_code", ranking=(("tax_code", 0.9),))
    )
    assert answered.signals.missed is None
    assert flows.out_of_scope(desk, TurnContext(language="en")).signals.missed == Miss(MissKind.OUT_OF_SCOPE)


def test_the_miss_travels_to_the_gateway_in_the_control_message(desk: Desk) -> None:
    turn = flows.not_understood(desk, TurnContext(language="fr", ranking=RANKING))
    assert Signals.from_wire(turn.control()["sportello"]).missed == Miss(
        MissKind.NOT_UNDERSTOOD, "tax_code", 0.31
    )
