"""Fuzzing what strangers can send: the web chat's body, Telegram updates and WhatsApp notifications.

Every parser either accepts the input (as a clean ``InboundMessage``) or refuses it with our own error;
nothing else may escape, because anything else is a 500 at the webhook or in the inbox worker.
Generated bodies: 4,000 for the web chat, 4,000 Telegram updates, 4,000 WhatsApp notifications.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.adapters.telegram.channel import TelegramChannel
from bot.adapters.whatsapp.webhook import parse_notification, signature_ok, verify_subscription
from bot.core.catalog import load_catalog
from bot.core.errors import InvalidMessage
from bot.core.i18n import Translations
from bot.core.messages import InboundMessage
from bot.core.settings import PROJECT_DIR
from bot.core.text import clean_text
from bot.web.webchat import parse_chat_request

CATALOG = load_catalog(PROJECT_DIR)
RUNS = settings(max_examples=4000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
TELEGRAM = TelegramChannel.create("123:fuzz", "http://127.0.0.1:9/bot", Translations(PROJECT_DIR / "locales"))

scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text()
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


def clean(message: InboundMessage) -> None:
    assert message.text == clean_text(message.text) and message.user == clean_text(message.user)


def near(template: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Values shaped like ``template`` with any field replaced by anything (closer to real attacks)."""
    keys = list(template)
    return st.fixed_dictionaries({}, optional={key: json_values | st.just(template[key]) for key in keys})


CHAT = {"user": "browser-1", "text": "ciao", "language": "it", "city": "roma"}


@RUNS
@given(
    st.binary(max_size=200)
    | near(CHAT).map(lambda d: json.dumps(d).encode())
    | json_values.map(lambda v: json.dumps(v).encode())
)
def test_web_chat_body(body: bytes) -> None:
    try:
        message = parse_chat_request(body, 4000, "session-user", CATALOG)
    except InvalidMessage:
        return
    clean(message)
    assert message.user == "session-user", "the client never chooses who is writing"


UPDATE = {
    "update_id": 10000,
    "message": {
        "message_id": 1,
        "date": 1749416383,
        "chat": {"id": 4242, "type": "private", "first_name": "Amina"},
        "from": {"id": 4242, "is_bot": False, "first_name": "Amina", "language_code": "uk"},
        "text": "Привіт",
    },
    "callback_query": {
        "id": "1",
        "from": {"id": 4242, "is_bot": False, "first_name": "A"},
        "data": "i:menu",
        "chat_instance": "x",
    },
}


@RUNS
@given(near(UPDATE) | json_values)
def test_telegram_update(data: Any) -> None:
    if not isinstance(data, dict):
        return  # the webhook refuses a non-object before parsing
    try:
        message, _ = TELEGRAM.parse(data)
    except InvalidMessage:
        return  # refused: a 400 at the webhook
    if message is not None:
        clean(message)


NOTIFICATION = {
    "object": "whatsapp_business_account",
    "entry": [
        {
            "id": "1",
            "changes": [
                {
                    "field": "messages",
                    "value": {
                        "contacts": [{"wa_id": "393331234567", "profile": {"name": "Amina"}}],
                        "messages": [
                            {
                                "from": "393331234567",
                                "id": "wamid.X",
                                "timestamp": "1749416383",
                                "type": "text",
                                "text": {"body": "ciao"},
                            }
                        ],
                        "statuses": [
                            {
                                "id": "wamid.Y",
                                "status": "failed",
                                "errors": [{"code": 131047, "title": "Re-engagement"}],
                            }
                        ],
                    },
                }
            ],
        }
    ],
}


@RUNS
@given(
    near(NOTIFICATION)
    | json_values
    | near(NOTIFICATION["entry"][0]["changes"][0]["value"]).map(
        lambda v: {"entry": [{"changes": [{"value": v}]}]}
    )
)
def test_whatsapp_notification(payload: Any) -> None:
    if not isinstance(payload, dict):
        return  # the webhook treats a non-object as empty
    messages, _ = parse_notification(payload)
    for message in messages:
        clean(message)


@settings(max_examples=1000, deadline=None)
@given(st.text(), st.binary(max_size=64), st.text())
def test_signatures_and_verify_tokens_of_any_text(header: str, body: bytes, token: str) -> None:
    assert signature_ok(body, header, "secret") in (True, False)
    assert verify_subscription(
        {"hub.mode": "subscribe", "hub.verify_token": token, "hub.challenge": "1"}, "t"
    ) in (None, "1")
