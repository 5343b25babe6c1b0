"""Telegram (python-telegram-bot >= 22): parse updates, send replies with inline keyboards, commands.

Webhook mode when TELEGRAM_WEBHOOK_URL is set (the gateway checks X-Telegram-Bot-Api-Secret-Token),
long polling otherwise. Buttons carry short ids (``bot.adapters.payloads``) within 64 bytes.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from telegram import Bot, BotCommand, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError

from bot.adapters import payloads
from bot.adapters.sending import SendsParts, split_text
from bot.core.attachments import DOCUMENT, PHOTO, MediaRef
from bot.core.commands import command_or_text
from bot.core.errors import AttachmentRefused, InvalidMessage, RetryLater, Undeliverable
from bot.core.i18n import Translations
from bot.core.languages import LANGUAGES
from bot.core.messages import InboundMessage, Kind, Reply

log = logging.getLogger(__name__)
CHANNEL = "telegram"
MAX_TEXT = 4096
ALLOWED_UPDATES = ["message", "edited_message", "callback_query"]


def keyboard(reply: Reply) -> InlineKeyboardMarkup | None:
    if not reply.buttons:
        return None
    buttons = [InlineKeyboardButton(b.title, callback_data=payloads.encode(b.payload)) for b in reply.buttons]
    short = all(len(b.title) <= 14 for b in reply.buttons)
    width = 2 if short and len(buttons) > 3 else 1
    return InlineKeyboardMarkup([buttons[i : i + width] for i in range(0, len(buttons), width)])


def _seconds(value: int | timedelta) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


class TelegramChannel(SendsParts):
    name = CHANNEL

    def __init__(self, bot: Bot, translations: Translations, staff_chat: str = "") -> None:
        self.bot = bot
        self.translations = translations
        self.staff_chat = staff_chat  # the staff group's chat id: told of tickets, never answered

    @classmethod
    def create(
        cls, token: str, base_url: str, translations: Translations, staff_chat: str = ""
    ) -> TelegramChannel:
        base = base_url.rstrip("/")
        file_url = base[: -len("/bot")] + "/file/bot" if base.endswith("/bot") else base + "/file"
        return cls(Bot(token, base_url=base, base_file_url=file_url), translations, staff_chat)

    # lifecycle -----------------------------------------------------------------------------------
    async def start(self, webhook_url: str, secret_token: str) -> None:
        await self.bot.initialize()
        await self.set_commands()
        if webhook_url:
            await self.bot.set_webhook(
                webhook_url, secret_token=secret_token, allowed_updates=ALLOWED_UPDATES
            )
        else:
            await self.bot.delete_webhook()

    async def stop(self) -> None:
        await self.bot.shutdown()

    async def set_commands(self) -> None:
        """The command menu in each language (Telegram shows the one matching the app's language)."""
        for language in LANGUAGES:
            tr = self.translations(language)
            commands = [
                BotCommand("start", tr._("Start and choose your language")),
                BotCommand("language", tr._("Choose your language")),
                BotCommand("city", tr._("Choose your city")),
                BotCommand("help", tr._("What I can help with")),
                BotCommand("human", tr._("Talk to a person")),
                BotCommand("status", tr._("Your open requests")),
                BotCommand("forget", tr._("Delete my data")),
            ]
            await self.bot.set_my_commands(commands, language_code=None if language == "it" else language)

    # inbound -------------------------------------------------------------------------------------
    def parse(self, data: dict[str, Any]) -> tuple[InboundMessage | None, str | None]:
        """An update as an ``InboundMessage`` (None when there is nothing to answer) and, for a button
        press, the callback query id that must be answered. ``InvalidMessage`` for what is no update."""
        try:
            update = Update.de_json(data, self.bot)
            # python-telegram-bot checks no types: a field missing or mistyped fails as it is read; a date or
            # a duration out of datetime's range is an OverflowError (or an OSError from the C library)
            return self._read(update) if update is not None else (None, None)
        except (TypeError, KeyError, ValueError, AttributeError, OverflowError, OSError) as exc:
            raise InvalidMessage(f"not a Telegram update: {type(exc).__name__}") from None

    def _read(self, update: Update) -> tuple[InboundMessage | None, str | None]:
        platform_id = _number(update.update_id)
        if update.callback_query is not None:
            query = update.callback_query
            clicked_in = _number(query.message.chat.id if query.message else query.from_user.id)
            pressed = payloads.decode(query.data or "")
            if not pressed or (query.message is not None and query.message.chat.type != "private"):
                return None, query.id
            hint = _language(query.from_user.language_code)
            return InboundMessage(
                CHANNEL, clicked_in, pressed, Kind.TEXT, platform_id, language_hint=hint
            ), query.id
        posted = update.message or update.edited_message
        if posted is None:
            return None, None
        author = posted.from_user
        hint = _language(author.language_code if author else None)
        chat_id = _number(posted.chat.id)
        if posted.chat.type != "private":
            return self._in_a_group(chat_id, posted.text or "", platform_id, hint), None
        if posted.text:
            text = command_or_text(posted.text)
            return InboundMessage(CHANNEL, chat_id, text, Kind.TEXT, platform_id, language_hint=hint), None
        media = _media(posted)
        caption = (posted.caption or "") if media else ""  # what the user wrote under their photo
        return InboundMessage(
            CHANNEL, chat_id, caption, _kind(posted), platform_id, language_hint=hint, attachment=media
        ), None

    def _in_a_group(
        self, chat_id: str, text: str, platform_id: str, hint: str | None
    ) -> InboundMessage | None:
        """A group is one chat for many people: the desk never answers one as a user. A command there
        gets one line asking to write privately; the staff group and group chatter get nothing."""
        if chat_id == self.staff_chat or not text.startswith("/"):
            return None
        return InboundMessage(CHANNEL, chat_id, "", Kind.GROUP, platform_id, language_hint=hint)

    async def answer_callback(self, query_id: str) -> None:
        try:
            await self.bot.answer_callback_query(query_id)
        except TelegramError as exc:
            log.info("callback query not answered: %s", exc)

    async def poll(self, deliver: Any, on_round: Callable[[], None] | None = None) -> None:
        """Long polling for a laptop with no public address: ``deliver(update_json)`` for each update,
        ``on_round()`` after each poll (a heartbeat). An update that cannot be stored ends the polling
        (the supervisor restarts it): Telegram sends again whatever was not confirmed."""
        offset = 0
        while True:
            if on_round is not None:
                on_round()
            try:
                updates = await self.bot.get_updates(
                    offset=offset, timeout=25, allowed_updates=ALLOWED_UPDATES
                )
            except RetryAfter as exc:
                await asyncio.sleep(_seconds(exc.retry_after))
                continue
            except TelegramError as exc:
                log.warning("telegram polling failed: %s", exc)
                await asyncio.sleep(5)
                continue
            for update in updates:
                offset = update.update_id + 1
                try:
                    await deliver(update.to_dict())
                except InvalidMessage as exc:  # one odd update must not stop the polling
                    log.warning("telegram update %d skipped: %s", update.update_id, exc)

    async def download(self, ref: MediaRef, max_bytes: int) -> bytes:
        """A photo or document through getFile and the file URL (Telegram's bots may download 20 MB);
        the size getFile reports is checked before anything is downloaded."""
        if ref.declared_size is not None and ref.declared_size > max_bytes:
            raise AttachmentRefused("too_big")
        try:
            file = await self.bot.get_file(ref.file_id)
            if file.file_size is not None and file.file_size > max_bytes:
                raise AttachmentRefused("too_big")
            content = bytes(await file.download_as_bytearray())
        except BadRequest as exc:
            if "too big" in exc.message.lower():
                raise AttachmentRefused("too_big") from exc
            raise
        if len(content) > max_bytes:
            raise AttachmentRefused("too_big")
        return content

    # outbound ------------------------------------------------------------------------------------
    def parts(self, reply: Reply, language: str) -> list[Any]:
        """The Telegram messages of one reply: text split at 4,096, the keyboard on the last."""
        texts = split_text(reply.text, MAX_TEXT)
        return [(text, keyboard(reply) if i == len(texts) - 1 else None) for i, text in enumerate(texts)]

    async def send_part(self, user: str, part: Any) -> str:
        text, markup = part
        return await self._send_one(user, text, markup)

    async def send_template(self, user: str, language: str) -> str:
        raise Undeliverable("Telegram has no message templates")

    async def _send_one(self, chat: str, text: str, markup: InlineKeyboardMarkup | None) -> str:
        try:
            sent = await self.bot.send_message(chat_id=int(chat), text=text, reply_markup=markup)
        except RetryAfter as exc:
            raise RetryLater(_seconds(exc.retry_after), "telegram 429") from exc
        except Forbidden as exc:
            raise Undeliverable(f"telegram: {exc.message}") from exc
        except BadRequest as exc:
            raise Undeliverable(f"telegram: {exc.message}") from exc
        except NetworkError as exc:
            raise RetryLater(5, f"telegram: {exc.message}") from exc
        return str(sent.message_id)


def _number(value: object) -> str:
    """An update's or a chat's id, as the desk keeps it: Telegram's are integers (a reply needs one)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError("an id must be an integer")
    return str(value)


def _language(code: str | None) -> str | None:
    short = (code or "").split("-")[0].lower()
    return short if short in LANGUAGES else None


def _kind(message: Any) -> Kind:
    return Kind.VOICE if (message.voice or message.audio or message.video_note) else Kind.MEDIA


def _media(message: Any) -> MediaRef | None:
    """The file a photo (its largest size) or a document names; None for stickers, locations, videos."""
    if message.photo:
        largest = max(message.photo, key=lambda size: size.width * size.height)
        return MediaRef(largest.file_id, PHOTO, "image/jpeg", largest.file_size)
    if message.document:
        document = message.document
        return MediaRef(document.file_id, DOCUMENT, document.mime_type or "", document.file_size)
    return None
