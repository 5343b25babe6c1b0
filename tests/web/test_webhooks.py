"""Hostile requests to the webhooks and the web chat: every malformed body or header is a 4xx, never a
5xx, and nothing unsafe reaches Rasa or a store."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import async_sessionmaker

from bot.adapters.sql.tables import InboxRow
from bot.core.i18n import Translations
from bot.core.settings import load_settings
from bot.web.app import create_app
from bot.web.keys import DATABASE
from tests.fakes.fake_graph import FakeGraph, Sender, fake_graph_app, sign, text_message
from tests.fakes.fake_rasa import echo_responder, fake_rasa_app
from tests.fakes.fake_telegram import FakeTelegram, TelegramUser, fake_telegram_app
from tests.helpers.dashboard import eventually

SECRET, APP_SECRET, VERIFY = "telegram-secret", "whatsapp-app-secret", "verify-me"
DEEP = ("[" * 100_000 + "]" * 100_000).encode()


@pytest.fixture()
async def gateway(tmp_path: Path, aiohttp_server: Any, aiohttp_client: Any) -> tuple[TestClient, list[Any]]:
    """The gateway with the Telegram webhook and WhatsApp on, fake Telegram and fake Rasa."""
    telegram = FakeTelegram()
    telegram_server = await aiohttp_server(fake_telegram_app(telegram))
    received: list[Any] = []
    rasa = await aiohttp_server(fake_rasa_app(echo_responder, received))
    settings = load_settings(
        SPORTELLO_DATA_DIR=tmp_path,
        SPORTELLO_RASA_URL=str(rasa.make_url("")),
        TELEGRAM_BOT_TOKEN=telegram.token,
        TELEGRAM_API_BASE_URL=str(telegram_server.make_url("/bot")),
        TELEGRAM_WEBHOOK_URL="https://desk.example/webhooks/telegram",
        TELEGRAM_SECRET_TOKEN=SECRET,
        WHATSAPP_ACCESS_TOKEN="token",
        WHATSAPP_PHONE_NUMBER_ID="106540352242922",
        WHATSAPP_APP_SECRET=APP_SECRET,
        WHATSAPP_VERIFY_TOKEN=VERIFY,
    )
    return await aiohttp_client(create_app(settings)), received


async def test_deep_json_is_a_400_everywhere(gateway: tuple[TestClient, list[Any]]) -> None:
    client, received = gateway
    chat = await client.post("/api/chat", data=DEEP, headers={"Content-Type": "application/json"})
    assert chat.status == 400 and (await chat.json())["error"] == "invalid_request"
    telegram = await client.post(
        "/webhooks/telegram", data=DEEP, headers={"X-Telegram-Bot-Api-Secret-Token": SECRET}
    )
    assert telegram.status == 400
    whatsapp = await client.post(
        "/webhooks/whatsapp", data=DEEP, headers={"X-Hub-Signature-256": sign(DEEP, APP_SECRET)}
    )
    assert whatsapp.status == 400
    assert received == []


@pytest.mark.parametrize("header", ["sha256=é", "sha256=" + "ü" * 64, "sha256=\u2603"])
async def test_a_non_ascii_signature_is_a_401(gateway: tuple[TestClient, list[Any]], header: str) -> None:
    client, _ = gateway
    response = await client.post("/webhooks/whatsapp", data=b"{}", headers={"X-Hub-Signature-256": header})
    assert response.status == 401


async def test_a_non_ascii_verify_token_or_secret_is_a_403(gateway: tuple[TestClient, list[Any]]) -> None:
    client, _ = gateway
    query = {"hub.mode": "subscribe", "hub.verify_token": "vérifié", "hub.challenge": "42"}
    assert (await client.get("/webhooks/whatsapp", params=query)).status == 403
    good = {**query, "hub.verify_token": VERIFY}
    assert await (await client.get("/webhooks/whatsapp", params=good)).text() == "42"
    headers = {"X-Telegram-Bot-Api-Secret-Token": "sécret"}
    wrong = await client.post("/webhooks/telegram", json={}, headers=headers)
    assert wrong.status == 403


async def test_a_lone_surrogate_or_nul_never_reaches_rasa(gateway: tuple[TestClient, list[Any]]) -> None:
    client, received = gateway
    body = json.dumps({"user": "browser-1", "text": "permesso di soggiorno\ud800\u0000 scaduto"})
    response = await client.post("/api/chat", data=body, headers={"Content-Type": "application/json"})
    assert response.status == 200
    assert received[-1]["message"] == "permesso di soggiorno scaduto"


async def test_a_body_over_256_kib_is_a_413_before_anything_reads_it(
    gateway: tuple[TestClient, list[Any]],
) -> None:
    client, received = gateway
    big = json.dumps({"user": "u", "text": "x" * (300 * 1024)})
    response = await client.post("/api/chat", data=big, headers={"Content-Type": "application/json"})
    assert response.status == 413 and received == []


@dataclass
class Platforms:
    client: TestClient
    telegram: FakeTelegram
    graph: FakeGraph
    received: list[Any]  # what Rasa was asked


@pytest.fixture()
async def limited(tmp_path: Path, aiohttp_server: Any, aiohttp_client: Any) -> Platforms:
    """The gateway with 2 messages a minute per user, on fake Telegram, fake WhatsApp and fake Rasa."""
    telegram, graph = FakeTelegram(), FakeGraph()
    received: list[Any] = []
    telegram_server = await aiohttp_server(fake_telegram_app(telegram))
    graph_server = await aiohttp_server(fake_graph_app(graph))
    rasa = await aiohttp_server(fake_rasa_app(echo_responder, received))
    settings = load_settings(
        SPORTELLO_DATA_DIR=tmp_path,
        SPORTELLO_RASA_URL=str(rasa.make_url("")),
        SPORTELLO_MESSAGES_PER_MINUTE=2,
        TELEGRAM_BOT_TOKEN=telegram.token,
        TELEGRAM_API_BASE_URL=str(telegram_server.make_url("/bot")),
        TELEGRAM_WEBHOOK_URL="https://desk.example/webhooks/telegram",
        TELEGRAM_SECRET_TOKEN=SECRET,
        WHATSAPP_ACCESS_TOKEN=graph.token,
        WHATSAPP_PHONE_NUMBER_ID=graph.business.phone_number_id,
        WHATSAPP_APP_SECRET=APP_SECRET,
        WHATSAPP_VERIFY_TOKEN=VERIFY,
        WHATSAPP_API_BASE_URL=str(graph_server.make_url("/v21.0")),
    )
    return Platforms(await aiohttp_client(create_app(settings)), telegram, graph, received)


async def stored(client: TestClient, user_key: str) -> int:
    """Inbox rows of one user, answered or not."""
    query = select(func.count()).select_from(InboxRow).where(InboxRow.user_key == user_key)
    async with async_sessionmaker(client.app[DATABASE])() as session:
        return int((await session.execute(query)).scalar_one())


async def test_a_telegram_user_over_the_limit_is_not_stored_and_told_once(
    limited: Platforms, translations: Translations
) -> None:
    client, telegram = limited.client, limited.telegram
    user = TelegramUser(id=4242, language_code="fr")
    for number in range(5):
        update = telegram.text_message(f"bonjour, j'ai une question sur mon permis {number}", user=user)
        headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
        response = await client.post("/webhooks/telegram", json=update, headers=headers)
        assert response.status == 200, "Telegram must not retry a limited update"
    assert await stored(client, "telegram:4242") == 2
    notice = translations("fr")._(
        "You are sending many messages. Wait a minute, then write again: I will answer you."
    )

    async def answered() -> bool:
        return notice in telegram.texts(user.id) and len(telegram.texts(user.id)) == 3

    await eventually(answered)
    assert telegram.texts(user.id).count(notice) == 1, "one notice, not one per message"
    assert len(limited.received) == 2, "Rasa never sees the flood"


async def test_a_whatsapp_user_over_the_limit_is_not_stored_and_told_once(
    limited: Platforms, translations: Translations
) -> None:
    client, graph = limited.client, limited.graph
    ana = Sender("Ana", "393331234567")
    for number in range(4):
        graph.user_wrote(ana.wa_id or "")
        body = json.dumps(text_message(f"hola, tengo una pregunta sobre mi permiso {number}", sender=ana))
        headers = {"X-Hub-Signature-256": sign(body.encode(), APP_SECRET)}
        response = await client.post("/webhooks/whatsapp", data=body, headers=headers)
        assert response.status == 200, "Meta must not retry a limited notification"
    assert await stored(client, "whatsapp:393331234567") == 2
    notice = translations("es")._(
        "You are sending many messages. Wait a minute, then write again: I will answer you."
    )

    def texts() -> list[str]:
        return [b["text"]["body"] for b in graph.sent if b.get("to") == ana.wa_id and b.get("type") == "text"]

    async def told_and_answered() -> bool:
        """The notice goes out at once; the two stored messages reach Rasa in their own time."""
        return notice in texts() and len(limited.received) == 2

    await eventually(told_and_answered)
    assert texts().count(notice) == 1, "one notice, not one per message"
    assert len(limited.received) == 2, "Rasa never sees the flood"


async def test_a_database_error_carries_no_message_text(tmp_path: Path) -> None:
    """SQLAlchemy's errors quote the statement's parameters unless told not to: the texts users wrote."""
    from sqlalchemy import text
    from sqlalchemy.exc import OperationalError

    from bot.adapters.sql.database import create_engine, migrate

    url = f"sqlite:///{tmp_path / 'gateway.db'}"
    migrate(url)
    engine = create_engine(url)
    statement = text("insert into no_such_table values (:words)")
    with pytest.raises(OperationalError) as raised:
        async with engine.begin() as connection:
            await connection.execute(statement, {"words": "SEGRETO-42"})
    await engine.dispose()
    assert "SEGRETO-42" not in str(raised.value)


async def test_a_webhook_answer_says_how_long_the_gateway_took(
    gateway: tuple[TestClient, list[Any]],
) -> None:
    """Server-Timing on webhooks (the benchmark splits our time from waiting); not on other pages."""
    client, _ = gateway
    update = FakeTelegram().text_message("hello", user=TelegramUser(id=4242))
    stored = await client.post(
        "/webhooks/telegram", json=update, headers={"X-Telegram-Bot-Api-Secret-Token": SECRET}
    )
    refused = await client.post("/webhooks/telegram", json=update)
    page = await client.get("/healthz")
    for answer in (stored, refused):
        name, duration = answer.headers["Server-Timing"].split(";dur=")
        assert name == "app" and 0 <= float(duration) < 10_000
    assert stored.status == 200 and refused.status == 403
    assert "Server-Timing" not in page.headers
