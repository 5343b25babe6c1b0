"""The ticket page for a mediator who does not read the user's language: machine translation through a
local LibreTranslate, knowledge entries and ready replies in the user's language, the drafted reply."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from bot.core.clock import utcnow
from bot.core.tickets import Author, Entry, Role
from bot.web.keys import TRANSLATIONS
from tests.fakes.fake_libretranslate import FakeLibreTranslate
from tests.helpers.dashboard import add_mediator, dashboard_app, login, mailbox_of, open_ticket, tickets_of

BENGALI = "বাড়িওয়ালা তালা বদলে দিয়েছে, আমার জিনিস ভেতরে"
ITALIAN = "Il padrone di casa ha cambiato la serratura, le mie cose sono dentro"


@pytest.fixture()
async def libretranslate(aiohttp_server: Any) -> tuple[FakeLibreTranslate, str]:
    fake = FakeLibreTranslate(api_key="caserta-key")
    fake.learn("bn", "it", BENGALI, ITALIAN)
    fake.learn("it", "bn", "Domani alle 10 allo sportello", "কাল সকাল ১০টায় অফিসে আসুন")
    server = await aiohttp_server(fake.app())
    return fake, str(server.make_url(""))


@pytest.fixture()
async def app(
    tmp_path: Path, aiohttp_server: Any, libretranslate: tuple[FakeLibreTranslate, str]
) -> web.Application:
    _, url = libretranslate
    return await dashboard_app(
        tmp_path, aiohttp_server, LIBRETRANSLATE_URL=url, LIBRETRANSLATE_API_KEY="caserta-key"
    )


@pytest.fixture()
async def client(app: web.Application, aiohttp_client: Any) -> TestClient:
    return await aiohttp_client(app)


async def bengali_ticket(app: web.Application, user_key: str = "telegram:880") -> str:
    said = (Entry(Author.USER, BENGALI, utcnow()),)
    ticket = await open_ticket(app, language="bn", topic="eviction", user_key=user_key, transcript=said)
    return ticket.id


async def sent_texts(app: web.Application, user_key: str = "telegram:880") -> list[str]:
    return [row.text for row in await mailbox_of(app).outbox_rows(user_key)]


async def test_the_users_words_are_shown_in_italian_beside_the_original(
    app: web.Application, client: TestClient
) -> None:
    await add_mediator(app, "marco@caserta.example", languages=("it",))
    ticket_id = await bengali_ticket(app)
    await login(client, "marco@caserta.example")
    page = await (await client.get(f"/dashboard/tickets/{ticket_id}")).text()
    assert BENGALI in page and ITALIAN in page
    assert 'class="machine"' in page  # marked as machine translation, not mixed with what was written


async def test_a_knowledge_entry_goes_in_bengali_with_caserta_offices(
    app: web.Application, client: TestClient
) -> None:
    await add_mediator(app, "marco@caserta.example", languages=("it",))
    ticket_id = await bengali_ticket(app)
    token = await login(client, "marco@caserta.example")
    page = await (
        await client.get(f"/dashboard/tickets/{ticket_id}", params={"knowledge": "eviction"})
    ).text()
    preview = page.split('id="knowledge-preview"', 1)[1].split("</form>", 1)[0]
    assert "sfratto" in preview.split("preview-theirs", 1)[0]  # the Italian version, for the mediator
    assert 'lang="bn"' in preview and "Caserta" in preview
    response = await client.post(
        f"/dashboard/tickets/{ticket_id}/knowledge",
        data={"topic": "eviction", "csrf_token": token},
        allow_redirects=False,
    )
    assert response.status == 303
    texts = await sent_texts(app)
    assert len(texts) >= 3 and "112" in texts[0] and any("Caserta" in t for t in texts)
    assert all(not t.isascii() for t in texts[:2])  # Bengali, not Italian or English
    ticket = await tickets_of(app).get(ticket_id)
    assert [e.text for e in ticket.transcript if e.author is Author.MEDIATOR] == texts


async def test_a_ready_reply_needs_its_date_and_carries_the_ticket_number(
    app: web.Application, client: TestClient
) -> None:
    await add_mediator(app, "marco@caserta.example", languages=("it",))
    ticket_id = await bengali_ticket(app)
    token = await login(client, "marco@caserta.example")
    url = f"/dashboard/api/tickets/{ticket_id}/canned"
    headers = {"X-CSRF-Token": token}
    missing = await client.post(url, json={"reply": "appointment"}, headers=headers)
    assert missing.status == 400 and await sent_texts(app) == []
    wrong = await client.post(url, json={"reply": "appointment", "date": "31/12"}, headers=headers)
    assert wrong.status == 400
    unknown = await client.post(url, json={"reply": "no_such_reply"}, headers=headers)
    assert unknown.status == 400
    ok = await client.post(url, json={"reply": "appointment", "date": "2026-12-10"}, headers=headers)
    assert ok.status == 200
    [text] = await sent_texts(app)
    assert "10/12/2026" in text and ticket_id in text and "অ্যাপয়েন্টমেন্ট" in text and "Corso Trieste" in text


async def test_a_drafted_reply_is_sent_marked_with_the_original_kept(
    app: web.Application, client: TestClient, libretranslate: tuple[FakeLibreTranslate, str]
) -> None:
    await add_mediator(app, "marco@caserta.example", languages=("it",))
    ticket_id = await bengali_ticket(app)
    token = await login(client, "marco@caserta.example")
    headers = {"X-CSRF-Token": token}
    draft = await client.post(
        f"/dashboard/api/tickets/{ticket_id}/draft",
        json={"text": "Domani alle 10 allo sportello"},
        headers=headers,
    )
    body = await draft.json()
    assert draft.status == 200 and body["draft"] == "কাল সকাল ১০টায় অফিসে আসুন" and body["language"] == "bn"
    assert await sent_texts(app) == [], "a draft sends nothing"
    fields = {"text": body["draft"], "original": "Domani alle 10 allo sportello"}
    sent = await client.post(f"/dashboard/api/tickets/{ticket_id}/translated", json=fields, headers=headers)
    assert sent.status == 200
    [text] = await sent_texts(app)
    mark = app[TRANSLATIONS]("bn")._("(Translated by a machine from what the person wrote.)")
    assert text.startswith("কাল সকাল ১০টায় অফিসে আসুন") and text.endswith(mark) and mark.isascii() is False
    ticket = await tickets_of(app).get(ticket_id)
    assert any("Domani alle 10 allo sportello" in note.text for note in ticket.notes)


async def test_another_citys_mediator_gets_403_and_nothing_is_translated_for_them(
    app: web.Application, client: TestClient, libretranslate: tuple[FakeLibreTranslate, str]
) -> None:
    fake, _ = libretranslate
    await add_mediator(app, "rita@roma.example", cities=("roma",))
    ticket_id = await bengali_ticket(app)
    token = await login(client, "rita@roma.example")
    headers = {"X-CSRF-Token": token}
    for action, fields in (
        ("knowledge", {"topic": "eviction"}),
        ("canned", {"reply": "still_working"}),
        ("draft", {"text": "ciao"}),
        ("translated", {"text": "x", "original": "y"}),
    ):
        response = await client.post(
            f"/dashboard/api/tickets/{ticket_id}/{action}", json=fields, headers=headers
        )
        assert response.status == 403, action
    assert (await client.get(f"/dashboard/tickets/{ticket_id}")).status == 403
    assert fake.requests == [] and await sent_texts(app) == []


async def test_a_failing_translation_service_leaves_the_page_readable(
    app: web.Application, client: TestClient, libretranslate: tuple[FakeLibreTranslate, str]
) -> None:
    fake, _ = libretranslate
    fake.failing = True
    await add_mediator(app, "marco@caserta.example", languages=("it",))
    ticket_id = await bengali_ticket(app)
    token = await login(client, "marco@caserta.example")
    response = await client.get(f"/dashboard/tickets/{ticket_id}")
    page = await response.text()
    assert response.status == 200 and BENGALI in page and ITALIAN not in page and 'class="notice"' in page
    draft = await client.post(
        f"/dashboard/api/tickets/{ticket_id}/draft", json={"text": "ciao"}, headers={"X-CSRF-Token": token}
    )
    assert draft.status == 400


async def test_without_a_translation_service_nothing_is_sent_anywhere(
    tmp_path: Path, aiohttp_server: Any, aiohttp_client: Any, libretranslate: tuple[FakeLibreTranslate, str]
) -> None:
    fake, _ = libretranslate
    app = await dashboard_app(tmp_path, aiohttp_server)  # no LIBRETRANSLATE_URL
    client = await aiohttp_client(app)
    await add_mediator(app, "marco@caserta.example", languages=("it",))
    ticket_id = await bengali_ticket(app)
    token = await login(client, "marco@caserta.example")
    page = await (await client.get(f"/dashboard/tickets/{ticket_id}")).text()
    assert 'id="draft-button"' not in page and 'class="machine"' not in page
    draft = await client.post(
        f"/dashboard/api/tickets/{ticket_id}/draft", json={"text": "ciao"}, headers={"X-CSRF-Token": token}
    )
    assert draft.status == 400 and fake.requests == []
    # knowledge entries and ready replies need no machine: they are the staff's own translations
    response = await client.post(
        f"/dashboard/api/tickets/{ticket_id}/canned",
        json={"reply": "still_working"},
        headers={"X-CSRF-Token": token},
    )
    assert response.status == 200 and ticket_id in (await sent_texts(app))[0]


@pytest.mark.parametrize("role", [Role.MEDIATOR, Role.COORDINATOR])
async def test_an_english_speaking_mediator_reads_english(
    app: web.Application, client: TestClient, role: Role, libretranslate: tuple[FakeLibreTranslate, str]
) -> None:
    fake, _ = libretranslate
    await add_mediator(app, "sam@caserta.example", role=role)
    ticket_id = await bengali_ticket(app)
    token = await login(client, "sam@caserta.example")
    await client.post("/dashboard/language", data={"language": "en", "csrf_token": token})
    page = await (await client.get(f"/dashboard/tickets/{ticket_id}")).text()
    assert f"[en] {BENGALI}" in page and fake.requests[-1]["target"] == "en"
