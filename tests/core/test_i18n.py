"""Every language gets every interface string, with the same placeholders."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from bot.core.i18n import Translations, po_path
from bot.core.languages import LANGUAGES
from bot.core.settings import PROJECT_DIR

LOCALES = PROJECT_DIR / "locales"
PLACEHOLDER = re.compile(r"\{(\w+)\}")


def template_ids() -> set[str]:
    with (LOCALES / "messages.pot").open("rb") as handle:
        return {str(m.id) for m in read_po(handle) if m.id}


def test_template_matches_the_code(tmp_path: Path) -> None:
    fresh = tmp_path / "messages.pot"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "babel.messages.frontend",
            "extract",
            "-F",
            "babel.cfg",
            "-k",
            "_",
            "-k",
            "t",
            "--no-location",
            "--omit-header",
            "--sort-output",
            "--ignore-dirs",
            ".* _* dashboard",  # the dashboard's strings are a domain of their own (make locales)
            "-o",
            str(fresh),
            ".",
        ],
        cwd=PROJECT_DIR,
        check=True,
        capture_output=True,
    )
    with fresh.open("rb") as handle:
        in_code = {str(m.id) for m in read_po(handle) if m.id}
    assert in_code == template_ids(), "run: make locales (pybabel extract) and translate new strings"


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_string_is_translated_with_the_same_placeholders(language: str) -> None:
    with po_path(LOCALES, language).open("rb") as handle:
        catalog = {str(m.id): str(m.string) for m in read_po(handle) if m.id}
    for msgid in template_ids():
        translated = catalog.get(msgid, "")
        assert translated.strip(), f"{language}: missing translation of {msgid!r}"
        assert set(PLACEHOLDER.findall(translated)) == set(PLACEHOLDER.findall(msgid)), (language, msgid)


def test_translator_fills_placeholders() -> None:
    tr = Translations(LOCALES)("it")
    assert "Caserta" in tr._("OK, your city is {city}.", city="Caserta")
    assert tr._("OK, your city is {city}.", city="X") != "OK, your city is X."
