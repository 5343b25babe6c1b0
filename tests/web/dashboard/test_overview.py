"""Statistics, CSV and search through the real gateway app and dashboard, on a database the test seeds:
a mediator sees their cities only, another city's statistics and CSV are a 403."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.adapters.sql.tables import AuditRow, TicketRow
from bot.core.clock import utcnow
from bot.core.messages import InboundMessage
from bot.core.overview import Miss, MissKind
from bot.core.tickets import Role
from bot.web.keys import DATABASE, MEDIATION, REVIEW
from tests.helpers.dashboard import add_mediator, dashboard_app, login, open_ticket
from tests.web.dashboard.test_i18n import english_left, italian, read_page

ROW = re.compile(r'<tr data-ticket-id="([^"]+)"')


@pytest.fixture()
async def app(tmp_path: Path, aiohttp_server: Any) -> web.Application:
    return await dashboard_app(tmp_path, aiohttp_server)


@pytest.fixture()
async def client(app: web.Application, aiohttp_client: Any) -> TestClient:
    return await aiohttp_client(app)


def figure(html: str, element_id: str) -> str:
    found = re.search(rf'id="{element_id}">([^<]*)<', html)
    assert found, element_id
    return found.group(1).strip()


async def seed(app: web.Application) -> dict[str, str]:
    """Three Caserta tickets (one overdue, one replied after 90 minutes, one without topic) and one of
    Roma."""
    late = await open_ticket(app, due_in=timedelta(hours=-2), user_key="telegram:1")
    replied = await open_ticket(app, language="ar", topic="eviction", user_key="telegram:2")
    plain = await open_ticket(app, topic=None, user_key="telegram:3")
    roma = await open_ticket(app, city="roma", user_key="telegram:4")
    async with app[DATABASE].begin() as connection:
        await connection.execute(
            update(TicketRow)
            .where(TicketRow.id == replied.id)
            .values(first_reply_at=replied.created_at + timedelta(minutes=90))
        )
    return {"late": late.id, "replied": replied.id, "plain": plain.id, "roma": roma.id}


async def test_the_statistics_page_counts_the_mediators_cities(
    app: web.Application, client: TestClient
) -> None:
    ids = await seed(app)
    await add_mediator(app, "anna@caserta.example")
    await login(client, "anna@caserta.example")
    page = await client.get("/dashboard/stats")
    assert page.status == 200
    html = await page.text()
    assert figure(html, "total") == "3" and figure(html, "open-now") == "3"
    assert figure(html, "overdue-now") == "1" and figure(html, "replied") == "1"
    assert figure(html, "median-first-reply") == "1 h 30 min"
    assert ids["roma"] not in html
    one_city = await client.get(
        "/dashboard/stats", params={"city": "caserta", "from": f"{utcnow():%Y-%m-%d}"}
    )
    assert figure(await one_city.text(), "total") == "3"
    tomorrow = utcnow() + timedelta(days=2)
    later = await client.get("/dashboard/stats", params={"from": f"{tomorrow:%Y-%m-%d}"})
    assert figure(await later.text(), "total") == "0" and figure(await later.text(), "open-now") == "3"
    assert (await client.get("/dashboard/stats", params={"from": "yesterday"})).status == 400


async def test_another_citys_statistics_and_csv_are_forbidden(
    app: web.Application, client: TestClient
) -> None:
    await seed(app)
    await add_mediator(app, "marco@roma.example", cities=("roma",))
    await login(client, "marco@roma.example")
    assert (await client.get("/dashboard/stats", params={"city": "caserta"})).status == 403
    assert (await client.get("/dashboard/stats.csv", params={"city": "caserta"})).status == 403
    assert (await client.get("/dashboard/search", params={"city": "caserta", "q": "CE"})).status == 403
    async with AsyncSession(app[DATABASE]) as session:
        refused = (
            await session.execute(select(AuditRow.action).where(AuditRow.action == "refused:city"))
        ).all()
    assert len(refused) == 3  # every 403 is in the audit log
    own = await client.get("/dashboard/stats")
    assert figure(await own.text(), "total") == "1"
    rows = list(csv.DictReader(io.StringIO(await (await client.get("/dashboard/stats.csv")).text())))
    assert [row["city"] for row in rows] == ["roma"]


async def test_the_csv_is_a_download_of_facts_only(app: web.Application, client: TestClient) -> None:
    ids = await seed(app)
    await add_mediator(app, "anna@caserta.example")
    await login(client, "anna@caserta.example")
    response = await client.get("/dashboard/stats.csv", params={"city": "caserta"})
    assert response.status == 200 and response.content_type == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    body = await response.text()
    rows = list(csv.DictReader(io.StringIO(body)))
    assert sorted(row["ticket"] for row in rows) == sorted([ids["late"], ids["replied"], ids["plain"]])
    assert "My permit expires next week" not in body and "telegram" not in body


@pytest.mark.parametrize("formula", ["=cmd|' /C calc'!A0", "+1+1", "-2+3", "@SUM(A1:A9)"])
async def test_csv_cells_that_would_run_as_formulas_are_neutralised(
    app: web.Application, client: TestClient, formula: str
) -> None:
    ids = await seed(app)
    async with app[DATABASE].begin() as connection:  # a topic no form accepts, straight in the database
        await connection.execute(update(TicketRow).where(TicketRow.id == ids["plain"]).values(topic=formula))
    await add_mediator(app, "anna@caserta.example")
    await login(client, "anna@caserta.example")
    body = await (await client.get("/dashboard/stats.csv")).text()
    [row] = [r for r in csv.DictReader(io.StringIO(body)) if r["ticket"] == ids["plain"]]
    assert row["topic"] == "'" + formula
    assert not any(cell.startswith(("=", "+", "-", "@")) for r in csv.reader(io.StringIO(body)) for cell in r)


async def test_search_finds_closed_tickets_of_the_mediators_cities(
    app: web.Application, client: TestClient
) -> None:
    ids = await seed(app)
    anna = await add_mediator(app, "anna@caserta.example", role=Role.COORDINATOR)
    await app[MEDIATION].close(anna, ids["replied"], "resolved")
    await login(client, "anna@caserta.example")
    everything = await (await client.get("/dashboard/search", params={"status": "closed"})).text()
    assert ROW.findall(everything) == [ids["replied"]]
    by_id = await (await client.get("/dashboard/search", params={"q": ids["late"][-4:]})).text()
    assert ROW.findall(by_id) == [ids["late"]]
    by_language = await (await client.get("/dashboard/search", params={"language": "ar"})).text()
    assert ROW.findall(by_language) == [ids["replied"]]
    no_roma = await (await client.get("/dashboard/search", params={"q": ids["roma"]})).text()
    assert ROW.findall(no_roma) == []
    empty_form = await (await client.get("/dashboard/search")).text()
    assert ROW.findall(empty_form) == [] and 'id="results"' not in empty_form


async def test_the_navigation_links_the_new_pages(app: web.Application, client: TestClient) -> None:
    await add_mediator(app, "anna@caserta.example")
    await login(client, "anna@caserta.example")
    html = await (await client.get("/dashboard")).text()
    for path in ("/dashboard/stats", "/dashboard/search", "/dashboard/review"):
        assert f'href="{path}"' in html, path


async def test_an_italian_mediator_reads_the_overview_pages_in_italian(
    app: web.Application, client: TestClient
) -> None:
    await seed(app)
    miss = Miss(MissKind.NOT_UNDERSTOOD, "tax_code", 0.3)
    await app[REVIEW].record(
        InboundMessage("telegram", "1", "boh cf dove", platform_id="1"), miss, "it", "caserta"
    )
    await add_mediator(app, "anna@caserta.example")
    await login(client, "anna@caserta.example")
    translations = italian()
    for path in ("/dashboard/stats", "/dashboard/search?status=new", "/dashboard/review"):
        html = await (await client.get(path)).text()
        assert '<html lang="it">' in html, path
        assert not english_left(read_page(html).texts, translations), path
    stats = "\n".join(read_page(await (await client.get("/dashboard/stats")).text()).texts)
    assert "Statistiche" in stats and "Tempo mediano alla prima risposta" in stats
