"""The dashboard in Italian (the default) and English: every marked string has its Italian, an Italian
mediator's pages carry no English msgid, and each mediator's choice is kept."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from babel.messages.frontend import CommandLineInterface
from babel.messages.pofile import read_po

from bot.core.clock import utcnow
from bot.core.settings import PROJECT_DIR
from bot.core.tickets import Author, Entry, Role
from bot.web.dashboard.i18n import DashboardTranslations, script_msgids, template_gettext
from bot.web.keys import KNOWLEDGE, MEDIATORS
from tests.helpers.dashboard import add_mediator, csrf_token_in, login, open_ticket

DASHBOARD_DIR = PROJECT_DIR / "bot" / "web" / "dashboard"
ITALIAN_PO = PROJECT_DIR / "locales" / "it" / "LC_MESSAGES" / "dashboard.po"
PLACEHOLDER = re.compile(r"\{(\w+)\}")
VOID = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}
)
SEEN_ATTRIBUTES = ("aria-label", "placeholder", "title", "alt")


def marked_msgids(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> set[str]:
    """Every string the dashboard's sources mark, extracted as `make locales` does (babel.cfg)."""
    sources = sorted(
        str(p.relative_to(PROJECT_DIR))
        for p in DASHBOARD_DIR.rglob("*")
        if p.suffix in {".py", ".html", ".js"} and "__pycache__" not in p.parts
    )
    template = tmp_path / "dashboard.pot"
    monkeypatch.chdir(PROJECT_DIR)  # babel.cfg's patterns are relative to the project
    CommandLineInterface().run(
        ["pybabel", "-q", "extract", "-F", "babel.cfg", "-k", "_", "-k", "N_", "--omit-header",
         "-o", str(template), *sources]
    )  # fmt: skip
    with template.open("rb") as handle:
        return {str(m.id) for m in read_po(handle) if m.id}


def italian() -> dict[str, str]:
    with ITALIAN_PO.open("rb") as handle:
        return {str(m.id): str(m.string) for m in read_po(handle) if m.id and m.string and not m.fuzzy}


# the catalog -----------------------------------------------------------------------------------------
def test_every_dashboard_string_has_its_italian(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    marked = marked_msgids(tmp_path, monkeypatch)
    assert {"Log in", "Not possible: {reason}.", "New", "Queue updated at {time}"} <= marked  # all kinds
    missing = sorted(marked - set(italian()))
    assert not missing, (
        f"no Italian in locales/it/LC_MESSAGES/dashboard.po (make locales, then fill): {missing}"
    )


def test_translations_keep_their_placeholders() -> None:
    wrong = {
        msgid: text
        for msgid, text in italian().items()
        if set(PLACEHOLDER.findall(msgid)) != set(PLACEHOLDER.findall(text))
    }
    assert not wrong


def test_the_script_gets_the_strings_it_marks() -> None:
    strings = DashboardTranslations(PROJECT_DIR / "locales", [DASHBOARD_DIR / "static" / "dashboard.js"])
    assert "Nobody" in script_msgids(DASHBOARD_DIR / "static" / "dashboard.js")
    assert strings.script_strings("it")["Nobody"] == "Nessuno"
    assert strings.script_strings("en")["Nobody"] == "Nobody"
    assert strings.script_strings("ar") == strings.script_strings("it")  # Italian for any other code


def test_template_values_are_escaped_and_the_translation_is_not() -> None:
    strings = DashboardTranslations(PROJECT_DIR / "locales")
    gettext = template_gettext(strings("it"))
    assert str(gettext("Ticket {id}", id="<b>CE</b>")) == "Ticket &lt;b&gt;CE&lt;/b&gt;"
    assert str(gettext("Reply sent.")) == "Risposta inviata."


# the pages -------------------------------------------------------------------------------------------
class VisibleText(HTMLParser):
    """The texts a mediator reads (text and labelling attributes), but not inside an element in another
    language than the page's (what users wrote, each language's own name) nor scripts; the embedded
    strings apart."""

    def __init__(self) -> None:
        super().__init__()
        self.texts: list[str] = []
        self.script_strings: dict[str, str] = {}
        self._open: list[tuple[str, bool]] = []  # (tag, is foreign or a script)
        self._script_id = ""
        self.language = ""  # the page's own, from <html lang>

    def _skipping(self) -> bool:
        return any(skip for _, skip in self._open)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "html":
            self.language = values.get("lang") or ""
        foreign = values.get("lang") not in (None, self.language) or tag in {"script", "style"}
        if not self._skipping() and not foreign:
            self.texts.extend(v for k, v in attrs if k in SEEN_ATTRIBUTES and v)
        self._script_id = values.get("id") or "" if tag == "script" else ""
        if tag not in VOID:
            self._open.append((tag, foreign))

    def handle_endtag(self, tag: str) -> None:
        self._script_id = ""
        while self._open:
            if self._open.pop()[0] == tag:
                break

    def handle_data(self, data: str) -> None:
        if self._script_id == "dashboard-strings":
            self.script_strings = json.loads(data)
        elif not self._skipping() and data.strip():
            self.texts.append(" ".join(data.split()))


def read_page(html: str) -> VisibleText:
    parser = VisibleText()
    parser.feed(html)
    return parser


def english_left(texts: list[str], translations: dict[str, str]) -> list[str]:
    """The English msgids (those whose Italian differs) that a page still shows."""
    found = []
    for msgid, text in translations.items():
        if msgid == text:
            continue
        pattern = re.compile(PLACEHOLDER.sub(".+?", re.escape(msgid).replace(r"\{", "{").replace(r"\}", "}")))
        whole = len(msgid) < 15  # a short word counts only as a whole text ("New", "Due")
        if any(pattern.fullmatch(t) if whole else pattern.search(t) for t in texts):
            found.append(msgid)
    return found


async def italian_coordinator_pages(app: web.Application, client: TestClient) -> list[tuple[str, str]]:
    """(name, html) of every page kind, for a coordinator who never chose a language."""
    coordinator = await add_mediator(app, "giulia@caserta.example", role=Role.COORDINATOR, name="Giulia")
    await add_mediator(app, "anna@caserta.example", name="Anna")
    assert coordinator.language == "it"
    login_page = await (await client.get("/dashboard/login")).text()
    transcript = (Entry(Author.USER, "I need help", utcnow()), Entry(Author.BOT, "One moment", utcnow()))
    ticket = await open_ticket(app, urgent=True, transcript=transcript)
    other = await open_ticket(app, city="roma", user_key="telegram:2")
    token = await login(client, coordinator.email)
    await client.post(f"/dashboard/tickets/{ticket.id}/claim", data={"csrf_token": token})
    await client.post(f"/dashboard/tickets/{ticket.id}/note", data={"csrf_token": token, "text": "ok"})
    pages = [("login", login_page)]
    pages.append(("queue", await (await client.get("/dashboard")).text()))
    pages.append(("ticket", await (await client.get(f"/dashboard/tickets/{ticket.id}?done=note")).text()))
    forbidden = await client.get(f"/dashboard/tickets/{other.id}")
    assert forbidden.status == 403
    pages.append(("error 403", await forbidden.text()))
    await client.post(f"/dashboard/tickets/{ticket.id}/release", data={"csrf_token": token})
    not_held = await client.post(f"/dashboard/tickets/{ticket.id}/release", data={"csrf_token": token})
    assert not_held.status == 409
    pages.append(("error 409", await not_held.text()))
    await client.post(
        f"/dashboard/tickets/{ticket.id}/close", data={"csrf_token": token, "outcome": "resolved"}
    )
    pages.append(("closed ticket", await (await client.get(f"/dashboard/tickets/{ticket.id}")).text()))
    return pages


async def test_an_italian_mediator_reads_every_page_in_italian(
    app: web.Application, client: TestClient
) -> None:
    translations = italian()
    expected = {
        "login": ["Accedi", "Riservato a mediatori e coordinatori degli sportelli."],
        "queue": ["Coda", "Azzera i filtri", "Urgente", "Giulia (Coordinamento) · Caserta"],
        "ticket": ["Nota salvata.", "Note interne", "Utente", "Assistente", "Affida questo ticket a"],
        "error 403": ["Accesso negato", "Il ticket non esiste, oppure non è di una delle tue città."],
        "error 409": [
            "Operazione non possibile: nessuno ha in carico questo ticket: non c'è niente da rilasciare."
        ],
        "closed ticket": ["Risolto (chiuso il", "Chiuso"],
    }
    for name, html in await italian_coordinator_pages(app, client):
        assert '<html lang="it">' in html, name
        page = read_page(html)
        assert not english_left(page.texts, translations), name
        text = "\n".join(page.texts)
        assert all(words in text for words in expected[name]), (name, expected[name])
        assert page.script_strings["Nobody"] == "Nessuno", name


async def test_topic_and_language_names_are_in_the_mediators_language(
    app: web.Application, client: TestClient
) -> None:
    mediator = await add_mediator(app, "anna@caserta.example")
    await open_ticket(app, language="ar", topic="residence_permit_renewal")
    texts = app[KNOWLEDGE].current().texts
    italian_title = texts["it"].topics["residence_permit_renewal"].title
    english_title = texts["en"].topics["residence_permit_renewal"].title
    assert italian_title != english_title
    token = await login(client, mediator.email)
    queue = await (await client.get("/dashboard")).text()
    assert italian_title in queue and "Arabo · العربية" in queue
    await client.post(
        "/dashboard/language", data={"csrf_token": token, "language": "en", "next": "/dashboard"}
    )
    queue = await (await client.get("/dashboard")).text()
    assert english_title in queue and "Arabic · العربية" in queue


async def test_the_english_choice_renders_english_and_is_kept(
    app: web.Application, client: TestClient
) -> None:
    anna = await add_mediator(app, "anna@caserta.example")
    ticket = await open_ticket(app)
    token = await login(client, anna.email)
    chosen = await client.post(
        "/dashboard/language",
        data={"csrf_token": token, "language": "en", "next": f"/dashboard/tickets/{ticket.id}"},
        allow_redirects=False,
    )
    assert chosen.status == 303 and chosen.headers["Location"] == f"/dashboard/tickets/{ticket.id}"
    assert (await app[MEDIATORS].get(anna.id)).language == "en"  # type: ignore[union-attr]
    page = await (await client.get(f"/dashboard/tickets/{ticket.id}")).text()
    assert '<html lang="en">' in page and "Internal notes" in page and "Note interne" not in page
    assert "Internal notes" in english_left(read_page(page).texts, italian())  # what the check would catch
    await client.post("/dashboard/logout", data={"csrf_token": token})
    await login(client, anna.email)  # a new session: still English
    queue = await (await client.get("/dashboard")).text()
    assert "Clear filters" in queue and "Azzera i filtri" not in queue
    assert read_page(queue).script_strings["Nobody"] == "Nobody"


async def test_a_language_the_dashboard_does_not_speak_is_refused(
    app: web.Application, client: TestClient
) -> None:
    anna = await add_mediator(app, "anna@caserta.example")
    token = await login(client, anna.email)
    refused = await client.post("/dashboard/language", data={"csrf_token": token, "language": "ar"})
    assert refused.status == 400 and "Scegli italiano o inglese." in await refused.text()
    assert (await app[MEDIATORS].get(anna.id)).language == "it"  # type: ignore[union-attr]
    no_token = await client.post("/dashboard/language", data={"language": "en"})
    assert no_token.status == 403


async def test_the_login_page_speaks_the_language_asked_for_and_keeps_it(
    app: web.Application, client: TestClient
) -> None:
    anna = await add_mediator(app, "anna@caserta.example")
    italian_page = await (await client.get("/dashboard/login")).text()
    assert '<html lang="it">' in italian_page and 'href="/dashboard/login?lang=en' in italian_page
    english_page = await (await client.get("/dashboard/login?lang=en")).text()
    assert '<html lang="en">' in english_page and "For mediators and coordinators" in english_page
    assert 'action="/dashboard/login?lang=en"' in english_page
    form = {"csrf_token": csrf_token_in(english_page), "email": anna.email, "password": "wrong" * 3}
    wrong = await client.post("/dashboard/login?lang=en", data=form)
    assert wrong.status == 401 and "Wrong e-mail or password." in await wrong.text()
    form["password"] = "correct horse battery staple"
    form["csrf_token"] = csrf_token_in(await (await client.get("/dashboard/login?lang=en")).text())
    done = await client.post("/dashboard/login?lang=en", data=form, allow_redirects=False)
    assert done.status == 303
    assert (await app[MEDIATORS].get(anna.id)).language == "en"  # type: ignore[union-attr]
    assert "Clear filters" in await (await client.get("/dashboard")).text()
