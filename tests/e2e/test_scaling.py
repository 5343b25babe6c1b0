"""Two gateways and two Rasa servers on one PostgreSQL database and one Redis, as a city that outgrew one
machine's SQLite runs them: each message worked once, each user's messages answered in order, whichever
gateway took the webhook; and a Rasa server that dies leaves its users to the other one."""

from __future__ import annotations

import json
import os
import signal
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from bot.ops.processes import Service, Stack, ensure_model, free_port, settings_on_free_ports
from tests.fakes.fake_telegram import FakeTelegram, TelegramUser, fake_telegram_app
from tests.helpers.databases import fresh_postgres
from tests.helpers.stack import post_telegram_update, telegram_webhook_settings, wait_for
from tests.helpers.threaded_server import ThreadedServer

pytestmark = pytest.mark.e2e
SECRET = "scaling-secret"
QUESTIONS = ["come ottengo il codice fiscale?", "how do I renew my residence permit", "corsi di italiano"]


@dataclass
class Desk:
    stack: Stack
    second_gateway: Service
    telegram: FakeTelegram
    database_url: str

    def webhook(self, gateway: int) -> str:
        port = self.stack.settings.port if gateway == 0 else self.second_port
        return f"http://127.0.0.1:{port}/webhooks/telegram"

    @property
    def second_port(self) -> int:
        return int(self.second_gateway.health_url.split(":")[2].split("/")[0])


@pytest.fixture(scope="module")
def desk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Desk]:
    telegram = FakeTelegram()
    fake = ThreadedServer(fake_telegram_app(telegram)).start()
    data = tmp_path_factory.mktemp("scaling")
    with fresh_postgres() as url:
        settings = settings_on_free_ports(
            data,
            DATABASE_URL=url,
            SPORTELLO_TRACKER_URL=url,  # Rasa's events table beside ours, in the same database
            SPORTELLO_REDIS_URL="redis://127.0.0.1:6379/0",
            SPORTELLO_REDIS_PREFIX=f"sportello-test-{uuid.uuid4().hex[:8]}:",
            SPORTELLO_RASA_SERVERS=2,
            **telegram_webhook_settings(telegram.token, fake.url, SECRET),
        )
        log = (data / "processes.log").open("wb")
        stack = Stack(settings, ensure_model(), log=log)
        second = stack.another_gateway("gateway 2", free_port())
        try:
            stack.start(timeout=600)
            second.start(log)
            stack.wait_healthy(second, time.monotonic() + 120)
            yield Desk(stack, second, telegram, url)
        finally:
            second.stop()
            stack.stop()
            log.close()
            fake.stop()


def post(url: str, update: dict[str, Any]) -> int:
    return post_telegram_update(url, update, SECRET)


def answered_ids(database_url: str) -> dict[str, list[int]]:
    """Per Telegram user, the update ids Rasa answered, in the order it answered them (its tracker)."""
    engine = create_engine(database_url)
    with engine.connect() as connection:
        rows = connection.execute(
            text(
                "select sender_id, type_name, data from events where type_name in ('user', 'bot') "
                "order by id"
            )
        ).all()
    engine.dispose()
    answered: dict[str, list[int]] = {}
    waiting: dict[str, str] = {}
    for sender, kind, data in rows:
        message_id = json.loads(data).get("message_id") if kind == "user" else None
        if kind == "user" and message_id:
            waiting[sender] = message_id
        elif kind == "bot" and sender in waiting:
            answered.setdefault(sender, []).append(int(waiting.pop(sender)))
    return answered


def test_two_gateways_and_two_rasa_servers_answer_each_message_once_in_order(desk: Desk) -> None:
    users = [TelegramUser(id=610000 + n, language_code=None) for n in range(12)]
    sent: dict[str, list[int]] = {}
    for round_ in range(3):
        for n, user in enumerate(users):
            update = desk.telegram.text_message(QUESTIONS[round_], user=user)
            assert post(desk.webhook((n + round_) % 2), update) == 200  # the gateways take turns
            sent.setdefault(f"telegram:{user.id}", []).append(update["update_id"])

    def all_answered() -> bool:
        answered = answered_ids(desk.database_url)
        return all(len(answered.get(user, [])) >= len(ids) for user, ids in sent.items())

    wait_for(all_answered, seconds=180, what="every message answered")
    answered = answered_ids(desk.database_url)
    assert {user: answered[user] for user in sent} == sent, "each once, in the order written"
    engine = create_engine(desk.database_url)
    with engine.connect() as connection:
        for user in sent:
            said = connection.execute(
                text("select data from events where sender_id = :u and type_name = 'bot'"), {"u": user}
            ).all()
            texts = sum(1 for (data,) in said if json.loads(data).get("text"))
            queued = connection.execute(
                text("select count(*) from outbox where user_key = :u"), {"u": user}
            ).scalar_one()
            assert queued == texts, f"{user}: {queued} replies queued for {texts} said: queued twice?"
    engine.dispose()
    for user in users:
        wait_for(lambda u=user: len(desk.telegram.texts(u.id)) >= 3, seconds=60, what="replies at Telegram")


def test_a_dead_rasa_servers_users_are_answered_by_the_other(desk: Desk) -> None:
    first = desk.stack.service("rasa")
    assert first.process is not None
    os.killpg(first.process.pid, signal.SIGKILL)
    first.process.wait()
    try:
        users = [TelegramUser(id=620000 + n, language_code="it") for n in range(8)]  # some were first's
        for n, user in enumerate(users):
            assert post(desk.webhook(n % 2), desk.telegram.text_message(QUESTIONS[0], user=user)) == 200
        for user in users:
            wait_for(lambda u=user: bool(desk.telegram.texts(u.id)), seconds=120, what="an answer")
    finally:
        first.start(None)
