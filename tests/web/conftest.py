"""Fixtures of the web layer's browser tests: Debian's Chromium through Playwright, and a gateway (with a
local fake Rasa) running in a thread for it to open."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.core.settings import load_settings
from bot.web.app import create_app
from tests.fakes.fake_rasa import echo_responder, fake_rasa_app
from tests.helpers.threaded_server import ThreadedServer

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    """A headless Chromium (``scripts/ensure-chromium`` installs Debian's; ``make test`` runs it). Per
    module: Playwright's sync API keeps an event loop running while it is open, which async tests of
    other modules cannot share."""
    executable = shutil.which("chromium")
    assert executable, "Chromium is missing: run scripts/ensure-chromium"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture()
def gateway_url(tmp_path: Path) -> Iterator[str]:
    """The real gateway app served on a free port, Rasa faked by a local echo server."""
    rasa = ThreadedServer(fake_rasa_app(echo_responder, [])).start()
    settings = load_settings(
        SPORTELLO_RASA_URL=rasa.url, SPORTELLO_DATA_DIR=tmp_path, SPORTELLO_RASA_TIMEOUT=3
    )
    gateway = ThreadedServer(create_app(settings)).start(timeout=120)
    try:
        yield gateway.url
    finally:
        gateway.stop()
        rasa.stop()
