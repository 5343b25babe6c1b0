"""Short button ids: every payload the dialogue can put on a button survives the trip through a platform
that only carries short ids (Telegram callback_data, WhatsApp reply/row ids), within 64 bytes."""

from __future__ import annotations

import pytest

from bot.adapters.payloads import MAX_BYTES, decode, encode
from bot.core.catalog import Catalog
from bot.core.languages import LANGUAGES
from bot.core.messages import payload


def dialogue_payloads(catalog: Catalog) -> list[str]:
    """Every payload the dialogue functions put on a button."""
    return [
        *(f"/{topic}" for topic in catalog.topics),
        *(payload("choose_city", city=city) for city in catalog.cities),
        *(payload("choose_language", language=language) for language in LANGUAGES),
        *(payload("menu", category=category) for category in catalog.categories),
        "/menu",
        "/ask_human",
        "/choose_language",
        "/choose_city",
    ]


def test_the_catalog_gives_every_kind_of_payload(catalog: Catalog) -> None:
    payloads = dialogue_payloads(catalog)
    assert len(catalog.topics) > 30 and len(catalog.cities) == 16 and len(catalog.categories) == 7
    assert len(payloads) == len(set(payloads)) == len(catalog.topics) + 16 + 12 + 7 + 4


def test_every_dialogue_payload_round_trips_within_64_bytes(catalog: Catalog) -> None:
    for rasa_payload in dialogue_payloads(catalog):
        short = encode(rasa_payload)
        assert len(short.encode()) <= MAX_BYTES == 64, short
        assert decode(short) == rasa_payload


def test_short_ids_are_distinct(catalog: Catalog) -> None:
    shorts = [encode(p) for p in dialogue_payloads(catalog)]
    assert len(set(shorts)) == len(shorts)


@pytest.mark.parametrize(
    ("rasa_payload", "short"),
    [
        ("/tax_code", "i:tax_code"),
        ("/menu", "i:menu"),
        ('/choose_city{"city":"caserta"}', "c:caserta"),
        ('/choose_language{"language":"uk"}', "l:uk"),
        ('/menu{"category":"housing"}', "m:housing"),
    ],
)
def test_the_wire_form(rasa_payload: str, short: str) -> None:
    assert encode(rasa_payload) == short
    assert decode(short) == rasa_payload


@pytest.mark.parametrize(
    "rasa_payload",
    [
        "tax_code",  # not a payload at all
        "/",
        '/choose_city{"city":"caserta"',  # broken JSON is not matched
        '/ask_human{"city":"roma"}',  # entities we have no short form for
        '/choose_city{"language":"it"}',  # the wrong entity for the intent
        '/choose_city{"city":"roma","note":"x"}',  # an entity the short form would drop
        "/" + "x" * 70,  # longer than 64 bytes once encoded
    ],
)
def test_encode_refuses_what_it_cannot_carry(rasa_payload: str) -> None:
    with pytest.raises(ValueError):
        encode(rasa_payload)


@pytest.mark.parametrize(
    "garbage",
    [
        "",
        ":",
        "i:",
        "c:",
        "x:tax_code",  # unknown prefix
        "cancel-button",  # no prefix at all (a WhatsApp id someone else sent)
        "priority_express",
        "c:roma:bis",
        "i:tax code",
        "c:../../etc/passwd",
        'l:{"language":"it"}',
        "/menu",  # a raw Rasa payload is not a short id
        "i:/menu",
        "m:housing\n",
    ],
)
def test_decode_of_garbage_is_none(garbage: str) -> None:
    assert decode(garbage) is None
