"""What a mediator can send a person in the person's language without writing it: a knowledge entry
(the same words the assistant gives, with the offices of the person's city) or one of the replies staff
keep ready in ``knowledge/replies/``. Pure functions on the desk, like the rest of the dialogue."""

from __future__ import annotations

from datetime import date

from bot.core.errors import InvalidInput
from bot.dialogue.answers import (
    known_office,
    office_type_name,
    pack,
    render_office,
    sort_offices,
    topic_text,
)
from bot.dialogue.desk import Desk
from bot.knowledge.model import MAX_MESSAGE_CHARS, reply_variables


def knowledge_entry(desk: Desk, topic_id: str, language: str, city_id: str) -> list[str]:
    """The topic's answer in ``language``, then where to go in the city: one chat message each. No
    buttons: it comes from a person, who is there to answer what follows."""
    if topic_id not in desk.catalog.topics:
        raise InvalidInput("Choose a topic from the list.")
    text = topic_text(desk, topic_id, language)
    if text is None:
        raise InvalidInput("This topic has no knowledge entry yet.")
    tr = desk.tr(language)
    messages = ([text.now] if text.now else []) + list(text.answer)
    facts = desk.kb().facts.get(topic_id)
    if facts and facts.offices and city_id in desk.catalog.cities:
        city_name = desk.catalog.city(city_id).name
        known, unknown = sort_offices(desk, tr, facts.offices, city_id)
        if known:
            messages += pack([tr._("Where to go in {city}:", city=city_name), *known], MAX_MESSAGE_CHARS)
        if unknown:
            messages.append(tr._("Ask at: {offices} ({city}).", offices="; ".join(unknown), city=city_name))
    return messages


def canned_choices(desk: Desk) -> list[tuple[str, str]]:
    """(id, title) of the ready replies, for the mediator's list."""
    return sorted(
        ((reply_id, reply.title) for reply_id, reply in desk.kb().replies.items()), key=lambda r: r[1]
    )


def needs_date(desk: Desk, reply_id: str) -> bool:
    reply = desk.kb().replies.get(reply_id)
    return reply is not None and "date" in reply_variables(reply.text.get("it", ""))


def canned_reply(
    desk: Desk, reply_id: str, language: str, ticket_id: str, city_id: str, when: date | None = None
) -> str:
    """A ready reply in ``language`` with its variables filled: the ticket number, the city, its office
    of the reply's kind (what is known of it; else the kind's name), the date the mediator chose."""
    reply = desk.kb().replies.get(reply_id)
    if reply is None:
        raise InvalidInput("Choose a reply from the list.")
    text = reply.text.get(language) or reply.text.get("en") or reply.text["it"]
    if "date" in reply_variables(text) and when is None:
        raise InvalidInput("This reply needs a date: choose one.")
    city_name = desk.catalog.city(city_id).name if city_id in desk.catalog.cities else city_id
    office = known_office(desk, city_id, reply.office)
    tr = desk.tr(language)
    values = {
        "ticket": ticket_id,
        "city": city_name,
        "office": render_office(desk, tr, city_id, reply.office, office)
        if office is not None
        else f"{office_type_name(desk, reply.office, language)} ({city_name})",
        "date": when.strftime("%d/%m/%Y") if when else "",
    }
    for name, value in values.items():
        text = text.replace("{" + name + "}", value)
    return text
