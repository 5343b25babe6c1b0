"""The WhatsApp channel: webhook checks, parsing of Meta's payloads, replies within the Cloud API's limits,
and sending against the local fake Graph API (which validates requests the way Meta does)."""

from __future__ import annotations

import asyncio
import os
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from multidict import MultiDict

from bot.adapters import payloads
from bot.adapters.sql.database import create_engine, migrate
from bot.adapters.sql.inbox import SqlInbox
from bot.adapters.whatsapp.channel import (
    MAX_BODY,
    MAX_BUTTON_TITLE,
    MAX_ROW_TITLE,
    MAX_ROWS,
    MAX_TEXT,
    WhatsAppChannel,
    render,
)
from bot.adapters.whatsapp.webhook import StatusUpdate, parse_notification, signature_ok, verify_subscription
from bot.core.attachments import MediaRef
from bot.core.errors import RetryLater, Undeliverable, WindowClosed
from bot.core.languages import LANGUAGES
from bot.core.messages import Button, InboundMessage, Kind, Reply
from bot.dialogue import flows
from bot.dialogue.answers import city_buttons
from bot.dialogue.desk import Desk
from bot.dialogue.turn import TurnContext
from tests.fakes.fake_graph import (
    DOC_BSUID,
    DOC_BUSINESS,
    FIXTURE_SOURCES,
    GRAPH_VERSION,
    FakeGraph,
    Json,
    Sender,
    button_reply,
    check_message,
    fake_graph_app,
    inbound,
    list_reply,
    load_fixture,
    sign,
    text_message,
    withheld_number_message,
)
from tests.fakes.fake_graph import encode as wire

ServerFactory = Callable[..., Awaitable[TestServer]]
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
TOKEN = "EAAsportello-test-token"
SECRET = "app-secret-of-the-test-app"
USER = "393331234567"
AMINA = Sender("Amina", USER)
TEMPLATE = "sportello_reply_waiting"
DOC_PHONE = "16505551234"
DOC_TEXT_ID = "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA="
DOC_REPLY_ID = "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQUFERjg0NDEzNDdFODU3MUMxMAA="
DOC_SENT_ID = "wamid.HBgLMTY1MDUwNzY1MjAVAgARGBI5QTNDQTVCM0Q0Q0Q2RTY3RTcA"


def utc(unix_seconds: int) -> datetime:
    return datetime.fromtimestamp(unix_seconds, tz=timezone.utc)


def words(text: str) -> list[str]:
    return text.split()


# --------------------------------------------------------------------------- webhook checks


def test_signature_of_the_raw_body_is_accepted() -> None:
    body = wire(load_fixture("text"))  # compact UTF-8 JSON, as Meta sends it
    assert signature_ok(body, sign(body, SECRET), SECRET)


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "sha256=",
        "sha256=" + "0" * 64,
        sign(b"{}", "another-secret"),
        sign(b"{}", SECRET).removeprefix("sha256="),  # no algorithm prefix
        sign(b"{}", SECRET).replace("sha256=", "sha1="),
    ],
)
def test_a_wrong_or_missing_signature_is_refused(header: str | None) -> None:
    assert not signature_ok(b"{}", header, SECRET)


def test_a_tampered_body_is_refused() -> None:
    body = b'{"entry":[{"changes":[{"value":{"messages":[{"text":{"body":"ciao"}}]}}]}]}'
    header = sign(body, SECRET)
    assert signature_ok(body, header, SECRET)
    assert not signature_ok(body.replace(b"ciao", b"CIAO"), header, SECRET)
    assert not signature_ok(body + b" ", header, SECRET)


def test_verify_subscription_echoes_the_challenge() -> None:
    query = MultiDict(
        {"hub.mode": "subscribe", "hub.verify_token": "our-token", "hub.challenge": "1158201444"}
    )
    assert verify_subscription(query, "our-token") == "1158201444"
    assert verify_subscription(dict(query), "our-token") == "1158201444"


@pytest.mark.parametrize(
    "query",
    [
        {"hub.mode": "subscribe", "hub.verify_token": "not-ours", "hub.challenge": "1"},
        {"hub.mode": "unsubscribe", "hub.verify_token": "our-token", "hub.challenge": "1"},
        {"hub.mode": "subscribe", "hub.challenge": "1"},
        {},
    ],
)
def test_verify_subscription_refuses_anything_else(query: dict[str, str]) -> None:
    assert verify_subscription(MultiDict(query), "our-token") is None


# --------------------------------------------------------------------------- parsing Meta's payloads

# fixture -> (kind, text, user, platform id, unix timestamp)
MESSAGE_FIXTURES: dict[str, tuple[Kind, str, str, str, int]] = {
    "text": (Kind.TEXT, "Does it come in another color?", DOC_PHONE, DOC_TEXT_ID, 1749416383),
    # ids we did not send (Meta's examples) fall back to the title the user saw
    "button_reply": (Kind.TEXT, "Cancel", DOC_PHONE, DOC_REPLY_ID, 1739321024),
    "list_reply": (Kind.TEXT, "Priority Mail Express", DOC_PHONE, DOC_REPLY_ID, 1739321024),
    "audio_voice": (
        Kind.VOICE,
        "",
        DOC_PHONE,
        "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQ0RTdBMUJDNkQzMkY4QTBFMzk5MQA=",
        1749416512,
    ),
    "image": (
        Kind.MEDIA,
        "Permesso di soggiorno, pagina 1",  # the caption: the words beside the file
        DOC_PHONE,
        "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQ5QjJDMEQ4RTNGNEExQjVDNkQ3RQA=",
        1749416601,
    ),
    "location": (
        Kind.MEDIA,
        "",
        DOC_PHONE,
        "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQ3QzFEMkUzRjRBNUI2QzdEOEU5RgA=",
        1749416702,
    ),
    "contacts": (
        Kind.MEDIA,
        "",
        DOC_PHONE,
        "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQxRjJBM0I0QzVENkU3RjhBOUIwQwA=",
        1749416803,
    ),
    "text_with_bsuid": (
        Kind.TEXT,
        "Ciao, mi serve il codice fiscale",
        DOC_BSUID,
        "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQ2QTdCOEM5RDBFMUYyQTNCNEM1RAA=",
        1749417100,
    ),
    "text_phone_withheld": (
        Kind.TEXT,
        "Bonjour, j'ai besoin d'aide pour mon permis de séjour",
        DOC_BSUID,
        "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzRDRFNUY2QTdCOEM5RDBFMUYyQQA=",
        1749417200,
    ),
}
FAILED = StatusUpdate(DOC_SENT_ID, "failed", 131047, "Re-engagement message")
STATUS_FIXTURES: dict[str, StatusUpdate] = {
    "status_sent": StatusUpdate(DOC_SENT_ID, "sent", None, None),
    "status_delivered": StatusUpdate(DOC_SENT_ID, "delivered", None, None),
    "status_read": StatusUpdate(DOC_SENT_ID, "read", None, None),
    "status_failed_131047": FAILED,
}


# the files a message names (downloaded later through the Graph media endpoint)
FIXTURE_MEDIA = {"image": MediaRef("1479537139650973", "photo", "image/jpeg")}


def test_every_saved_fixture_is_checked_here() -> None:
    assert set(MESSAGE_FIXTURES) | set(STATUS_FIXTURES) == set(FIXTURE_SOURCES)


@pytest.mark.parametrize("name", sorted(MESSAGE_FIXTURES))
def test_parse_message_fixture(name: str) -> None:
    kind, text, user, platform_id, unix_seconds = MESSAGE_FIXTURES[name]

    messages, statuses = parse_notification(load_fixture(name))

    assert statuses == []
    media = FIXTURE_MEDIA.get(name)
    assert messages == [
        InboundMessage(
            "whatsapp", user, text, kind, platform_id, received_at=utc(unix_seconds), attachment=media
        )
    ]
    assert messages[0].user_key == f"whatsapp:{user}"
    received = messages[0].received_at
    assert received is not None and received.utcoffset() is not None  # aware, so comparable with UTC


@pytest.mark.parametrize("name", sorted(STATUS_FIXTURES))
def test_parse_status_fixture(name: str) -> None:
    assert parse_notification(load_fixture(name)) == ([], [STATUS_FIXTURES[name]])


def test_the_business_scoped_id_is_the_user_even_when_the_phone_is_known() -> None:
    (with_phone,), _ = parse_notification(load_fixture("text_with_bsuid"))
    (withheld,), _ = parse_notification(load_fixture("text_phone_withheld"))
    assert with_phone.user == withheld.user == DOC_BSUID
    (built,), _ = parse_notification(withheld_number_message("Ciao", user_id="IT.99"))
    assert built.user == "IT.99"


@pytest.mark.parametrize(
    "short_id",
    ["c:roma", "l:uk", "m:housing", "i:tax_code", "i:ask_human"],
)
def test_our_own_buttons_come_back_as_rasa_payloads(short_id: str) -> None:
    expected = payloads.decode(short_id)
    (pressed,), _ = parse_notification(button_reply(short_id, "Roma", sender=AMINA))
    (picked,), _ = parse_notification(list_reply(short_id, "Українська", sender=AMINA))
    assert expected is not None and pressed.text == picked.text == expected
    assert pressed.is_payload and pressed.kind is Kind.TEXT and pressed.user == USER


def test_other_message_types() -> None:
    sticker = inbound({"type": "sticker", "sticker": {"id": "1", "mime_type": "image/webp"}}, sender=AMINA)
    document = inbound({"type": "document", "document": {"id": "2", "filename": "a.pdf"}}, sender=AMINA)
    quick_reply = inbound({"type": "button", "button": {"text": "Sì", "payload": "yes"}}, sender=AMINA)
    thumbs_up = {"type": "reaction", "reaction": {"message_id": "wamid.x", "emoji": "👍"}}
    reaction = inbound(thumbs_up, sender=AMINA)

    assert [(m.kind, m.attachment) for m in parse_notification(sticker)[0]] == [(Kind.MEDIA, None)]
    assert [(m.kind, m.attachment) for m in parse_notification(document)[0]] == [
        (Kind.MEDIA, MediaRef("2", "document", ""))
    ]
    assert [(m.kind, m.text) for m in parse_notification(quick_reply)[0]] == [(Kind.TEXT, "Sì")]
    assert parse_notification(reaction) == ([], [])  # nothing to answer


def test_lone_surrogates_in_ids_and_odd_digits_in_codes_are_harmless() -> None:
    """Found by tests/fuzz/test_http.py: an id with a lone surrogate cannot be stored or looked up (a 500 at
    the webhook), and "²" is a digit to str.isdigit() but no number to int()."""
    (message,), _ = parse_notification(text_message("ciao", sender=AMINA, msg_id="wamid.X\ud800"))
    assert message.platform_id == "wamid.X"
    failed = {"id": "wamid.Y\udfff", "status": "failed\ud800", "errors": [{"code": "²", "title": "t\udc80"}]}
    notification = {"entry": [{"changes": [{"value": {"statuses": [failed]}}]}]}
    assert parse_notification(notification) == ([], [StatusUpdate("wamid.Y", "failed", None, "t")])


def test_text_is_stripped_and_empty_payloads_are_harmless() -> None:
    (message,), _ = parse_notification(text_message("  codice fiscale \n", sender=AMINA))
    assert message.text == "codice fiscale"
    assert parse_notification({}) == ([], [])
    assert parse_notification({"object": "whatsapp_business_account", "entry": [{"changes": []}]}) == ([], [])


# --------------------------------------------------------------------------- rendering


def accepted_by_meta(body: Json, to: str = USER) -> bool:
    """The fake's validation of a send request (the limits Meta enforces)."""
    envelope = {"messaging_product": "whatsapp", "recipient_type": "individual", "to": to}
    problem = check_message({**envelope, **body})
    assert problem is None, problem.details if problem else ""
    return True


def rows_of(body: Json) -> list[Json]:
    assert body["type"] == "interactive" and body["interactive"]["type"] == "list"
    return [row for section in body["interactive"]["action"]["sections"] for row in section["rows"]]


def row_title(title: str) -> str:
    """What a row shows: the title, or its first 23 characters and an ellipsis."""
    return title if len(title) <= MAX_ROW_TITLE else title[: MAX_ROW_TITLE - 1] + "…"


def assert_lists_cover(bodies: list[Json], buttons: tuple[Button, ...]) -> None:
    """Lists of <= 10 rows, titles <= 24, list button <= 20: every option exactly once, in order."""
    assert len(bodies) == -(-len(buttons) // MAX_ROWS)
    chosen = []
    for body in bodies:
        rows = rows_of(body)
        assert 1 <= len(rows) <= MAX_ROWS
        assert all(len(row["title"]) <= MAX_ROW_TITLE for row in rows)
        assert 1 <= len(body["interactive"]["action"]["button"]) <= MAX_BUTTON_TITLE
        assert accepted_by_meta(body)
        chosen += [(row["title"], payloads.decode(row["id"])) for row in rows]
    assert chosen == [(row_title(b.title), b.payload) for b in buttons]
    assert all(count == 1 for count in Counter(chosen).values())


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_sixteen_cities_become_lists(desk: Desk, language: str) -> None:
    tr = desk.tr(language)
    buttons = city_buttons(desk)
    reply = Reply(tr._("Sportello works in these cities. Which one are you in?"), buttons)

    bodies = render(reply, tr)

    assert len(buttons) == 16
    assert_lists_cover(bodies, buttons)
    assert [len(rows_of(b)) for b in bodies] == [10, 6]
    assert bodies[0]["interactive"]["body"]["text"] == reply.text
    assert bodies[1]["interactive"]["body"]["text"] == tr._("More options:")
    assert {b["interactive"]["action"]["button"] for b in bodies} == {tr._("Choose")}


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_twelve_languages_become_lists(desk: Desk, language: str) -> None:
    tr = desk.tr(language)
    buttons = flows.language_buttons(desk)
    bodies = render(Reply(tr._("Choose your language:"), buttons), tr)

    assert len(buttons) == 12
    assert_lists_cover(bodies, buttons)
    assert [len(rows_of(b)) for b in bodies] == [10, 2]


def test_up_to_three_short_buttons_are_reply_buttons(desk: Desk) -> None:
    tr = desk.tr("it")
    buttons = (Button("Sì", "/affirm"), Button("No", "/deny"), Button("Menu", "/menu"))

    for count in (1, 2, 3):
        (body,) = render(Reply("Vuoi parlare con una persona?", buttons[:count]), tr)
        interactive = body["interactive"]
        assert body["type"] == "interactive" and interactive["type"] == "button"
        assert interactive["body"] == {"text": "Vuoi parlare con una persona?"}
        replies = [b["reply"] for b in interactive["action"]["buttons"]]
        assert [(r["title"], payloads.decode(r["id"])) for r in replies] == [
            (b.title, b.payload) for b in buttons[:count]
        ]
        assert accepted_by_meta(body)


def test_four_buttons_or_a_long_title_become_a_list(desk: Desk) -> None:
    tr = desk.tr("it")
    four = tuple(Button(f"Opzione {i}", f"/topic_{i}") for i in range(4))
    long_title = (Button("Sì", "/affirm"), Button("Parla con una persona!", "/ask_human"))
    assert len(long_title[1].title) > MAX_BUTTON_TITLE

    for buttons in (four, long_title):
        (body,) = render(Reply("Scegli:", buttons), tr)
        assert_lists_cover([body], buttons)


def test_a_row_title_over_24_characters_is_shortened(desk: Desk) -> None:
    title = "Permesso di soggiorno: primo rilascio"
    buttons = (Button(title, "/residence_permit_first"), Button("Menu", "/menu"))
    (body,) = render(Reply("Scegli:", buttons), desk.tr("it"))
    first = rows_of(body)[0]
    assert first["title"] == title[:23] + "…" and len(first["title"]) == MAX_ROW_TITLE
    assert accepted_by_meta(body)


def test_a_long_text_with_buttons_goes_first_as_text(desk: Desk) -> None:
    tr = desk.tr("fr")
    text = ("Le permis de séjour. " * 60).strip()  # over 1,024 characters, under 4,096
    assert MAX_BODY < len(text) < MAX_TEXT
    buttons = (Button("Menu", "/menu"), Button("Une personne", "/ask_human"))

    first, second = render(Reply(text, buttons), tr)

    assert first == {"type": "text", "text": {"body": text}}
    assert second["interactive"]["type"] == "button"
    assert second["interactive"]["body"]["text"] == tr._("Choose an option:")
    assert accepted_by_meta(first) and accepted_by_meta(second)


def test_a_body_of_exactly_1024_characters_keeps_its_buttons(desk: Desk) -> None:
    text = "x" * MAX_BODY
    (body,) = render(Reply(text, (Button("Menu", "/menu"),)), desk.tr("it"))
    assert body["interactive"]["body"]["text"] == text
    assert accepted_by_meta(body)


@pytest.mark.parametrize("separator", [" ", "\n", ""])
def test_a_text_over_4096_characters_is_split(desk: Desk, separator: str) -> None:
    text = separator.join(f"parola{i:05d}" for i in range(1500))  # 16,500+ characters
    assert len(text) > 4 * MAX_TEXT

    bodies = render(Reply(text), desk.tr("it"))

    assert len(bodies) >= 4
    parts = [body["text"]["body"] for body in bodies]
    assert all(body["type"] == "text" for body in bodies)
    assert all(0 < len(part) <= MAX_TEXT for part in parts)
    assert all(accepted_by_meta(body) for body in bodies)
    if separator:
        assert words(" ".join(parts)) == words(text)  # nothing lost, nothing reordered
    else:
        assert "".join(parts) == text


def test_a_long_text_with_many_buttons(desk: Desk) -> None:
    tr = desk.tr("en")
    text = "word " * 2000
    bodies = render(Reply(text, city_buttons(desk)), tr)
    kinds = [body["type"] for body in bodies]
    assert kinds == ["text", "text", "text", "interactive", "interactive"]
    assert words(" ".join(b["text"]["body"] for b in bodies[:3])) == words(text)
    assert bodies[3]["interactive"]["body"]["text"] == tr._("Choose an option:")
    assert_lists_cover(bodies[3:], city_buttons(desk))


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_reply_of_the_dialogue_is_accepted_by_meta(desk: Desk, language: str) -> None:
    """Menus, topic answers (with and without a city), city and language choices, in every language."""
    tr = desk.tr(language)
    plain = TurnContext(language)
    contexts = [plain, *(TurnContext(language, entities={"category": c}) for c in desk.catalog.categories)]
    turns = [flows.menu(desk, c) for c in contexts]
    turns += [flows.greet(desk, plain), flows.choose_language(desk, plain), flows.choose_city(desk, plain)]
    turns += [flows.not_understood(desk, plain), flows.out_of_scope(desk, plain)]
    turns += [flows.ask_human(desk, plain), flows.thanks(desk, plain), flows.goodbye(desk, plain)]
    for topic in desk.catalog.topics:
        turns.append(flows.answer_topic(desk, TurnContext(language, intent=topic)))
        turns.append(flows.answer_topic(desk, TurnContext(language, city="caserta", intent=topic)))

    replies = [reply for turn in turns for reply in turn.replies]
    for reply in replies:
        bodies = render(reply, tr)
        assert bodies or not reply.text
        assert all(accepted_by_meta(body) for body in bodies)
        shown = [
            payloads.decode(row["id"])
            for body in bodies
            if body["type"] == "interactive"
            for row in _choices(body)
        ]
        assert shown == [b.payload for b in reply.buttons]


def _choices(body: Json) -> list[Json]:
    interactive = body["interactive"]
    if interactive["type"] == "button":
        return [button["reply"] for button in interactive["action"]["buttons"]]
    return rows_of(body)


# --------------------------------------------------------------------------- sending to the fake Graph API


@pytest.fixture()
def graph() -> FakeGraph:
    return FakeGraph(token=TOKEN)


@pytest.fixture()
async def server(aiohttp_server: ServerFactory, graph: FakeGraph) -> TestServer:
    return await aiohttp_server(fake_graph_app(graph))


@pytest.fixture()
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client:
        yield client


@pytest.fixture()
async def mailbox(tmp_path: Path) -> AsyncIterator[SqlInbox]:
    url = f"sqlite:///{tmp_path / 'gateway.sqlite'}"
    migrate(url)
    engine = create_engine(url)
    yield SqlInbox(engine)
    await engine.dispose()


ChannelFactory = Callable[..., WhatsAppChannel]


@pytest.fixture()
def make_channel(
    server: TestServer, session: aiohttp.ClientSession, mailbox: SqlInbox, desk: Desk
) -> ChannelFactory:
    """The channel as the gateway builds it: the inbox tells it when the user last wrote."""

    def make(token: str = TOKEN, base_url: str | None = None, **options: Any) -> WhatsAppChannel:
        return WhatsAppChannel(
            session,
            base_url or str(server.make_url(f"/{GRAPH_VERSION}")),
            DOC_BUSINESS.phone_number_id,
            token,
            desk.translations,
            mailbox.last_inbound_at,
            TEMPLATE,
            lambda language: {"en": "en_US"}.get(language, language),
            **options,
        )

    return make


@pytest.fixture()
def channel(make_channel: ChannelFactory) -> WhatsAppChannel:
    return make_channel()


UserWrites = Callable[..., Awaitable[InboundMessage]]


@pytest.fixture()
def user_writes(mailbox: SqlInbox, graph: FakeGraph) -> UserWrites:
    """A user's message arrives through a webhook: the gateway stores it, Meta opens the window."""

    async def write(
        ago: timedelta, *, sender: Sender = AMINA, meta_ago: timedelta | None = None
    ) -> InboundMessage:
        at = datetime.now(timezone.utc) - ago
        (message,), _ = parse_notification(text_message("Ciao, ho bisogno di aiuto", sender=sender, at=at))
        assert await mailbox.receive(message)
        meta_at = datetime.now(timezone.utc) - (meta_ago or ago)
        graph.user_wrote(sender.user_id or sender.wa_id or "", at=meta_at)
        return message

    return write


def request_bodies(graph: FakeGraph) -> list[Json]:
    return [request.body for request in graph.requests]


async def test_inside_the_window_a_reply_is_accepted(
    channel: WhatsAppChannel, graph: FakeGraph, user_writes: UserWrites
) -> None:
    await user_writes(timedelta(minutes=5))
    reply = Reply("Vuoi parlare con una persona?", (Button("Sì", "/affirm"), Button("No", "/deny")))

    message_id = await channel.send(USER, reply, "it")

    (request,) = graph.requests
    assert request.status == 200 and request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert request.path == f"/{GRAPH_VERSION}/{DOC_BUSINESS.phone_number_id}/messages"
    assert request.body["messaging_product"] == "whatsapp" and request.body["to"] == USER
    assert request.body["interactive"]["type"] == "button"
    assert message_id == request.response["messages"][0]["id"] and message_id.startswith("wamid.")
    (status,) = graph.pop_status_webhooks()
    assert parse_notification(status) == ([], [StatusUpdate(message_id, "sent", None, None)])


async def test_the_city_choice_and_a_long_text_are_accepted(
    channel: WhatsAppChannel, graph: FakeGraph, user_writes: UserWrites, desk: Desk
) -> None:
    await user_writes(timedelta(hours=23, minutes=50))
    long_reply = Reply("Informazioni utili. " * 500, city_buttons(desk))

    last_id = await channel.send(USER, long_reply, "it")

    assert [r.status for r in graph.requests] == [200] * 5  # 3 texts, 2 lists
    assert last_id == graph.requests[-1].response["messages"][0]["id"]
    assert [b["type"] for b in graph.sent] == ["text", "text", "text", "interactive", "interactive"]


async def test_a_business_scoped_user_is_addressed_by_recipient(
    channel: WhatsAppChannel, graph: FakeGraph, mailbox: SqlInbox
) -> None:
    (message,), _ = parse_notification(withheld_number_message("Bonjour", at=datetime.now(timezone.utc)))
    await mailbox.receive(message)
    graph.user_wrote(DOC_BSUID)

    await channel.send(message.user, Reply("Bonjour !"), "fr")

    (request,) = graph.requests
    assert request.status == 200
    assert request.body["recipient"] == DOC_BSUID and "to" not in request.body


@pytest.mark.parametrize("ago", [timedelta(hours=24, minutes=1), timedelta(days=3)])
async def test_outside_the_window_send_raises_without_calling_the_api(
    channel: WhatsAppChannel, graph: FakeGraph, user_writes: UserWrites, ago: timedelta
) -> None:
    await user_writes(ago)
    with pytest.raises(WindowClosed):
        await channel.send(USER, Reply("Troppo tardi"), "it")
    assert graph.requests == []


async def test_a_user_who_never_wrote_has_no_window(channel: WhatsAppChannel, graph: FakeGraph) -> None:
    with pytest.raises(WindowClosed):
        await channel.send(USER, Reply("Ciao"), "it")
    assert graph.requests == []


@pytest.fixture()
def server_time_zone() -> Iterator[None]:
    """The server's local time is not UTC (Italy is UTC+1/+2; Tokyo makes the error obvious)."""
    before = os.environ.get("TZ")
    os.environ["TZ"] = "Asia/Tokyo"
    time.tzset()
    yield
    if before is None:
        del os.environ["TZ"]
    else:
        os.environ["TZ"] = before
    time.tzset()


@pytest.mark.usefixtures("server_time_zone")
async def test_the_window_does_not_depend_on_the_servers_time_zone(
    channel: WhatsAppChannel, graph: FakeGraph, user_writes: UserWrites, mailbox: SqlInbox
) -> None:
    message = await user_writes(timedelta(hours=25))
    assert message.received_at is not None
    assert await mailbox.last_inbound_at(message.user_key) == message.received_at
    with pytest.raises(WindowClosed):
        await channel.send(USER, Reply("Troppo tardi"), "it")
    assert graph.requests == []


async def test_send_template_reopens_the_conversation(
    channel: WhatsAppChannel, graph: FakeGraph, user_writes: UserWrites
) -> None:
    graph.window_error = "sync"
    await user_writes(timedelta(days=2))

    message_id = await channel.send_template(USER, "en")

    (request,) = graph.requests
    assert request.status == 200
    assert request.body["type"] == "template" and request.body["to"] == USER
    assert request.body["template"] == {"name": TEMPLATE, "language": {"code": "en_US"}}
    assert message_id == request.response["messages"][0]["id"]
    assert request.response["messages"][0]["message_status"] == "accepted"


async def test_a_rate_limit_means_retry_later(
    channel: WhatsAppChannel, graph: FakeGraph, user_writes: UserWrites
) -> None:
    await user_writes(timedelta(minutes=1))
    graph.fail_next(code=130429)

    with pytest.raises(RetryLater) as raised:
        await channel.send(USER, Reply("uno"), "it")

    assert raised.value.seconds > 0 and "130429" in raised.value.reason
    assert graph.requests[0].status == 429
    assert await channel.send(USER, Reply("due"), "it")  # the next attempt goes through
    assert [b["text"]["body"] for b in graph.sent] == ["due"]


async def test_a_synchronous_131047_means_the_window_is_closed(
    make_channel: ChannelFactory, graph: FakeGraph, user_writes: UserWrites
) -> None:
    graph.window_error = "sync"
    # our clock says the window is still open; Meta's says it closed (e.g. the edge of 24 hours)
    await user_writes(timedelta(hours=23), meta_ago=timedelta(hours=25))

    with pytest.raises(WindowClosed, match="131047"):
        await make_channel().send(USER, Reply("Troppo tardi"), "it")

    assert [r.status for r in graph.requests] == [400]


async def test_a_bad_token_is_undeliverable(
    make_channel: ChannelFactory, graph: FakeGraph, user_writes: UserWrites
) -> None:
    await user_writes(timedelta(minutes=1))
    with pytest.raises(Undeliverable, match="401"):
        await make_channel(token="EAAexpired").send(USER, Reply("Ciao"), "it")
    assert [r.status for r in graph.requests] == [401] and graph.sent == []


async def test_an_invalid_request_is_undeliverable(
    channel: WhatsAppChannel, graph: FakeGraph, user_writes: UserWrites
) -> None:
    await user_writes(timedelta(minutes=1))
    graph.fail_next(code=131009)
    with pytest.raises(Undeliverable, match="131009"):
        await channel.send(USER, Reply("Ciao"), "it")


async def test_server_errors_mean_retry_later(
    channel: WhatsAppChannel, graph: FakeGraph, user_writes: UserWrites
) -> None:
    await user_writes(timedelta(minutes=1))
    graph.fail_next(code=131000)
    graph.fail_next_http(502, "Bad Gateway")  # not JSON at all

    for _ in range(2):
        with pytest.raises(RetryLater):
            await channel.send(USER, Reply("Ciao"), "it")

    assert [r.status for r in graph.requests] == [500, 502]


async def test_an_unreachable_api_means_retry_later(
    make_channel: ChannelFactory, user_writes: UserWrites, unused_tcp_port: int
) -> None:
    await user_writes(timedelta(minutes=1))
    channel = make_channel(base_url=f"http://127.0.0.1:{unused_tcp_port}/{GRAPH_VERSION}")
    with pytest.raises(RetryLater, match="unreachable"):
        await channel.send(USER, Reply("Ciao"), "it")


async def test_a_slow_api_means_retry_later(
    aiohttp_server: ServerFactory,
    graph: FakeGraph,
    make_channel: ChannelFactory,
    user_writes: UserWrites,
) -> None:
    @web.middleware
    async def slow(request: web.Request, handler: Handler) -> web.StreamResponse:
        await asyncio.sleep(1)
        return await handler(request)

    app = fake_graph_app(graph)
    app.middlewares.append(slow)
    slow_server = await aiohttp_server(app)
    await user_writes(timedelta(minutes=1))
    channel = make_channel(base_url=str(slow_server.make_url(f"/{GRAPH_VERSION}")), timeout=0.1)

    with pytest.raises(RetryLater, match="TimeoutError"):
        await channel.send(USER, Reply("Ciao"), "it")
