"""The gateway as two processes (SPORTELLO_INTAKE_PROCESS): the public one stores the webhooks' updates,
the workers' process answers them. With the workers killed, the intake still acknowledges and stores;
the workers, back, answer every stored message once, in order per user."""

from __future__ import annotations

import os
import signal
import sqlite3
import time
import urllib.request
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from bot.ops.processes import Stack, ensure_model, free_port, settings_on_free_ports
from tests.fakes.fake_telegram import FakeTelegram, TelegramUser, fake_telegram_app
from tests.helpers.stack import post_telegram_update, telegram_webhook_settings, wait_for
from tests.helpers.threaded_server import ThreadedServer

pytestmark = pytest.mark.e2e
SECRET = "intake-secret"
QUESTIONS = ["come ottengo il codice fiscale?", "how do I renew my residence permit", "corsi di italiano"]


@pytest.fixture(scope="module")
def desk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Stack, FakeTelegram]]:
    telegram = FakeTelegram()
    fake = ThreadedServer(fake_telegram_app(telegram)).start()
    data = tmp_path_factory.mktemp("intake")
    settings = settings_on_free_ports(
        data,
        SPORTELLO_INTAKE_PROCESS=True,
        SPORTELLO_WORKERS_PORT=free_port(),
        **telegram_webhook_settings(telegram.token, fake.url, SECRET),
    )
    log = (data / "processes.log").open("wb")
    stack = Stack(settings, ensure_model(), log=log)
    try:
        stack.start(timeout=600)
        yield stack, telegram
    finally:
        stack.stop()
        log.close()
        fake.stop()


def post(stack: Stack, update: dict[str, Any]) -> int:
    return post_telegram_update(f"http://127.0.0.1:{stack.settings.port}/webhooks/telegram", update, SECRET)


def answered_in_order(data_dir: Path) -> dict[str, list[str]]:
    """Per user, the platform ids of the inbox rows answered, in the order they were answered."""
    with sqlite3.connect(data_dir / "sportello.db") as database:
        rows = database.execute(
            "select user_key, platform_id from inbox where status = 'done' order by processed_at, id"
        ).fetchall()
    answered: dict[str, list[str]] = {}
    for user, platform_id in rows:
        answered.setdefault(user, []).append(platform_id)
    return answered


def test_the_public_gateway_runs_no_worker_and_the_workers_answer(desk: tuple[Stack, FakeTelegram]) -> None:
    stack, telegram = desk
    user = TelegramUser(id=710001, language_code="it")
    assert post(stack, telegram.text_message(QUESTIONS[0], user=user)) == 200
    wait_for(lambda: telegram.texts(user.id), seconds=60, what="an answer")
    with urllib.request.urlopen(stack.service("workers").health_url, timeout=5) as health:
        assert health.status == 200
    with urllib.request.urlopen(f"http://127.0.0.1:{stack.settings.port}/healthz", timeout=5) as health:
        assert health.status == 200


def test_with_the_workers_killed_the_intake_stores_and_nothing_is_lost(
    desk: tuple[Stack, FakeTelegram],
) -> None:
    stack, telegram = desk
    workers = stack.service("workers")
    assert workers.process is not None
    os.killpg(workers.process.pid, signal.SIGKILL)
    workers.process.wait()
    users = [TelegramUser(id=720000 + n, language_code=None) for n in range(6)]
    sent: dict[str, list[str]] = {}
    for round_ in range(3):
        for user in users:
            update = telegram.text_message(QUESTIONS[round_], user=user)
            assert post(stack, update) == 200, "acknowledged while nobody works the inbox"
            sent.setdefault(f"telegram:{user.id}", []).append(str(update["update_id"]))
    time.sleep(1)
    assert not any(telegram.texts(user.id) for user in users), "the intake answers nothing itself"
    workers.start(None)
    stack.wait_healthy(workers, time.monotonic() + 120)

    def all_answered() -> bool:
        answered = answered_in_order(stack.settings.data_dir)
        return all(len(answered.get(user, [])) >= 3 for user in sent)

    wait_for(all_answered, seconds=180, what="every stored message answered")
    answered = answered_in_order(stack.settings.data_dir)
    assert {user: answered[user] for user in sent} == sent, "each once, in the order written"
    for user in users:
        wait_for(partial(replied, telegram, user.id, 3), seconds=90, what="replies at Telegram")


def replied(telegram: FakeTelegram, chat_id: int, count: int) -> bool:
    return len(telegram.texts(chat_id)) >= count
