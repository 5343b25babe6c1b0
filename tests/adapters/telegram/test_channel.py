"""The Telegram channel: parsing of Bot API updates (built by the fake), keyboards, and the
real python-telegram-bot against the local fake Bot API for sending, errors and the start-up calls."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestServer

from bot.adapters import payloads
from bot.adapters.telegram.channel import ALLOWED_UPDATES, MAX_TEXT, TelegramChannel, keyboard
from bot.core.attachments import MediaRef
from bot.core.errors import AttachmentRefused, InvalidMessage, RetryLater, Undeliverable
from bot.core.i18n import Translations
from bot.core.languages import LANGUAGES
from bot.core.messages import Button, InboundMessage, Kind, Reply, payload
from bot.dialogue import flows
from bot.dialogue.answers import city_buttons
from bot.dialogue.desk import Desk
from bot.dialogue.turn import TurnContext
from tests.fakes.fake_telegram import FakeTelegram, TelegramUser, Webhook, fake_telegram_app

ServerFactory = Callable[..., Awaitable[TestServer]]
AMINA = TelegramUser(4242, "Amina", username="amina_k", language_code="uk")
CALLBACK_DATA_BYTES = 64


@pytest.fixture(autouse=True)
def timedelta_periods(monkeypatch: pytest.MonkeyPatch) -> None:
    """Opt in to PTB's timedelta durations, as the fake's own tests do (the int form is deprecated)."""
    monkeypatch.setenv("PTB_TIMEDELTA", "true")


@pytest.fixture()
def tg() -> FakeTelegram:
    return FakeTelegram()


@pytest.fixture()
def offline(tg: FakeTelegram, translations: Translations) -> TelegramChannel:
    """Parsing needs no network: the bot points nowhere."""
    return TelegramChannel.create(tg.token, "http://127.0.0.1:9/bot", translations)


@pytest.fixture()
async def server(tg: FakeTelegram, aiohttp_server: ServerFactory) -> TestServer:
    return await aiohttp_server(fake_telegram_app(tg))


@pytest.fixture()
async def channel(
    tg: FakeTelegram, server: TestServer, translations: Translations
) -> AsyncIterator[TelegramChannel]:
    url = str(server.make_url("")).rstrip("/")
    created = TelegramChannel.create(tg.token, f"{url}/bot", translations)
    await created.bot.initialize()
    yield created
    await created.stop()


# --------------------------------------------------------------------------- parsing updates


def test_a_text_message_with_the_apps_language(offline: TelegramChannel, tg: FakeTelegram) -> None:
    update = tg.text_message("Привіт, мені потрібен податковий код", user=AMINA)

    message, callback_id = offline.parse(update)

    assert callback_id is None
    assert message == InboundMessage(
        "telegram",
        "4242",
        "Привіт, мені потрібен податковий код",
        Kind.TEXT,
        str(update["update_id"]),
        language_hint="uk",
    )
    assert message.user_key == "telegram:4242"


def in_a_group(update: dict[str, Any], chat_id: int = -1001234567890) -> dict[str, Any]:
    """The same update, posted in a supergroup the bot was added to."""
    kind = "message" if "message" in update else "callback_query"
    message = update[kind] if kind == "message" else update[kind]["message"]
    message["chat"] = {"id": chat_id, "title": "Famiglie di Caserta", "type": "supergroup"}
    return update


def test_a_group_is_never_answered_as_a_user(offline: TelegramChannel, tg: FakeTelegram) -> None:
    chatter, _ = offline.parse(in_a_group(tg.text_message("qualcuno sa dove rinnovare il permesso?")))
    assert chatter is None
    command, _ = offline.parse(in_a_group(tg.command("start", user=AMINA)))
    assert command is not None and command.kind is Kind.GROUP and command.text == ""
    assert command.user == "-1001234567890"


def test_the_staff_group_gets_nothing_even_for_a_command(
    tg: FakeTelegram, translations: Translations
) -> None:
    channel = TelegramChannel.create(tg.token, "http://127.0.0.1:9/bot", translations, "-100200300")
    message, _ = channel.parse(in_a_group(tg.command("status", user=AMINA), chat_id=-100200300))
    assert message is None


@pytest.mark.parametrize(
    ("language_code", "hint"),
    [("it", "it"), ("en-GB", "en"), ("ZH-hans", "zh"), ("pt-br", None), ("de", None), (None, None)],
)
def test_language_hint_is_one_of_ours_or_none(
    offline: TelegramChannel, tg: FakeTelegram, language_code: str | None, hint: str | None
) -> None:
    user = TelegramUser(7, "Sam", language_code=language_code)
    message, _ = offline.parse(tg.text_message("hello", user=user))
    assert message is not None and message.language_hint == hint


@pytest.mark.parametrize(
    ("command", "argument", "text"),
    [
        ("start", None, "/choose_language"),
        ("start", "from_poster_caserta", "/choose_language"),  # a deep link
        ("language", None, "/choose_language"),
        ("city", None, "/choose_city"),
        ("help", None, "/menu"),
        ("human", None, "/ask_human"),
        ("status", None, "/check_status"),
        ("forget", None, "/forget_me"),
        ("permesso", "di soggiorno", "permesso di soggiorno"),  # unknown: read as words
    ],
)
def test_commands_become_payloads(
    offline: TelegramChannel, tg: FakeTelegram, command: str, argument: str | None, text: str
) -> None:
    message, _ = offline.parse(tg.command(command, argument, user=AMINA))
    assert message is not None and message.text == text and message.kind is Kind.TEXT
    assert message.language_hint == "uk"


def test_a_command_addressed_to_the_bot_by_name(offline: TelegramChannel, tg: FakeTelegram) -> None:
    message, _ = offline.parse(tg.text_message("/start@sportello_test_bot"))
    assert message is not None and message.text == payload("choose_language")


def test_an_edited_message_is_a_new_text_with_its_own_id(offline: TelegramChannel, tg: FakeTelegram) -> None:
    original = tg.text_message("codice fiscal", user=AMINA)
    edited = tg.edited_message(original, "codice fiscale")

    first, _ = offline.parse(original)
    second, _ = offline.parse(edited)

    assert first is not None and second is not None
    assert second.text == "codice fiscale" and second.kind is Kind.TEXT and second.user == "4242"
    assert second.platform_id == str(edited["update_id"]) != first.platform_id


def test_a_voice_note_is_voice(offline: TelegramChannel, tg: FakeTelegram) -> None:
    update = tg.voice(user=AMINA)
    message, callback_id = offline.parse(update)
    assert message == InboundMessage(
        "telegram", "4242", "", Kind.VOICE, str(update["update_id"]), language_hint="uk"
    )
    assert callback_id is None


@pytest.mark.parametrize("kind", ["photo", "photo_with_caption", "document", "location", "sticker"])
def test_everything_else_is_media(offline: TelegramChannel, tg: FakeTelegram, kind: str) -> None:
    update = {
        "photo": lambda: tg.photo(user=AMINA),
        "photo_with_caption": lambda: tg.photo(caption="il mio permesso", user=AMINA),
        "document": lambda: tg.document(user=AMINA),
        "location": lambda: tg.location(user=AMINA),
        "sticker": lambda: tg.sticker(user=AMINA),
    }[kind]()

    message, callback_id = offline.parse(update)

    assert message is not None and callback_id is None
    caption = "il mio permesso" if kind == "photo_with_caption" else ""  # the words under a photo
    assert (message.kind, message.text, message.user) == (Kind.MEDIA, caption, "4242")
    assert message.platform_id == str(update["update_id"])


def test_a_photo_names_its_largest_size_and_a_document_its_declared_type(
    offline: TelegramChannel, tg: FakeTelegram
) -> None:
    photo = tg.photo(1600, 1200, user=AMINA)
    largest = photo["message"]["photo"][-1]
    message, _ = offline.parse(photo)
    assert message is not None and message.attachment == MediaRef(
        largest["file_id"], "photo", "image/jpeg", largest["file_size"]
    )
    document = tg.document("sfratto.pdf", "application/pdf", user=AMINA)
    message, _ = offline.parse(document)
    file = document["message"]["document"]
    assert message is not None
    assert message.attachment == MediaRef(file["file_id"], "document", "application/pdf", file["file_size"])
    located, _ = offline.parse(tg.location(user=AMINA))
    assert located is not None and located.attachment is None


@pytest.mark.parametrize(
    "rasa_payload",
    [payload("choose_city", city="roma"), payload("choose_language", language="ar"), "/tax_code", "/menu"],
)
def test_a_button_press_is_the_decoded_payload(
    offline: TelegramChannel, tg: FakeTelegram, rasa_payload: str
) -> None:
    tg.store_bot_message(AMINA.id, {"text": "Scegli"})
    update = tg.callback_query(payloads.encode(rasa_payload), user=AMINA)

    message, callback_id = offline.parse(update)

    assert callback_id == update["callback_query"]["id"]
    assert message == InboundMessage(
        "telegram", "4242", rasa_payload, Kind.TEXT, str(update["update_id"]), language_hint="uk"
    )
    assert message.is_payload


def test_a_press_we_cannot_decode_is_only_acknowledged(offline: TelegramChannel, tg: FakeTelegram) -> None:
    tg.store_bot_message(AMINA.id, {"text": "Scegli"})
    update = tg.callback_query("topic:tax_code", user=AMINA)
    assert offline.parse(update) == (None, update["callback_query"]["id"])


def test_an_update_without_a_message_is_ignored(offline: TelegramChannel) -> None:
    assert offline.parse({"update_id": 700_000_999}) == (None, None)


PRIVATE, GROUP = {"id": 4242, "type": "private"}, {"id": -1, "type": "group"}


def posted(update_id: Any = 1, **fields: Any) -> dict[str, Any]:
    return {"update_id": update_id, "message": {"message_id": 2, "date": 1, **fields}}


@pytest.mark.parametrize(
    "update",
    [
        {"update_id": 1, "edited_message": {"message_id": 2, "date": 1749416383}},  # no chat
        posted(chat=GROUP, text={"a": "/start"}),
        posted(chat=PRIVATE, text=["ciao"]),
        posted(chat={"id": "4242x", "type": "private"}, text="ciao"),
        posted("1\ud800", chat=PRIVATE, text="ciao"),
        posted(chat=PRIVATE, voice={"file_id": "f", "file_unique_id": "u", "duration": 10**20}),
        {"update_id": 1, "message": {"message_id": 2, "date": float("inf"), "chat": PRIVATE}},
        {"update_id": 1, "callback_query": {"id": "1", "data": "i:menu", "chat_instance": "x"}},  # no from
    ],
)
def test_a_field_missing_or_of_the_wrong_type_is_no_update(offline: TelegramChannel, update: Any) -> None:
    """Found by tests/fuzz/test_http.py: python-telegram-bot checks no types, so these failed as they were
    read (a 500 at the webhook), or stored a chat id no reply can go to, or an id no database can hold."""
    with pytest.raises(InvalidMessage):
        offline.parse(update)


# --------------------------------------------------------------------------- splitting and keyboards


def letters(text: str) -> str:
    return "".join(text.split())


def test_no_keyboard_without_buttons() -> None:
    assert keyboard(Reply("Ciao")) is None


def test_short_titles_go_two_per_row(desk: Desk) -> None:
    markup = keyboard(Reply("Dove vivi?", city_buttons(desk)))
    assert markup is not None
    assert [len(row) for row in markup.inline_keyboard] == [2] * 8
    three = keyboard(Reply("?", (Button("Sì", "/affirm"), Button("No", "/deny"), Button("Menu", "/menu"))))
    assert three is not None and [len(row) for row in three.inline_keyboard] == [1, 1, 1]


@pytest.mark.parametrize("language", LANGUAGES)
def test_keyboard_callback_data_fits_in_64_bytes(desk: Desk, language: str) -> None:
    plain = TurnContext(language)
    turns = [flows.menu(desk, plain), flows.greet(desk, plain), flows.choose_language(desk, plain)]
    turns += [flows.choose_city(desk, plain), flows.not_understood(desk, plain)]
    turns += [
        flows.menu(desk, TurnContext(language, entities={"category": c})) for c in desk.catalog.categories
    ]
    replies = [reply for turn in turns for reply in turn.replies if reply.buttons]
    assert any(len(reply.buttons) == 16 for reply in replies) and any(len(r.buttons) == 12 for r in replies)

    for reply in replies:
        markup = keyboard(reply)
        assert markup is not None
        pressed = [button for row in markup.inline_keyboard for button in row]
        data = [str(button.callback_data) for button in pressed]
        assert all(1 <= len(d.encode()) <= CALLBACK_DATA_BYTES for d in data)
        assert [payloads.decode(d) for d in data] == [b.payload for b in reply.buttons]
        assert [button.text for button in pressed] == [b.title for b in reply.buttons]


# --------------------------------------------------------------------------- sending to the fake Bot API


async def test_a_long_reply_arrives_in_parts_with_the_keyboard_last(
    channel: TelegramChannel, tg: FakeTelegram, desk: Desk
) -> None:
    text = "Per il permesso di soggiorno servono questi documenti. " * 200  # about 11,000 characters
    reply = Reply(text, city_buttons(desk))

    message_id = await channel.send(str(AMINA.id), reply, "it")

    sent = tg.sent[AMINA.id]
    assert len(sent) == 3
    assert all(len(m["text"]) <= MAX_TEXT for m in sent)
    assert letters("".join(tg.texts(AMINA.id))) == letters(text)
    assert ["reply_markup" in m for m in sent] == [False, False, True]
    pressed = [button for row in sent[-1]["reply_markup"]["inline_keyboard"] for button in row]
    assert [payloads.decode(b["callback_data"]) for b in pressed] == [b.payload for b in reply.buttons]
    assert message_id == str(sent[-1]["message_id"])


async def test_a_short_reply_is_one_message(channel: TelegramChannel, tg: FakeTelegram) -> None:
    message_id = await channel.send(str(AMINA.id), Reply("Ciao!"), "it")
    assert tg.texts(AMINA.id) == ["Ciao!"] and "reply_markup" not in tg.sent[AMINA.id][0]
    assert message_id == str(tg.sent[AMINA.id][0]["message_id"])


@pytest.mark.parametrize("timedelta_mode", ["true", "false"])
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
async def test_flood_control_means_retry_later_after_telegrams_delay(
    channel: TelegramChannel, tg: FakeTelegram, monkeypatch: pytest.MonkeyPatch, timedelta_mode: str
) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", timedelta_mode)  # retry_after as a timedelta, or the older int
    tg.fail_next("sendMessage", 429, retry_after=7)

    with pytest.raises(RetryLater) as raised:
        await channel.send(str(AMINA.id), Reply("Ciao"), "it")

    assert raised.value.seconds == 7
    assert tg.sent[AMINA.id] == []
    await channel.send(str(AMINA.id), Reply("Ciao"), "it")  # once the wait is over it goes through
    assert tg.texts(AMINA.id) == ["Ciao"]


async def test_a_retried_long_reply_does_not_repeat_delivered_parts(
    channel: TelegramChannel, tg: FakeTelegram
) -> None:
    """The outbox sends part by part and records each; a retry resumes at the part that failed."""
    text = "Parte del testo. " * 400  # two messages
    parts = channel.parts(Reply(text), "it")
    assert len(parts) == 2
    await channel.send_part(str(AMINA.id), parts[0])
    tg.min_send_interval = 60.0  # the second message of the reply hits Telegram's per-chat limit
    with pytest.raises(RetryLater):
        await channel.send_part(str(AMINA.id), parts[1])
    tg.min_send_interval = None

    await channel.send_part(str(AMINA.id), parts[1])  # what the outbox does after the delay

    assert len(tg.texts(AMINA.id)) == 2  # delivered: the first part once, then the second
    assert letters("".join(tg.texts(AMINA.id))) == letters(text)


async def test_a_blocked_chat_is_undeliverable(channel: TelegramChannel, tg: FakeTelegram) -> None:
    tg.block(AMINA.id)
    with pytest.raises(Undeliverable, match="blocked"):
        await channel.send(str(AMINA.id), Reply("Ciao"), "it")
    assert tg.sent[AMINA.id] == []
    assert [call.status for call in tg.calls_to("sendMessage")] == [403]


async def test_a_bad_request_is_undeliverable(channel: TelegramChannel, tg: FakeTelegram) -> None:
    tg.fail_next("sendMessage", 400, description="Bad Request: chat not found")
    with pytest.raises(Undeliverable, match=r"(?i)chat not found"):
        await channel.send(str(AMINA.id), Reply("Ciao"), "it")


@pytest.mark.parametrize("status", [500, 502, 503])
async def test_server_errors_mean_retry_later(
    channel: TelegramChannel, tg: FakeTelegram, status: int
) -> None:
    tg.fail_next("sendMessage", status)
    with pytest.raises(RetryLater):
        await channel.send(str(AMINA.id), Reply("Ciao"), "it")


async def test_a_photo_is_downloaded_through_getfile(channel: TelegramChannel, tg: FakeTelegram) -> None:
    content = b"\xff\xd8\xff\xe0 the eviction letter"
    message, _ = channel.parse(tg.photo(user=AMINA, content=content))
    assert message is not None and message.attachment is not None
    assert await channel.download(message.attachment, 1000) == content
    [call] = tg.calls_to("getFile")
    assert call.params["file_id"] == message.attachment.file_id


async def test_a_file_over_the_limit_is_not_even_asked_for(
    channel: TelegramChannel, tg: FakeTelegram
) -> None:
    message, _ = channel.parse(tg.document(user=AMINA, content=b"%PDF-" + bytes(2000)))
    assert message is not None and message.attachment is not None
    with pytest.raises(AttachmentRefused):
        await channel.download(message.attachment, 1000)
    assert tg.calls_to("getFile") == []


async def test_a_file_telegram_will_not_hand_to_bots_is_too_big(
    channel: TelegramChannel, tg: FakeTelegram
) -> None:
    """Bots download 20 MB at most: getFile answers "file is too big" (declared size unknown here)."""
    message, _ = channel.parse(tg.document(user=AMINA, content=b"%PDF-" + bytes(20 * 1024 * 1024)))
    assert message is not None and message.attachment is not None
    unknown_size = MediaRef(message.attachment.file_id, "document", "application/pdf")
    with pytest.raises(AttachmentRefused) as refused:
        await channel.download(unknown_size, 30 * 1024 * 1024)
    assert refused.value.reason == "too_big"


async def test_telegram_has_no_templates(channel: TelegramChannel) -> None:
    with pytest.raises(Undeliverable):
        await channel.send_template(str(AMINA.id), "it")


async def test_a_button_press_is_acknowledged_once(channel: TelegramChannel, tg: FakeTelegram) -> None:
    await channel.send(
        str(AMINA.id), Reply("Scegli", (Button("Roma", payload("choose_city", city="roma")),)), "it"
    )
    update = tg.callback_query("c:roma", user=AMINA)
    _, query_id = channel.parse(update)
    assert query_id is not None

    await channel.answer_callback(query_id)
    await channel.answer_callback(query_id)  # Telegram refuses a second answer: logged, not raised

    assert list(tg.callback_answers) == [query_id]
    assert [call.status for call in tg.calls_to("answerCallbackQuery")] == [200, 400]


async def test_start_sets_the_commands_in_every_language_and_deletes_the_webhook(
    channel: TelegramChannel, tg: FakeTelegram, translations: Translations
) -> None:
    tg.webhook = Webhook("https://old.example.org/webhooks/telegram")

    await channel.start("", "")

    assert tg.webhook is None
    (deleted,) = tg.calls_to("deleteWebhook")
    assert deleted.status == 200 and not deleted.params.get("url")
    assert tg.calls_to("setWebhook") == []
    assert len(tg.calls_to("setMyCommands")) == len(LANGUAGES)
    for language in LANGUAGES:
        tr = translations(language)
        # Italian is the default menu: every app language we do not cover (and "it") shows it
        code = None if language == "it" else language
        commands = await channel.bot.get_my_commands(language_code=code)
        assert [(c.command, c.description) for c in commands] == [
            ("start", tr._("Start and choose your language")),
            ("language", tr._("Choose your language")),
            ("city", tr._("Choose your city")),
            ("help", tr._("What I can help with")),
            ("human", tr._("Talk to a person")),
            ("status", tr._("Your open requests")),
            ("forget", tr._("Delete my data")),
        ]
    descriptions = {
        language: (await channel.bot.get_my_commands(language_code=language))[0].description
        for language in LANGUAGES
        if language != "it"
    }
    assert len(set(descriptions.values())) == len(descriptions)  # really translated


async def test_start_with_a_webhook_url_registers_it(channel: TelegramChannel, tg: FakeTelegram) -> None:
    await channel.start("https://sportello.example.org/webhooks/telegram", "s3cret-token_1")

    assert tg.webhook is not None
    assert tg.webhook.url == "https://sportello.example.org/webhooks/telegram"
    assert tg.webhook.secret_token == "s3cret-token_1"
    assert tg.webhook.allowed_updates == ALLOWED_UPDATES
    assert tg.calls_to("deleteWebhook") == []
