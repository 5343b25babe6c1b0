"""``/healthz`` and ``/readyz`` on the real app: a dead worker, an unreachable database and an engine down
for more than a minute make the gateway unhealthy, each with its reason; a short engine outage only makes
it not ready."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy.ext.asyncio import create_async_engine

from bot.core.settings import load_settings
from bot.web.app import create_app
from bot.web.health import HEALTH
from bot.web.keys import INBOX
from tests.fakes.fake_rasa import echo_responder, fake_action_server_app, fake_rasa_app


@pytest.fixture()
async def client(tmp_path: Path, aiohttp_server: Any, aiohttp_client: Any) -> TestClient:
    rasa = await aiohttp_server(fake_rasa_app(echo_responder, []))
    actions = await aiohttp_server(fake_action_server_app())
    settings = load_settings(
        SPORTELLO_RASA_URL=str(rasa.make_url("")),
        SPORTELLO_ACTIONS_PORT=actions.port,
        SPORTELLO_DATA_DIR=tmp_path,
    )
    test_client: TestClient = await aiohttp_client(create_app(settings))
    test_client.rasa = rasa  # type: ignore[attr-defined]
    return test_client


async def test_all_well_is_healthy_and_ready(client: TestClient) -> None:
    assert (await client.get("/healthz")).status == 200
    ready = await client.get("/readyz")
    assert ready.status == 200 and (await ready.json()) == {"status": "ready"}


async def test_an_engine_outage_is_not_ready_at_once_and_unhealthy_after_a_minute(client: TestClient) -> None:
    await client.rasa.close()  # type: ignore[attr-defined]
    check = client.app[HEALTH]
    now = [1000.0]
    check.clock = lambda: now[0]
    assert (await client.get("/healthz")).status == 200  # the inbox covers a short outage
    ready = await client.get("/readyz")
    assert ready.status == 503
    assert (await ready.json())["problems"] == ["rasa unreachable for 0 s"]
    now[0] += 61
    health = await client.get("/healthz")
    assert health.status == 503
    assert (await health.json())["problems"] == ["rasa unreachable for 61 s"]


async def test_a_worker_that_keeps_failing_makes_the_gateway_unhealthy(client: TestClient) -> None:
    async def broken() -> list[str]:
        raise ConnectionError("database unreachable")

    client.app[INBOX].pending_users = broken  # type: ignore[method-assign]
    for _ in range(50):  # the inbox worker looks every second
        response = await client.get("/healthz")
        if response.status == 503:
            break
        await asyncio.sleep(0.1)
    problems = (await response.json())["problems"]
    assert response.status == 503
    assert problems[0].startswith("worker inbox is down (ConnectionError at test_health.py:")


async def test_an_unreachable_database_makes_the_gateway_unhealthy(client: TestClient) -> None:
    check = client.app[HEALTH]
    check.database = create_async_engine("postgresql+psycopg://nobody@127.0.0.1:1/none")
    response = await client.get("/healthz")
    assert response.status == 503
    assert "database unreachable" in (await response.json())["problems"]
    await check.database.dispose()
