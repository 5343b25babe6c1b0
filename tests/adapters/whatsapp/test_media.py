"""Downloading what WhatsApp users send, against the local fake Graph API: the media endpoint's URL
with the bearer token, the size limit before and during the download, and Graph's errors."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from bot.adapters.whatsapp.media import WhatsAppMedia
from bot.core.attachments import DOCUMENT, MediaRef
from bot.core.errors import AttachmentRefused, RetryLater
from tests.fakes.fake_graph import FakeGraph, fake_graph_app

PDF = b"%PDF-1.7 a letter from the landlord" + bytes(1000)


@pytest.fixture()
def graph() -> FakeGraph:
    return FakeGraph()


@pytest.fixture()
async def server(graph: FakeGraph, aiohttp_server: Any) -> TestServer:
    served: TestServer = await aiohttp_server(fake_graph_app(graph))
    return served


@pytest.fixture()
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as opened:
        yield opened


def media(session: aiohttp.ClientSession, server: TestServer, token: str) -> WhatsAppMedia:
    return WhatsAppMedia(session, str(server.make_url("/v21.0")), token)


async def test_a_document_is_fetched_through_its_media_url(
    graph: FakeGraph, server: TestServer, session: aiohttp.ClientSession
) -> None:
    stored = graph.add_media(PDF, "application/pdf")
    content = await media(session, server, graph.token).download(MediaRef(stored.media_id, DOCUMENT), 10_000)
    assert content == PDF and graph.downloads == [stored.media_id]


async def test_a_file_over_the_limit_is_refused_before_its_download(
    graph: FakeGraph, server: TestServer, session: aiohttp.ClientSession
) -> None:
    stored = graph.add_media(PDF, "application/pdf")
    with pytest.raises(AttachmentRefused) as refused:
        await media(session, server, graph.token).download(MediaRef(stored.media_id, DOCUMENT), 100)
    assert refused.value.reason == "too_big" and graph.downloads == []


@pytest.mark.parametrize(("media_id", "token"), [("4040404040", "test-token"), (None, "not-our-token")])
async def test_an_unknown_media_or_a_bad_token_means_retry_later(
    graph: FakeGraph, server: TestServer, session: aiohttp.ClientSession, media_id: str | None, token: str
) -> None:
    stored = graph.add_media(PDF, "application/pdf")
    with pytest.raises(RetryLater):
        await media(session, server, token).download(MediaRef(media_id or stored.media_id, DOCUMENT), 10_000)
    assert graph.downloads == []


async def test_the_media_url_needs_the_bearer_token(
    graph: FakeGraph, server: TestServer, session: aiohttp.ClientSession
) -> None:
    """What the fake serves, as Meta does: a plain GET of the URL (a browser's) gets no file."""
    stored = graph.add_media(PDF, "application/pdf")
    headers = {"Authorization": f"Bearer {graph.token}"}
    async with session.get(server.make_url(f"/v21.0/{stored.media_id}"), headers=headers) as answer:
        info = await answer.json()
    assert set(info) == {"messaging_product", "url", "mime_type", "sha256", "file_size", "id"}
    assert info["file_size"] == str(len(PDF))
    async with session.get(info["url"]) as plain:
        assert plain.status == 401
