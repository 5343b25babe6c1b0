"""The dashboard's own words in the mediator's language: Italian (the default) or English.

Staff strings are a gettext domain of their own, ``dashboard`` (``locales/it|en/LC_MESSAGES/dashboard.po``),
apart from the bot's ``messages`` that every one of the twelve languages must carry. The English text is
the msgid. How to mark a string (``make locales`` extracts every one of ``bot/web/dashboard/``):

- in a template: ``{{ _("Log out") }}``; with values ``{{ _("Ticket {id}", id=ticket.id) }}`` (values are
  escaped, the translation is not: it is ours);
- in Python, a label kept in a table: ``N_("New")`` marks it, ``tr._(label)`` translates it when rendering
  (``tr = translator(request)``, in ``responses``); a message made on the spot:
  ``translator(request)._("Reply sent.")``;
- in ``static/dashboard.js``: ``_("Reconnecting…")``; the page hands the script the translations of the
  strings the script marks (``script_strings``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

from babel.messages.extract import extract
from markupsafe import Markup

from bot.core.i18n import Translator, po_path, read_catalog
from bot.core.tickets import STAFF_LANGUAGES

DOMAIN = "dashboard"
LANGUAGES = STAFF_LANGUAGES
DEFAULT_LANGUAGE = STAFF_LANGUAGES[0]  # Italian
LANGUAGE_LABELS = {"it": "Italiano", "en": "English"}  # each in its own language: never translated
QUERY = "lang"  # ?lang=en on the login page, before anyone is logged in


def N_(msgid: str) -> str:  # the gettext convention, and an extraction keyword
    """Marks a string for extraction without translating it (labels in module-level tables)."""
    return msgid


def chosen(language: str | None) -> str:
    """A dashboard language: the one asked for if the dashboard has it, else Italian."""
    return language if language in LANGUAGES else DEFAULT_LANGUAGE


class DashboardTranslations:
    """Both dashboard catalogs, read once at start-up, and the strings ``dashboard.js`` marks."""

    def __init__(self, locales_dir: Path, scripts: Iterable[Path] = ()) -> None:
        self._translators = {
            language: Translator(language, read_catalog(po_path(locales_dir, language, DOMAIN)))
            for language in LANGUAGES
        }
        self.script_msgids = tuple(sorted({m for path in scripts for m in script_msgids(path)}))

    def __call__(self, language: str | None) -> Translator:
        return self._translators[chosen(language)]

    def script_strings(self, language: str | None) -> dict[str, str]:
        """msgid -> text of every string the script marks, for the page to embed as JSON."""
        tr = self(language)
        return {msgid: tr._(msgid) for msgid in self.script_msgids}


def script_msgids(path: Path) -> list[str]:
    """The msgids a script marks with ``_("...")``, read with Babel's own JavaScript extractor."""
    with path.open("rb") as handle:
        found = extract("javascript", handle, keywords={"_": None})
        return [message for _line, message, _comments, _context in found if isinstance(message, str)]


def template_gettext(tr: Translator) -> Callable[..., Markup]:
    """``_`` for templates: the translation, with ``{placeholders}`` filled by escaped values."""

    def gettext(msgid: str, **values: object) -> Markup:
        text = Markup(tr.strings.get(msgid) or msgid)
        return text.format(**values) if values else text  # Markup.format escapes the values

    return gettext
