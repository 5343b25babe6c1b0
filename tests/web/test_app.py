"""The gateway app with channels on: Telegram long polling (no webhook URL) against the local fake."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from bot.core.settings import load_settings
from bot.web.app import create_app
from tests.fakes.fake_rasa import echo_responder, fake_rasa_app
from tests.fakes.fake_telegram import FakeTelegram, TelegramUser, fake_telegram_app


async def test_polling_mode_answers_and_registers_no_webhook(
    tmp_path: Path, aiohttp_server: Any, aiohttp_client: Any
) -> None:
    telegram = FakeTelegram()
    telegram_server = await aiohttp_server(fake_telegram_app(telegram))
    rasa_server = await aiohttp_server(fake_rasa_app(echo_responder, []))
    settings = load_settings(
        SPORTELLO_DATA_DIR=tmp_path,
        SPORTELLO_RASA_URL=str(rasa_server.make_url("")),
        TELEGRAM_BOT_TOKEN=telegram.token,
        TELEGRAM_API_BASE_URL=str(telegram_server.make_url("/bot")),
    )
    client = await aiohttp_client(create_app(settings))
    user = TelegramUser(id=4242, language_code="en")
    telegram.enqueue(telegram.text_message("hello, I need help with my codice fiscale", user=user))
    for _ in range(100):
        if telegram.texts(user.id):
            break
        await asyncio.sleep(0.1)
    assert telegram.texts(user.id) == ["echo:hello, I need help with my codice fiscale"]
    assert telegram.calls_to("deleteWebhook") and not telegram.calls_to("setWebhook")
    webhook = await client.post("/webhooks/telegram", json={})
    assert webhook.status == 404, "no webhook route in polling mode"


async def test_no_channel_settings_serve_the_web_chat_only(tmp_path: Path, aiohttp_client: Any) -> None:
    client = await aiohttp_client(create_app(load_settings(SPORTELLO_DATA_DIR=tmp_path)))
    assert (await client.get("/")).status == 200
    assert (await client.post("/webhooks/telegram", json={})).status == 404
    assert (await client.post("/webhooks/whatsapp", data=b"{}")).status == 404
