"""One function per thing a user can ask for. Rasa actions are thin wrappers around these."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from bot.core.languages import LANGUAGES
from bot.core.messages import Button, HandoffRequest, Reply, Signals, payload
from bot.core.overview import Miss, MissKind
from bot.dialogue.answers import (
    city_buttons,
    known_office,
    language_text,
    menu_button,
    needs_city,
    office_replies,
    office_type_name,
    person_button,
    render_office,
    topic_text,
    urgent_reply,
)
from bot.dialogue.desk import Desk
from bot.dialogue.turn import Turn, TurnContext

PENDING = "pending"  # slot: what to do once the user has told us their city
LAST_TOPIC = "last_topic"  # slot: the topic a handoff is about
AWAITING = "awaiting"  # slot: the yes/no question the bot last asked
MISSES = "not_understood_count"  # slot: not-understood messages in a row
URGENT = "urgent"  # slot: the kind of danger found in this conversation, until a handoff carries it

# Intents that answer the bot's own question or change a setting: an urgent word in "yes" or "/status"
# must not turn them into something else.
FOLLOW_UPS = frozenset({"affirm", "deny", "choose_language", "check_status", "forget_me"})
Flow = Callable[[Desk, TurnContext], Turn]


def respond(desk: Desk, ctx: TurnContext, flow: Flow) -> Turn:
    """Danger first: when the urgency check fired, the urgent answer comes whatever the topic classifier
    said (a greeting, a rental question, "not understood"). Every action goes through here."""
    kind = ctx.urgency
    if kind is None or ctx.intent in FOLLOW_UPS or is_urgent_intent(desk, ctx.intent):
        return flow(desk, ctx)
    return urgent_answer(desk, ctx, kind)


def is_urgent_intent(desk: Desk, intent: str | None) -> bool:
    """The intent already answers urgently: an urgent topic or danger."""
    if intent == "danger":
        return True
    return intent in desk.catalog.topics and desk.catalog.topic(intent).urgent


def urgent_answer(desk: Desk, ctx: TurnContext, kind: str) -> Turn:
    """What to do now, the city's office and the offer of a person, for the kind of danger found."""
    city = ctx.city if ctx.city in desk.catalog.cities else desk.find_city(ctx.text)
    urgent_ctx = replace(ctx, intent=kind, city=city)
    is_topic = kind in desk.catalog.topics and desk.catalog.topic(kind).urgent
    turn = answer_topic(desk, urgent_ctx) if is_topic else danger(desk, urgent_ctx)
    turn.city = turn.city or (city if city != ctx.city else None)
    if ctx.intent in desk.catalog.topics and turn.replies:  # in case the danger was not what they meant
        titles = language_text(desk, ctx.language).topics
        title = titles[ctx.intent].title if ctx.intent in titles else ctx.intent
        first = turn.replies[0]
        turn.replies[0] = Reply(first.text, (*first.buttons, Button(title, payload(ctx.intent))))
    return turn


def danger(desk: Desk, ctx: TurnContext) -> Turn:
    """Threats or violence: 112 first, the city's one-stop shop when known, then a person at once."""
    tr = desk.tr(ctx.language)
    city = ctx.city if ctx.city in desk.catalog.cities else desk.find_city(ctx.text)
    parts = [tr._("If you are in danger, call 112. It is free.")]
    office = known_office(desk, city, "one_stop_shop") if city else None
    if city and office is not None:
        parts.append(render_office(desk, tr, city, "one_stop_shop", office))
    turn = Turn([Reply("\n\n".join(parts), (person_button(tr),))], slots={MISSES: 0, URGENT: "danger"})
    turn.slots[LAST_TOPIC] = None
    offer_person(desk, ctx, turn, city)
    return turn


def category_buttons(desk: Desk, language: str) -> tuple[Button, ...]:
    names = language_text(desk, language).categories
    return tuple(
        Button(names.get(category, category), payload("menu", category=category))
        for category in desk.catalog.categories
    )


def language_buttons(desk: Desk) -> tuple[Button, ...]:
    names = desk.language_names.names
    return tuple(Button(names[code], payload("choose_language", language=code)) for code in LANGUAGES)


def greet(desk: Desk, ctx: TurnContext) -> Turn:
    tr = desk.tr(ctx.language)
    hello = tr._(
        "Hello! I am Sportello, the help desk for migrants. I answer questions about documents, "
        "home, benefits, health, work, school and legal help. Write your question, or choose a topic:"
    )
    language = Button(tr._("Change language"), payload("choose_language"))
    buttons = (*category_buttons(desk, ctx.language), language)
    return Turn([Reply(hello, buttons)], slots={MISSES: 0})


def goodbye(desk: Desk, ctx: TurnContext) -> Turn:
    tr = desk.tr(ctx.language)
    return Turn([Reply(tr._("Goodbye. Write again whenever you need help."))])


def thanks(desk: Desk, ctx: TurnContext) -> Turn:
    tr = desk.tr(ctx.language)
    return Turn([Reply(tr._("You're welcome. Write again whenever you need help."), (menu_button(tr),))])


def menu(desk: Desk, ctx: TurnContext) -> Turn:
    """The categories, or the topics of one category when a category button was pressed."""
    tr = desk.tr(ctx.language)
    category = ctx.entities.get("category")
    if category in desk.catalog.categories:
        titles = language_text(desk, ctx.language)
        buttons = tuple(
            Button(titles.topics[t.id].title if t.id in titles.topics else t.id, payload(t.id))
            for t in desk.catalog.topics_in(category)
        )
        return Turn([Reply(tr._("Choose a question:"), (*buttons, person_button(tr)))])
    text = tr._("Choose a topic, or write your question in your own words:")
    return Turn([Reply(text, (*category_buttons(desk, ctx.language), person_button(tr)))])


def answer_topic(desk: Desk, ctx: TurnContext) -> Turn:
    """The knowledge entry for the topic the message was understood as, in the user's language."""
    tr = desk.tr(ctx.language)
    topic = desk.catalog.topic(ctx.intent or "")
    text = topic_text(desk, topic.id, ctx.language)
    turn = Turn(topic=topic.id, slots={MISSES: 0, PENDING: None, LAST_TOPIC: topic.id})
    if topic.urgent:
        turn.slots[URGENT] = topic.id
    if text is None:
        turn.replies.append(Reply(tr._("I have no answer on this yet."), (person_button(tr),)))
        turn.signals = replace(turn.signals, missed=Miss(MissKind.NO_ANSWER, topic.id, confidence(ctx)))
        return turn
    if topic.urgent:
        turn.replies.append(urgent_reply(desk, tr, topic, text, ctx.city))
    turn.replies += [Reply(part) for part in text.answer]
    if not needs_city(desk, topic.id):
        turn.replies[-1] = Reply(turn.replies[-1].text, (menu_button(tr), person_button(tr)))
    elif ctx.city in desk.catalog.cities:
        turn.replies += office_replies(desk, tr, topic, ctx.city)
    else:
        ask = tr._("Which city are you in? I will tell you where to go.")
        turn.replies.append(Reply(ask, city_buttons(desk)))
        turn.slots[PENDING] = topic.id
        return turn
    if topic.urgent and ctx.city in desk.catalog.cities:
        offer_person(desk, ctx, turn)
    return turn


def offer_person(desk: Desk, ctx: TurnContext, turn: Turn, city_id: str | None = None) -> None:
    """Urgent topics end with the offer of a person at once (consent question)."""
    offer = ask_human(desk, ctx, city_id)
    turn.replies += offer.replies
    turn.slots.update(offer.slots)


def choose_city(desk: Desk, ctx: TurnContext) -> Turn:
    """Remember the user's city, then finish what was waiting for it."""
    tr = desk.tr(ctx.language)
    city_id = ctx.entities.get("city") or desk.find_city(ctx.text)
    if city_id not in desk.catalog.cities:
        text = tr._("Sportello works in these cities. Which one are you in?")
        return Turn([Reply(text, city_buttons(desk))])
    city = desk.catalog.city(city_id)
    turn = Turn(city=city.id, slots={PENDING: None})
    turn.replies.append(Reply(tr._("OK, your city is {city}.", city=city.name)))
    pending = ctx.slots.get(PENDING)
    if pending == "ask_human":
        human = ask_human(desk, ctx, city.id)
        turn.replies += human.replies
        turn.slots.update(human.slots)
    elif pending in desk.catalog.topics:
        turn.replies += office_replies(desk, tr, desk.catalog.topic(pending), city.id)
        turn.topic = pending
        if desk.catalog.topic(pending).urgent:
            offer_person(desk, ctx, turn, city.id)
    else:
        turn.replies[-1] = Reply(turn.replies[-1].text + "\n" + tr._("What is your question?"))
    return turn


def choose_language(desk: Desk, ctx: TurnContext) -> Turn:
    """Switch to the language the user asked for; it stays until they choose another one."""
    code = ctx.entities.get("language") or desk.language_names.find_in(ctx.text)
    if code not in LANGUAGES:
        tr = desk.tr(ctx.language)
        return Turn([Reply(tr._("Choose your language:"), language_buttons(desk))])
    tr = desk.tr(code)
    text = tr._(
        "OK, I will write in {language}. What is your question?", language=desk.language_names.names[code]
    )
    return Turn([Reply(text, category_buttons(desk, code))], language=code)


def not_understood(desk: Desk, ctx: TurnContext) -> Turn:
    """Below the confidence threshold: say so, never guess; offer the menu and a person."""
    tr = desk.tr(ctx.language)
    misses = int(ctx.slots.get(MISSES) or 0) + 1
    missed = Signals(missed=missed_message(desk, ctx, MissKind.NOT_UNDERSTOOD))
    if misses >= 2:  # two in a row: a person will understand better than a third guess
        turn = ask_human(desk, ctx)
        turn.slots[MISSES] = 0
        turn.signals = missed
        return turn
    text = tr._(
        "Sorry, I did not understand. Choose a topic, write your question in other words, "
        "or talk to a person."
    )
    buttons = (*category_buttons(desk, ctx.language), person_button(tr))
    return Turn([Reply(text, buttons)], slots={MISSES: misses, AWAITING: "human"}, signals=missed)


def out_of_scope(desk: Desk, ctx: TurnContext) -> Turn:
    """Said plainly, not guessed: the desk cannot help with this, here is what it can do, or a person."""
    tr = desk.tr(ctx.language)
    text = tr._(
        "Sorry, I cannot help with that. I can help with life in Italy: documents, home, benefits, "
        "health, work, school and legal help. Choose a topic, or talk to a person:"
    )
    buttons = (*category_buttons(desk, ctx.language), person_button(tr))
    missed = Signals(missed=missed_message(desk, ctx, MissKind.OUT_OF_SCOPE))
    return Turn([Reply(text, buttons)], slots={MISSES: 0}, signals=missed)


def missed_message(desk: Desk, ctx: TurnContext, kind: MissKind) -> Miss:
    """What staff will see of a message the desk could not answer: the topic the classifier was
    closest to (however unsure) and how sure it was."""
    for intent, score in ctx.ranking:
        if intent in desk.catalog.topics:
            return Miss(kind, intent, score)
    return Miss(kind, None, 0.0)


def confidence(ctx: TurnContext) -> float:
    """The classifier's confidence in the intent this turn answers."""
    return next((score for intent, score in ctx.ranking if intent == ctx.intent), 0.0)


def ask_human(desk: Desk, ctx: TurnContext, city_id: str | None = None) -> Turn:
    """Offer a person of the city's one-stop shop: say what will be shared and ask for consent."""
    tr = desk.tr(ctx.language)
    city_id = city_id or ctx.city
    if city_id not in desk.catalog.cities:
        ask = tr._("Which city are you in? I will tell you how to reach our team.")
        return Turn([Reply(ask, city_buttons(desk))], slots={PENDING: "ask_human"})
    city = desk.catalog.city(city_id)
    text = tr._(
        "I can pass your question to a person of the one-stop shop in {city}. They will see the topic, "
        "your city, your language and this conversation. Do you agree?",
        city=city.name,
    )
    buttons = (Button(tr._("Yes, I agree"), payload("affirm")), Button(tr._("No"), payload("deny")))
    return Turn([Reply(text, buttons)], slots={AWAITING: "handoff_consent"})


def office_contacts(desk: Desk, ctx: TurnContext) -> Reply:
    """Without a ticket, the user can still go to the one-stop shop (or the Comune's social services)."""
    tr = desk.tr(ctx.language)
    city = desk.catalog.city(ctx.city) if ctx.city in desk.catalog.cities else None
    office = known_office(desk, city.id, "one_stop_shop") if city else None
    if city and office is not None:
        text = tr._("You can talk to a person at the one-stop shop in {city}:", city=city.name)
        shop = render_office(desk, tr, city.id, "one_stop_shop", office)
        return Reply(f"{text}\n\n{shop}", (menu_button(tr),))
    names = "; ".join(office_type_name(desk, t, ctx.language) for t in ("one_stop_shop", "social_services"))
    where = city.name if city else ""
    return Reply(tr._("Ask at: {offices} ({city}).", offices=names, city=where), (menu_button(tr),))


def give_consent(desk: Desk, ctx: TurnContext) -> Turn:
    """Consent given: ask for a few words; the gateway opens the ticket with the user's next message."""
    tr = desk.tr(ctx.language)
    topic = ctx.slots.get(LAST_TOPIC)
    urgent = bool(topic in desk.catalog.topics and desk.catalog.topic(topic).urgent) or bool(
        ctx.slots.get(URGENT)
    )
    text = tr._("Thank you. Write in a few words what your situation is. A person will read it.")
    skip = Button(tr._("Skip"), payload("deny"))
    return Turn(
        [Reply(text, (skip,))],
        slots={AWAITING: None, URGENT: None},
        signals=Signals(handoff=HandoffRequest(topic, urgent)),
    )


def check_status(desk: Desk, ctx: TurnContext) -> Turn:
    """The gateway knows the tickets: it answers with the user's open requests."""
    return Turn(signals=Signals(status=True))


def forget_me(desk: Desk, ctx: TurnContext) -> Turn:
    tr = desk.tr(ctx.language)
    text = tr._(
        "Do you want us to delete everything you wrote to us, and your requests? This cannot be undone."
    )
    buttons = (Button(tr._("Yes, delete"), payload("affirm")), Button(tr._("No"), payload("deny")))
    return Turn([Reply(text, buttons)], slots={AWAITING: "forget"}, signals=Signals(asking_forget=True))


def affirm(desk: Desk, ctx: TurnContext) -> Turn:
    awaiting = ctx.slots.get(AWAITING)
    if awaiting == "human":
        return ask_human(desk, ctx)
    if awaiting == "handoff_consent":
        return give_consent(desk, ctx)
    if awaiting == "forget":
        tr = desk.tr(ctx.language)
        done = tr._("Done: we deleted your messages and your requests.")
        slots = {AWAITING: None, LAST_TOPIC: None, PENDING: None, URGENT: None}
        return Turn([Reply(done)], slots=slots, signals=Signals(forget=True))
    return menu(desk, ctx)


def deny(desk: Desk, ctx: TurnContext) -> Turn:
    tr = desk.tr(ctx.language)
    awaiting = ctx.slots.get(AWAITING)
    if awaiting == "handoff_consent":
        return Turn(
            [Reply(tr._("OK, I did not share anything.")), office_contacts(desk, ctx)], slots={AWAITING: None}
        )
    if awaiting == "forget":
        return Turn([Reply(tr._("OK, nothing was deleted."), (menu_button(tr),))], slots={AWAITING: None})
    return Turn(
        [Reply(tr._("OK. What else can I help you with?"), (menu_button(tr),))], slots={AWAITING: None}
    )
