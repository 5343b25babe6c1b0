"""Fixtures of the dashboard's tests: the real gateway app with the dashboard (Rasa faked), and a client."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from tests.helpers.dashboard import dashboard_app


@pytest.fixture()
async def app(tmp_path: Path, aiohttp_server: Any) -> web.Application:
    return await dashboard_app(tmp_path, aiohttp_server)


@pytest.fixture()
async def client(app: web.Application, aiohttp_client: Any) -> TestClient:
    return await aiohttp_client(app)
