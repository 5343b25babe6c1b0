"""The whole handoff, as people would do it: an Arabic-speaking user on Telegram (fake Bot API), the real
gateway, Rasa and action server, and two mediators in a real headless Chromium (Debian's, via Playwright).
"""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bot.core.i18n import Translations
from bot.core.settings import PROJECT_DIR
from bot.knowledge import load_knowledge
from bot.ops.processes import Stack, running, settings_on_free_ports
from tests.fakes.fake_telegram import FakeTelegram, TelegramUser, fake_telegram_app
from tests.helpers.stack import wait_for
from tests.helpers.threaded_server import ThreadedServer

pytestmark = pytest.mark.e2e
SECRET = "handoff-secret-token"
PASSWORD = "a long password for tests"
KB, _ = load_knowledge(PROJECT_DIR / "knowledge")
AR = Translations(PROJECT_DIR / "locales")("ar")
SHOTS = PROJECT_DIR / "results" / "screenshots"
CHROMIUM = shutil.which("chromium")


@dataclass
class World:
    stack: Stack
    telegram: FakeTelegram

    @property
    def gateway(self) -> str:
        return f"http://127.0.0.1:{self.stack.settings.port}"


def add_mediator(data: Path, email: str, cities: list[str]) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "bot",
            "mediator",
            "add",
            "--email",
            email,
            "--name",
            email.split("@")[0],
            "--cities",
            *cities,
            "--languages",
            "ar",
            "it",
        ],
        input=PASSWORD + "\n",
        text=True,
        check=True,
        cwd=PROJECT_DIR,
        env={"SPORTELLO_DATA_DIR": str(data), "PATH": "/usr/bin:/bin"},
    )


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    telegram = FakeTelegram()
    fake = ThreadedServer(fake_telegram_app(telegram)).start()
    data = tmp_path_factory.mktemp("handoff")
    add_mediator(data, "amal@sportello.test", ["caserta"])
    add_mediator(data, "luca@sportello.test", ["roma"])
    settings = settings_on_free_ports(
        data,
        TELEGRAM_BOT_TOKEN=telegram.token,
        TELEGRAM_WEBHOOK_URL="http://127.0.0.1:{port}/webhooks/telegram",
        TELEGRAM_SECRET_TOKEN=SECRET,
        TELEGRAM_API_BASE_URL=f"{fake.url}/bot",
    )
    try:
        with (data / "processes.log").open("wb") as log, running(settings, log) as stack:
            yield World(stack, telegram)
    finally:
        fake.stop()


def send(world: World, update: dict[str, Any]) -> None:
    request = urllib.request.Request(
        f"{world.gateway}/webhooks/telegram",
        data=json.dumps(update).encode(),
        headers={"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": SECRET},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200


def button(world: World, chat: int, callback: str) -> dict[str, Any] | None:
    for message in reversed(world.telegram.sent[chat]):
        for row in message.get("reply_markup", {}).get("inline_keyboard", []):
            for key in row:
                if key.get("callback_data") == callback:
                    return dict(key)
    return None


def press(world: World, user: TelegramUser, callback: str) -> None:
    wait_for(lambda: button(world, user.id, callback), what=f"the button {callback}")
    send(world, world.telegram.callback_query(callback, user=user))


def texts(world: World, chat: int) -> list[str]:
    return list(world.telegram.texts(chat))


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if CHROMIUM is None:
        pytest.skip("Chromium is not installed (make test installs Debian's chromium when it can)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield chromium
        chromium.close()


def login(browser: Any, world: World, email: str) -> Any:
    page = browser.new_context(viewport={"width": 1100, "height": 900}).new_page()
    page.goto(f"{world.gateway}/dashboard")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r".*/dashboard/?(\?.*)?$"))
    return page


def test_arabic_user_to_mediator_and_back_to_the_bot(world: World, browser: Any) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    user = TelegramUser(id=9901, first_name="Samira", language_code="ar")
    started = time.monotonic()

    # 1. the user asks for a person, chooses the city, consents and writes a few words
    send(world, world.telegram.text_message("أريد التحدث مع شخص من فضلك", user=user))
    press(world, user, "c:caserta")
    press(world, user, "i:affirm")
    few_words = AR._("Thank you. Write in a few words what your situation is. A person will read it.")
    wait_for(lambda: few_words in texts(world, user.id), what="the request for a few words")
    send(world, world.telegram.text_message("صاحب البيت يريد أن يطردني من البيت يوم الاثنين", user=user))
    confirmation = wait_for(
        lambda: next((t for t in texts(world, user.id) if re.search(r"CE-\d{4}-\d{4}", t)), None),
        what="the ticket number",
    )
    ticket_id = re.search(r"CE-\d{4}-\d{4}", confirmation).group(0)  # type: ignore[union-attr]
    opened = time.monotonic() - started

    # 2. a mediator of another city neither sees it nor opens it
    luca = login(browser, world, "luca@sportello.test")
    assert ticket_id not in luca.content()
    assert luca.goto(f"{world.gateway}/dashboard/tickets/{ticket_id}").status == 403
    assert luca.request.get(f"{world.gateway}/dashboard/api/tickets/{ticket_id}").status == 403

    # 3. the Arabic-speaking mediator of Caserta sees it, claims it and replies
    amal = login(browser, world, "amal@sportello.test")
    amal.wait_for_selector(f"text={ticket_id}")
    amal.screenshot(path=str(SHOTS / "1-queue.png"), full_page=True)
    amal.click(f"text={ticket_id}")
    amal.wait_for_selector("#transcript")
    assert amal.locator("#transcript [dir=rtl]").count() >= 1
    amal.click("form[action$='/claim'] button")  # the dashboard speaks Italian: by form, not words
    amal.wait_for_selector("#status[data-status=assigned]")
    reply = "مرحبا سميرة، أنا أمل من الشباك. هل يمكنك أن تأتي يوم الجمعة؟"
    amal.fill("#reply-text", reply)
    amal.click("form[action$='/reply'] button[type=submit]")
    wait_for(lambda: reply in texts(world, user.id), what="the mediator's reply on Telegram")
    replied = time.monotonic() - started

    # 4. the user answers; the mediator sees it without reloading
    answer = "نعم، سآتي يوم الجمعة صباحا. شكرا"
    count = len(texts(world, user.id))
    send(world, world.telegram.text_message(answer, user=user))
    amal.wait_for_selector(f"#transcript >> text={answer}", timeout=30000)
    time.sleep(1)
    assert len(texts(world, user.id)) == count, "the bot stays quiet while a mediator holds the ticket"
    amal.screenshot(path=str(SHOTS / "2-ticket.png"), full_page=True)

    # 5. the mediator closes the ticket; the bot answers the next question again
    amal.select_option("#outcome", "resolved")
    amal.click("form[action$='/close'] button")
    again = AR._("You are talking with the assistant again.")
    wait_for(lambda: again in texts(world, user.id), what="the back-to-the-assistant message")
    send(world, world.telegram.text_message("كيف أجدد تصريح الإقامة", user=user))
    renewal = KB.texts["ar"].topics["residence_permit_renewal"].answer[0]
    wait_for(lambda: renewal in texts(world, user.id), what="the bot's answer after closing")
    log = (world.stack.settings.data_dir / "processes.log").read_text(errors="replace")
    for secret in ("صاحب البيت", answer, reply, str(user.id)):
        assert secret not in log, "no message text or user id in the logs"
    total = time.monotonic() - started
    (SHOTS / "timings.json").write_text(
        json.dumps(
            {
                "ticket_opened_s": round(opened, 1),
                "reply_delivered_s": round(replied, 1),
                "whole_flow_s": round(total, 1),
            }
        )
    )


USER_ID = re.compile(r"(?<![0-9a-f])9902(?![0-9a-f])")


def test_forget_leaves_nothing_in_any_store_or_rasas_tracker(world: World) -> None:
    user = TelegramUser(id=9902, first_name="Olena", language_code="uk")
    words = "мене звати Олена, у мене проблема з пермессо"
    send(world, world.telegram.text_message(words, user=user))
    wait_for(lambda: texts(world, user.id), what="an answer")
    send(world, world.telegram.text_message("/forget", user=user))
    press(world, user, "i:affirm")
    done = Translations(PROJECT_DIR / "locales")("uk")._("Done: we deleted your messages and your requests.")
    wait_for(lambda: done in texts(world, user.id), what="the confirmation")
    time.sleep(1.5)  # the confirmation's outbox row is deleted once sent
    data = world.stack.settings.data_dir
    for database in (data / "sportello.db", data / "rasa_tracker.db"):
        connection = sqlite3.connect(database)
        tables = [r[0] for r in connection.execute("select name from sqlite_master where type='table'")]
        for table in tables:
            for row in connection.execute(f'select * from "{table}"'):
                flat = " ".join(str(value) for value in row)
                # the id on its own: random hex ids of other users' events may contain its digits
                assert not USER_ID.search(flat) and "Олена" not in flat and "пермессо" not in flat, (
                    database,
                    table,
                )
        connection.close()
