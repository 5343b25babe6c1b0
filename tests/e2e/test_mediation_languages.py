"""Issue 11's whole path, as people would do it: a web-chat user writes in Bengali and asks for a person;
an Italian-speaking Caserta mediator who does not read Bengali works the ticket in a real headless
Chromium, reading the conversation in Italian (machine translation through a local LibreTranslate with
its real HTTP API), and sends a knowledge entry and a ready reply; the user's open chat page shows both,
in Bengali, within seconds and without a reload. Real Rasa, action server and gateway."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bot.core.i18n import Translations
from bot.core.settings import PROJECT_DIR
from bot.dialogue.desk import build_desk
from bot.dialogue.replies import canned_reply, knowledge_entry
from bot.ops.processes import Stack, running, settings_on_free_ports
from tests.fakes.fake_libretranslate import FakeLibreTranslate
from tests.helpers.threaded_server import ThreadedServer
from tests.web.conftest import CHROMIUM_ARGS

pytestmark = pytest.mark.e2e
PASSWORD = "a long password for tests"
BN = Translations(PROJECT_DIR / "locales")("bn")
ASK = "আমি একজন মানুষের সাথে কথা বলতে চাই"  # I want to talk to a person
FEW_WORDS = "বাড়িওয়ালা তালা বদলে দিয়েছে, আমার জিনিস ভেতরে"
FEW_WORDS_IT = "Il padrone di casa ha cambiato la serratura, le mie cose sono dentro"


@dataclass
class World:
    stack: Stack
    translator: FakeLibreTranslate

    @property
    def gateway(self) -> str:
        return f"http://127.0.0.1:{self.stack.settings.port}"


def add_mediator(data: Path, email: str) -> None:
    """An Italian mediator of Caserta, who reads no Bengali (the CLI a city's IT would use)."""
    command = [sys.executable, "-m", "bot", "mediator", "add", "--email", email, "--name", "Marco"]
    subprocess.run(
        [*command, "--cities", "caserta", "--languages", "it"],
        input=PASSWORD + "\n",
        text=True,
        check=True,
        cwd=PROJECT_DIR,
        env={"SPORTELLO_DATA_DIR": str(data), "PATH": "/usr/bin:/bin"},
    )


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    translator = FakeLibreTranslate(api_key="caserta-key")
    translator.learn("bn", "it", FEW_WORDS, FEW_WORDS_IT)
    translator.learn("bn", "it", ASK, "Voglio parlare con una persona")
    service = ThreadedServer(translator.app()).start()
    data = tmp_path_factory.mktemp("languages")
    add_mediator(data, "marco@caserta.test")
    settings = settings_on_free_ports(
        data, LIBRETRANSLATE_URL=service.url, LIBRETRANSLATE_API_KEY="caserta-key"
    )
    try:
        with (data / "processes.log").open("wb") as log, running(settings, log) as stack:
            yield World(stack, translator)
    finally:
        service.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    import shutil

    from playwright.sync_api import sync_playwright

    executable = shutil.which("chromium")
    assert executable, "Chromium is missing: run scripts/ensure-chromium"
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def bot_says(page: Any, text: str, timeout: float = 60_000) -> None:
    page.wait_for_selector(f"#log li.bot >> text={text}", timeout=timeout)


def press(page: Any, title: str) -> None:
    page.locator("#log li.bot button", has_text=title).last.click()


def test_a_bengali_user_and_an_italian_mediator_understand_each_other(world: World, browser: Any) -> None:
    # 1. the user, in Bengali, asks for a person, chooses Caserta, consents and writes a few words
    user = browser.new_context(viewport={"width": 420, "height": 860}).new_page()
    user.goto(f"{world.gateway}/?lang=bn")
    user.fill("#text", ASK)
    user.press("#text", "Enter")
    press_when = BN._("Which city are you in? I will tell you how to reach our team.")
    bot_says(user, press_when)
    press(user, "Caserta")
    user.wait_for_selector(f"#log li.bot button:has-text('{BN._('Yes, I agree')}')", timeout=60_000)
    press(user, BN._("Yes, I agree"))
    bot_says(user, BN._("Thank you. Write in a few words what your situation is. A person will read it."))
    user.fill("#text", FEW_WORDS)
    user.press("#text", "Enter")
    user.wait_for_function(
        "() => /CE-\\d{4}-\\d{4}/.test(document.getElementById('log').textContent)", timeout=60_000
    )
    ticket_id = re.search(r"CE-\d{4}-\d{4}", user.inner_text("#log")).group(0)  # type: ignore[union-attr]
    user.evaluate("() => { window.sameDocument = true; }")  # gone if the page ever reloads

    # 2. the Italian mediator reads the ticket in Italian: the few words machine-translated
    mediator = browser.new_context(viewport={"width": 1200, "height": 900}).new_page()
    mediator.goto(f"{world.gateway}/dashboard")
    mediator.fill("#email", "marco@caserta.test")
    mediator.fill("#password", PASSWORD)
    mediator.click("button[type=submit]")
    mediator.wait_for_selector(f"text={ticket_id}")
    mediator.click(f"text={ticket_id}")
    mediator.wait_for_selector("#transcript")
    assert mediator.locator("html").get_attribute("lang") == "it"
    assert mediator.locator(f".machine-text >> text={FEW_WORDS_IT}").count() == 1
    assert mediator.locator(f"#transcript >> text={FEW_WORDS}").count() >= 1, "the original stays beside it"

    # 3. a knowledge entry, previewed in Italian beside the Bengali, then sent
    mediator.select_option("#knowledge-topic", "eviction")
    mediator.locator("form:has(#knowledge-topic) button[type=submit]").click()
    mediator.wait_for_selector("#knowledge-preview")
    desk = build_desk(world.stack.settings)
    italian = knowledge_entry(desk, "eviction", "it", "caserta")
    assert italian[0][:40] in mediator.inner_text("#knowledge-preview .preview-mine")
    mediator.locator("#knowledge-preview button[type=submit]").click()
    mediator.wait_for_selector("p.notice[role=status]")

    # 4. a ready reply, the same way
    mediator.select_option("#canned-reply", "still_working")
    mediator.locator("form:has(#canned-reply) button[type=submit]").click()
    mediator.wait_for_selector("#canned-preview")
    mediator.locator("#canned-preview button[type=submit]").click()
    mediator.wait_for_selector("p.notice[role=status]")

    # 5. the user's open page shows both, in Bengali, from a person of the one-stop shop, with no reload
    bengali = knowledge_entry(desk, "eviction", "bn", "caserta")
    ready = canned_reply(desk, "still_working", "bn", ticket_id, "caserta")
    user.wait_for_selector(f"#log li.person >> text={bengali[1][:30]}", timeout=10_000)
    user.wait_for_selector(f"#log li.person >> text={ready[:30]}", timeout=10_000)
    assert user.evaluate("() => window.sameDocument === true"), "the page was not reloaded"
    who = BN._("A person from the one-stop shop")
    assert user.locator("#log li.person .who", has_text=who).count() >= 2
    assert user.locator("#log li.person").first.get_attribute("lang") == "bn"
    # the page said it showed them: opened again in the same browser, nothing is shown twice
    again = user.context.new_page()
    again.goto(f"{world.gateway}/?lang=bn")
    again.wait_for_function("() => document.readyState === 'complete'")
    again.wait_for_timeout(3000)  # the stream sends what waits at once: nothing should come
    assert again.locator("#log li.person").count() == 0
    assert world.translator.requests, "the Italian view went through the city's LibreTranslate"
    assert all(r.get("api_key") == "caserta-key" for r in world.translator.requests)
