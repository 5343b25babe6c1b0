"""The web chat's HTTP contract, with the real gateway and a local fake Rasa."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.core.errors import InvalidMessage
from bot.core.i18n import Translations
from bot.core.settings import PROJECT_DIR, load_settings
from bot.web.app import create_app
from bot.web.webchat import parse_chat_request, session_user
from tests.fakes.fake_rasa import echo_responder, fake_action_server_app, fake_rasa_app


@pytest.fixture()
async def rasa(aiohttp_server: Any) -> tuple[TestServer, list[dict[str, Any]]]:
    received: list[dict[str, Any]] = []
    server = await aiohttp_server(fake_rasa_app(echo_responder, received))
    return server, received


def gateway_app(tmp_path: Path, rasa_url: str) -> web.Application:
    settings = load_settings(
        SPORTELLO_RASA_URL=rasa_url, SPORTELLO_DATA_DIR=tmp_path, SPORTELLO_RASA_TIMEOUT=3
    )
    return create_app(settings)


@pytest.fixture()
async def client(tmp_path: Path, rasa: Any, aiohttp_client: Any) -> TestClient:
    server, _ = rasa
    return await aiohttp_client(gateway_app(tmp_path, str(server.make_url(""))))


async def test_chat_contract(client: TestClient, rasa: Any) -> None:
    response = await client.post("/api/chat", json={"user": "u1", "text": "come ottengo il codice fiscale?"})
    assert response.status == 200
    body = await response.json()
    assert body["language"] == "it"
    assert body["topic"] == "tax_code"
    assert body["replies"] == [
        {"text": "echo:come ottengo il codice fiscale?", "buttons": [{"title": "Menu", "payload": "/menu"}]}
    ]
    _, received = rasa
    # the sender is the server's session, never the client's "user"
    assert received[-1]["sender"] == "webchat:" + session_user(response.headers["X-Sportello-Session"])
    assert received[-1]["metadata"] == {"language": "it", "city": None, "channel": "webchat"}


async def test_language_and_city_from_the_request_are_remembered(client: TestClient, rasa: Any) -> None:
    await client.post("/api/chat", json={"user": "u2", "text": "hi", "language": "ar", "city": "caserta"})
    text = "I need help with my permit please"
    response = await client.post("/api/chat", json={"user": "u2", "text": text})
    body = await response.json()
    assert body["language"] == "ar" and body["direction"] == "rtl"  # an explicit choice is pinned
    _, received = rasa
    assert received[-1]["metadata"]["city"] == "caserta"


async def test_short_message_keeps_the_language(client: TestClient) -> None:
    await client.post("/api/chat", json={"user": "u3", "text": "Я хочу продлить вид на жительство"})
    body = await (await client.post("/api/chat", json={"user": "u3", "text": "ok"})).json()
    assert body["language"] == "ru"


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        (b"not json", "JSON"),
        (b"[]", "object"),
        (b'{"user": 5, "text": "hi"}', "'user'"),
        (b'{"user": "u"}', "'text'"),
        (b'{"user": "u", "text": "   "}', "'text'"),
        (b'{"user": "u", "text": "hi", "language": "xx"}', "'language'"),
        (b'{"user": "u", "text": "hi", "city": "venezia"}', "city"),
    ],
)
async def test_bad_input_is_a_400_with_a_json_error(client: TestClient, body: bytes, detail: str) -> None:
    response = await client.post("/api/chat", data=body, headers={"Content-Type": "application/json"})
    assert response.status == 400
    assert detail in (await response.json())["detail"]


async def test_text_over_4000_characters_is_rejected(client: TestClient) -> None:
    response = await client.post("/api/chat", json={"user": "u", "text": "a" * 4001})
    assert response.status == 400
    assert (await client.post("/api/chat", json={"user": "u", "text": "a" * 4000})).status == 200


async def test_rasa_down_is_a_503_in_the_users_language(
    tmp_path: Path, aiohttp_client: Any, unused_tcp_port: int
) -> None:
    client = await aiohttp_client(gateway_app(tmp_path, f"http://127.0.0.1:{unused_tcp_port}"))
    response = await client.post("/api/chat", json={"user": "u", "text": "كيف أجدد تصريح الإقامة"})
    assert response.status == 503
    body = await response.json()
    assert body["language"] == "ar"
    expected = Translations(PROJECT_DIR / "locales")("ar")._(
        "Sorry, the assistant is not available right now. Please try again in a few minutes."
    )
    assert body["detail"] == expected
    assert (await client.get("/healthz")).status == 200  # the gateway keeps running


async def test_empty_answer_from_rasa_means_the_action_server_is_down(
    tmp_path: Path, aiohttp_server: Any, aiohttp_client: Any
) -> None:
    server = await aiohttp_server(fake_rasa_app(lambda body: [], []))
    client = await aiohttp_client(gateway_app(tmp_path, str(server.make_url(""))))
    response = await client.post("/api/chat", json={"user": "u", "text": "hello there"})
    assert response.status == 503


async def test_silence_from_rasa_with_the_action_server_up_is_an_answer_not_an_outage(
    tmp_path: Path, aiohttp_server: Any, aiohttp_client: Any
) -> None:
    """``/restart`` typed in the web chat: Rasa restarts the conversation and says nothing."""
    rasa = await aiohttp_server(fake_rasa_app(lambda body: [], []))
    actions = await aiohttp_server(fake_action_server_app())
    settings = load_settings(
        SPORTELLO_RASA_URL=str(rasa.make_url("")),
        SPORTELLO_ACTIONS_PORT=actions.port,
        SPORTELLO_DATA_DIR=tmp_path,
    )
    client = await aiohttp_client(create_app(settings))
    response = await client.post("/api/chat", json={"user": "u", "text": "/restart"})
    assert response.status == 200
    assert (await response.json())["replies"] == []


async def test_chat_page_is_served_right_to_left_for_arabic(client: TestClient) -> None:
    page = await (await client.get("/?lang=ar")).text()
    assert 'dir="rtl"' in page and 'lang="ar"' in page
    assert 'name="viewport"' in page
    english = await (await client.get("/?lang=en")).text()
    assert 'dir="ltr"' in english


def test_parse_rejects_non_string_city() -> None:
    with pytest.raises(InvalidMessage):
        parse_chat_request(b'{"user": "u", "text": "t", "city": 3}', 4000, "session-user")


async def test_who_is_writing_is_the_servers_session_not_the_clients_user(client: TestClient) -> None:
    first = await client.post("/api/chat", json={"user": "victim", "text": "hi", "city": "caserta"})
    token = first.headers["X-Sportello-Session"]
    assert len(token) == 43 and "HttpOnly" in first.headers["Set-Cookie"]
    client.session.cookie_jar.clear()
    # someone else, claiming the same "user", is another conversation: they do not get the city
    stranger = await client.post("/api/chat", json={"user": "victim", "text": "hi"})
    assert stranger.headers["X-Sportello-Session"] != token
    # the holder of the token, by header (an API client), is the same conversation
    again = await client.post("/api/chat", json={"text": "hi"}, headers={"X-Sportello-Session": token})
    assert again.headers["X-Sportello-Session"] == token


async def test_the_chat_page_gives_a_session_from_the_first_visit(client: TestClient) -> None:
    page = await client.get("/")
    assert "sportello_chat=" in page.headers["Set-Cookie"] and "SameSite=Strict" in page.headers["Set-Cookie"]
    assert "localStorage.setItem" not in await (await client.get("/static/chat.js")).text()


@pytest.mark.parametrize(
    ("typed", "rasa_gets"),
    [
        ('/choose_city{"city":"roma"}', '/choose_city{"city":"roma"}'),  # a button of ours
        ("/eviction", "/eviction"),  # a topic's button
        ('/choose_city{"city":"atlantis"}', 'choose_city{"city":"atlantis"}'),  # no such button
        ('/forget_me{"confirm":"yes"}', 'forget_me{"confirm":"yes"}'),  # entities no button carries
        ("/nlu_fallback", "nlu_fallback"),  # an intent no button makes
    ],
)
async def test_only_payloads_our_buttons_make_act_as_presses(
    client: TestClient, rasa: Any, typed: str, rasa_gets: str
) -> None:
    assert (await client.post("/api/chat", json={"text": typed})).status == 200
    _, received = rasa
    assert received[-1]["message"] == rasa_gets


async def test_a_session_writing_faster_than_a_person_gets_429_in_its_language(
    client: TestClient, rasa: Any
) -> None:
    _, received = rasa
    hello = {"text": "Bonjour, j'ai besoin d'un avocat", "language": "fr"}
    first = await client.post("/api/chat", json=hello)
    assert first.status == 200
    statuses = [(await client.post("/api/chat", json={"text": "encore"})).status for _ in range(25)]
    assert statuses[:19] == [200] * 19 and set(statuses[19:]) == {429}  # 20 a minute per session
    refused = await client.post("/api/chat", json={"text": "encore"})
    assert refused.status == 429 and int(refused.headers["Retry-After"]) >= 1
    body = await refused.json()
    assert body["error"] == "too_many_requests" and body["language"] == "fr"
    assert body["detail"] == Translations(PROJECT_DIR / "locales")("fr")._(
        "You are writing very fast. Please wait a moment and try again."
    )
    assert len(received) == 20, "nothing refused reached Rasa"
    client.session.cookie_jar.clear()  # a new session from the same address still gets in
    assert (await client.post("/api/chat", json={"text": "ciao"})).status == 200


async def test_a_returning_users_page_opens_in_their_language(client: TestClient) -> None:
    """A fresh tab of someone who wrote in Arabic: the frame is Arabic, right to left, before they type."""
    first = await client.post("/api/chat", json={"text": "hi", "language": "ar"})
    token = first.headers["X-Sportello-Session"]
    page = await (await client.get("/", headers={"X-Sportello-Session": token})).text()
    assert '<html lang="ar" dir="rtl">' in page
    chosen = await (await client.get("/?lang=fr", headers={"X-Sportello-Session": token})).text()
    assert '<html lang="fr" dir="ltr">' in chosen, "?lang= still wins"
    stranger = await (await client.get("/", headers={"X-Sportello-Session": "x" * 43})).text()
    assert '<html lang="it" dir="ltr">' in stranger, "a session nobody used: the default"
