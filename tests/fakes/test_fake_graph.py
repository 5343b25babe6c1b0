"""The fake WhatsApp Cloud API speaks Meta's wire format; its webhook builders match the saved fixtures."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import AsyncIterator, Callable
from datetime import datetime, timedelta, timezone
from typing import Any, Literal

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from tests.fakes.fake_graph import (
    DOC_SENDER,
    FIXTURE_SOURCES,
    FIXTURES_DIR,
    SIGNATURE_HEADER,
    FakeGraph,
    Json,
    Sender,
    audio_message,
    button_reply,
    contact_card,
    contacts_message,
    deliver_statuses,
    fake_graph_app,
    image_message,
    list_reply,
    load_fixture,
    location_message,
    messages_path,
    post_webhook,
    pricing,
    sign,
    status_update,
    text_message,
    webhook_error,
    withheld_number_message,
)

TOKEN = "EAAtest"
USER = "393331234567"
NOW = datetime(2026, 3, 2, 9, 30, tzinfo=timezone.utc)

Post = Callable[..., Any]


@pytest.fixture()
def graph() -> FakeGraph:
    state = FakeGraph(token=TOKEN, now=lambda: NOW)
    state.user_wrote(USER, at=NOW - timedelta(minutes=5))
    return state


@pytest.fixture()
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client:
        yield client


@pytest.fixture()
async def server(aiohttp_server: Any, graph: FakeGraph) -> TestServer:
    started: TestServer = await aiohttp_server(fake_graph_app(graph))
    return started


@pytest.fixture()
def send(server: TestServer, session: aiohttp.ClientSession) -> Post:
    """POST a message body to the fake, as the gateway will; returns (status, json)."""

    async def post(body: Json, *, token: str = TOKEN, path: str | None = None) -> tuple[int, Any]:
        url = str(server.make_url(path or messages_path()))
        headers = {"Authorization": f"Bearer {token}"}
        async with session.post(url, json=body, headers=headers) as response:
            text = await response.text()
            is_json = response.content_type == "application/json"
            return response.status, json.loads(text) if is_json else text

    return post


def text(body: str, to: str = USER) -> Json:
    return {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": to,
        "type": "text",
        "text": {"body": body},
    }


def buttons(count: int, title: str = "Option") -> Json:
    replies = [{"type": "reply", "reply": {"id": f"opt_{i}", "title": f"{title} {i}"}} for i in range(count)]
    interactive = {"type": "button", "body": {"text": "Scegli un argomento"}, "action": {"buttons": replies}}
    return {"messaging_product": "whatsapp", "to": USER, "type": "interactive", "interactive": interactive}


def rows(count: int, start: int = 0, title: str = "Row") -> list[Json]:
    numbers = range(start, start + count)
    return [{"id": f"row_{i}", "title": f"{title} {i}", "description": "Dettagli"} for i in numbers]


def list_message(sections: list[list[Json]], button: str = "Argomenti") -> Json:
    titled = [{"title": f"Sezione {i}", "rows": section} for i, section in enumerate(sections)]
    action = {"button": button, "sections": titled}
    interactive = {"type": "list", "body": {"text": "Di cosa hai bisogno?"}, "action": action}
    return {"messaging_product": "whatsapp", "to": USER, "type": "interactive", "interactive": interactive}


def template(name: str = "riprendi_conversazione") -> Json:
    body = {
        "name": name,
        "language": {"code": "it"},
        "components": [{"type": "body", "parameters": [{"type": "text", "text": "Sheena"}]}],
    }
    return {"messaging_product": "whatsapp", "to": USER, "type": "template", "template": body}


def assert_graph_error(answer: Any, code: int) -> Json:
    """The error object has exactly Meta's fields."""
    error: Json = answer["error"]
    assert set(error) == {"message", "type", "code", "error_data", "fbtrace_id"}
    assert error["code"] == code and error["type"] == "OAuthException"
    assert error["message"].startswith(f"(#{code}) ")
    assert error["error_data"]["messaging_product"] == "whatsapp" and error["error_data"]["details"]
    return error


def only_status(payload: Json) -> Json:
    status: Json = payload["entry"][0]["changes"][0]["value"]["statuses"][0]
    return status


# --------------------------------------------------------------------------- sending


async def test_text_is_accepted_with_the_documented_response(send: Post, graph: FakeGraph) -> None:
    status, answer = await send(text("Ciao! Come posso aiutarti?", to="+39 333 123 4567"))

    assert status == 200
    assert answer["messaging_product"] == "whatsapp"
    assert answer["contacts"] == [{"input": "+39 333 123 4567", "wa_id": USER}]
    assert len(answer["messages"]) == 1 and answer["messages"][0]["id"].startswith("wamid.")
    assert graph.sent == [text("Ciao! Come posso aiutarti?", to="+39 333 123 4567")]
    sent = only_status(graph.pop_status_webhooks()[0])
    assert sent["id"] == answer["messages"][0]["id"] and sent["status"] == "sent"
    assert sent["recipient_id"] == USER
    assert sent["pricing"] == pricing(billable=False, category="service")


async def test_three_reply_buttons_are_accepted(send: Post) -> None:
    status, _ = await send(buttons(3))
    assert status == 200


async def test_ten_rows_across_sections_are_accepted(send: Post) -> None:
    status, _ = await send(list_message([rows(6), rows(4, start=6)]))
    assert status == 200


async def test_four_buttons_are_rejected(send: Post, graph: FakeGraph) -> None:
    status, answer = await send(buttons(4))

    assert status == 400
    error = assert_graph_error(answer, 131009)
    assert "Max allowed buttons: 3" in error["error_data"]["details"]
    assert graph.sent == [] and graph.status_webhooks == []


async def test_a_button_title_over_twenty_characters_is_rejected(send: Post) -> None:
    status, answer = await send(buttons(2, title="Permesso di soggiorno"))
    assert status == 400
    assert "Button title length invalid" in assert_graph_error(answer, 131009)["error_data"]["details"]


async def test_eleven_rows_are_rejected_even_when_split(send: Post) -> None:
    status, answer = await send(list_message([rows(6), rows(5, start=6)]))
    assert status == 400
    assert "max allowed count: 10" in assert_graph_error(answer, 131009)["error_data"]["details"]


async def test_a_25_character_row_title_is_rejected(send: Post) -> None:
    too_long = [{"id": "row_x", "title": "x" * 25}]
    status, answer = await send(list_message([too_long]))
    assert status == 400
    assert "Row title length invalid" in assert_graph_error(answer, 131009)["error_data"]["details"]


async def test_a_24_character_row_title_is_accepted(send: Post) -> None:
    status, _ = await send(list_message([[{"id": "row_x", "title": "x" * 24}]]))
    assert status == 200


async def test_text_over_4096_characters_is_an_invalid_parameter(send: Post) -> None:
    status, answer = await send(text("a" * 4097))
    assert status == 400
    assert_graph_error(answer, 100)


async def test_messaging_product_must_be_whatsapp(send: Post) -> None:
    status, answer = await send({**text("hi"), "messaging_product": "sms"})
    assert status == 400
    assert "messaging_product" in assert_graph_error(answer, 100)["error_data"]["details"]


async def test_a_template_needs_name_and_language(send: Post) -> None:
    body = template()
    del body["template"]["language"]
    status, answer = await send(body)
    assert status == 400
    assert_graph_error(answer, 100)


async def test_a_wrong_token_is_401_with_code_190(send: Post, graph: FakeGraph) -> None:
    status, answer = await send(text("hi"), token="stolen")

    assert status == 401
    assert answer["error"]["code"] == 190 and answer["error"]["type"] == "OAuthException"
    assert answer["error"]["fbtrace_id"]
    assert graph.requests[0].status == 401 and graph.sent == []


async def test_an_unknown_phone_number_id_is_refused(send: Post) -> None:
    status, answer = await send(text("hi"), path="/v21.0/999/messages")
    assert status == 400
    assert answer["error"]["code"] == 100 and answer["error"]["type"] == "GraphMethodException"


async def test_mark_as_read_answers_success(send: Post) -> None:
    body = {"messaging_product": "whatsapp", "status": "read", "message_id": "wamid.abc"}
    assert await send(body) == (200, {"success": True})


async def test_every_request_is_recorded(send: Post, graph: FakeGraph) -> None:
    await send(text("one"))
    await send(buttons(4))
    await send(text("three"), token="bad")

    assert [r.status for r in graph.requests] == [200, 400, 401]
    first = graph.requests[0]
    assert (first.method, first.version, first.phone_number_id) == ("POST", "v21.0", "106540352242922")
    assert first.path == "/v21.0/106540352242922/messages"
    assert first.headers["Authorization"] == f"Bearer {TOKEN}"
    assert first.body == text("one") and first.response["messages"][0]["id"].startswith("wamid.")


# --------------------------------------------------------------------------- the 24-hour window


async def test_inside_the_window_free_form_is_delivered(send: Post, graph: FakeGraph) -> None:
    graph.user_wrote(USER, at=NOW - timedelta(hours=23, minutes=59))
    status, _ = await send(text("ancora in tempo"))
    assert status == 200
    assert only_status(graph.pop_status_webhooks()[0])["status"] == "sent"


async def test_outside_the_window_the_send_fails_with_131047_by_webhook(send: Post, graph: FakeGraph) -> None:
    graph.user_wrote(USER, at=NOW - timedelta(hours=24, minutes=1))

    status, answer = await send(text("troppo tardi"))

    assert status == 200  # the Cloud API accepts the request ...
    failed = only_status(graph.pop_status_webhooks()[0])
    assert failed["id"] == answer["messages"][0]["id"]  # ... and reports the failure asynchronously
    assert failed["status"] == "failed" and failed["recipient_id"] == USER
    assert failed["errors"] == [webhook_error(131047)]
    assert failed["errors"][0]["title"] == "Re-engagement message"


async def test_outside_the_window_sync_mode_answers_400_131047(send: Post, graph: FakeGraph) -> None:
    graph.window_error = "sync"
    graph.user_wrote(USER, at=NOW - timedelta(days=2))

    status, answer = await send(text("troppo tardi"))

    assert status == 400
    assert "Re-engagement message" in assert_graph_error(answer, 131047)["message"]
    assert graph.status_webhooks == []


async def test_a_user_who_never_wrote_has_no_window(send: Post, graph: FakeGraph) -> None:
    graph.window_error = "sync"
    status, answer = await send(text("ciao", to="393339999999"))
    assert status == 400 and answer["error"]["code"] == 131047


async def test_templates_are_allowed_outside_the_window(send: Post, graph: FakeGraph) -> None:
    graph.window_error = "sync"
    graph.user_wrote(USER, at=NOW - timedelta(days=3))

    status, answer = await send(template())

    assert status == 200
    assert answer["messages"][0]["message_status"] == "accepted"
    sent = only_status(graph.pop_status_webhooks()[0])
    assert sent["status"] == "sent" and sent["pricing"]["billable"] is True


# --------------------------------------------------------------------------- failure injection


async def test_fail_next_injects_a_rate_limit_once(send: Post, graph: FakeGraph) -> None:
    graph.fail_next(code=130429)

    status, answer = await send(text("uno"))
    assert status == 429
    assert assert_graph_error(answer, 130429)["message"] == "(#130429) Rate limit hit"

    status, _ = await send(text("due"))
    assert status == 200
    assert [body["text"]["body"] for body in graph.sent] == ["due"]


async def test_injected_failures_wait_for_an_authorised_request(send: Post, graph: FakeGraph) -> None:
    graph.fail_next(code=130429)
    assert (await send(text("x"), token="bad"))[0] == 401
    assert (await send(text("x")))[0] == 429


async def test_generic_server_errors(send: Post, graph: FakeGraph) -> None:
    graph.fail_next(code=131000)
    graph.fail_next_http(500)

    status, answer = await send(text("x"))
    assert status == 500
    assert_graph_error(answer, 131000)
    assert await send(text("x")) == (500, "Internal Server Error")
    assert (await send(text("x")))[0] == 200


# --------------------------------------------------------------------------- webhook fixtures

DOC_TEXT_ID = "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA="
DOC_REPLY_ID = "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQUFERjg0NDEzNDdFODU3MUMxMAA="
DOC_CONTEXT_ID = "wamid.HBgLMTQxMjU1NTA4MjkVAgASGBQzQUNCNjk5RDUwNUZGMUZEM0VBRAA="
DOC_SENT_ID = "wamid.HBgLMTY1MDUwNzY1MjAVAgARGBI5QTNDQTVCM0Q0Q0Q2RTY3RTcA"
BSUID = "US.13491208655302741918"


def at(unix_seconds: int) -> datetime:
    return datetime.fromtimestamp(unix_seconds, tz=timezone.utc)


def served(status: Literal["sent", "delivered", "read"], unix_seconds: int) -> Json:
    price = pricing(billable=False, category="service")
    return status_update(DOC_SENT_ID, status, at=at(unix_seconds), price=price)


BUILT: dict[str, Callable[[], Json]] = {
    "text": lambda: text_message("Does it come in another color?", msg_id=DOC_TEXT_ID, at=at(1749416383)),
    "button_reply": lambda: button_reply(
        "cancel-button", "Cancel", context_id=DOC_CONTEXT_ID, msg_id=DOC_REPLY_ID, at=at(1739321024)
    ),
    "list_reply": lambda: list_reply(
        "priority_express",
        "Priority Mail Express",
        "Next Day to 2 Days",
        context_id=DOC_CONTEXT_ID,
        msg_id=DOC_REPLY_ID,
        at=at(1739321024),
    ),
    "audio_voice": lambda: audio_message(
        "1003383421387256",
        msg_id="wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQ0RTdBMUJDNkQzMkY4QTBFMzk5MQA=",
        at=at(1749416512),
    ),
    "image": lambda: image_message(
        "1479537139650973",
        "Permesso di soggiorno, pagina 1",
        msg_id="wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQ5QjJDMEQ4RTNGNEExQjVDNkQ3RQA=",
        at=at(1749416601),
    ),
    "location": lambda: location_message(
        45.4674,
        9.1898,
        name="Comune di Milano",
        address="Piazza della Scala, 2, 20121 Milano MI",
        msg_id="wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQ3QzFEMkUzRjRBNUI2QzdEOEU5RgA=",
        at=at(1749416702),
    ),
    "contacts": lambda: contacts_message(
        [contact_card("Aisha Diallo", "+39 333 123 4567", wa_id="393331234567")],
        msg_id="wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQxRjJBM0I0QzVENkU3RjhBOUIwQwA=",
        at=at(1749416803),
    ),
    "status_sent": lambda: served("sent", 1749417000),
    "status_delivered": lambda: served("delivered", 1749417002),
    "status_read": lambda: served("read", 1749417060),
    "status_failed_131047": lambda: status_update(
        DOC_SENT_ID, "failed", at=at(1749417001), errors=[webhook_error(131047)]
    ),
    "text_with_bsuid": lambda: text_message(
        "Ciao, mi serve il codice fiscale",
        sender=Sender(DOC_SENDER.name, DOC_SENDER.wa_id, user_id=BSUID),
        msg_id="wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQ2QTdCOEM5RDBFMUYyQTNCNEM1RAA=",
        at=at(1749417100),
    ),
    "text_phone_withheld": lambda: withheld_number_message(
        "Bonjour, j'ai besoin d'aide pour mon permis de séjour",
        msg_id="wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzRDRFNUY2QTdCOEM5RDBFMUYyQQA=",
        at=at(1749417200),
    ),
}


def test_every_saved_fixture_has_a_builder_and_a_source() -> None:
    assert {path.stem for path in FIXTURES_DIR.glob("*.json")} == set(BUILT) == set(FIXTURE_SOURCES)


@pytest.mark.parametrize("name", sorted(BUILT))
def test_builders_reproduce_the_saved_fixtures(name: str) -> None:
    assert BUILT[name]() == load_fixture(name)


@pytest.mark.parametrize("name", sorted(BUILT))
def test_fixtures_share_the_webhook_envelope(name: str) -> None:
    payload = load_fixture(name)
    assert payload["object"] == "whatsapp_business_account"
    change = payload["entry"][0]["changes"][0]
    assert change["field"] == "messages"
    assert change["value"]["messaging_product"] == "whatsapp"
    assert set(change["value"]["metadata"]) == {"display_phone_number", "phone_number_id"}
    assert ("messages" in change["value"]) != ("statuses" in change["value"])


def test_a_withheld_number_leaves_only_the_business_scoped_id() -> None:
    value = load_fixture("text_phone_withheld")["entry"][0]["changes"][0]["value"]
    contact, message = value["contacts"][0], value["messages"][0]
    assert "wa_id" not in contact and "from" not in message
    assert contact["user_id"] == message["from_user_id"] == BSUID
    assert contact["profile"]["username"] == "sheena.nelson"


def test_voice_notes_are_audio_with_voice_true() -> None:
    audio = load_fixture("audio_voice")["entry"][0]["changes"][0]["value"]["messages"][0]["audio"]
    assert audio["voice"] is True and audio["mime_type"].startswith("audio/ogg")


# --------------------------------------------------------------------------- signing and delivery

APP_SECRET = "s3cr3t-app-secret"


def test_sign_matches_an_independent_hmac() -> None:
    body = (FIXTURES_DIR / "text.json").read_bytes()
    expected = hmac.new(APP_SECRET.encode(), body, hashlib.sha256).hexdigest()
    assert sign(body, APP_SECRET) == f"sha256={expected}"


def test_sign_matches_a_published_hmac_sha256_vector() -> None:
    # HMAC_SHA256("key", "The quick brown fox jumps over the lazy dog"), the well-known example value.
    known = "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8"
    assert sign(b"The quick brown fox jumps over the lazy dog", "key") == f"sha256={known}"


def receiver(seen: list[tuple[str, bytes]]) -> web.Application:
    """A stand-in webhook endpoint that checks the signature over the raw body."""

    async def handler(request: web.Request) -> web.Response:
        raw = await request.read()
        header = request.headers.get(SIGNATURE_HEADER, "")
        seen.append((header, raw))
        ok = hmac.compare_digest(header, sign(raw, APP_SECRET))
        return web.Response(status=200 if ok else 403, text="EVENT_RECEIVED" if ok else "bad signature")

    app = web.Application()
    app.router.add_post("/webhooks/whatsapp", handler)
    return app


async def test_post_webhook_signs_the_exact_bytes_sent(
    aiohttp_server: Any, session: aiohttp.ClientSession
) -> None:
    seen: list[tuple[str, bytes]] = []
    url = str((await aiohttp_server(receiver(seen))).make_url("/webhooks/whatsapp"))
    payload = load_fixture("text_phone_withheld")

    delivery = await post_webhook(session, url, payload, APP_SECRET)
    refused = await post_webhook(session, url, payload, "another-secret")

    assert (delivery.status, delivery.text) == (200, "EVENT_RECEIVED")
    assert refused.status == 403
    header, raw = seen[0]
    assert json.loads(raw) == payload and "séjour" in raw.decode()
    assert header == "sha256=" + hmac.new(APP_SECRET.encode(), raw, hashlib.sha256).hexdigest()


async def test_status_webhooks_are_delivered_signed(
    aiohttp_server: Any, session: aiohttp.ClientSession, send: Post, graph: FakeGraph
) -> None:
    seen: list[tuple[str, bytes]] = []
    url = str((await aiohttp_server(receiver(seen))).make_url("/webhooks/whatsapp"))
    await send(text("uno"))
    await send(text("due"))

    deliveries = await deliver_statuses(session, url, APP_SECRET, graph)

    assert [d.status for d in deliveries] == [200, 200]
    assert [only_status(json.loads(raw))["status"] for _, raw in seen] == ["sent", "sent"]
    assert graph.status_webhooks == []
