"""The web chat's upload, through the real gateway: on the session the server issued, a photo joins the
session's ticket and the page is told; no session, no ticket, too big or no photo or PDF are each
answered without keeping anything."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from bot.core.settings import load_settings
from bot.web.app import create_app
from bot.web.keys import MEDIATION, SETTINGS, TRANSLATIONS
from bot.web.webchat import SESSION_COOKIE, session_user
from tests.fakes.fake_rasa import echo_responder, fake_rasa_app
from tests.helpers.dashboard import open_ticket

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(200)


@pytest.fixture()
async def client(tmp_path: Path, aiohttp_server: Any, aiohttp_client: Any) -> TestClient:
    rasa = await aiohttp_server(fake_rasa_app(echo_responder, []))
    settings = load_settings(
        SPORTELLO_DATA_DIR=tmp_path, SPORTELLO_RASA_URL=str(rasa.make_url("")), SPORTELLO_MAX_ATTACHMENT_MB=1
    )
    return await aiohttp_client(create_app(settings))


async def chat_session(client: TestClient) -> str:
    """Open the chat page as a browser does: the server issues the session (a cookie)."""
    await client.get("/")
    cookie = client.session.cookie_jar.filter_cookies(client.make_url("/"))[SESSION_COOKIE]
    return cookie.value


def form(content: bytes, content_type: str = "image/png", language: str = "ar") -> aiohttp.FormData:
    data = aiohttp.FormData()
    data.add_field("language", language)
    data.add_field("file", content, filename="upload", content_type=content_type)
    return data


def said(app: web.Application, language: str, msgid: str, **values: object) -> str:
    return app[TRANSLATIONS](language)._(msgid, **values)


async def stored(app: web.Application, ticket_id: str) -> list[Any]:
    store = app[MEDIATION].attachments
    assert store is not None
    return await store.for_ticket(ticket_id)


async def test_a_photo_from_the_page_joins_the_sessions_ticket(client: TestClient) -> None:
    app = client.app
    token = await chat_session(client)
    ticket = await open_ticket(app, user_key=f"webchat:{session_user(token)}", language="ar")

    response = await client.post("/api/chat/attachment", data=form(PNG))

    assert response.status == 200
    body = await response.json()
    received = "We received your file and added it to your request {ticket}."
    assert [r["text"] for r in body["replies"]] == [said(app, "ar", received, ticket=ticket.id)]
    assert body["language"] == "ar" and body["direction"] == "rtl"
    [attachment] = await stored(app, ticket.id)
    assert (attachment.kind, attachment.content_type, attachment.size) == ("photo", "image/png", len(PNG))


async def test_too_big_or_not_a_photo_or_pdf_keeps_nothing(client: TestClient) -> None:
    app = client.app
    token = await chat_session(client)
    ticket = await open_ticket(app, user_key=f"webchat:{session_user(token)}", language="it")
    too_big = PNG + bytes(app[SETTINGS].max_attachment_bytes)
    big = await (await client.post("/api/chat/attachment", data=form(too_big, language="it"))).json()
    limit = "This file is too big. Please send a photo or a PDF smaller than {megabytes} MB."
    assert [r["text"] for r in big["replies"]] == [said(app, "it", limit, megabytes=1)]
    html = b"<html><script>alert(1)</script></html>"
    sneaky = await (await client.post("/api/chat/attachment", data=form(html, "image/png", "it"))).json()
    wrong = "I can only receive photos (JPEG or PNG) and PDF documents. Please send one of those."
    assert [r["text"] for r in sneaky["replies"]] == [said(app, "it", wrong)]
    assert await stored(app, ticket.id) == []
    assert not app[SETTINGS].attachments_dir.exists() or list(app[SETTINGS].attachments_dir.iterdir()) == []


async def test_without_a_ticket_the_page_is_offered_a_person(client: TestClient) -> None:
    await chat_session(client)
    body = await (await client.post("/api/chat/attachment", data=form(PNG, language="fr"))).json()
    [reply] = body["replies"]
    person = {"title": said(client.app, "fr", "Talk to a person"), "payload": "/ask_human"}
    assert reply["buttons"] == [person]
    assert not client.app[SETTINGS].attachments_dir.exists()


async def test_no_session_or_no_file_is_a_400(client: TestClient) -> None:
    no_session = await client.post("/api/chat/attachment", data=form(PNG))
    assert no_session.status == 400 and (await no_session.json())["error"] == "invalid_request"
    await chat_session(client)
    not_multipart = await client.post("/api/chat/attachment", json={"file": "x"})
    assert not_multipart.status == 400
    only_language = aiohttp.FormData()
    only_language.add_field("language", "it")
    only_language.add_field("note", "no file", filename="note.txt", content_type="text/plain")
    assert (await client.post("/api/chat/attachment", data=only_language)).status == 400


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("multipart/form-data", b"--x\r\n\r\n"),  # no boundary
        ("multipart/form-data; boundary=z", b"--z\r\nContent-Disposition: form-data\r\n\r\nx\r\n--z--\r\n"),
        ("multipart/form-data; boundary=z", b'--z\r\nContent-Disposition: form-data; name="file"\r\n'),
        ("multipart/form-data; boundary=z", b"garbage without any boundary"),
        (
            "multipart/form-data; boundary=z",
            b'--z\r\nContent-Disposition: form-data; name="language"\r\n'
            b"Content-Type: text/plain; charset=no-such-charset\r\n\r\nit\r\n--z--\r\n",
        ),
    ],
)
async def test_a_broken_form_is_never_a_500_nor_a_file(
    client: TestClient, content_type: str, body: bytes
) -> None:
    await chat_session(client)
    response = await client.post("/api/chat/attachment", data=body, headers={"Content-Type": content_type})
    assert response.status in (200, 400)  # 200: a form read as an empty file, refused in words
    assert not client.app[SETTINGS].attachments_dir.exists()
