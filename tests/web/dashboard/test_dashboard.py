"""The mediators' dashboard with the real gateway app: login, CSRF, cities, queue, actions, live events."""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.adapters.sql.tables import AuditRow
from bot.core.clock import utcnow
from bot.core.tickets import Author, Entry, Outcome, Role, Status, TicketEvent
from bot.web.dashboard.auth import safe_next
from bot.web.dashboard.keys import DASHBOARD
from bot.web.keys import DATABASE, MEDIATORS, TICKET_EVENTS, TRANSLATIONS
from tests.fakes.fake_telegram import FakeTelegram, TelegramUser, fake_telegram_app
from tests.helpers.dashboard import (
    PASSWORD,
    add_mediator,
    audit_actions,
    csrf_token_in,
    dashboard_app,
    entry_texts,
    eventually,
    login,
    mailbox_of,
    next_event,
    open_ticket,
    queue_rows,
    read_until,
    tickets_of,
)


@pytest.fixture()
async def app(tmp_path: Path, aiohttp_server: Any) -> web.Application:
    return await dashboard_app(tmp_path, aiohttp_server)


@pytest.fixture()
async def client(app: web.Application, aiohttp_client: Any) -> TestClient:
    return await aiohttp_client(app)


def back_to_assistant(app: web.Application, language: str) -> str:
    return app[TRANSLATIONS](language)._("You are talking with the assistant again.")


# login -----------------------------------------------------------------------------------------------
async def test_every_dashboard_route_needs_a_login(app: web.Application, client: TestClient) -> None:
    ticket = await open_ticket(app)
    checked = 0
    for route in app[DASHBOARD].router.routes():
        resource = route.resource
        if resource is None or isinstance(resource, web.StaticResource) or route.method == "HEAD":
            continue
        if resource.name == "login":
            continue
        path = resource.canonical.replace("{ticket_id}", ticket.id).replace("{attachment_id}", "1")
        response = await client.request(
            route.method, path, data={"text": "hi", "outcome": "resolved"}, allow_redirects=False
        )
        if (resource.name or "").startswith("file."):  # a user's file: refused, no login page
            assert response.status == 403 and "Location" not in response.headers, path
        elif (resource.name or "").startswith(("api.", "events.")):
            assert response.status == 401, (route.method, path)
            assert (await response.json())["error"] == "not_logged_in"
        else:
            assert response.status == 303, (route.method, path)
            assert response.headers["Location"].startswith("/dashboard/login"), path
        checked += 1
    assert checked >= 19  # 7 pages, API reads and streams + 6 actions as forms and as API
    unchanged = await tickets_of(app).get(ticket.id)
    assert unchanged.status is Status.NEW and unchanged.assignee is None and unchanged.outcome is None
    assert len(unchanged.transcript) == 1


async def test_a_page_redirects_to_the_login_and_back(app: web.Application, client: TestClient) -> None:
    await add_mediator(app, "anna@caserta.example")
    ticket = await open_ticket(app)
    response = await client.get(f"/dashboard/tickets/{ticket.id}", allow_redirects=False)
    assert response.headers["Location"] == f"/dashboard/login?next=/dashboard/tickets/{ticket.id}"
    page = await client.get(response.headers["Location"])
    form = {
        "csrf_token": csrf_token_in(await page.text()),
        "email": "anna@caserta.example",
        "password": PASSWORD,
        "next": f"/dashboard/tickets/{ticket.id}",
    }
    logged_in = await client.post("/dashboard/login", data=form, allow_redirects=False)
    assert logged_in.headers["Location"] == f"/dashboard/tickets/{ticket.id}"


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        (None, "/dashboard"),
        ("/dashboard/tickets/CE-2026-0001", "/dashboard/tickets/CE-2026-0001"),
        ("/dashboard?scope=mine", "/dashboard?scope=mine"),
        ("//evil.example/dashboard", "/dashboard"),
        ("https://evil.example/dashboard", "/dashboard"),
        ("/dashboardevil", "/dashboard"),
        ("/dashboard\\@evil.example", "/dashboard"),
        ("/", "/dashboard"),
    ],
)
def test_after_login_only_dashboard_paths(target: str | None, expected: str) -> None:
    assert safe_next(target) == expected


async def test_a_wrong_password_fails(app: web.Application, client: TestClient) -> None:
    await add_mediator(app, "anna@caserta.example")
    page = await client.get("/dashboard/login")
    form = {
        "csrf_token": csrf_token_in(await page.text()),
        "email": "anna@caserta.example",
        "password": "wrong" * 3,
    }
    response = await client.post("/dashboard/login", data=form, allow_redirects=False)
    assert response.status == 401
    assert "E-mail o password errate" in await response.text()  # Italian: the default
    assert not any("sportello_dashboard=" in c for c in response.headers.getall("Set-Cookie", []))
    assert (await client.get("/dashboard", allow_redirects=False)).status == 303
    unknown = {**form, "email": "nobody@example.org", "password": PASSWORD}
    assert (await client.post("/dashboard/login", data=unknown, allow_redirects=False)).status == 401


async def test_the_right_password_opens_a_session_with_a_safe_cookie(
    app: web.Application, client: TestClient
) -> None:
    anna = await add_mediator(app, "anna@caserta.example")
    page = await client.get("/dashboard/login")
    form = {
        "csrf_token": csrf_token_in(await page.text()),
        "email": "anna@caserta.example",
        "password": PASSWORD,
    }
    response = await client.post("/dashboard/login", data=form, allow_redirects=False)
    assert response.status == 303 and response.headers["Location"] == "/dashboard"
    cookie = next(c for c in response.headers.getall("Set-Cookie") if c.startswith("sportello_dashboard="))
    attributes = [part.strip().lower() for part in cookie.split(";")]
    assert "httponly" in attributes and "samesite=lax" in attributes and "path=/dashboard" in attributes
    assert "secure" not in attributes  # plain HTTP here
    session_id = cookie.split(";")[0].split("=", 1)[1]
    session = await app[MEDIATORS].session(session_id)  # the cookie holds the session id, nothing else
    assert session is not None and session[0].id == anna.id
    queue = await client.get("/dashboard")
    assert queue.status == 200 and "Anna" in await queue.text()


async def test_the_cookie_is_secure_behind_an_https_proxy(app: web.Application, client: TestClient) -> None:
    await add_mediator(app, "anna@caserta.example")
    https = {"X-Forwarded-Proto": "https"}
    page = await client.get("/dashboard/login", headers=https)
    login_cookie = next(
        c for c in page.headers.getall("Set-Cookie") if c.startswith("sportello_dashboard_login=")
    )
    assert "secure" in [part.strip().lower() for part in login_cookie.split(";")]
    token = csrf_token_in(await page.text())
    form = {"csrf_token": token, "email": "anna@caserta.example", "password": PASSWORD}
    # the client keeps Secure cookies for HTTPS, and the test server speaks HTTP: send it by hand
    headers = {**https, "Cookie": f"sportello_dashboard_login={token}"}
    response = await client.post("/dashboard/login", data=form, headers=headers, allow_redirects=False)
    cookie = next(c for c in response.headers.getall("Set-Cookie") if c.startswith("sportello_dashboard="))
    assert "secure" in [part.strip().lower() for part in cookie.split(";")]
    assert "Strict-Transport-Security" in response.headers


async def test_the_login_form_needs_its_pre_session_token(app: web.Application, client: TestClient) -> None:
    await add_mediator(app, "anna@caserta.example")
    credentials = {"email": "anna@caserta.example", "password": PASSWORD}
    no_token = await client.post("/dashboard/login", data=credentials, allow_redirects=False)
    assert no_token.status == 403
    await client.get("/dashboard/login")  # sets the pre-session cookie
    wrong = await client.post(
        "/dashboard/login", data={**credentials, "csrf_token": "x" * 43}, allow_redirects=False
    )
    assert wrong.status == 403
    for response in (no_token, wrong):
        assert not any("sportello_dashboard=" in c for c in response.headers.getall("Set-Cookie", []))


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("application/x-www-form-urlencoded", b"csrf_token=x&email=\xff\xfe"),
        ("application/x-www-form-urlencoded; charset=no-such-charset", b"email=a"),
        ("multipart/form-data; boundary=z", b"--z\r\nContent-Disposition: form-data\r\n\r\nx\r\n--z--\r\n"),
    ],
)
async def test_a_login_form_that_cannot_be_read_is_a_400(
    client: TestClient, content_type: str, body: bytes
) -> None:
    """Found by tests/fuzz/test_http.py: aiohttp's form parser raised on these (a 500)."""
    headers = {"Content-Type": content_type}
    response = await client.post("/dashboard/login", data=body, headers=headers, allow_redirects=False)
    assert response.status == 400


async def test_a_login_cookie_of_invalid_utf8_is_refused_not_echoed(client: TestClient) -> None:
    """Found by tests/fuzz/test_http.py: the cookie's bytes arrive as lone surrogates, which the token
    comparison, the page (which sent the cookie back) and the session look-up could not encode: a 500.
    Raw bytes, as a client library would not send them."""

    async def head_of(request: bytes) -> str:
        reader, writer = await asyncio.open_connection(client.host, client.port)
        writer.write(request)
        answer = await reader.read()
        writer.close()
        return answer.split(b"\r\n\r\n", 1)[0].decode("latin-1")

    body = b"csrf_token=%2Faffirm&email=a&password=b"
    head = await head_of(
        b"POST /dashboard/login HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
        b"Content-Type: application/x-www-form-urlencoded\r\n"
        b"Cookie: sportello_dashboard_login=/affirm\xed\xa0\x80\xff\r\n"
        b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
    )
    assert head.startswith("HTTP/1.1 403")
    issued = re.search(r"sportello_dashboard_login=([^;]*);", head)
    assert issued and re.fullmatch(r"[A-Za-z0-9_-]{43}", issued.group(1))  # a new token, not the cookie's
    for path in (b"/dashboard/login", b"/dashboard"):
        session = b"Cookie: sportello_dashboard=" + b"\xff" * 43 + b"\r\n"
        head = await head_of(
            b"GET " + path + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" + session + b"\r\n"
        )
        assert head.startswith(("HTTP/1.1 200", "HTTP/1.1 303")), head


async def test_logout_ends_the_session(app: web.Application, client: TestClient) -> None:
    await add_mediator(app, "anna@caserta.example")
    token = await login(client, "anna@caserta.example")
    assert (await client.post("/dashboard/logout", allow_redirects=False)).status == 403  # no token
    response = await client.post("/dashboard/logout", data={"csrf_token": token}, allow_redirects=False)
    assert response.status == 303 and response.headers["Location"] == "/dashboard/login"
    assert (await client.get("/dashboard", allow_redirects=False)).status == 303
    assert (await client.get("/dashboard/api/queue")).status == 401


async def test_security_headers_on_pages(app: web.Application, client: TestClient) -> None:
    await add_mediator(app, "anna@caserta.example")
    await login(client, "anna@caserta.example")
    response = await client.get("/dashboard")
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    html = await response.text()
    assert "http://" not in html and "https://" not in html  # no CDN, nothing external
    for asset in ("dashboard.css", "dashboard.js"):
        start = html.index(f"/dashboard/static/{asset}")
        url = html[start : html.index('"', start)].replace("&amp;", "&")
        assert (await client.get(url)).status == 200


# CSRF ------------------------------------------------------------------------------------------------
async def test_a_post_without_the_right_csrf_token_is_refused(
    app: web.Application, client: TestClient
) -> None:
    anna = await add_mediator(app, "anna@caserta.example")
    await login(client, "anna@caserta.example")
    ticket = await open_ticket(app, user_key="telegram:77")
    fields = {"text": "Ciao, sono Anna", "outcome": Outcome.RESOLVED.value}
    for action in ("reply", "claim", "close"):
        for token in (None, "wrong-token"):
            form = {**fields, "csrf_token": token} if token else fields
            by_form = await client.post(
                f"/dashboard/tickets/{ticket.id}/{action}", data=form, allow_redirects=False
            )
            headers = {"X-CSRF-Token": token} if token else {}
            by_api = await client.post(
                f"/dashboard/api/tickets/{ticket.id}/{action}", json=fields, headers=headers
            )
            assert (by_form.status, by_api.status) == (403, 403), (action, token)
            assert (await by_api.json())["error"] == "forbidden"
    unchanged = await tickets_of(app).get(ticket.id)
    assert unchanged.status is Status.NEW and unchanged.assignee is None and unchanged.outcome is None
    assert len(unchanged.transcript) == 1
    assert await mailbox_of(app).outbox_rows("telegram:77") == []
    # nothing was done; each refusal is in the audit log, with who tried
    assert await audit_actions(app, ticket.id) == [(anna.id, "refused:csrf")] * 12


# cities ----------------------------------------------------------------------------------------------
async def test_a_roma_mediator_cannot_see_a_caserta_ticket(app: web.Application, client: TestClient) -> None:
    await add_mediator(app, "marco@roma.example", cities=("roma",))
    caserta = await open_ticket(app, city="caserta", user_key="telegram:1")
    roma = await open_ticket(app, city="roma", user_key="telegram:2")
    token = await login(client, "marco@roma.example")

    queue = await client.get("/dashboard")
    assert [ticket_id for ticket_id, _ in queue_rows(await queue.text())] == [roma.id]
    assert caserta.id not in await queue.text()
    api_queue = await (await client.get("/dashboard/api/queue")).json()
    assert [t["id"] for t in api_queue["tickets"]] == [roma.id]

    assert (await client.get(f"/dashboard/tickets/{caserta.id}")).status == 403
    assert (await client.get(f"/dashboard/api/tickets/{caserta.id}")).status == 403
    assert (await client.get(f"/dashboard/tickets/{caserta.id}/events")).status == 403
    for action in ("claim", "reply", "note", "close", "release"):
        fields = {"text": "hello", "outcome": "resolved", "csrf_token": token}
        form = await client.post(
            f"/dashboard/tickets/{caserta.id}/{action}", data=fields, allow_redirects=False
        )
        api = await client.post(
            f"/dashboard/api/tickets/{caserta.id}/{action}", json=fields, headers={"X-CSRF-Token": token}
        )
        assert form.status == 403 and api.status == 403, action
        assert (await api.json())["error"] == "forbidden"
    unchanged = await tickets_of(app).get(caserta.id)
    assert unchanged.status is Status.NEW and len(unchanged.transcript) == 1 and not unchanged.notes
    # a ticket that does not exist gets the same answer: ids of other cities are not confirmed
    assert (await client.get("/dashboard/tickets/CE-2099-9999")).status == 403
    assert (await client.get("/dashboard/api/tickets/CE-2099-9999")).status == 403
    assert (await client.get(f"/dashboard/tickets/{roma.id}")).status == 200


# the queue -------------------------------------------------------------------------------------------
async def test_queue_order_filters_and_overdue(app: web.Application, client: TestClient) -> None:
    anna = await add_mediator(app, "anna@caserta.example")
    later = await open_ticket(app, due_in=timedelta(hours=5), language="en", topic="tax_code")
    urgent_later = await open_ticket(
        app, urgent=True, due_in=timedelta(hours=3), topic="eviction", language="ar"
    )
    overdue = await open_ticket(app, due_in=timedelta(hours=-1), language="uk", topic="tax_code")
    urgent_first = await open_ticket(app, urgent=True, due_in=timedelta(hours=1), topic="emergency_shelter")
    closed = await open_ticket(app, due_in=timedelta(hours=-3))
    await tickets_of(app).close(anna, closed.id, Outcome.DUPLICATE)
    await login(client, "anna@caserta.example")

    async def ids(query: str = "") -> list[str]:
        response = await client.get(f"/dashboard{query}")
        assert response.status == 200
        return [ticket_id for ticket_id, _ in queue_rows(await response.text())]

    assert await ids() == [urgent_first.id, urgent_later.id, overdue.id, later.id]
    rows = dict(queue_rows(await (await client.get("/dashboard")).text()))
    assert "overdue" in rows[overdue.id].split() and "overdue" not in rows[later.id].split()
    assert "urgent" in rows[urgent_first.id].split()
    page = await (await client.get("/dashboard")).text()
    assert page.count("In ritardo</span>") == 1

    await tickets_of(app).claim(anna, later.id)
    assert await ids("?scope=mine") == [later.id]
    assert await ids("?scope=unassigned") == [urgent_first.id, urgent_later.id, overdue.id]
    assert await ids("?language=ar") == [urgent_later.id]
    assert await ids("?topic=tax_code") == [overdue.id, later.id]
    assert await ids("?status=assigned") == [later.id]
    assert await ids("?status=closed") == [closed.id]
    assert await ids("?language=xx&topic=nope&scope=weird") == await ids()  # unknown values: no filter
    api = await (await client.get("/dashboard/api/queue?topic=tax_code")).json()
    assert [(t["id"], t["overdue"]) for t in api["tickets"]] == [(overdue.id, True), (later.id, False)]


# actions ---------------------------------------------------------------------------------------------
async def test_claim_then_reply_goes_to_the_users_channel(app: web.Application, client: TestClient) -> None:
    anna = await add_mediator(app, "anna@caserta.example")
    ticket = await open_ticket(app, user_key="telegram:4242", language="en")
    token = await login(client, "anna@caserta.example")
    async with app[TICKET_EVENTS].listen(ticket.id) as events:
        claimed = await client.post(
            f"/dashboard/tickets/{ticket.id}/claim", data={"csrf_token": token}, allow_redirects=False
        )
        assert claimed.status == 303
        assert claimed.headers["Location"] == f"/dashboard/tickets/{ticket.id}?done=claim"
        held = await tickets_of(app).get(ticket.id)
        assert held.status is Status.ASSIGNED and held.assignee == anna.name

        text = "Hello, I am Anna from the one-stop shop. Can you come on Monday at 10?"
        replied = await client.post(
            f"/dashboard/tickets/{ticket.id}/reply", data={"text": text, "csrf_token": token}
        )
        assert replied.status == 200 and "Risposta inviata." in await replied.text()
        kinds = [events.get_nowait().kind for _ in range(events.qsize())]
    assert kinds == ["status", "entry"]
    rows = await mailbox_of(app).outbox_rows("telegram:4242")
    assert [(r.channel, r.language, r.text, r.kind) for r in rows] == [("telegram", "en", text, "reply")]
    after = await tickets_of(app).get(ticket.id)
    assert after.status is Status.WAITING_FOR_USER
    assert (after.transcript[-1].author, after.transcript[-1].text) == (Author.MEDIATOR, text)
    page = await (await client.get(f"/dashboard/tickets/{ticket.id}")).text()
    assert f"{anna.name} (mediazione)" in page and "Monday at 10" in page


async def test_an_empty_reply_is_refused(app: web.Application, client: TestClient) -> None:
    await add_mediator(app, "anna@caserta.example")
    ticket = await open_ticket(app, user_key="telegram:9")
    token = await login(client, "anna@caserta.example")
    response = await client.post(
        f"/dashboard/tickets/{ticket.id}/reply", data={"text": "  ", "csrf_token": token}
    )
    assert response.status == 400
    assert await mailbox_of(app).outbox_rows("telegram:9") == []


async def test_a_reply_to_a_web_chat_user_waits_in_their_mailbox(
    app: web.Application, client: TestClient
) -> None:
    """The web chat cannot be pushed to: the reply waits for the user's page (bot.web.chat_stream)."""
    await add_mediator(app, "anna@caserta.example")
    ticket = await open_ticket(app, user_key="webchat:browser-1")
    token = await login(client, "anna@caserta.example")
    response = await client.post(
        f"/dashboard/api/tickets/{ticket.id}/reply", json={"text": "Ciao!"}, headers={"X-CSRF-Token": token}
    )
    assert response.status == 200
    body = await response.json()
    assert body["done"] == "reply" and body["ticket"]["transcript"][-1]["text"] == "Ciao!"
    rows = await mailbox_of(app).outbox_rows("webchat:browser-1")
    assert [(row.text, row.status, row.kind) for row in rows] == [("Ciao!", "mailbox", "person")]


async def test_a_reply_reaches_a_telegram_user(
    tmp_path: Path, aiohttp_server: Any, aiohttp_client: Any
) -> None:
    telegram = FakeTelegram()
    telegram_server = await aiohttp_server(fake_telegram_app(telegram))
    app = await dashboard_app(
        tmp_path,
        aiohttp_server,
        TELEGRAM_BOT_TOKEN=telegram.token,
        TELEGRAM_API_BASE_URL=str(telegram_server.make_url("/bot")),
    )
    client = await aiohttp_client(app)
    user = TelegramUser(id=5151, language_code="en")
    await add_mediator(app, "anna@caserta.example")
    ticket = await open_ticket(app, user_key=f"telegram:{user.id}")
    token = await login(client, "anna@caserta.example")
    await client.post(
        f"/dashboard/tickets/{ticket.id}/reply", data={"text": "We can meet on Monday.", "csrf_token": token}
    )

    async def delivered() -> bool:
        return telegram.texts(user.id) == ["We can meet on Monday."]

    await eventually(delivered)


async def test_close_with_an_outcome(app: web.Application, client: TestClient) -> None:
    anna = await add_mediator(app, "anna@caserta.example")
    ticket = await open_ticket(app, user_key="telegram:31", language="en")
    token = await login(client, "anna@caserta.example")
    assert (await client.get(f"/dashboard/tickets/{ticket.id}")).status == 200
    post = {"allow_redirects": False}  # the redirect to the ticket page would be one more "view"
    await client.post(f"/dashboard/tickets/{ticket.id}/claim", data={"csrf_token": token}, **post)
    reply = {"text": "Done, see you.", "csrf_token": token}
    await client.post(f"/dashboard/tickets/{ticket.id}/reply", data=reply, **post)
    no_outcome = await client.post(f"/dashboard/tickets/{ticket.id}/close", data={"csrf_token": token})
    assert no_outcome.status == 400
    closed = await client.post(
        f"/dashboard/tickets/{ticket.id}/close",
        data={"outcome": Outcome.REFERRED.value, "csrf_token": token},
        allow_redirects=False,
    )
    assert closed.status == 303
    after = await tickets_of(app).get(ticket.id)
    assert after.status is Status.CLOSED and after.outcome is Outcome.REFERRED and after.closed_at
    assert (after.transcript[-1].author, after.transcript[-1].text) == (
        Author.BOT,
        back_to_assistant(app, "en"),
    )
    texts = [row.text for row in await mailbox_of(app).outbox_rows("telegram:31")]
    assert texts == ["Done, see you.", back_to_assistant(app, "en")]
    actions = await audit_actions(app, ticket.id)
    assert actions == [(anna.id, "view"), (anna.id, "claim"), (anna.id, "reply"), (anna.id, "close")]
    again = await client.post(
        f"/dashboard/tickets/{ticket.id}/close", data={"outcome": "resolved", "csrf_token": token}
    )
    assert again.status == 409
    late = await client.post(
        f"/dashboard/tickets/{ticket.id}/reply", data={"text": "one more", "csrf_token": token}
    )
    assert late.status == 409
    page = await (await client.get(f"/dashboard/tickets/{ticket.id}")).text()
    assert "Indirizzato a un servizio" in page  # "Referred to a service"
    assert 'name="outcome"' not in page and 'id="reply-text"' not in page


async def test_release_gives_the_user_back_to_the_assistant(app: web.Application, client: TestClient) -> None:
    await add_mediator(app, "anna@caserta.example")
    ticket = await open_ticket(app, user_key="whatsapp:393331234567", language="ar")
    token = await login(client, "anna@caserta.example")
    not_held = await client.post(f"/dashboard/tickets/{ticket.id}/release", data={"csrf_token": token})
    assert not_held.status == 409
    await client.post(f"/dashboard/tickets/{ticket.id}/claim", data={"csrf_token": token})
    async with app[TICKET_EVENTS].listen("*") as events:
        released = await client.post(f"/dashboard/tickets/{ticket.id}/release", data={"csrf_token": token})
        assert released.status == 200
        assert events.get_nowait() == TicketEvent(ticket.id, "status", "caserta")
    after = await tickets_of(app).get(ticket.id)
    assert after.status is Status.NEW and after.assignee is None
    rows = await mailbox_of(app).outbox_rows("whatsapp:393331234567")
    assert [(r.channel, r.language, r.text) for r in rows] == [
        ("whatsapp", "ar", back_to_assistant(app, "ar"))
    ]


async def test_internal_notes_stay_internal(app: web.Application, client: TestClient) -> None:
    await add_mediator(app, "anna@caserta.example")
    ticket = await open_ticket(app, user_key="telegram:12")
    token = await login(client, "anna@caserta.example")
    response = await client.post(
        f"/dashboard/tickets/{ticket.id}/note",
        data={"text": "Called the Questura: <b>ok</b>", "csrf_token": token},
    )
    assert response.status == 200
    page = await response.text()
    assert "Called the Questura: &lt;b&gt;ok&lt;/b&gt;" in page  # escaped
    assert await mailbox_of(app).outbox_rows("telegram:12") == []
    notes = (await tickets_of(app).get(ticket.id)).notes
    assert [n.text for n in notes] == ["Called the Questura: <b>ok</b>"]


async def test_a_coordinator_reassigns_to_a_mediator_of_the_city(
    app: web.Application, client: TestClient, aiohttp_client: Any
) -> None:
    await add_mediator(app, "chiara@caserta.example", role=Role.COORDINATOR)
    anna = await add_mediator(app, "anna@caserta.example")
    marco = await add_mediator(app, "marco@roma.example", cities=("roma",))
    ticket = await open_ticket(app)
    token = await login(client, "chiara@caserta.example")
    page = await (await client.get(f"/dashboard/tickets/{ticket.id}")).text()
    assert f'value="{anna.id}"' in page and f'value="{marco.id}"' not in page
    to_marco = await client.post(
        f"/dashboard/tickets/{ticket.id}/reassign", data={"mediator_id": str(marco.id), "csrf_token": token}
    )
    assert to_marco.status == 409
    to_anna = await client.post(
        f"/dashboard/tickets/{ticket.id}/reassign", data={"mediator_id": str(anna.id), "csrf_token": token}
    )
    assert to_anna.status == 200
    after = await tickets_of(app).get(ticket.id)
    assert after.assignee == anna.name and after.status is Status.ASSIGNED

    other = await aiohttp_client(client.server)  # a second browser, with its own cookies
    anna_token = await login(other, "anna@caserta.example")
    page = await (await other.get(f"/dashboard/tickets/{ticket.id}")).text()
    assert 'name="mediator_id"' not in page
    refused = await other.post(
        f"/dashboard/tickets/{ticket.id}/reassign",
        data={"mediator_id": str(anna.id), "csrf_token": anna_token},
    )
    assert refused.status == 403


async def test_every_ticket_view_is_audited(app: web.Application, client: TestClient) -> None:
    anna = await add_mediator(app, "anna@caserta.example")
    ticket = await open_ticket(app)
    await login(client, "anna@caserta.example")
    await client.get(f"/dashboard/tickets/{ticket.id}")
    await client.get(f"/dashboard/tickets/{ticket.id}")
    await client.get(f"/dashboard/api/tickets/{ticket.id}")
    assert await audit_actions(app, ticket.id) == [(anna.id, "view")] * 3


# RTL -------------------------------------------------------------------------------------------------
async def test_an_arabic_transcript_is_right_to_left(app: web.Application, client: TestClient) -> None:
    await add_mediator(app, "anna@caserta.example")
    said = Entry(Author.USER, "أحتاج إلى تجديد تصريح الإقامة", (await open_ticket(app)).created_at)
    arabic = await open_ticket(app, language="ar", details="متى موعدي؟", transcript=(said,))
    english = await open_ticket(app, language="en")
    token = await login(client, "anna@caserta.example")
    await client.post(
        f"/dashboard/tickets/{arabic.id}/reply", data={"text": "مرحبا، أنا آنا", "csrf_token": token}
    )
    entries = entry_texts(await (await client.get(f"/dashboard/tickets/{arabic.id}")).text())
    assert len(entries) == 3
    assert all(direction == "rtl" and lang == "ar" for direction, lang, _ in entries)
    assert entries[-1][2] == "مرحبا، أنا آنا"
    assert all(
        d == "auto"
        for d, _, _ in entry_texts(await (await client.get(f"/dashboard/tickets/{english.id}")).text())
    )
    api = await (await client.get(f"/dashboard/api/tickets/{arabic.id}")).json()
    assert api["direction"] == "rtl" and {e["dir"] for e in api["transcript"]} == {"rtl"}


# live updates ----------------------------------------------------------------------------------------
async def test_a_ticket_stream_tells_of_new_entries(app: web.Application, client: TestClient) -> None:
    await add_mediator(app, "anna@caserta.example")
    ticket = await open_ticket(app)
    await login(client, "anna@caserta.example")
    stream = await client.get(f"/dashboard/tickets/{ticket.id}/events")
    assert stream.status == 200 and stream.headers["Content-Type"].startswith("text/event-stream")
    await read_until(stream, ": connected")
    await tickets_of(app).add_entry(ticket.id, Author.USER, "Are you there?")
    app[TICKET_EVENTS].publish(TicketEvent(ticket.id, "entry", ticket.city))
    assert await next_event(stream) == {"ticket_id": ticket.id, "kind": "entry"}
    await read_until(stream, ": keep-alive")  # every KEEPALIVE seconds (0.3 s in tests, 15 s for real)
    data = await (await client.get(f"/dashboard/api/tickets/{ticket.id}")).json()
    assert data["transcript"][-1]["text"] == "Are you there?"
    stream.close()


async def test_the_queue_stream_tells_only_of_the_mediators_cities(
    app: web.Application, client: TestClient
) -> None:
    await add_mediator(app, "marco@roma.example", cities=("roma",))
    await login(client, "marco@roma.example")
    stream = await client.get("/dashboard/events")
    assert stream.status == 200
    await read_until(stream, ": connected")
    app[TICKET_EVENTS].publish(TicketEvent("CE-2026-0001", "new", "caserta"))
    app[TICKET_EVENTS].publish(TicketEvent("RM-2026-0001", "new", "roma"))
    assert await next_event(stream) == {"ticket_id": "RM-2026-0001", "kind": "new"}
    stream.close()


async def test_a_stream_ends_with_its_session(app: web.Application, client: TestClient) -> None:
    await add_mediator(app, "anna@caserta.example")
    token = await login(client, "anna@caserta.example")
    stream = await client.get("/dashboard/events")
    await read_until(stream, ": connected")
    await client.post("/dashboard/logout", data={"csrf_token": token})

    async def ended() -> None:
        while await stream.content.readline():
            pass

    await asyncio.wait_for(ended(), 3)


def test_login_throttle_blocks_after_repeated_failures_and_forgets_after_a_while() -> None:
    from bot.web.dashboard.throttle import MAX_FAILURES, WINDOW_SECONDS, LoginThrottle

    now = [0.0]
    throttle = LoginThrottle(clock=lambda: now[0])
    for _ in range(MAX_FAILURES):
        assert not throttle.blocked("Amal@Example.org")
        throttle.failed("amal@example.org")
    assert throttle.blocked("AMAL@example.org")
    now[0] = WINDOW_SECONDS + 1
    assert not throttle.blocked("amal@example.org")


async def test_login_is_refused_after_repeated_failures(app: web.Application, client: TestClient) -> None:
    from bot.web.dashboard.throttle import MAX_FAILURES

    await add_mediator(app, "anna@caserta.example")
    page = await client.get("/dashboard/login")
    form = {
        "csrf_token": csrf_token_in(await page.text()),
        "email": "anna@caserta.example",
        "password": "x" * 12,
    }
    for _ in range(MAX_FAILURES):
        assert (await client.post("/dashboard/login", data=form, allow_redirects=False)).status == 401
    right = {**form, "email": "Anna@Caserta.example", "password": PASSWORD}
    refused = await client.post("/dashboard/login", data=right, allow_redirects=False)
    assert refused.status == 429, "even the right password waits once the e-mail is throttled"


async def test_failed_logins_and_refusals_are_in_the_audit_log(
    app: web.Application, client: TestClient
) -> None:
    await add_mediator(app, "anna@caserta.example")
    await add_mediator(app, "luca@roma.example", cities=("roma",))
    page = await client.get("/dashboard/login")
    token = csrf_token_in(await page.text())
    form = {"csrf_token": token, "email": "anna@caserta.example", "password": "x" * 12}
    assert (await client.post("/dashboard/login", data=form, allow_redirects=False)).status == 401
    caserta = await open_ticket(app)
    await login(client, "luca@roma.example")
    assert (await client.get(f"/dashboard/tickets/{caserta.id}")).status == 403
    async with AsyncSession(app[DATABASE]) as session:
        rows = (await session.execute(select(AuditRow).order_by(AuditRow.id))).scalars().all()
    failed = [r for r in rows if r.action == "login_failed"]
    assert len(failed) == 1 and failed[0].detail == "from 127.0.0.1" and failed[0].mediator_id is None
    assert all("anna@caserta.example" not in (r.detail or "") for r in rows), "no e-mail typed at login"
    refused = [(r.action, r.ticket_id) for r in rows if r.action.startswith("refused")]
    assert refused == [("refused:ticket", caserta.id)]


async def test_a_mediator_corrects_topic_and_urgency_and_it_is_audited(
    app: web.Application, client: TestClient
) -> None:
    anna = await add_mediator(app, "anna@caserta.example")
    ticket = await open_ticket(app, topic=None, urgent=False, due_in=timedelta(days=2))
    token = await login(client, "anna@caserta.example")
    page = await (await client.get(f"/dashboard/tickets/{ticket.id}")).text()
    assert 'name="topic"' in page and '<option value="eviction">' in page
    saved = await client.post(
        f"/dashboard/tickets/{ticket.id}/classify",
        data={"topic": "eviction", "urgent": "yes", "csrf_token": token},
    )
    assert saved.status == 200 and "Argomento e urgenza salvati." in await saved.text()
    after = await tickets_of(app).get(ticket.id)
    assert (after.topic, after.urgent) == ("eviction", True)
    assert after.due_at - utcnow() <= timedelta(hours=4), "urgent: due within 4 hours"
    unchecked = await client.post(
        f"/dashboard/tickets/{ticket.id}/classify", data={"topic": "eviction", "csrf_token": token}
    )
    assert unchecked.status == 200 and not (await tickets_of(app).get(ticket.id)).urgent
    assert (await audit_actions(app, ticket.id)).count((anna.id, "classify")) == 2


@pytest.mark.parametrize("fields", [{"topic": "not_a_topic"}, {"topic": "isee", "urgent": "maybe"}])
async def test_a_wrong_topic_or_urgency_is_refused(
    app: web.Application, client: TestClient, fields: dict[str, str]
) -> None:
    await add_mediator(app, "anna@caserta.example")
    ticket = await open_ticket(app)
    token = await login(client, "anna@caserta.example")
    refused = await client.post(
        f"/dashboard/tickets/{ticket.id}/classify", data={**fields, "csrf_token": token}
    )
    assert refused.status == 400
    after = await tickets_of(app).get(ticket.id)
    assert (after.topic, after.urgent) == (ticket.topic, ticket.urgent)
