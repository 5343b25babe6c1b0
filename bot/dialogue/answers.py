"""Topic answers: the staff's text for the user's language, then the offices of the user's city."""

from __future__ import annotations

from bot.core.catalog import Topic
from bot.core.i18n import Translator
from bot.core.languages import LANGUAGES
from bot.core.messages import Button, Reply, payload
from bot.dialogue.desk import Desk
from bot.knowledge.loader import LanguageText
from bot.knowledge.model import MAX_MESSAGE_CHARS, Office, TopicText, is_todo

FALLBACK_LANGUAGE = "en"
NOTES_LANGUAGE = "en"  # city files write office notes in English; text/<lang>/offices.yml translates them


def person_button(tr: Translator) -> Button:
    return Button(tr._("Talk to a person"), payload("ask_human"))


def menu_button(tr: Translator) -> Button:
    return Button(tr._("Other questions"), payload("menu"))


def city_buttons(desk: Desk) -> tuple[Button, ...]:
    return tuple(
        Button(city.name, payload("choose_city", city=city.id)) for city in desk.catalog.cities.values()
    )


def language_text(desk: Desk, language: str) -> LanguageText:
    """The staff's text in ``language``; English when a language folder is missing entirely."""
    texts = desk.kb().texts
    return texts.get(language) or texts.get(FALLBACK_LANGUAGE) or LanguageText()


def topic_text(desk: Desk, topic_id: str, language: str) -> TopicText | None:
    for candidate in (language, FALLBACK_LANGUAGE, *LANGUAGES):
        text = desk.kb().texts.get(candidate)
        if text and topic_id in text.topics:
            return text.topics[topic_id]
    return None


def office_type_name(desk: Desk, office_type: str, language: str) -> str:
    names = language_text(desk, language).office_types
    return names.get(office_type) or desk.kb().office_types.get(office_type, office_type)


def render_office(desk: Desk, tr: Translator, city_id: str, office_type: str, office: Office) -> str:
    """The known facts of an office, one per line; a ``todo`` never reaches the user."""
    lines = [office_type_name(desk, office_type, tr.language)]
    if not is_todo(office.name):
        lines.append(office.name)
    if not is_todo(office.address):
        lines.append(tr._("Address: {address}", address=office.address))
    if not is_todo(office.hours):
        lines.append(tr._("Opening hours: {hours}", hours=office.hours))
    if not is_todo(office.phone):
        lines.append(tr._("Phone: {phone}", phone=office.phone))
    if not is_todo(office.url):
        lines.append(office.url)
    note = office_note(desk, city_id, office_type, office, tr.language)
    if note:
        lines.append(note)
    return "\n".join(lines)


def office_note(desk: Desk, city_id: str, office_type: str, office: Office, language: str) -> str | None:
    """The office's conditions (by appointment only, ...) in the user's language; a translation of an
    older version of the note is not shown, since what changed may be what matters."""
    if not office.notes:
        return None
    if language == NOTES_LANGUAGE:
        return office.notes
    translation = language_text(desk, language).office_notes.get((city_id, office_type))
    if translation is None or not translation.translates(office.notes):
        return None
    return translation.text


def known_office(desk: Desk, city_id: str, office_type: str) -> Office | None:
    """The city's office of this kind when at least how to reach it is known."""
    city = desk.kb().cities.get(city_id)
    office = city.offices.get(office_type) if city else None
    if not isinstance(office, Office):
        return None
    reachable = any(not is_todo(v) for v in (office.address, office.phone, office.url))
    return office if reachable else None


def sort_offices(
    desk: Desk, tr: Translator, office_types: list[str], city_id: str
) -> tuple[list[str], list[str]]:
    """The city's offices of these kinds: those known, rendered; the names of the kinds still unknown."""
    known, unknown = [], []
    for office_type in office_types:
        office = known_office(desk, city_id, office_type)
        if office is not None:
            known.append(render_office(desk, tr, city_id, office_type, office))
        else:
            unknown.append(office_type_name(desk, office_type, tr.language))
    return known, unknown


def office_replies(desk: Desk, tr: Translator, topic: Topic, city_id: str) -> list[Reply]:
    """Where to go in the user's city for this topic; unknown offices become "ask at ..." + a person."""
    facts = desk.kb().facts.get(topic.id)
    if facts is None or not facts.offices:
        return []
    city_name = desk.catalog.city(city_id).name
    known, unknown = sort_offices(desk, tr, facts.offices, city_id)
    replies = []
    if known:
        header = tr._("Where to go in {city}:", city=city_name)
        replies += [Reply(text) for text in pack([header, *known], MAX_MESSAGE_CHARS)]
    if unknown:
        ask = tr._("Ask at: {offices} ({city}).", offices="; ".join(unknown), city=city_name)
        offer = tr._("If you want, a person from our team can help you.")
        replies.append(Reply(f"{ask}\n{offer}", (person_button(tr), menu_button(tr))))
    else:
        replies[-1] = Reply(replies[-1].text, (person_button(tr), menu_button(tr)))
    return replies


def pack(blocks: list[str], limit: int) -> list[str]:
    """Blocks joined by blank lines into as few messages as fit within ``limit`` characters each (a
    city with many offices for one topic is several short messages, not one a phone cuts off)."""
    messages: list[str] = []
    for block in blocks:
        if messages and len(messages[-1]) + 2 + len(block) <= limit:
            messages[-1] += "\n\n" + block
        else:
            messages.append(block)
    return messages


def urgent_reply(desk: Desk, tr: Translator, topic: Topic, text: TopicText, city_id: str | None) -> Reply:
    """What to do now, first: the staff's ``now`` text and, when known, the city's first office."""
    parts = [text.now or tr._("If you are in danger, call 112. It is free.")]
    facts = desk.kb().facts.get(topic.id)
    if city_id and facts and facts.offices:
        office = known_office(desk, city_id, facts.offices[0])
        if office is not None:
            parts.append(render_office(desk, tr, city_id, facts.offices[0], office))
    return Reply("\n\n".join(parts), (person_button(tr),))


def needs_city(desk: Desk, topic_id: str) -> bool:
    facts = desk.kb().facts.get(topic_id)
    return bool(facts and facts.offices)
