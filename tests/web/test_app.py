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


async def test_the_gateway_expires_old_rows_at_start_without_any_cron_job(
    tmp_path: Path, aiohttp_client: Any
) -> None:
    from datetime import timedelta

    from sqlalchemy import update
    from sqlalchemy.ext.asyncio import async_sessionmaker

    from bot.adapters.sql.database import create_engine, migrate
    from bot.adapters.sql.tables import OutboxRow
    from bot.core.clock import utcnow
    from bot.core.messages import Reply
    from tests.helpers.databases import Mailbox

    settings = load_settings(SPORTELLO_DATA_DIR=tmp_path, SPORTELLO_RETENTION_MESSAGES_DAYS=30)
    migrate(settings.gateway_database_url)
    engine = create_engine(settings.gateway_database_url)
    mailbox = Mailbox(engine)
    await mailbox.outbox.queue("telegram", "telegram:1", "en", [Reply("a month-old answer")])
    [row] = await mailbox.outbox_rows("telegram:1")
    await mailbox.outbox.sent(row.id, "m1")
    async with async_sessionmaker(engine).begin() as session:
        await session.execute(update(OutboxRow).values(created_at=utcnow() - timedelta(days=31)))
    await aiohttp_client(create_app(settings))  # starts the workers, retention among them
    for _ in range(50):
        if not await mailbox.outbox_rows("telegram:1"):
            break
        await asyncio.sleep(0.1)
    assert await mailbox.outbox_rows("telegram:1") == []
    await engine.dispose()


async def test_an_intake_gateway_stores_and_the_workers_gateway_answers(
    tmp_path: Path, aiohttp_server: Any, aiohttp_client: Any
) -> None:
    """SPORTELLO_INTAKE_PROCESS: the public gateway runs no worker; it stores the update, answers 200 and
    wakes the workers' gateway (another process in production, another app on the same database here),
    which answers through Telegram."""
    from bot.ops.processes import free_port
    from bot.web.health import HEALTH
    from bot.web.keys import WAKES

    telegram = FakeTelegram()
    telegram_server = await aiohttp_server(fake_telegram_app(telegram))
    received: list[Any] = []
    rasa_server = await aiohttp_server(fake_rasa_app(echo_responder, received))
    common = {
        "SPORTELLO_DATA_DIR": tmp_path,
        "SPORTELLO_RASA_URL": str(rasa_server.make_url("")),
        "TELEGRAM_BOT_TOKEN": telegram.token,
        "TELEGRAM_API_BASE_URL": str(telegram_server.make_url("/bot")),
        "TELEGRAM_WEBHOOK_URL": "https://desk.example/webhooks/telegram",
        "TELEGRAM_SECRET_TOKEN": "intake-secret",
        "SPORTELLO_INTAKE_PROCESS": True,
        "SPORTELLO_WORKERS_PORT": free_port(),
    }
    intake = await aiohttp_client(create_app(load_settings(**common, SPORTELLO_WORKERS=False)))
    assert intake.app[HEALTH].supervisor.problems() == [] and not intake.app[HEALTH].supervisor.workers
    user = TelegramUser(id=5151, language_code="en")
    update = telegram.text_message("where do I get a codice fiscale", user=user)
    headers = {"X-Telegram-Bot-Api-Secret-Token": "intake-secret"}
    stored = await intake.post("/webhooks/telegram", json=update, headers=headers)
    assert stored.status == 200
    await asyncio.sleep(0.3)
    assert received == [], "the intake gateway answers nothing itself"
    workers = await aiohttp_client(create_app(load_settings(**common)))
    assert set(workers.app[HEALTH].supervisor.workers) >= {"inbox", "sender"}
    second = telegram.text_message("and a tessera sanitaria?", user=user)
    assert (await intake.post("/webhooks/telegram", json=second, headers=headers)).status == 200
    assert intake.app[WAKES].inbox.sent >= 2
    for _ in range(100):
        if len(telegram.texts(user.id)) == 2:
            break
        await asyncio.sleep(0.05)
    expected = ["echo:where do I get a codice fiscale", "echo:and a tessera sanitaria?"]
    assert telegram.texts(user.id) == expected


async def test_with_async_commit_only_the_workers_process_commits_without_waiting_for_the_disk(
    tmp_path: Path, aiohttp_client: Any
) -> None:
    """SPORTELLO_WORKERS_ASYNC_COMMIT on PostgreSQL: the intake's commits (acknowledgements) stay
    durable; the workers' commits do not wait for the disk (and so do not hold the intake's up)."""
    from bot.ops.processes import free_port
    from bot.web.keys import DATABASE
    from tests.helpers.databases import fresh_postgres

    with fresh_postgres() as url:
        common = {
            "SPORTELLO_DATA_DIR": tmp_path,
            "DATABASE_URL": url,
            "SPORTELLO_INTAKE_PROCESS": True,
            "SPORTELLO_WORKERS_PORT": free_port(),
            "SPORTELLO_WORKERS_ASYNC_COMMIT": True,
        }
        intake = await aiohttp_client(create_app(load_settings(**common, SPORTELLO_WORKERS=False)))
        workers = await aiohttp_client(create_app(load_settings(**common)))
        one_process = {**common, "SPORTELLO_INTAKE_PROCESS": False}
        alone = await aiohttp_client(create_app(load_settings(**one_process)))
        found = {}
        for name, client in (("intake", intake), ("workers", workers), ("one process", alone)):
            async with client.app[DATABASE].connect() as connection:
                found[name] = (await connection.exec_driver_sql("show synchronous_commit")).scalar()
        await alone.close()
        await workers.close()
        await intake.close()
    assert found == {"intake": "on", "workers": "off", "one process": "on"}
