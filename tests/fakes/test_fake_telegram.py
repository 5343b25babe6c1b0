"""The fake Bot API against the real python-telegram-bot: if PTB is happy, the wire format is right."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeAllPrivateChats,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    MessageEntity,
    Update,
)
from telegram.constants import ChatAction
from telegram.error import (
    BadRequest,
    Conflict,
    EndPointNotFound,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
)

from tests.fakes.fake_telegram import SECRET_HEADER, FakeTelegram, TelegramUser, fake_telegram_app

ServerFactory = Callable[..., Any]
Client = TestClient[web.Request, web.Application]
AMINA = TelegramUser(4242, "Amina", username="amina_k", language_code="ar")
MENU = InlineKeyboardMarkup(
    [
        [InlineKeyboardButton("Codice fiscale", callback_data="topic:tax_code")],
        [InlineKeyboardButton("Menu", callback_data="/menu")],
    ]
)


class ManualClock:
    """A clock the test moves by hand, so rate assertions do not depend on the machine's speed."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def message_of(update: Update) -> Message:
    """The update's message, asserting it has one (keeps the field checks below readable)."""
    assert update.message is not None
    return update.message


@asynccontextmanager
async def connected_bot(tg: FakeTelegram, server: TestServer, token: str | None = None) -> AsyncIterator[Bot]:
    """A real PTB Bot whose API and file URLs point at the fake (PTB appends the token itself)."""
    url = str(server.make_url("")).rstrip("/")
    async with Bot(token or tg.token, base_url=f"{url}/bot", base_file_url=f"{url}/file/bot") as bot:
        yield bot


@pytest.fixture(autouse=True)
def timedelta_periods(monkeypatch: pytest.MonkeyPatch) -> None:
    """Opt in to PTB's future timedelta durations (the int form warns since v22.2)."""
    monkeypatch.setenv("PTB_TIMEDELTA", "true")


@pytest.fixture()
def tg() -> FakeTelegram:
    return FakeTelegram()


@pytest.fixture()
async def server(tg: FakeTelegram, aiohttp_server: ServerFactory) -> TestServer:
    started: TestServer = await aiohttp_server(fake_telegram_app(tg))
    return started


@pytest.fixture()
async def bot(tg: FakeTelegram, server: TestServer) -> AsyncIterator[Bot]:
    async with connected_bot(tg, server) as connected:
        yield connected


@pytest.fixture()
async def raw(server: TestServer, aiohttp_client: ServerFactory) -> Client:
    """A plain HTTP client, to check the exact JSON on the wire."""
    client: Client = await aiohttp_client(server)
    return client


# ----- identity, tokens, routing ---------------------------------------------------------------------


async def test_get_me_identifies_the_bot_from_its_token(bot: Bot, tg: FakeTelegram) -> None:
    me = await bot.get_me()
    assert me.id == int(tg.token.split(":")[0])
    assert me.is_bot and me.username == "sportello_test_bot"
    assert [call.method for call in tg.calls] == ["getMe", "getMe"]  # the first by Bot.initialize()
    assert all(call.status == 200 for call in tg.calls)


async def test_wrong_token_is_unauthorized(tg: FakeTelegram, server: TestServer, raw: Client) -> None:
    with pytest.raises(InvalidToken, match="was rejected by the server"):  # PTB's wording for a 401
        async with connected_bot(tg, server, token="123456789:AAwrong-token"):
            pass
    response = await raw.get("/bot987654321:AAwrong/getMe")
    assert response.status == 401
    assert await response.json() == {"ok": False, "error_code": 401, "description": "Unauthorized"}
    malformed = await raw.get("/botnot-a-token/getMe")  # Telegram answers malformed tokens with 404
    assert malformed.status == 404


async def test_unknown_method_is_not_found(bot: Bot, raw: Client, tg: FakeTelegram) -> None:
    response = await raw.post(f"/bot{tg.token}/sendTelepathy", json={"chat_id": 1})
    assert response.status == 404
    assert await response.json() == {"ok": False, "error_code": 404, "description": "Not Found"}
    with pytest.raises(EndPointNotFound):
        await bot.do_api_request("sendTelepathy", api_kwargs={"chat_id": 1})


async def test_method_names_are_case_insensitive_like_telegram(raw: Client, tg: FakeTelegram) -> None:
    response = await raw.get(f"/bot{tg.token}/getme")
    assert (await response.json())["ok"] is True
    assert tg.calls[-1].method == "getMe"


# ----- parameters in every encoding -------------------------------------------------------------------


async def test_parameters_arrive_the_same_in_every_encoding(raw: Client, tg: FakeTelegram) -> None:
    keyboard = {"inline_keyboard": [[{"text": "Sì", "callback_data": "yes"}]]}
    url = f"/bot{tg.token}/sendMessage"
    form = aiohttp.FormData({"chat_id": "42", "text": "ciao", "reply_markup": json.dumps(keyboard)})
    form.add_field("attachment", b"bytes", filename="note.txt", content_type="text/plain")
    requests = [
        raw.get(url, params={"chat_id": "42", "text": "ciao", "reply_markup": json.dumps(keyboard)}),
        raw.post(url, json={"chat_id": 42, "text": "ciao", "reply_markup": keyboard}),
        raw.post(url, data={"chat_id": "42", "text": "ciao", "reply_markup": json.dumps(keyboard)}),
        raw.post(url, data=form),
    ]
    for request in requests:
        response = await request
        body = await response.json()
        assert body["ok"] is True and body["result"]["reply_markup"] == keyboard
    for call in tg.calls:
        assert call.params["chat_id"] == 42 and call.params["reply_markup"] == keyboard
    assert tg.calls[-1].params["attachment"] == {
        "filename": "note.txt",
        "content_type": "text/plain",
        "size": 5,
    }
    assert [message["message_id"] for message in tg.sent[42]] == [1, 2, 3, 4]


# ----- sendMessage --------------------------------------------------------------------------------------


async def test_send_message_with_inline_keyboard_returns_a_full_message(bot: Bot, tg: FakeTelegram) -> None:
    tg.enqueue(tg.text_message("ciao", user=AMINA))  # the user wrote first: ids are per chat, shared
    first = await bot.send_message(AMINA.id, "Benvenuta! Scegli un argomento.", reply_markup=MENU)
    second = await bot.send_message(AMINA.id, "Altro?")
    assert (first.message_id, second.message_id) == (2, 3)
    assert first.chat.id == AMINA.id and first.chat.type == "private" and first.chat.username == "amina_k"
    assert first.from_user is not None and first.from_user.id == bot.id
    assert first.text == "Benvenuta! Scegli un argomento." and first.date.year >= 2024
    assert first.reply_markup == MENU
    assert tg.texts(AMINA.id) == ["Benvenuta! Scegli un argomento.", "Altro?"]
    assert tg.sent[AMINA.id][0]["reply_markup"] == MENU.to_dict()


async def test_message_length_is_limited_to_4096(bot: Bot, raw: Client, tg: FakeTelegram) -> None:
    await bot.send_message(1, "a" * 4096)
    with pytest.raises(BadRequest, match="Message is too long"):
        await bot.send_message(1, "a" * 4097)
    with pytest.raises(BadRequest, match="Message is too long"):  # emoji count twice (UTF-16)
        await bot.send_message(1, "😀" * 2049)
    await bot.send_message(1, "<b>" + "a" * 4096 + "</b>", parse_mode="HTML")  # limit is after parsing
    response = await raw.post(f"/bot{tg.token}/sendMessage", json={"chat_id": 1, "text": "a" * 5000})
    assert response.status == 400
    assert await response.json() == {
        "ok": False,
        "error_code": 400,
        "description": "Bad Request: message is too long",
    }


@pytest.mark.parametrize("data", ["x" * 65, "é" * 33, ""])
async def test_callback_data_must_be_1_to_64_bytes(raw: Client, tg: FakeTelegram, data: str) -> None:
    keyboard = {"inline_keyboard": [[{"text": "Go", "callback_data": data}]]}
    response = await raw.post(
        f"/bot{tg.token}/sendMessage", json={"chat_id": 1, "text": "hi", "reply_markup": keyboard}
    )
    assert response.status == 400
    assert (await response.json())["description"] == "Bad Request: BUTTON_DATA_INVALID"
    assert tg.sent[1] == []


async def test_callback_data_limit_through_ptb(bot: Bot) -> None:
    await bot.send_message(
        1, "ok", reply_markup=InlineKeyboardMarkup([[InlineKeyboardButton("a", callback_data="x" * 64)]])
    )
    too_long = InlineKeyboardMarkup([[InlineKeyboardButton("a", callback_data="x" * 65)]])
    with pytest.raises(BadRequest, match="Button_data_invalid"):  # PTB capitalises the description
        await bot.send_message(1, "no", reply_markup=too_long)


async def test_send_message_validation_errors(raw: Client, tg: FakeTelegram) -> None:
    url = f"/bot{tg.token}/sendMessage"
    cases = [
        ({"text": "hi"}, "Bad Request: chat_id is empty"),
        ({"chat_id": 1, "text": "   "}, "Bad Request: message text is empty"),
        ({"chat_id": "@nobody", "text": "hi"}, "Bad Request: chat not found"),
        (
            {"chat_id": 1, "text": "hi", "reply_markup": {"inline_keyboard": [[{"text": "bare"}]]}},
            "Bad Request: can't parse inline keyboard button: "
            "Text buttons are unallowed in the inline keyboard",
        ),
    ]
    for params, description in cases:
        response = await raw.post(url, json=params)
        assert (response.status, (await response.json())["description"]) == (400, description)


async def test_blocked_user_is_forbidden(bot: Bot, tg: FakeTelegram) -> None:
    tg.block(7)
    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await bot.send_message(7, "hello?")


# ----- failure injection and rates ------------------------------------------------------------------


async def test_flood_control_surfaces_as_retry_after(bot: Bot, tg: FakeTelegram) -> None:
    tg.fail_next("sendMessage", retry_after=7)
    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(1, "troppo presto")
    assert caught.value.retry_after == timedelta(seconds=7)
    await bot.send_message(1, "ora sì")  # only the next call failed
    assert [call.status for call in tg.calls_to("sendMessage")] == [429, 200]
    assert tg.texts(1) == ["ora sì"]


async def test_flood_control_wire_format(raw: Client, tg: FakeTelegram) -> None:
    tg.fail_next("*", retry_after=3, times=2)
    for method in ("getMe", "sendChatAction"):
        response = await raw.post(f"/bot{tg.token}/{method}", json={"chat_id": 1, "action": "typing"})
        assert response.status == 429
        assert await response.json() == {
            "ok": False,
            "error_code": 429,
            "description": "Too Many Requests: retry after 3",
            "parameters": {"retry_after": 3},
        }
    assert (await raw.get(f"/bot{tg.token}/getMe")).status == 200


async def test_server_errors(bot: Bot, raw: Client, tg: FakeTelegram) -> None:
    tg.fail_next("sendMessage", status=502)
    with pytest.raises(NetworkError, match="Bad Gateway"):
        await bot.send_message(1, "hi")
    tg.fail_next("getMe", status=500)
    response = await raw.get(f"/bot{tg.token}/getMe")
    assert response.status == 500
    assert await response.json() == {"ok": False, "error_code": 500, "description": "Internal Server Error"}


async def test_send_rate_is_observable(tg: FakeTelegram, aiohttp_server: ServerFactory) -> None:
    clock = ManualClock()
    tg.clock = clock
    server = await aiohttp_server(fake_telegram_app(tg))
    async with connected_bot(tg, server) as bot:
        for step in (0.0, 0.5, 0.7, 1.0):
            clock.now += step
            await bot.send_message(1, f"t+{step}")
        await bot.send_message(2, "another chat")
    assert tg.send_times(1) == [1000.0, 1000.5, 1001.2, 1002.2]
    assert tg.max_per_window(1, 1.0) == 2
    assert tg.max_per_window(2, 1.0) == 1
    assert tg.max_per_window(3, 1.0) == 0


async def test_optional_per_chat_flood_limit(aiohttp_server: ServerFactory) -> None:
    clock = ManualClock()
    tg = FakeTelegram(clock=clock, min_send_interval=1.0)
    server = await aiohttp_server(fake_telegram_app(tg))
    async with connected_bot(tg, server) as bot:
        await bot.send_message(1, "one")
        await bot.send_message(2, "other chats are independent")
        clock.now += 0.4
        with pytest.raises(RetryAfter):
            await bot.send_message(1, "too soon")
        clock.now += 0.6
        await bot.send_message(1, "two")
    assert tg.texts(1) == ["one", "two"]
    assert tg.max_per_window(1) == 1


# ----- getUpdates and the update builders ------------------------------------------------------------


async def test_get_updates_returns_a_queued_text_message(bot: Bot, tg: FakeTelegram) -> None:
    queued = tg.text_message("Come ottengo il codice fiscale?", user=AMINA)
    tg.enqueue(queued)
    updates = await bot.get_updates(timeout=1)
    assert len(updates) == 1
    update = updates[0]
    assert isinstance(update, Update) and update.update_id == queued["update_id"]
    message = update.message
    assert message is not None and message.text == "Come ottengo il codice fiscale?"
    assert message.from_user is not None and message.from_user.language_code == "ar"
    assert message.from_user.id == AMINA.id and message.from_user.is_bot is False
    assert message.chat.id == AMINA.id and message.chat.type == "private" and message.message_id == 1
    assert update.effective_user is not None and update.effective_user.username == "amina_k"
    again = await bot.get_updates(timeout=0)  # not confirmed yet: delivered again
    assert [u.update_id for u in again] == [update.update_id]
    assert await bot.get_updates(offset=update.update_id + 1, timeout=0) == ()
    assert tg.pending_updates == []


async def test_long_polling_waits_for_an_update(bot: Bot, tg: FakeTelegram) -> None:
    poll = asyncio.create_task(bot.get_updates(timeout=10))
    await asyncio.sleep(0.2)
    assert not poll.done()
    tg.enqueue(tg.command("start", "caserta"))
    updates = await asyncio.wait_for(poll, timeout=3)
    message = updates[0].message
    assert message is not None and message.text == "/start caserta"
    assert message.parse_entities([MessageEntity.BOT_COMMAND]) == {message.entities[0]: "/start"}


async def test_long_polling_gives_up_after_timeout(bot: Bot) -> None:
    loop = asyncio.get_running_loop()
    started = loop.time()
    assert await bot.get_updates(timeout=1) == ()
    assert 0.9 <= loop.time() - started < 3


async def test_limit_and_allowed_updates(bot: Bot, tg: FakeTelegram) -> None:
    tg.enqueue(tg.text_message("uno"), tg.location(), tg.text_message("due"))
    first = await bot.get_updates(limit=1, timeout=0)
    assert [u.message.text for u in first if u.message] == ["uno"]
    texts_only = await bot.get_updates(offset=first[0].update_id + 1, timeout=0, allowed_updates=["message"])
    assert len(texts_only) == 2
    tg.enqueue(tg.callback_query("x", message={"message_id": 9, "chat": AMINA.as_chat(), "date": 1}))
    filtered = await bot.get_updates(offset=texts_only[-1].update_id + 1, timeout=0)
    assert filtered == ()  # allowed_updates persists between calls, as on Telegram


async def test_every_builder_parses_into_ptb_objects(bot: Bot, tg: FakeTelegram) -> None:
    original = tg.text_message("ciao", user=AMINA)
    tg.enqueue(
        original,
        tg.edited_message(original, "ciao, ho una domanda"),
        tg.voice(6, user=AMINA),
        tg.photo(1600, 1200, caption="il mio permesso", user=AMINA),
        tg.document("ricevuta.pdf", user=AMINA),
        tg.location(40.8518, 14.2681, user=AMINA),
        tg.sticker("🙏", user=AMINA),
        tg.command("start", user=AMINA),
    )
    updates = await bot.get_updates(timeout=0)
    text, edited, voice, photo, document, location, sticker, start = updates
    assert edited.edited_message is not None and edited.edited_message.text == "ciao, ho una domanda"
    assert edited.edited_message.message_id == message_of(text).message_id
    assert edited.edited_message.edit_date is not None
    voice_note = message_of(voice).voice
    assert voice_note is not None and voice_note.mime_type == "audio/ogg"
    assert voice_note.duration == timedelta(seconds=6)
    sizes = message_of(photo).photo
    assert [(size.width, size.height) for size in sizes] == [(90, 68), (320, 240), (800, 600), (1600, 1200)]
    assert message_of(photo).caption == "il mio permesso"
    attachment = message_of(document).document
    assert attachment is not None and (attachment.file_name, attachment.mime_type) == (
        "ricevuta.pdf",
        "application/pdf",
    )
    place = message_of(location).location
    assert place is not None and (place.latitude, place.longitude) == pytest.approx((40.8518, 14.2681))
    emoji = message_of(sticker).sticker
    assert emoji is not None and (emoji.emoji, emoji.type) == ("🙏", "regular")
    command = message_of(start)
    assert command.text == "/start" and command.entities[0].type == MessageEntity.BOT_COMMAND
    ids = [u.update_id for u in updates]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)


async def test_voice_notes_can_be_downloaded(bot: Bot, tg: FakeTelegram) -> None:
    tg.enqueue(tg.voice(3, content=b"OggS-real-enough"))
    (update,) = await bot.get_updates(timeout=0)
    assert update.message is not None and update.message.voice is not None
    file = await bot.get_file(update.message.voice.file_id)
    assert file.file_size == len(b"OggS-real-enough")
    assert bytes(await file.download_as_bytearray()) == b"OggS-real-enough"
    with pytest.raises(BadRequest, match="Invalid file_id"):
        await bot.get_file("AwACAgQAAxkBAAI-unknown")


async def test_a_second_poller_terminates_the_first(bot: Bot, raw: Client, tg: FakeTelegram) -> None:
    first = asyncio.create_task(bot.get_updates(timeout=10))
    await asyncio.sleep(0.2)
    second = await raw.get(f"/bot{tg.token}/getUpdates", params={"timeout": "0"})
    assert await second.json() == {"ok": True, "result": []}
    with pytest.raises(Conflict, match="terminated by other getUpdates request"):
        await asyncio.wait_for(first, timeout=3)


# ----- callback queries, edits, actions, commands ------------------------------------------------------


async def test_callback_query_round_trip(bot: Bot, tg: FakeTelegram) -> None:
    sent = await bot.send_message(AMINA.id, "Scegli:", reply_markup=MENU)
    tg.enqueue(tg.callback_query("topic:tax_code", user=AMINA))
    (update,) = await bot.get_updates(timeout=0)
    query = update.callback_query
    assert query is not None and query.data == "topic:tax_code"
    assert query.from_user.language_code == "ar" and query.chat_instance
    assert isinstance(query.message, Message) and query.message.message_id == sent.message_id
    assert query.message.reply_markup == MENU
    assert await bot.answer_callback_query(query.id, text="Ok!") is True
    assert tg.callback_answers[query.id]["text"] == "Ok!"
    with pytest.raises(BadRequest, match="Query is too old"):
        await bot.answer_callback_query(query.id)  # only once
    with pytest.raises(BadRequest, match="Query is too old"):
        await bot.answer_callback_query("123")


async def test_callback_query_needs_a_bot_message(tg: FakeTelegram) -> None:
    with pytest.raises(ValueError, match="sent nothing"):
        tg.callback_query("x")


async def test_edit_message_reply_markup(bot: Bot, tg: FakeTelegram) -> None:
    sent = await bot.send_message(5, "Scegli:", reply_markup=MENU)
    done = InlineKeyboardMarkup([[InlineKeyboardButton("✓ Codice fiscale", callback_data="done")]])
    edited = await bot.edit_message_reply_markup(5, sent.message_id, reply_markup=done)
    assert isinstance(edited, Message) and edited.reply_markup == done and edited.edit_date is not None
    with pytest.raises(BadRequest, match="Message is not modified"):
        await bot.edit_message_reply_markup(5, sent.message_id, reply_markup=done)
    await bot.edit_message_reply_markup(5, sent.message_id)  # no markup: the keyboard goes away
    assert "reply_markup" not in tg.message(5, sent.message_id)
    assert tg.sent[5][0]["reply_markup"] == MENU.to_dict()  # `sent` keeps what was sent
    with pytest.raises(BadRequest, match="Message to edit not found"):
        await bot.edit_message_reply_markup(5, 999, reply_markup=done)


async def test_send_chat_action(bot: Bot, raw: Client, tg: FakeTelegram) -> None:
    assert await bot.send_chat_action(5, ChatAction.TYPING) is True
    assert tg.chat_actions[5] == ["typing"]
    response = await raw.post(f"/bot{tg.token}/sendChatAction", data={"chat_id": "5", "action": "dancing"})
    assert (await response.json())["description"] == "Bad Request: wrong parameter action in request"


async def test_set_my_commands_per_language_and_scope(bot: Bot, tg: FakeTelegram) -> None:
    italian = [BotCommand("start", "Inizia"), BotCommand("lingua", "Cambia lingua")]
    arabic = [BotCommand("start", "ابدأ")]
    assert await bot.set_my_commands(italian, language_code="it") is True
    assert (
        await bot.set_my_commands(arabic, scope=BotCommandScopeAllPrivateChats(), language_code="ar") is True
    )
    assert await bot.get_my_commands(language_code="it") == tuple(italian)
    assert await bot.get_my_commands(scope=BotCommandScopeAllPrivateChats(), language_code="ar") == tuple(
        arabic
    )
    assert await bot.get_my_commands() == ()  # no fallback to other languages
    call = tg.calls_to("setMyCommands")[0]
    assert call.params["language_code"] == "it"
    assert call.params["commands"] == [c.to_dict() for c in italian]
    assert tg.calls_to("setMyCommands")[1].params["scope"] == {"type": "all_private_chats"}
    with pytest.raises(BadRequest, match="Bot_command_invalid"):
        await bot.set_my_commands([BotCommand("Cambia-Lingua", "no")])
    assert await bot.delete_my_commands(language_code="it") is True
    assert await bot.get_my_commands(language_code="it") == ()


# ----- webhooks --------------------------------------------------------------------------------------


@pytest.fixture()
async def receiver(
    aiohttp_server: ServerFactory,
) -> tuple[TestServer, list[tuple[dict[str, str], Any]], list[int]]:
    """The bot's side of a webhook: records what Telegram POSTs, answers with scripted statuses."""
    received: list[tuple[dict[str, str], Any]] = []
    statuses: list[int] = []

    async def hook(request: web.Request) -> web.Response:
        received.append((dict(request.headers), await request.json()))
        return web.Response(status=statuses.pop(0) if statuses else 200)

    app = web.Application()
    app.router.add_post("/telegram/webhook", hook)
    return await aiohttp_server(app), received, statuses


async def test_webhook_delivery_with_secret_token(bot: Bot, tg: FakeTelegram, receiver: Any) -> None:
    server, received, _ = receiver
    url = str(server.make_url("/telegram/webhook"))
    assert await bot.set_webhook(url, secret_token="s3cret-Token_1", allowed_updates=["message"]) is True
    info = await bot.get_webhook_info()
    assert info.url == url and info.pending_update_count == 0 and info.allowed_updates == ("message",)
    update = tg.text_message("ciao dal webhook", user=AMINA)
    assert await tg.push_to_webhook(update) == 200
    headers, body = received[0]
    assert headers[SECRET_HEADER] == "s3cret-Token_1"
    assert headers["Content-Type"].startswith("application/json")
    assert body == update and message_of(Update.de_json(body, bot)).text == "ciao dal webhook"
    with pytest.raises(Conflict, match="can't use getUpdates method while webhook is active"):
        await bot.get_updates(timeout=0)
    assert await bot.delete_webhook() is True
    assert (await bot.get_webhook_info()).url == ""


async def test_webhook_without_secret_sends_no_header(bot: Bot, tg: FakeTelegram, receiver: Any) -> None:
    server, received, _ = receiver
    await bot.set_webhook(str(server.make_url("/telegram/webhook")))
    await tg.push_to_webhook(tg.location())
    assert SECRET_HEADER not in received[0][0]


async def test_failed_webhook_delivery_is_reported_and_retried(
    bot: Bot, tg: FakeTelegram, receiver: Any
) -> None:
    server, received, statuses = receiver
    await bot.set_webhook(str(server.make_url("/telegram/webhook")))
    statuses.append(500)
    assert await tg.push_to_webhook(tg.text_message("uno")) == 500
    info = await bot.get_webhook_info()
    assert info.pending_update_count == 1
    assert info.last_error_message == "Wrong response from the webhook: 500 Internal Server Error"
    assert await tg.deliver_pending() == [200]
    assert [body["message"]["text"] for _, body in received] == ["uno", "uno"]
    assert (await bot.get_webhook_info()).pending_update_count == 0


async def test_set_webhook_answers_with_descriptions(raw: Client, tg: FakeTelegram) -> None:
    url = f"/bot{tg.token}/setWebhook"
    first = await (await raw.post(url, data={"url": "https://example.org/hook"})).json()
    again = await (await raw.post(url, data={"url": "https://example.org/hook"})).json()
    assert first == {"ok": True, "result": True, "description": "Webhook was set"}
    assert again["description"] == "Webhook is already set"
    bad = await raw.post(url, json={"url": "https://example.org/hook", "secret_token": "no spaces!"})
    assert (await bad.json())["description"] == "Bad Request: secret token contains unallowed characters"
    deleted = await (await raw.post(f"/bot{tg.token}/deleteWebhook")).json()
    assert deleted == {"ok": True, "result": True, "description": "Webhook was deleted"}


async def test_https_can_be_required_like_the_real_api(raw: Client, tg: FakeTelegram) -> None:
    tg.require_https_webhook = True
    response = await raw.post(f"/bot{tg.token}/setWebhook", json={"url": "http://127.0.0.1:8080/hook"})
    assert (await response.json())[
        "description"
    ] == "Bad Request: bad webhook: An HTTPS URL must be provided for webhook"
