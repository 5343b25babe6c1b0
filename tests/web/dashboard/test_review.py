"""The review page through the real gateway app and dashboard: missed messages grouped for the
mediator's cities, marked by a form with its CSRF token, gone from the page once marked."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from bot.conversation.review import Review
from bot.core.messages import InboundMessage
from bot.core.overview import Decision, Miss, MissKind
from bot.core.tickets import Role
from bot.web.keys import REVIEW
from tests.helpers.dashboard import add_mediator, dashboard_app, login

GROUP = re.compile(r'data-language="([^"]+)" data-topic="([^"]*)"')
MESSAGE = re.compile(r'name="message" value="(\d+)"')


@pytest.fixture()
async def app(tmp_path: Path, aiohttp_server: Any) -> web.Application:
    return await dashboard_app(tmp_path, aiohttp_server)


@pytest.fixture()
async def client(app: web.Application, aiohttp_client: Any) -> TestClient:
    return await aiohttp_client(app)


async def seed(review: Review) -> None:
    unsure = Miss(MissKind.NOT_UNDERSTOOD, "tax_code", 0.3)
    for text, language, city in (
        ("codice fiscale dove", "it", "caserta"),
        ("cf per lavoro dove lo prendo", "it", "caserta"),
        ("أين الكودice فيسكالي", "ar", "caserta"),
        ("codice fiscale a roma", "it", "roma"),
        ("non so la città", "it", None),
    ):
        await review.record(InboundMessage("telegram", "555", text, platform_id=text), unsure, language, city)


async def test_the_page_groups_the_mediators_cities_without_any_user(
    app: web.Application, client: TestClient
) -> None:
    await seed(app[REVIEW])
    await add_mediator(app, "anna@caserta.example")
    await login(client, "anna@caserta.example")
    html = await (await client.get("/dashboard/review")).text()
    assert GROUP.findall(html) == [("it", "tax_code"), ("ar", "tax_code")]
    assert "codice fiscale dove" in html and 'dir="rtl" lang="ar"' in html
    assert "codice fiscale a roma" not in html and "non so la città" not in html
    assert "555" not in html and "telegram" not in html


async def test_a_coordinator_sees_the_messages_of_no_known_city(
    app: web.Application, client: TestClient
) -> None:
    await seed(app[REVIEW])
    await add_mediator(app, "carla@caserta.example", role=Role.COORDINATOR)
    await login(client, "carla@caserta.example")
    html = await (await client.get("/dashboard/review")).text()
    assert "non so la città" in html and "codice fiscale a roma" not in html


async def test_marking_a_group_takes_it_off_the_page(app: web.Application, client: TestClient) -> None:
    review = app[REVIEW]
    await seed(review)
    await add_mediator(app, "anna@caserta.example")
    token = await login(client, "anna@caserta.example")
    html = await (await client.get("/dashboard/review")).text()
    italian = html.split('data-language="it"', 1)[1].split("</section>", 1)[0]
    ids = MESSAGE.findall(italian)
    form = [("csrf_token", token), ("decision", "example"), ("topic", "tax_code")] + [
        ("message", i) for i in ids
    ]
    marked = await client.post("/dashboard/review/mark", data=form, allow_redirects=False)
    assert marked.status == 303 and marked.headers["Location"] == "/dashboard/review?marked=2"
    after = await (await client.get(marked.headers["Location"])).text()
    assert GROUP.findall(after) == [("ar", "tax_code")]
    [first, second] = await review.missed.decided(Decision.EXAMPLE)
    assert {first.text, second.text} == {"codice fiscale dove", "cf per lavoro dove lo prendo"}
    arabic = after.split('data-language="ar"', 1)[1].split("</section>", 1)[0]
    form = [("csrf_token", token), ("decision", "knowledge"), ("topic", "tax_code")]
    form += [("message", i) for i in MESSAGE.findall(arabic)]
    await client.post("/dashboard/review/mark", data=form, allow_redirects=False)
    page = await (await client.get("/dashboard/review")).text()
    assert GROUP.findall(page) == [("ar", "tax_code")]  # now in the list of knowledge to write
    assert 'id="knowledge-needed"' in page and "أين الكودice فيسكالي" in page and 'name="message"' not in page


async def test_a_mark_without_token_or_topic_changes_nothing(
    app: web.Application, client: TestClient
) -> None:
    review = app[REVIEW]
    await seed(review)
    await add_mediator(app, "anna@caserta.example")
    token = await login(client, "anna@caserta.example")
    every = [str(m.id) for m in await review.missed.undecided(("caserta", "roma"), True)]
    no_token = [("decision", "out_of_scope")] + [("message", i) for i in every]
    assert (await client.post("/dashboard/review/mark", data=no_token, allow_redirects=False)).status == 403
    no_topic = [("csrf_token", token), ("decision", "example"), ("topic", "")] + [
        ("message", i) for i in every
    ]
    assert (await client.post("/dashboard/review/mark", data=no_topic, allow_redirects=False)).status == 400
    # roma's and the city-less messages are not this mediator's to mark, even by their ids
    other = [("csrf_token", token), ("decision", "out_of_scope")] + [("message", i) for i in every]
    response = await client.post("/dashboard/review/mark", data=other, allow_redirects=False)
    assert response.headers["Location"] == "/dashboard/review?marked=3"
    left = await review.missed.undecided(("caserta", "roma"), True)
    assert sorted(m.text for m in left) == ["codice fiscale a roma", "non so la città"]
