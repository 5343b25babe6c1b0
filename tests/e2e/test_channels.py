"""Telegram and WhatsApp end to end: the real gateway, a real trained Rasa and the action server, with
python-telegram-bot and aiohttp talking to local fakes of the Bot API and the Graph API."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from bot.core.i18n import Translations
from bot.core.settings import PROJECT_DIR
from bot.knowledge import load_knowledge
from bot.ops.processes import Stack, running, settings_on_free_ports
from tests.fakes import fake_graph
from tests.fakes.fake_graph import FakeGraph, fake_graph_app
from tests.fakes.fake_telegram import FakeTelegram, TelegramUser, fake_telegram_app
from tests.helpers.stack import wait_for
from tests.helpers.threaded_server import ThreadedServer

pytestmark = pytest.mark.e2e
KB, _ = load_knowledge(PROJECT_DIR / "knowledge")
TR = Translations(PROJECT_DIR / "locales")
SECRET = "s3cret-token_for-tests"
APP_SECRET = "whatsapp-app-secret"
VERIFY = "verify-me"


@dataclass
class World:
    stack: Stack
    telegram: FakeTelegram
    graph: FakeGraph
    telegram_server: ThreadedServer
    graph_server: ThreadedServer
    log: Path

    @property
    def gateway(self) -> str:
        return f"http://127.0.0.1:{self.stack.settings.port}"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    telegram, graph = FakeTelegram(), FakeGraph()
    telegram_server = ThreadedServer(fake_telegram_app(telegram)).start()
    graph_server = ThreadedServer(fake_graph_app(graph)).start()
    data = tmp_path_factory.mktemp("channels")
    settings = settings_on_free_ports(
        data,
        TELEGRAM_BOT_TOKEN=telegram.token,
        TELEGRAM_WEBHOOK_URL="http://127.0.0.1:{port}/webhooks/telegram",
        TELEGRAM_SECRET_TOKEN=SECRET,
        TELEGRAM_API_BASE_URL=f"{telegram_server.url}/bot",
        WHATSAPP_ACCESS_TOKEN=graph.token,
        WHATSAPP_PHONE_NUMBER_ID=graph.business.phone_number_id,
        WHATSAPP_APP_SECRET=APP_SECRET,
        WHATSAPP_VERIFY_TOKEN=VERIFY,
        WHATSAPP_API_BASE_URL=f"{graph_server.url}/v21.0",
    )
    log = data / "processes.log"
    try:
        with log.open("wb") as handle, running(settings, handle) as stack:
            yield World(stack, telegram, graph, telegram_server, graph_server, log)
    finally:
        telegram_server.stop()
        graph_server.stop()


def post(url: str, body: bytes, headers: dict[str, str]) -> int:
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json", **headers})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


def telegram_update(world: World, update: dict[str, Any], secret: str = SECRET) -> int:
    return post(
        f"{world.gateway}/webhooks/telegram",
        json.dumps(update).encode(),
        {"X-Telegram-Bot-Api-Secret-Token": secret},
    )


def whatsapp_update(world: World, payload: dict[str, Any], secret: str = APP_SECRET) -> int:
    body = json.dumps(payload).encode()
    return post(
        f"{world.gateway}/webhooks/whatsapp", body, {"X-Hub-Signature-256": fake_graph.sign(body, secret)}
    )


def telegram_texts(world: World, chat: int) -> list[str]:
    return list(world.telegram.texts(chat))


def whatsapp_bodies(world: World, wa_id: str) -> list[dict[str, Any]]:
    return [b for b in world.graph.sent if b.get("to") == wa_id or b.get("recipient") == wa_id]


def body_text(body: dict[str, Any]) -> str:
    if body["type"] == "text":
        return str(body["text"]["body"])
    if body["type"] == "interactive":
        return str(body["interactive"]["body"]["text"])
    return ""


def city_button(world: World, chat: int, city: str) -> dict[str, Any] | None:
    for message in world.telegram.sent[chat]:
        rows = message.get("reply_markup", {}).get("inline_keyboard", [])
        for button in (b for row in rows for b in row):
            if button["text"] == city:
                return dict(button)
    return None


# --- Telegram -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "text", "topic"),
    [
        ("it", "come faccio a rinnovare il permesso di soggiorno?", "residence_permit_renewal"),
        ("en", "how can I get the codice fiscale", "tax_code"),
        ("ar", "كيف أحصل على الكود فيسكالي codice fiscale", "tax_code"),
    ],
)
def test_telegram_conversation(world: World, language: str, text: str, topic: str) -> None:
    user = TelegramUser(id=7000 + len(language) * 10 + ord(language[0]), language_code=language)
    assert telegram_update(world, world.telegram.text_message(text, user=user)) == 200
    answer = KB.texts[language].topics[topic].answer[0]
    wait_for(lambda: answer in telegram_texts(world, user.id), what=f"the {language} answer")
    press = wait_for(lambda: city_button(world, user.id, "Caserta"), what="the city question with buttons")
    before = len(telegram_texts(world, user.id))
    assert telegram_update(world, world.telegram.callback_query(press["callback_data"], user=user)) == 200
    wait_for(lambda: len(telegram_texts(world, user.id)) > before, what="the answer to the city button")
    assert any("Caserta" in t for t in telegram_texts(world, user.id)[before:])
    wait_for(lambda: world.telegram.callback_answers, what="the callback query answered")


def test_telegram_commands_set_per_language(world: World) -> None:
    calls = world.telegram.calls_to("setMyCommands")
    languages = {c.params.get("language_code") for c in calls}
    assert {"en", "ar", "zh", "uk"} <= languages
    assert world.telegram.calls_to("setWebhook")[-1].params["secret_token"] == SECRET


def test_telegram_wrong_or_missing_secret_is_403(world: World) -> None:
    update = world.telegram.text_message("ciao")
    assert telegram_update(world, update, secret="wrong") == 403
    assert post(f"{world.gateway}/webhooks/telegram", json.dumps(update).encode(), {}) == 403


def test_telegram_same_update_three_times_gives_one_reply(world: World) -> None:
    user = TelegramUser(id=8101, language_code="fr")
    update = world.telegram.text_message("bonjour", user=user)
    for _ in range(3):
        assert telegram_update(world, update) == 200
    wait_for(lambda: telegram_texts(world, user.id), what="the greeting")
    time.sleep(3)
    assert len(telegram_texts(world, user.id)) == 1


def test_telegram_edited_message_and_voice_note(world: World) -> None:
    user = TelegramUser(id=8102, language_code="uk")
    first = world.telegram.text_message("як отримати кодіче фіскале", user=user)
    telegram_update(world, first)
    wait_for(lambda: telegram_texts(world, user.id), what="the first answer")
    count = len(telegram_texts(world, user.id))
    assert telegram_update(world, world.telegram.edited_message(first, "де вивчати італійську мову")) == 200
    wait_for(lambda: len(telegram_texts(world, user.id)) > count, what="the answer to the edit")
    assert telegram_update(world, world.telegram.voice(user=user)) == 200
    voice_text = TR("uk")._(
        "I can't listen to voice messages yet. Please write your question, or talk to a person."
    )
    wait_for(lambda: voice_text in telegram_texts(world, user.id), what="the voice-note reply")


def test_telegram_429_retry_after_is_honoured(world: World) -> None:
    user = TelegramUser(id=8103, language_code="en")
    world.telegram.fail_next("sendMessage", status=429, retry_after=2)
    started = time.monotonic()
    telegram_update(world, world.telegram.text_message("hello", user=user))
    wait_for(lambda: telegram_texts(world, user.id), what="the reply after the 429")
    assert time.monotonic() - started >= 2


# --- WhatsApp -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "text", "topic", "wa_id"),
    [
        ("ar", "أحتاج محامي مجاني", "legal_aid", "393330000001"),
        ("es", "necesito un abogado gratis", "legal_aid", "393330000002"),
        ("zh", "我想申请家庭团聚，怎么办", "family_reunification", "393330000003"),
    ],
)
def test_whatsapp_conversation(world: World, language: str, text: str, topic: str, wa_id: str) -> None:
    sender = fake_graph.Sender("User", wa_id)
    world.graph.user_wrote(wa_id)
    assert whatsapp_update(world, fake_graph.text_message(text, sender=sender)) == 200
    answer = KB.texts[language].topics[topic].answer[0]
    wait_for(lambda: any(body_text(b) == answer for b in whatsapp_bodies(world, wa_id)), what="the answer")

    def city_lists() -> list[dict[str, Any]]:
        bodies = whatsapp_bodies(world, wa_id)
        lists = [b for b in bodies if b.get("interactive", {}).get("type") == "list"]
        return lists if len(lists) == 2 else []

    # the 16-city question arrives as two lists within WhatsApp's limits (the fake checks them)
    lists = wait_for(city_lists, what="the city lists")
    rows = [row for body in lists for s in body["interactive"]["action"]["sections"] for row in s["rows"]]
    assert len(rows) == 16
    caserta = next(r for r in rows if r["title"] == "Caserta")
    world.graph.user_wrote(wa_id)
    whatsapp_update(world, fake_graph.list_reply(caserta["id"], "Caserta", sender=sender))
    wait_for(lambda: any("Caserta" in body_text(b) for b in whatsapp_bodies(world, wa_id)), what="offices")


def test_whatsapp_verification_and_bad_signature(world: World) -> None:
    query = f"hub.mode=subscribe&hub.verify_token={VERIFY}&hub.challenge=12345"
    with urllib.request.urlopen(f"{world.gateway}/webhooks/whatsapp?{query}") as response:
        assert response.read() == b"12345"
    payload = fake_graph.text_message("ciao")
    assert whatsapp_update(world, payload, secret="not-the-secret") == 401
    assert post(f"{world.gateway}/webhooks/whatsapp", json.dumps(payload).encode(), {}) == 401


def test_whatsapp_24_hour_window(world: World) -> None:
    wa_id = "393330000009"
    sender = fake_graph.Sender("Late", wa_id)
    long_ago = datetime.now(timezone.utc) - timedelta(hours=25)
    world.graph.user_wrote(wa_id, at=long_ago)
    whatsapp_update(world, fake_graph.text_message("I need a free lawyer", sender=sender, at=long_ago))
    wait_for(lambda: any(b["type"] == "template" for b in whatsapp_bodies(world, wa_id)), what="template")
    assert not any(b["type"] != "template" for b in whatsapp_bodies(world, wa_id)), "no free text outside"
    world.graph.user_wrote(wa_id)
    whatsapp_update(world, fake_graph.text_message("ok", sender=sender))
    answer = KB.texts["en"].topics["legal_aid"].answer[0]
    wait_for(lambda: any(body_text(b) == answer for b in whatsapp_bodies(world, wa_id)), what="held text")


# --- failures -------------------------------------------------------------------------------------


def test_rasa_down_then_back_loses_nothing(world: World) -> None:
    user = TelegramUser(id=8201, language_code="ar")
    rasa = world.stack.service("rasa")
    rasa.stop()
    try:
        telegram_update(world, world.telegram.text_message("كيف أجدد تصريح الإقامة", user=user))
        telegram_update(world, world.telegram.text_message("أحتاج محامي مجاني", user=user))
        notice = TR("ar")._("We received your message. We will answer shortly.")
        wait_for(lambda: notice in telegram_texts(world, user.id), what="the notice")
        time.sleep(2)
        assert telegram_texts(world, user.id).count(notice) == 1
    finally:
        rasa.start(None)
        world.stack.wait_healthy(rasa, time.monotonic() + 300)
    renewal = KB.texts["ar"].topics["residence_permit_renewal"].answer[0]
    lawyer = KB.texts["ar"].topics["legal_aid"].answer[0]
    wait_for(lambda: lawyer in telegram_texts(world, user.id), seconds=60, what="both answers")
    texts = telegram_texts(world, user.id)
    assert texts.index(renewal) < texts.index(lawyer), "answered in order"


def test_gateway_killed_after_ack_answers_on_restart(world: World) -> None:
    user = TelegramUser(id=8202, language_code="en")
    rasa, gateway = world.stack.service("rasa"), world.stack.service("gateway")
    rasa.stop()
    assert telegram_update(world, world.telegram.text_message("I need a free lawyer", user=user)) == 200
    assert gateway.process is not None
    os.killpg(gateway.process.pid, signal.SIGKILL)
    gateway.process.wait()
    rasa.start(None)
    world.stack.wait_healthy(rasa, time.monotonic() + 300)
    gateway.start(None)
    world.stack.wait_healthy(gateway, time.monotonic() + 60)
    answer = KB.texts["en"].topics["legal_aid"].answer[0]
    wait_for(lambda: answer in telegram_texts(world, user.id), seconds=60, what="the answer after restart")


def test_rasa_answers_a_message_sent_twice_once(world: World) -> None:
    """The gateway crashed after Rasa answered and sends the message again: our REST channel gives the
    same answer from the tracker, and the conversation holds the message once."""
    url = f"http://127.0.0.1:{world.stack.settings.rasa_port}/webhooks/rest/webhook"
    body = {
        "sender": "telegram:8301",
        "message": "how can I get the codice fiscale",
        "message_id": "replayed-update-1",
        "metadata": {"language": "en", "city": None, "channel": "telegram"},
    }

    def send() -> list[dict[str, Any]]:
        request = urllib.request.Request(
            url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            return list(json.loads(response.read()))

    first, again = send(), send()
    assert first and again == first
    with sqlite3.connect(world.stack.settings.tracker_database) as tracker:
        rows = tracker.execute(
            "select data from events where sender_id = ? and type_name = 'user'", ("telegram:8301",)
        ).fetchall()
    assert [json.loads(data)["message_id"] for (data,) in rows] == ["replayed-update-1"]
