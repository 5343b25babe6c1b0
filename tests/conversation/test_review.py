"""What the desk misses: recorded without any user, grouped per language and guess, marked by staff of
the message's city, exported as examples."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.conversation.review import Review, grouped
from bot.core.clock import utcnow
from bot.core.errors import InvalidInput
from bot.core.messages import InboundMessage
from bot.core.overview import Decision, Miss, MissedMessage, MissKind
from bot.core.tickets import Mediator, Role
from tests.fakes.reports import MemoryMissedMessages

TOPICS = ("eviction", "tax_code", "residence_permit_renewal")


def person(cities: tuple[str, ...] = ("caserta",), role: Role = Role.MEDIATOR) -> Mediator:
    return Mediator(1, "amal@example.org", "Amal", role, cities, ("ar",))


def said(text: str) -> InboundMessage:
    return InboundMessage("telegram", "4242", text, platform_id="9")


async def seeded() -> tuple[Review, MemoryMissedMessages]:
    store = MemoryMissedMessages()
    review = Review(store, TOPICS)
    miss = Miss(MissKind.NOT_UNDERSTOOD, "tax_code", 0.31)
    await review.record(said("codice fiscale dove lo faccio"), miss, "it", "caserta")
    await review.record(said("dove si fa il codice fiscale"), miss, "it", "caserta")
    await review.record(said("wo bekomme ich steuernummer"), Miss(MissKind.OUT_OF_SCOPE), "en", "roma")
    await review.record(
        said("sfratto domani 3331234567"), Miss(MissKind.NO_ANSWER, "eviction", 0.9), "it", None
    )
    return review, store


async def test_a_missed_message_is_kept_without_the_user_and_without_numbers() -> None:
    review, store = await seeded()
    kept = store.messages[3]
    assert kept.text == "sfratto domani …" and kept.kind is MissKind.NO_ANSWER and kept.city is None
    assert all("4242" not in repr(m) and "telegram" not in repr(m) for m in store.messages)
    await review.record(said("/menu"), Miss(MissKind.NOT_UNDERSTOOD), "it", "caserta")  # a button: no words
    assert len(store.messages) == 4


async def test_groups_are_per_language_and_guess_of_the_mediators_cities() -> None:
    review, _ = await seeded()
    [group] = await review.groups(person())
    assert (group.language, group.topic, len(group.messages)) == ("it", "tax_code", 2)
    assert await review.groups(person(("napoli",))) == []


async def test_a_coordinator_also_sees_messages_of_no_known_city() -> None:
    review, _ = await seeded()
    groups = await review.groups(person(("caserta", "roma"), Role.COORDINATOR))
    assert [(g.language, g.topic) for g in groups] == [("it", "tax_code"), ("en", None), ("it", "eviction")]


async def test_marks_apply_to_visible_undecided_messages_only() -> None:
    review, store = await seeded()
    ids = [m.id for m in store.messages]
    assert await review.mark(person(), ids, "example", "tax_code") == 2  # not roma's, not the city-less one
    assert await review.mark(person(), ids, "example", "tax_code") == 0  # decided already
    assert await review.groups(person()) == []
    coordinator = person(("roma",), Role.COORDINATOR)
    assert await review.mark(coordinator, [ids[2]], "out_of_scope", "tax_code") == 1
    assert store.messages[2].decision is Decision.OUT_OF_SCOPE and store.messages[2].decision_topic is None
    assert await review.mark(coordinator, [ids[3]], "knowledge", "eviction") == 1


@pytest.mark.parametrize(
    ("ids", "decision", "topic"),
    [([1], "maybe", ""), ([1], "example", ""), ([1], "example", "no_such_topic"), ([], "out_of_scope", "")],
)
async def test_a_mark_needs_a_decision_a_known_topic_and_messages(
    ids: list[int], decision: str, topic: str
) -> None:
    review, _ = await seeded()
    with pytest.raises(InvalidInput):
        await review.mark(person(), ids, decision, topic)


async def test_examples_are_the_marked_examples_and_out_of_scope_per_language() -> None:
    review, store = await seeded()
    ids = [m.id for m in store.messages]
    coordinator = person(("caserta", "roma"), Role.COORDINATOR)
    await review.mark(coordinator, ids[:2], "example", "tax_code")
    await review.mark(coordinator, [ids[2]], "out_of_scope", "")
    await review.mark(coordinator, [ids[3]], "knowledge", "eviction")  # knowledge to write: no example
    assert await review.examples() == {
        "it": {"tax_code": ["codice fiscale dove lo faccio", "dove si fa il codice fiscale"]},
        "en": {"out_of_scope": ["wo bekomme ich steuernummer"]},
    }


def test_the_largest_group_comes_first() -> None:
    now = utcnow()
    few = MissedMessage("a", "fr", MissKind.OUT_OF_SCOPE, None, 0.0, "roma", now)
    many = MissedMessage("b", "ar", MissKind.NOT_UNDERSTOOD, "eviction", 0.2, "roma", now - timedelta(days=1))
    assert [g.language for g in grouped([few, many, many])] == ["ar", "fr"]


async def test_knowledge_to_write_is_listed_per_chosen_topic_for_the_mediators_cities() -> None:
    review, store = await seeded()
    ids = [m.id for m in store.messages]
    await review.mark(person(), ids[:2], "knowledge", "eviction")  # guessed tax_code, staff know better
    [group] = await review.knowledge_needed(person())
    assert (group.language, group.topic, len(group.messages)) == ("it", "eviction", 2)
    assert await review.knowledge_needed(person(("roma",))) == []
