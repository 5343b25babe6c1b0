"""The web chat's live stream: what the one-stop shop writes reaches the user's open page, on the
server-issued session only, and waits for the page when it is closed."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from bot.core.messages import WEB_CHAT, user_key
from bot.web.chat_stream import CHAT_PAGES, STREAMS_PER_SESSION
from bot.web.keys import TRANSLATIONS
from bot.web.webchat import SESSION_HEADER, session_user
from tests.helpers.dashboard import add_mediator, dashboard_app, login, mailbox_of, next_event, open_ticket


@pytest.fixture()
async def app(tmp_path: Path, aiohttp_server: Any) -> web.Application:
    return await dashboard_app(tmp_path, aiohttp_server)


@pytest.fixture()
async def client(app: web.Application, aiohttp_client: Any) -> TestClient:
    return await aiohttp_client(app)


@pytest.fixture()
async def mediator(app: web.Application, client: TestClient) -> tuple[TestClient, str]:
    """A Caserta mediator, logged in: their client and CSRF token."""
    await add_mediator(app, "anna@caserta.example")
    return client, await login(client, "anna@caserta.example")


@pytest.fixture()
async def pages(client: TestClient) -> AsyncIterator[Callable[[], Awaitable[TestClient]]]:
    """Browsers of web-chat users: each its own cookies, all on the one running gateway."""
    opened: list[TestClient] = []

    async def page() -> TestClient:
        browser = TestClient(client.server)
        await browser.start_server()
        opened.append(browser)
        return browser

    yield page
    for browser in opened:
        await browser.close()


async def web_chat_user(client: TestClient) -> tuple[str, str]:
    """A web-chat user as the page makes one: their session token and user key."""
    response = await client.post("/api/chat", json={"text": "ciao"})
    token = response.headers[SESSION_HEADER]
    return token, user_key(WEB_CHAT, session_user(token))


async def reply(mediator: tuple[TestClient, str], ticket_id: str, text: str) -> None:
    client, token = mediator
    response = await client.post(
        f"/dashboard/api/tickets/{ticket_id}/reply", json={"text": text}, headers={"X-CSRF-Token": token}
    )
    assert response.status == 200, await response.text()


async def test_a_mediators_reply_reaches_the_open_page_at_once(
    app: web.Application, pages: Any, mediator: tuple[TestClient, str]
) -> None:
    page = await pages()
    token, user = await web_chat_user(page)
    ticket = await open_ticket(app, language="bn", user_key=user)
    app[CHAT_PAGES].poll_seconds = 60.0  # only the wake-up can bring it in time
    stream = await page.get("/api/chat/events", headers={SESSION_HEADER: token})
    assert stream.status == 200 and stream.headers["Content-Type"].startswith("text/event-stream")
    await reply(mediator, ticket.id, "আপনার অনুমতিপত্রের জন্য কাল আসুন")
    letter = await next_event(stream)
    who = app[TRANSLATIONS]("bn")._("A person from the one-stop shop")
    assert letter["text"] == "আপনার অনুমতিপত্রের জন্য কাল আসুন" and letter["language"] == "bn"
    assert letter["from_person"] is True and letter["who"] == who and who != "A person from the one-stop shop"
    stream.close()


async def test_a_reply_written_while_the_page_was_closed_is_shown_when_it_opens(
    app: web.Application, pages: Any, mediator: tuple[TestClient, str]
) -> None:
    page = await pages()
    token, user = await web_chat_user(page)
    ticket = await open_ticket(app, language="ar", user_key=user)
    await reply(mediator, ticket.id, "first")
    await reply(mediator, ticket.id, "second")
    stream = await page.get("/api/chat/events", headers={SESSION_HEADER: token})
    first, second = await next_event(stream), await next_event(stream)
    assert (first["text"], second["text"]) == ("first", "second") and first["direction"] == "rtl"
    stream.close()
    # the page showed only the first: opened again, it gets the second, not the first
    shown = await page.post("/api/chat/shown", json={"up_to": first["id"]}, headers={SESSION_HEADER: token})
    assert (await shown.json()) == {"shown": 1}
    again = await page.get("/api/chat/events", headers={SESSION_HEADER: token})
    assert (await next_event(again))["text"] == "second"
    again.close()
    # a reconnecting EventSource says what it has: nothing is repeated
    await page.post("/api/chat/shown", json={"up_to": second["id"]}, headers={SESSION_HEADER: token})
    rows = await mailbox_of(app).outbox_rows(user)
    assert [row.status for row in rows] == ["sent", "sent"]


async def test_a_reconnecting_page_skips_what_it_has(
    app: web.Application, pages: Any, mediator: tuple[TestClient, str]
) -> None:
    page = await pages()
    token, user = await web_chat_user(page)
    ticket = await open_ticket(app, user_key=user)
    await reply(mediator, ticket.id, "one")
    await reply(mediator, ticket.id, "two")
    first = (await mailbox_of(app).outbox_rows(user))[0]
    stream = await page.get(
        "/api/chat/events", headers={SESSION_HEADER: token, "Last-Event-ID": str(first.id)}
    )
    assert (await next_event(stream))["text"] == "two"
    stream.close()


async def test_another_session_never_sees_or_confirms_the_letters(
    app: web.Application, pages: Any, mediator: tuple[TestClient, str]
) -> None:
    page, other = await pages(), await pages()
    _, user = await web_chat_user(page)
    other_token, _ = await web_chat_user(other)
    ticket = await open_ticket(app, user_key=user)
    await reply(mediator, ticket.id, "only for the ticket's user")
    letter_id = (await mailbox_of(app).outbox_rows(user))[0].id
    shown = await other.post(
        "/api/chat/shown", json={"up_to": letter_id}, headers={SESSION_HEADER: other_token}
    )
    assert (await shown.json()) == {"shown": 0}
    stream = await other.get("/api/chat/events", headers={SESSION_HEADER: other_token})
    with pytest.raises(asyncio.TimeoutError):
        await next_event(stream, timeout=1.0)
    stream.close()
    assert [row.status for row in await mailbox_of(app).outbox_rows(user)] == ["mailbox"]


async def test_a_letter_posted_by_another_gateway_arrives_by_polling(
    app: web.Application, pages: Any
) -> None:
    """Mediators may work on another process: its wake-up does not reach this one, the poll does."""
    page = await pages()
    token, user = await web_chat_user(page)
    app[CHAT_PAGES].poll_seconds = 0.2
    stream = await page.get("/api/chat/events", headers={SESSION_HEADER: token})
    await app[CHAT_PAGES].mailbox.post(user, "uk", "з іншого процесу", from_person=True)  # no wake-up
    assert (await next_event(stream))["text"] == "з іншого процесу"
    stream.close()


async def test_no_session_no_stream(app: web.Application, pages: Any) -> None:
    page = await pages()
    assert (await page.get("/api/chat/events")).status == 401
    assert (await page.get("/api/chat/events", headers={SESSION_HEADER: "guessed"})).status == 401
    assert (await page.post("/api/chat/shown", json={"up_to": 1})).status == 401


@pytest.mark.parametrize(
    "body", [b"not json", b"[]", b'{"up_to": "1"}', b'{"up_to": true}', b'{"up_to": -1}']
)
async def test_a_bad_confirmation_is_a_400(app: web.Application, pages: Any, body: bytes) -> None:
    page = await pages()
    token, _ = await web_chat_user(page)
    response = await page.post("/api/chat/shown", data=body, headers={SESSION_HEADER: token})
    assert response.status == 400


async def test_a_session_holds_a_few_streams_not_many(app: web.Application, pages: Any) -> None:
    page = await pages()
    token, _ = await web_chat_user(page)
    streams = [
        await page.get("/api/chat/events", headers={SESSION_HEADER: token})
        for _ in range(STREAMS_PER_SESSION)
    ]
    assert all(s.status == 200 for s in streams)
    refused = await page.get("/api/chat/events", headers={SESSION_HEADER: token})
    assert refused.status == 429 and "Retry-After" in refused.headers
    for stream in streams:
        stream.close()


async def test_a_message_to_a_held_ticket_says_it_went_to_the_person(
    app: web.Application, pages: Any, mediator: tuple[TestClient, str]
) -> None:
    page = await pages()
    token, user = await web_chat_user(page)
    ticket = await open_ticket(app, user_key=user)
    client, csrf = mediator
    await client.post(f"/dashboard/api/tickets/{ticket.id}/claim", json={}, headers={"X-CSRF-Token": csrf})
    body = await (
        await page.post("/api/chat", json={"text": "grazie"}, headers={SESSION_HEADER: token})
    ).json()
    assert body["relayed"] is True and body["replies"] == []
