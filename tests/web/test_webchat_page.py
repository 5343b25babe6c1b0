"""The chat page itself (``templates/index.html``, ``static/chat.js``, ``webchat.page_context``) in a real
headless Chromium: its frame (title, label, placeholder, button) speaks the user's language, right to left
for Arabic and Urdu, switches in place when the user chooses another language, and stays on reload."""

from __future__ import annotations

from typing import Any

import pytest

from bot.core.i18n import Translations, Translator
from bot.core.languages import LANGUAGES
from bot.core.settings import PROJECT_DIR

TRANSLATIONS = Translations(PROJECT_DIR / "locales")
TITLE, LANGUAGE, PLACEHOLDER, SEND = (
    "Sportello: help desk for migrants",
    "Language",
    "Write your question in your language",
    "Send",
)
FRAME = (
    TITLE,
    LANGUAGE,
    "Conversation",
    "Your message",
    PLACEHOLDER,
    "Send a photo or a PDF",
    SEND,
    "Writing…",
    "Sorry, the assistant is not available right now. Please try again in a few minutes.",
    "Your message went to the person from the one-stop shop who is following your request.",
)
SAME_IN_FRENCH = {"Conversation"}


def frame_of(page: Any) -> dict[str, str]:
    """What the page's frame says, and which way it runs."""
    return {
        "lang": page.evaluate("document.documentElement.lang"),
        "dir": page.evaluate("document.documentElement.dir"),
        "flow": page.evaluate("getComputedStyle(document.body).direction"),
        "title": page.title(),
        "heading": page.inner_text("#title"),
        "label": page.inner_text("#language-label"),
        "placeholder": page.get_attribute("#text", "placeholder") or "",
        "button": page.inner_text("#send"),
    }


def expected_frame(tr: Translator, direction: str) -> dict[str, str]:
    return {
        "lang": tr.language,
        "dir": direction,
        "flow": direction,
        "title": tr._(TITLE),
        "heading": tr._(TITLE),
        "label": tr._(LANGUAGE),
        "placeholder": tr._(PLACEHOLDER),
        "button": tr._(SEND),
    }


def starts_right(page: Any, first: str, second: str) -> bool:
    """Whether ``first`` sits to the right of ``second`` (a right-to-left row)."""
    return bool(page.locator(first).bounding_box()["x"] > page.locator(second).bounding_box()["x"])


def test_every_language_has_the_frame_translated() -> None:
    for language in LANGUAGES:
        strings = TRANSLATIONS(language).strings
        missing = [m for m in FRAME if m not in strings]
        untranslated = [m for m in FRAME if strings.get(m) == m and language != "en"]
        if language == "fr":
            untranslated = [m for m in untranslated if m not in SAME_IN_FRENCH]
        assert not missing and not untranslated, (language, missing, untranslated)


@pytest.mark.parametrize("language", ["ar", "ur"])
def test_the_frame_is_in_the_users_language_and_right_to_left(
    chromium: Any, gateway_url: str, language: str
) -> None:
    page = chromium.new_page(viewport={"width": 800, "height": 700})
    page.goto(f"{gateway_url}/?lang={language}")
    assert frame_of(page) == expected_frame(TRANSLATIONS(language), "rtl")
    assert starts_right(page, "#title", "#language")  # the header runs from the right
    assert starts_right(page, "#text", "#send")  # the composer too: the button is at the far left
    page.close()


def test_the_frame_is_left_to_right_for_italian(chromium: Any, gateway_url: str) -> None:
    page = chromium.new_page(viewport={"width": 800, "height": 700})
    page.goto(f"{gateway_url}/")
    assert frame_of(page) == expected_frame(TRANSLATIONS("it"), "ltr")
    assert starts_right(page, "#language", "#title") and starts_right(page, "#send", "#text")
    page.close()


def test_choosing_a_language_switches_the_frame_and_a_reload_keeps_it(
    chromium: Any, gateway_url: str
) -> None:
    page = chromium.new_page(viewport={"width": 800, "height": 700})
    page.goto(f"{gateway_url}/?lang=it")
    page.select_option("#language", "ar")
    arabic = expected_frame(TRANSLATIONS("ar"), "rtl")
    assert frame_of(page) == arabic  # at once, before the assistant answers
    page.wait_for_selector("li.msg.bot")  # the assistant's answer (in Arabic) keeps the Arabic frame
    assert frame_of(page) == arabic
    assert page.evaluate("new URL(location.href).searchParams.get('lang')") == "ar"
    page.reload()
    assert frame_of(page) == arabic
    assert starts_right(page, "#text", "#send")
    page.select_option("#language", "zh")
    assert frame_of(page) == expected_frame(TRANSLATIONS("zh"), "ltr")
    page.close()
