"""Knowledge entries and ready replies as a mediator sends them: the person's language, their city."""

from __future__ import annotations

from datetime import date

import pytest

from bot.core.errors import InvalidInput
from bot.dialogue.desk import Desk
from bot.dialogue.replies import canned_choices, canned_reply, knowledge_entry, needs_date


def test_a_knowledge_entry_is_the_topic_answer_then_the_citys_offices(desk: Desk) -> None:
    italian = knowledge_entry(desk, "eviction", "it", "caserta")
    bengali = knowledge_entry(desk, "eviction", "bn", "caserta")
    assert len(italian) == len(bengali) >= 3
    answer = desk.kb().texts["bn"].topics["eviction"]
    assert bengali[0] == answer.now and bengali[1] == answer.answer[0]
    assert "Caserta" in bengali[-1] or "Caserta" in bengali[-2]
    assert all(len(text) <= 700 for text in bengali)


def test_a_topic_without_offices_needs_no_city(desk: Desk) -> None:
    text = desk.kb().texts["fr"].topics["emergency_health"]
    assert knowledge_entry(desk, "emergency_health", "fr", "") == [
        *([text.now] if text.now else []),
        *text.answer,
    ]


def test_an_unknown_topic_is_refused(desk: Desk) -> None:
    with pytest.raises(InvalidInput):
        knowledge_entry(desk, "no_such_topic", "it", "caserta")


def test_a_ready_reply_fills_ticket_city_office_and_date(desk: Desk) -> None:
    text = canned_reply(desk, "appointment", "ar", "CE-2026-0042", "caserta", date(2027, 1, 5))
    assert "CE-2026-0042" in text and "05/01/2027" in text and "Corso Trieste 257" in text
    assert "{" not in text


def test_a_reply_with_a_date_needs_one_and_others_do_not(desk: Desk) -> None:
    assert needs_date(desk, "appointment") and not needs_date(desk, "still_working")
    with pytest.raises(InvalidInput):
        canned_reply(desk, "appointment", "it", "CE-2026-0042", "caserta")
    assert "CE-2026-0042" in canned_reply(desk, "still_working", "uk", "CE-2026-0042", "caserta")


def test_an_office_nobody_knows_is_named_by_its_kind(desk: Desk) -> None:
    """A city whose one-stop shop is still a todo: the reply names the kind of office, never a todo."""
    city = next(c for c, k in desk.kb().cities.items() if not hasattr(k.offices.get("one_stop_shop"), "name"))
    text = canned_reply(desk, "appointment", "it", "XX-2026-0001", city, date(2027, 1, 5))
    assert "todo" not in text.lower() and desk.catalog.city(city).name in text


def test_choices_list_every_reply_once(desk: Desk) -> None:
    ids = [reply_id for reply_id, _ in canned_choices(desk)]
    assert sorted(ids) == sorted(desk.kb().replies) and len(ids) == len(set(ids))
