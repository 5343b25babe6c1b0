"""Builders for dashboard tests: the real gateway app (fake Rasa), mediators, tickets, a logged-in client."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.adapters.sql.tables import AuditRow
from bot.core.clock import utcnow
from bot.core.ports import TicketStore
from bot.core.settings import load_settings
from bot.core.tickets import Entry, Mediator, NewTicket, Role, Ticket
from bot.web.app import create_app
from bot.web.dashboard import PREFIX, add_dashboard
from bot.web.dashboard.keys import DASHBOARD, KEEPALIVE
from bot.web.keys import CATALOG, DATABASE, MEDIATION, MEDIATORS
from tests.fakes.fake_rasa import echo_responder, fake_rasa_app
from tests.helpers.databases import Mailbox

PASSWORD = "correct horse battery staple"
TOKEN_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')
QUEUE_ROW = re.compile(r'<tr data-ticket-id="([^"]+)" class="([^"]*)">')
ENTRY_TEXT = re.compile(r'<p class="text" dir="([^"]+)" lang="([^"]+)">([^<]*)</p>')


def tickets_of(app: web.Application) -> TicketStore:
    """The ticket store the running gateway's use cases work on."""
    return app[MEDIATION].tickets


def mailbox_of(app: web.Application) -> Mailbox:
    """The running gateway's inbox and outbox, with the rows to assert on."""
    return Mailbox(app[DATABASE])


def has_dashboard(app: web.Application) -> bool:
    return any(resource.canonical == PREFIX for resource in app.router.resources())


async def dashboard_app(
    tmp_path: Any, aiohttp_server: Any, keepalive: float = 0.3, **environment: object
) -> web.Application:
    """The gateway app with the dashboard (added here until create_app adds it), Rasa faked locally."""
    rasa = await aiohttp_server(fake_rasa_app(echo_responder, []))
    settings = load_settings(
        SPORTELLO_DATA_DIR=tmp_path, SPORTELLO_RASA_URL=str(rasa.make_url("")), **environment
    )
    app = create_app(settings)
    if not has_dashboard(app):
        add_dashboard(app)
    app[DASHBOARD][KEEPALIVE] = keepalive  # short keep-alives: the tests need not wait 15 s
    return app


async def add_mediator(
    app: web.Application,
    email: str,
    cities: tuple[str, ...] = ("caserta",),
    role: Role = Role.MEDIATOR,
    languages: tuple[str, ...] = ("it", "en", "ar"),
    name: str | None = None,
) -> Mediator:
    return await app[MEDIATORS].add(
        email, name or email.split("@")[0].title(), role, list(cities), list(languages), PASSWORD
    )


async def open_ticket(
    app: web.Application,
    city: str = "caserta",
    language: str = "en",
    topic: str | None = "residence_permit_renewal",
    urgent: bool = False,
    due_in: timedelta = timedelta(hours=24),
    user_key: str = "telegram:1001",
    details: str = "My permit expires next week",
    transcript: tuple[Entry, ...] = (),
) -> Ticket:
    province = app[CATALOG].cities[city].province
    return await tickets_of(app).open(
        NewTicket(
            city=city,
            province=province,
            language=language,
            topic=topic,
            urgent=urgent,
            channel=user_key.split(":")[0],
            user_key=user_key,
            details=details,
            due_at=utcnow() + due_in,
            transcript=transcript,
        )
    )


def csrf_token_in(html: str) -> str:
    found = TOKEN_FIELD.search(html)
    assert found, "no csrf_token field in the page"
    return found.group(1)


async def login(client: TestClient, email: str, password: str = PASSWORD) -> str:
    """Log in through the form; returns the session's CSRF token (from the queue page)."""
    page = await client.get("/dashboard/login")
    form = {"csrf_token": csrf_token_in(await page.text()), "email": email, "password": password}
    response = await client.post("/dashboard/login", data=form, allow_redirects=False)
    assert response.status == 303, await response.text()
    queue = await client.get("/dashboard")
    assert queue.status == 200
    return csrf_token_in(await queue.text())


def queue_rows(html: str) -> list[tuple[str, str]]:
    """(ticket id, row classes) of the queue table, in order."""
    return [(ticket_id, classes) for ticket_id, classes in QUEUE_ROW.findall(html)]


def entry_texts(html: str) -> list[tuple[str, str, str]]:
    """(dir, lang, text) of every transcript entry of a ticket page."""
    transcript = html.split('id="transcript"', 1)[1].split("</ol>", 1)[0]
    return ENTRY_TEXT.findall(transcript)


async def audit_actions(app: web.Application, ticket_id: str) -> list[tuple[int | None, str]]:
    async with AsyncSession(app[DATABASE]) as session:
        rows = await session.execute(
            select(AuditRow).where(AuditRow.ticket_id == ticket_id).order_by(AuditRow.id)
        )
        return [(row.mediator_id, row.action) for row in rows.scalars()]


async def next_event(response: Any, timeout: float = 3.0) -> dict[str, Any]:
    """The next ``data:`` line of an event stream, as JSON (comments and other fields skipped)."""

    async def read() -> dict[str, Any]:
        while True:
            line = (await response.content.readline()).decode()
            if not line:
                raise AssertionError("the event stream ended")
            if line.startswith("data: "):
                data: dict[str, Any] = json.loads(line[len("data: ") :])
                return data

    return await asyncio.wait_for(read(), timeout)


async def read_until(response: Any, marker: str, timeout: float = 3.0) -> None:
    async def read() -> None:
        while True:
            line = (await response.content.readline()).decode()
            if not line:
                raise AssertionError("the event stream ended")
            if marker in line:
                return

    await asyncio.wait_for(read(), timeout)


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float = 5.0) -> None:
    for _ in range(int(timeout / 0.05)):
        if await check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("condition not met in time")
