"""Files users send, end to end through the real gateway: a Telegram photo and a WhatsApp PDF reach the
ticket page, only a mediator of the ticket's city may open them, and /forget takes them off the disk."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from sqlalchemy import update
from sqlalchemy.ext.asyncio import async_sessionmaker

from bot.adapters.sql.tables import TicketRow
from bot.conversation.privacy import retention_policy
from bot.core.clock import utcnow
from bot.core.messages import CONTROL_KEY, HandoffRequest
from bot.core.settings import load_settings
from bot.core.tickets import Mediator, Outcome, Ticket
from bot.web.app import create_app
from bot.web.keys import CONVERSATION, DATABASE, MEDIATION, PRIVACY, SETTINGS, TRANSLATIONS
from tests.fakes.fake_graph import FakeGraph, Sender, document_message, fake_graph_app, image_message, sign
from tests.fakes.fake_rasa import echo_responder, fake_rasa_app
from tests.fakes.fake_telegram import FakeTelegram, TelegramUser, fake_telegram_app
from tests.helpers.dashboard import add_mediator, eventually, login, open_ticket, tickets_of

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(256)) * 8
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
APP_SECRET = "whatsapp-app-secret"
AMINA = TelegramUser(5151, "Amina", language_code="en")
ANA = Sender("Ana", "393331234567")
FILE_LINK = re.compile(r'(?:src|href)="(/dashboard/tickets/[^"]+/attachments/\d+)"')


def forgetting_responder(body: dict[str, Any]) -> list[dict[str, Any]]:
    """Rasa as our actions answer: /forget_me (confirmed) erases, anything else is echoed."""
    if body["message"] != "/forget_me":
        return echo_responder(body)
    control = {"recipient_id": body["sender"], "custom": {CONTROL_KEY: {"forget": True}}}
    return [{"recipient_id": body["sender"], "text": "Deleted."}, control]


@dataclass
class Desk:
    app: web.Application
    telegram: FakeTelegram
    graph: FakeGraph
    client: TestClient  # a browser with no session yet
    others: list[TestClient] = field(default_factory=list)

    async def browser(self) -> TestClient:
        """Another browser (its own cookies) on the same running gateway."""
        other = TestClient(self.client.server)
        await other.start_server()  # the server runs already: only a session of its own
        self.others.append(other)
        return other

    def folder(self) -> Path:
        return self.app[SETTINGS].attachments_dir

    def stored_files(self) -> list[Path]:
        return sorted(self.folder().iterdir()) if self.folder().is_dir() else []


@pytest.fixture()
async def desk(tmp_path: Path, aiohttp_server: Any, aiohttp_client: Any) -> AsyncIterator[Desk]:
    """The gateway on fake Rasa, fake Telegram (long polling) and fake WhatsApp, with the dashboard."""
    telegram, graph = FakeTelegram(), FakeGraph()
    telegram_server = await aiohttp_server(fake_telegram_app(telegram))
    graph_server = await aiohttp_server(fake_graph_app(graph))
    rasa = await aiohttp_server(fake_rasa_app(forgetting_responder, []))
    settings = load_settings(
        SPORTELLO_DATA_DIR=tmp_path,
        SPORTELLO_RASA_URL=str(rasa.make_url("")),
        SPORTELLO_MAX_ATTACHMENT_MB=1,
        TELEGRAM_BOT_TOKEN=telegram.token,
        TELEGRAM_API_BASE_URL=str(telegram_server.make_url("/bot")),
        WHATSAPP_ACCESS_TOKEN=graph.token,
        WHATSAPP_PHONE_NUMBER_ID=graph.business.phone_number_id,
        WHATSAPP_APP_SECRET=APP_SECRET,
        WHATSAPP_VERIFY_TOKEN="verify-me",
        WHATSAPP_API_BASE_URL=str(graph_server.make_url("/v21.0")),
    )
    app = create_app(settings)
    running = Desk(app, telegram, graph, await aiohttp_client(app))
    yield running
    for other in running.others:
        await other.session.close()  # not other.close(): that would stop the shared server


async def held_ticket(desk: Desk, user_key: str, holder: Mediator, language: str = "en") -> Ticket:
    ticket = await open_ticket(desk.app, user_key=user_key, language=language)
    return await tickets_of(desk.app).claim(holder, ticket.id)


async def files_of(desk: Desk, ticket: Ticket) -> list[Any]:
    store = desk.app[MEDIATION].attachments
    assert store is not None
    return await store.for_ticket(ticket.id)


def said(desk: Desk, language: str, msgid: str, **values: object) -> str:
    return desk.app[TRANSLATIONS](language)._(msgid, **values)


RECEIVED = "We received your file and added it to your request {ticket}."
TOO_BIG = "This file is too big. Please send a photo or a PDF smaller than {megabytes} MB."
WRONG_TYPE = "I can only receive photos (JPEG or PNG) and PDF documents. Please send one of those."


async def test_a_telegram_photo_reaches_the_mediator_of_its_city_only_and_forget_removes_it(
    desk: Desk,
) -> None:
    anna = await add_mediator(desk.app, "anna@caserta.example")
    await add_mediator(desk.app, "marco@roma.example", cities=("roma",))
    ticket = await held_ticket(desk, f"telegram:{AMINA.id}", anna)

    desk.telegram.enqueue(desk.telegram.photo(user=AMINA, content=JPEG))
    received = said(desk, "en", RECEIVED, ticket=ticket.id)

    async def told() -> bool:
        return received in desk.telegram.texts(AMINA.id)

    await eventually(told)
    [attachment] = await files_of(desk, ticket)
    assert (attachment.kind, attachment.content_type, attachment.size) == ("photo", "image/jpeg", len(JPEG))
    [on_disk] = desk.stored_files()
    assert on_disk.read_bytes() == JPEG and re.fullmatch(r"[0-9a-f]{32}", on_disk.name)
    assert on_disk.stat().st_mode & 0o077 == 0, "only the gateway's user may read it"

    await login(desk.client, "anna@caserta.example")
    page = await (await desk.client.get(f"/dashboard/tickets/{ticket.id}")).text()
    [link] = set(FILE_LINK.findall(page))
    assert f'<img src="{link}"' in page
    image = await desk.client.get(link)
    assert image.status == 200 and await image.read() == JPEG
    assert image.headers["Content-Type"] == "image/jpeg"
    assert image.headers["Content-Disposition"] == f'inline; filename="{ticket.id}-{attachment.id}.jpg"'
    assert image.headers["X-Content-Type-Options"] == "nosniff"
    assert "no-store" in image.headers["Cache-Control"]
    api = await (await desk.client.get(f"/dashboard/api/tickets/{ticket.id}")).json()
    listed = [(f["url"], f["image"], f["content_type"]) for f in api["attachments"]]
    assert listed == [(link, True, "image/jpeg")]

    roma = await desk.browser()
    await login(roma, "marco@roma.example")
    assert (await roma.get(link)).status == 403, "another city's mediator"
    nobody = await desk.browser()
    refused = await nobody.get(link, allow_redirects=False)
    assert refused.status == 403 and "Location" not in refused.headers, "no session"
    assert (await desk.client.get(link.rsplit("/", 1)[0] + "/999")).status == 403, "no such file"

    desk.telegram.enqueue(desk.telegram.command("forget", user=AMINA))

    async def erased() -> bool:
        return "Deleted." in desk.telegram.texts(AMINA.id)

    await eventually(erased)
    assert desk.stored_files() == [] and not on_disk.exists()
    assert await files_of(desk, ticket) == []
    assert (await desk.client.get(link)).status == 403


async def test_a_whatsapp_pdf_is_downloaded_from_the_graph_and_linked(desk: Desk) -> None:
    anna = await add_mediator(desk.app, "anna@caserta.example")
    ticket = await held_ticket(desk, f"whatsapp:{ANA.wa_id}", anna, language="es")
    media = desk.graph.add_media(PDF, "application/pdf")
    desk.graph.user_wrote(ANA.wa_id or "")
    body = json.dumps(document_message(media.media_id, sender=ANA)).encode()
    headers = {"X-Hub-Signature-256": sign(body, APP_SECRET), "Content-Type": "application/json"}
    assert (await desk.client.post("/webhooks/whatsapp", data=body, headers=headers)).status == 200
    received = said(desk, "es", RECEIVED, ticket=ticket.id)

    def texts() -> list[str]:
        return [b["text"]["body"] for b in desk.graph.sent if b.get("type") == "text"]

    async def told() -> bool:
        return received in texts()

    await eventually(told)
    assert desk.graph.downloads == [media.media_id]
    [attachment] = await files_of(desk, ticket)
    assert (attachment.kind, attachment.content_type) == ("document", "application/pdf")
    await login(desk.client, "anna@caserta.example")
    page = await (await desk.client.get(f"/dashboard/tickets/{ticket.id}")).text()
    [link] = set(FILE_LINK.findall(page))
    assert f'href="{link}" download=' in page and f'<img src="{link}"' not in page
    document = await desk.client.get(link)
    assert await document.read() == PDF
    assert document.headers["Content-Disposition"].startswith("attachment; ")


async def test_a_file_too_big_or_not_a_photo_or_pdf_is_refused_politely(desk: Desk) -> None:
    anna = await add_mediator(desk.app, "anna@caserta.example")
    user = TelegramUser(6161, "Oleh", language_code="uk")
    ticket = await held_ticket(desk, f"telegram:{user.id}", anna, language="uk")
    too_big = b"\xff\xd8\xff" + bytes(1024 * 1024)  # over the 1 MB of these settings
    desk.telegram.enqueue(desk.telegram.photo(user=user, content=too_big))
    desk.telegram.enqueue(
        desk.telegram.document("lettera.pdf", "application/pdf", user=user, content=b"MZ\x90\x00 a program")
    )
    big, wrong = said(desk, "uk", TOO_BIG, megabytes=1), said(desk, "uk", WRONG_TYPE)

    async def told() -> bool:
        return desk.telegram.texts(user.id) == [big, wrong]

    await eventually(told)
    assert await files_of(desk, ticket) == [] and desk.stored_files() == []


async def test_a_photo_outside_a_ticket_offers_a_person(desk: Desk) -> None:
    user = TelegramUser(7171, "Samir", language_code="fr")
    desk.telegram.enqueue(desk.telegram.photo(user=user, content=JPEG))
    offer = said(
        desk,
        "fr",
        "I can't read photos or documents. Please write your question in words, or talk to a person: "
        "you can then send them your file.",
    )

    async def told() -> bool:
        return desk.telegram.texts(user.id) == [offer]

    await eventually(told)
    [message] = desk.telegram.sent[user.id]
    [[button]] = message["reply_markup"]["inline_keyboard"]
    assert button["text"] == said(desk, "fr", "Talk to a person")
    assert desk.stored_files() == [] and desk.graph.downloads == []
    assert desk.telegram.calls_to("getFile") == [], "nothing is downloaded without a ticket"


async def test_an_image_message_on_whatsapp_goes_to_the_open_ticket(desk: Desk) -> None:
    """Not held yet (new): the file still joins the user's open ticket."""
    ticket = await open_ticket(desk.app, user_key=f"whatsapp:{ANA.wa_id}", language="es")
    media = desk.graph.add_media(JPEG, "image/jpeg")
    desk.graph.user_wrote(ANA.wa_id or "")
    body = json.dumps(image_message(media.media_id, "mi carta", sender=ANA)).encode()
    headers = {"X-Hub-Signature-256": sign(body, APP_SECRET), "Content-Type": "application/json"}
    await desk.client.post("/webhooks/whatsapp", data=body, headers=headers)

    async def stored() -> bool:
        return len(await files_of(desk, ticket)) == 1

    await eventually(stored)
    [attachment] = await files_of(desk, ticket)
    assert attachment.content_type == "image/jpeg"


async def test_a_photo_instead_of_the_few_words_opens_the_ticket_and_joins_it(desk: Desk) -> None:
    """The user agreed to talk to a person and sends the letter instead of describing it."""
    user = TelegramUser(8181, "Ana", language_code="en")
    key = f"telegram:{user.id}"
    profiles = desk.app[CONVERSATION].profiles
    waiting = (await profiles.get(key)).with_changes(
        language="en", city="caserta", pending_handoff=HandoffRequest()
    )
    await profiles.save(waiting)

    desk.telegram.enqueue(desk.telegram.photo(user=user, content=JPEG))

    async def answered() -> bool:
        return len(desk.telegram.texts(user.id)) == 2

    await eventually(answered)
    [ticket] = await tickets_of(desk.app).open_for_user(key)
    confirmation, received = desk.telegram.texts(user.id)
    assert ticket.id in confirmation and received == said(desk, "en", RECEIVED, ticket=ticket.id)
    assert len(await files_of(desk, ticket)) == 1
    assert (await profiles.get(key)).pending_handoff is None


async def test_retention_takes_the_files_of_long_closed_tickets_off_the_disk(desk: Desk) -> None:
    anna = await add_mediator(desk.app, "anna@caserta.example")
    ticket = await held_ticket(desk, f"telegram:{AMINA.id}", anna)
    desk.telegram.enqueue(desk.telegram.photo(user=AMINA, content=JPEG))

    async def stored() -> bool:
        return len(desk.stored_files()) == 1

    await eventually(stored)
    await tickets_of(desk.app).close(anna, ticket.id, Outcome.RESOLVED)
    policy = retention_policy(desk.app[SETTINGS])
    assert (await desk.app[PRIVACY].expire(policy)).tickets == 0, "closed today: kept"
    assert len(desk.stored_files()) == 1
    async with async_sessionmaker(desk.app[DATABASE]).begin() as session:
        long_ago = utcnow() - policy.closed_tickets - timedelta(days=1)
        await session.execute(update(TicketRow).where(TicketRow.id == ticket.id).values(closed_at=long_ago))

    assert (await desk.app[PRIVACY].expire(policy)).tickets == 1

    assert desk.stored_files() == [] and await files_of(desk, ticket) == []


async def test_a_caption_joins_the_conversation_of_the_ticket(desk: Desk) -> None:
    anna = await add_mediator(desk.app, "anna@caserta.example")
    ticket = await held_ticket(desk, f"telegram:{AMINA.id}", anna)
    desk.telegram.enqueue(desk.telegram.photo(user=AMINA, content=JPEG, caption="The letter came today"))

    async def stored() -> bool:
        return len(await files_of(desk, ticket)) == 1

    await eventually(stored)
    after = await tickets_of(desk.app).get(ticket.id)
    assert after.transcript[-1].text == "The letter came today"
