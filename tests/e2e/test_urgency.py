"""Danger in a person's own words, end to end: the real model, Rasa, action server and gateway, the web
chat, and the staff group on a fake Telegram Bot API."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import yaml

from bot.core.i18n import Translations
from bot.core.languages import LANGUAGES
from bot.core.settings import PROJECT_DIR
from bot.ops.processes import Stack, running, settings_on_free_ports
from tests.fakes.fake_telegram import FakeTelegram, fake_telegram_app
from tests.helpers.stack import chat, wait_for
from tests.helpers.threaded_server import ThreadedServer

pytestmark = pytest.mark.e2e
STAFF_CHAT = -100777
TR = Translations(PROJECT_DIR / "locales")
DEVSET = PROJECT_DIR / "tests" / "devset"
URGENT_KINDS = {"eviction", "emergency_shelter", "emergency_health", "danger"}


@dataclass
class World:
    stack: Stack
    telegram: FakeTelegram

    @property
    def port(self) -> int:
        return self.stack.settings.port


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    telegram = FakeTelegram()
    fake = ThreadedServer(fake_telegram_app(telegram)).start()
    data = tmp_path_factory.mktemp("urgency")
    settings = settings_on_free_ports(
        data,
        TELEGRAM_BOT_TOKEN=telegram.token,
        # a webhook, not long polling: a poll held open by the fake would outlive the gateway
        TELEGRAM_WEBHOOK_URL="http://127.0.0.1:{port}/webhooks/telegram",
        TELEGRAM_SECRET_TOKEN="urgency-secret-token",
        TELEGRAM_API_BASE_URL=f"{fake.url}/bot",
        STAFF_TELEGRAM_CHAT_ID=str(STAFF_CHAT),
    )
    try:
        with (data / "processes.log").open("wb") as log, running(settings, log) as stack:
            yield World(stack, telegram)
    finally:
        fake.stop()


def payloads(reply: dict[str, Any]) -> list[str]:
    return [b["payload"] for b in reply.get("buttons", [])]


def greetings_with_danger() -> list[tuple[str, str]]:
    """The development set's "hello, and here is my situation" messages (written apart from nlu/)."""
    cases = []
    for language in LANGUAGES:
        data = yaml.safe_load((DEVSET / f"{language}.yml").read_text("utf-8"))
        cases += [
            (language, m["text"])
            for m in data["messages"]
            if m["set"] == "greeting" and m["topic"] in URGENT_KINDS
        ]
    return cases


@pytest.mark.parametrize(("language", "text"), greetings_with_danger())
def test_a_greeting_then_danger_is_answered_urgent_first(world: World, language: str, text: str) -> None:
    status, body = chat(
        world.port, {"user": f"greet-{language}-{hash(text)}", "text": text, "city": "caserta"}
    )
    assert status == 200, body
    first, last = body["replies"][0], body["replies"][-1]
    assert "112" in first["text"] and "/ask_human" in payloads(first), first
    assert payloads(last) == ["/affirm", "/deny"], "then the offer of a person"


def test_arabic_handoff_words_make_an_urgent_eviction_ticket(world: World) -> None:
    user = {"user": "urgent-ar", "city": "caserta"}
    status, body = chat(world.port, {**user, "text": "أريد التحدث مع شخص من فضلك"})
    assert status == 200 and body["language"] == "ar", body
    assert payloads(body["replies"][-1]) == ["/affirm", "/deny"], body
    status, body = chat(world.port, {**user, "text": "/affirm"})
    assert status == 200 and "/deny" in payloads(body["replies"][-1]), body  # "a few words" + Skip
    words = "صاحب البيت يريد أن يطردني من البيت الأسبوع القادم"
    status, body = chat(world.port, {**user, "text": words})
    assert status == 200, body
    said = "\n".join(r["text"] for r in body["replies"])
    ar = TR("ar")
    assert ar._("today, as soon as possible") in said
    urgent = ar._(
        "Your request is urgent: a person will try to answer you within {hours} hours. "
        "If you are in danger now, call 112. It is free.",
        hours=4,
    )
    assert urgent in said and "112" in urgent
    database = sqlite3.connect(world.stack.settings.data_dir / "sportello.db")
    [(ticket_id, topic, is_urgent, details)] = database.execute(
        "select id, topic, urgent, details from tickets"
    ).fetchall()
    assert (topic, bool(is_urgent), details) == ("eviction", True, words)
    staff = wait_for(lambda: list(world.telegram.texts(STAFF_CHAT)), what="the staff notification")
    assert ticket_id in staff[0] and TR("it")._("URGENT") in staff[0] and words not in staff[0]
