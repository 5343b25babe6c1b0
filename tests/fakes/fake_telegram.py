"""A local stand-in for Telegram's Bot API, speaking its wire format, for Telegram channel tests.

Tests must never reach api.telegram.org, yet the channel should be exercised through the real
python-telegram-bot. This server answers `/bot{token}/{method}` exactly as Telegram does (status codes,
`{"ok": ..., "result"|"error_code"|"description"|"parameters"}` envelopes, error descriptions), keeps
what the bot did for assertions, builds realistic incoming Update payloads, and can inject failures.

Usage::

    tg = FakeTelegram()
    server = await aiohttp_server(fake_telegram_app(tg))
    url = str(server.make_url("")).rstrip("/")
    bot = Bot(tg.token, base_url=f"{url}/bot", base_file_url=f"{url}/file/bot")
    tg.enqueue(tg.text_message("Ciao, mi serve aiuto", user=TelegramUser(42, "Amina", language_code="it")))

Deliberate simplifications (documented so nobody mistakes them for Telegram's behaviour): only the
methods in `METHODS` exist; `parse_mode="HTML"` is honoured for the length check by stripping tags but
no entities are computed; http:// webhook URLs are accepted unless `require_https_webhook=True`;
wording of rarely-hit errors (bad scope objects, unparsable bodies) is best effort.
"""

from __future__ import annotations

import asyncio
import base64
import copy
import html
import json
import math
import re
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
from aiohttp import web

Params = dict[str, Any]
Json = dict[str, Any]
ChatId = int | str

DEFAULT_TOKEN = "123456789:AAHfake-Sportello_test_token_0000000"
MAX_MESSAGE_LENGTH = 4096
MAX_DOWNLOAD_BYTES = 20 * 1024 * 1024  # getFile: "Bad Request: file is too big" beyond
MAX_CALLBACK_DATA_BYTES = 64
MAX_COMMANDS = 100
FIRST_UPDATE_ID = 700_000_001

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
TOKEN_SHAPE = re.compile(r"\d+:[A-Za-z0-9_-]+")
SECRET_SHAPE = re.compile(r"[A-Za-z0-9_-]+")
COMMAND_SHAPE = re.compile(r"[a-z0-9_]{1,32}")
INTEGER = re.compile(r"-?\d+")
NUMBER = re.compile(r"-?\d+(\.\d+)?")
HTML_TAG = re.compile(r"<[^>]*>")


def words(text: str) -> frozenset[str]:
    """Name sets below are written as plain words to keep them readable."""
    return frozenset(text.split())


# Form and multipart bodies carry every value as a string; these say how Telegram reads them back.
JSON_FIELDS = words(
    "reply_markup commands scope allowed_updates entities caption_entities reply_parameters "
    "link_preview_options"
)
INTEGER_FIELDS = words(
    "chat_id message_id offset limit max_connections cache_time user_id message_thread_id reply_to_message_id"
)
NUMBER_FIELDS = frozenset({"timeout"})
BOOLEAN_FIELDS = words(
    "drop_pending_updates show_alert disable_notification protect_content "
    "allow_sending_without_reply disable_web_page_preview"
)

CHAT_ACTIONS = words(
    "typing upload_photo record_video upload_video record_voice upload_voice upload_document "
    "choose_sticker find_location record_video_note upload_video_note"
)
COMMAND_SCOPES = words(
    "default all_private_chats all_group_chats all_chat_administrators chat chat_administrators chat_member"
)
INLINE_BUTTON_ACTIONS = words(
    "url callback_data web_app login_url switch_inline_query switch_inline_query_current_chat "
    "switch_inline_query_chosen_chat copy_text callback_game pay"
)
STATUS_TEXT = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    409: "Conflict",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}

TEXT_BUTTONS_UNALLOWED = "Text buttons are unallowed in the inline keyboard"
QUERY_INVALID = "query is too old and response timeout expired or query ID is invalid"
NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly the same as a "
    "current content and reply markup of the message"
)
WEBHOOK_ACTIVE = (
    "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the "
    "webhook first"
)
POLL_TERMINATED = (
    "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"
)


class ApiError(Exception):
    """A Bot API failure; carries exactly what Telegram puts in the error envelope."""

    def __init__(self, status: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.retry_after = retry_after

    def envelope(self) -> Json:
        """The JSON body Telegram sends with this status."""
        body: Json = {"ok": False, "error_code": self.status, "description": self.description}
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return body


def bad_request(detail: str) -> ApiError:
    """Telegram prefixes every 400 description with 'Bad Request: '."""
    return ApiError(400, f"Bad Request: {detail}")


def too_many_requests(retry_after: int) -> ApiError:
    """Flood control: the description and parameters.retry_after python-telegram-bot turns into RetryAfter."""
    return ApiError(429, f"Too Many Requests: retry after {retry_after}", retry_after)


@dataclass(frozen=True)
class ApiCall:
    """One request the bot made, kept so tests can assert on order, parameters and timing."""

    method: str
    params: Params
    at: float
    status: int


@dataclass
class Failure:
    """A scripted failure waiting for the next matching call(s)."""

    method: str
    error: ApiError
    times: int


@dataclass
class Webhook:
    """What setWebhook registered, plus the delivery errors getWebhookInfo reports."""

    url: str
    secret_token: str | None = None
    max_connections: int = 40
    allowed_updates: list[str] | None = None
    last_error_date: int | None = None
    last_error_message: str | None = None


@dataclass(frozen=True)
class WebhookDelivery:
    """One POST of an Update to the bot's webhook; status 0 means the webhook was unreachable."""

    update_id: int
    status: int


@dataclass(frozen=True)
class StoredFile:
    """A file users 'sent', so getFile and the download URL can serve it back."""

    file_id: str
    file_unique_id: str
    file_path: str
    content: bytes


@dataclass(frozen=True)
class TelegramUser:
    """A person writing to the bot from a private chat."""

    id: int = 5550001
    first_name: str = "Amina"
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = "it"

    def as_user(self) -> Json:
        """The User object, omitting absent optional fields as Telegram does (it never sends null)."""
        user: Json = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        optional = {
            "last_name": self.last_name,
            "username": self.username,
            "language_code": self.language_code,
        }
        user.update({key: value for key, value in optional.items() if value is not None})
        return user

    def as_chat(self) -> Json:
        """The private Chat object for this user."""
        chat: Json = {"id": self.id, "first_name": self.first_name}
        optional = {"last_name": self.last_name, "username": self.username}
        chat.update({key: value for key, value in optional.items() if value is not None})
        chat["type"] = "private"
        return chat


DEFAULT_USER = TelegramUser()


@dataclass(frozen=True)
class Reply:
    """A successful result; some methods (setWebhook, deleteWebhook) add a description."""

    result: Any
    description: str | None = None


class FakeTelegram:
    """The Bot API's state: what the bot sent, what users will send, and scripted failures."""

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        *,
        bot_username: str = "sportello_test_bot",
        bot_name: str = "Sportello",
        clock: Callable[[], float] = time.monotonic,
        min_send_interval: float | None = None,
        require_https_webhook: bool = False,
    ) -> None:
        self.token = token
        self.bot_user: Json = {
            "id": int(token.split(":", 1)[0]),
            "is_bot": True,
            "first_name": bot_name,
            "username": bot_username,
        }
        self.clock = clock
        self.min_send_interval = min_send_interval
        self.require_https_webhook = require_https_webhook
        self.calls: list[ApiCall] = []
        self.sent: dict[ChatId, list[Json]] = defaultdict(list)
        self.chat_actions: dict[ChatId, list[str]] = defaultdict(list)
        self.callback_answers: dict[str, Params] = {}
        self.commands: dict[tuple[str, str], list[Json]] = {}
        self.webhook: Webhook | None = None
        self.webhook_deliveries: list[WebhookDelivery] = []
        self.blocked_chats: set[ChatId] = set()
        self.allowed_updates: list[str] | None = None
        self.webhook_timeout = 10.0
        self._updates: list[Json] = []
        self._failures: list[Failure] = []
        self._messages: dict[tuple[ChatId, int], Json] = {}
        self._chats: dict[ChatId, Json] = {}
        self._last_message_id: dict[ChatId, int] = defaultdict(int)
        self._send_times: dict[ChatId, list[float]] = defaultdict(list)
        self._files: dict[str, StoredFile] = {}
        self._issued_queries: set[str] = set()
        self._next_update_id = FIRST_UPDATE_ID
        self._serial = 0
        self._poll_ticket = 0
        self._wakeup = asyncio.Event()

    # ----- observing what the bot did -------------------------------------------------------------

    def calls_to(self, method: str) -> list[ApiCall]:
        """Calls of one method (case-insensitive, like Telegram's routing)."""
        return [call for call in self.calls if call.method.lower() == method.lower()]

    def texts(self, chat_id: ChatId) -> list[str]:
        """The texts the bot sent to a chat, in order: the usual thing to assert on."""
        return [message["text"] for message in self.sent[chat_id]]

    def message(self, chat_id: ChatId, message_id: int) -> Json:
        """A message as it is now (after edits), whoever sent it."""
        return copy.deepcopy(self._messages[(chat_id, message_id)])

    def send_times(self, chat_id: ChatId) -> list[float]:
        """Clock readings of the successful sendMessage calls to a chat."""
        return list(self._send_times[chat_id])

    def max_per_window(self, chat_id: ChatId, window: float = 1.0) -> int:
        """Most messages sent to a chat within any `window` seconds; Telegram allows about 1/s per chat."""
        times = self._send_times[chat_id]
        counts = (sum(1 for t in times[i:] if t - start < window) for i, start in enumerate(times))
        return max(counts, default=0)

    @property
    def pending_updates(self) -> list[Json]:
        """Updates not yet confirmed by getUpdates' offset nor delivered to the webhook."""
        return copy.deepcopy(self._updates)

    # ----- failure injection ----------------------------------------------------------------------

    def fail_next(
        self,
        method: str,
        status: int = 429,
        retry_after: int | None = 5,
        *,
        times: int = 1,
        description: str | None = None,
    ) -> None:
        """Make the next `times` calls of `method` ("*" for any) fail, e.g. flood control or a 502."""
        if status == 429:
            error = too_many_requests(retry_after or 1)
        else:
            error = ApiError(status, description or STATUS_TEXT.get(status, "Internal Server Error"))
        if description is not None:
            error.description = description
        self._failures.append(Failure(method.lower(), error, times))

    def block(self, chat_id: ChatId) -> None:
        """The user blocked the bot: further sends answer 403 like Telegram."""
        self.blocked_chats.add(chat_id)

    def take_failure(self, method: str) -> ApiError | None:
        """Consume the first scripted failure matching this call, if any."""
        for failure in self._failures:
            if failure.method in ("*", method.lower()):
                failure.times -= 1
                if failure.times <= 0:
                    self._failures.remove(failure)
                return failure.error
        return None

    # ----- the update queue -----------------------------------------------------------------------

    def enqueue(self, *updates: Json) -> None:
        """Queue updates for getUpdates (or deliver_pending), waking any long poll."""
        self._updates.extend(copy.deepcopy(update) for update in updates)
        self.wake()

    def wake(self) -> None:
        """Tell waiting long polls that something changed."""
        self._wakeup.set()
        self._wakeup = asyncio.Event()

    async def wait_for_change(self, seconds: float) -> None:
        """Sleep until enqueue/wake or the timeout, whichever comes first."""
        try:
            await asyncio.wait_for(self._wakeup.wait(), timeout=seconds)
        except asyncio.TimeoutError:
            return

    def drop_pending(self) -> None:
        """drop_pending_updates=True on setWebhook/deleteWebhook."""
        self._updates.clear()

    def confirm(self, offset: int) -> None:
        """Forget updates as Telegram does: below a positive offset, or all but the last -offset."""
        if offset > 0:
            self._updates = [update for update in self._updates if update["update_id"] >= offset]
        elif offset < 0:
            self._updates = self._updates[offset:]

    def is_wanted(self, update: Json, allowed: list[str] | None) -> bool:
        """Whether an update's type passes allowed_updates (empty or absent means every type)."""
        return not allowed or update_type(update) in allowed

    def start_poll(self) -> int:
        """A new getUpdates supersedes the previous one, which must end with 409."""
        self._poll_ticket += 1
        self.wake()
        return self._poll_ticket

    def is_current_poll(self, ticket: int) -> bool:
        """False once a newer getUpdates has started."""
        return ticket == self._poll_ticket

    # ----- messages the bot sends -----------------------------------------------------------------

    def chat_for(self, chat_id: ChatId) -> Json:
        """The Chat object for a chat id: the one users wrote from, else a plausible stand-in."""
        if chat_id in self._chats:
            return copy.deepcopy(self._chats[chat_id])
        if isinstance(chat_id, int) and chat_id > 0:
            return {"id": chat_id, "first_name": "Utente", "type": "private"}
        kind = "supergroup" if str(chat_id).startswith("-100") else "group"
        return {"id": chat_id, "title": "Gruppo di prova", "type": kind}

    def resolve_chat(self, raw: Any) -> ChatId:
        """Validate chat_id like Telegram: empty, unknown @username and blocked chats are errors."""
        if raw is None or raw == "":
            raise bad_request("chat_id is empty")
        if isinstance(raw, int) and not isinstance(raw, bool):
            return raw
        if isinstance(raw, str) and raw.startswith("@"):
            for chat_id, chat in self._chats.items():
                if chat.get("username", "").lower() == raw[1:].lower():
                    return chat_id
        raise bad_request("chat not found")

    def check_can_send(self, chat_id: ChatId) -> None:
        """Blocked users and the optional per-chat flood limit, checked before anything is stored."""
        if chat_id in self.blocked_chats:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        sends = self._send_times[chat_id]
        if self.min_send_interval is None or not sends:
            return
        wait = self.min_send_interval - (self.clock() - sends[-1])
        if wait > 0:
            raise too_many_requests(max(1, math.ceil(wait)))

    def store_bot_message(self, chat_id: ChatId, content: Json) -> Json:
        """Give the bot's message an id, date and sender, and keep it for assertions and edits."""
        message = self._new_message(self.chat_for(chat_id), self.public_bot_user(), content)
        self.sent[chat_id].append(copy.deepcopy(message))
        self._send_times[chat_id].append(self.clock())
        return message

    def is_issued_query(self, query_id: str) -> bool:
        """Only ids handed out by callback_query() exist on this fake Telegram."""
        return query_id in self._issued_queries

    def stored_message(self, chat_id: ChatId, message_id: int) -> Json | None:
        """The live copy handlers edit in place (message() hands out copies)."""
        return self._messages.get((chat_id, message_id))

    def public_bot_user(self) -> Json:
        """The bot as it appears in a message's `from` (getMe adds capability flags)."""
        return dict(self.bot_user)

    # ----- files ----------------------------------------------------------------------------------

    def file(self, file_id: str) -> StoredFile | None:
        """A file a built update referred to."""
        return self._files.get(file_id)

    def file_by_path(self, file_path: str) -> StoredFile | None:
        """Resolve a download URL's path to the stored bytes."""
        return next((stored for stored in self._files.values() if stored.file_path == file_path), None)

    # ----- building incoming updates (exact Bot API field names) ----------------------------------

    def text_message(
        self, text: str, *, user: TelegramUser = DEFAULT_USER, entities: list[Json] | None = None
    ) -> Json:
        """A user typed `text` in the private chat with the bot."""
        content: Json = {"text": text}
        if entities:
            content["entities"] = entities
        return self._update("message", self._incoming(user, content))

    def command(
        self, name: str = "start", payload: str | None = None, *, user: TelegramUser = DEFAULT_USER
    ) -> Json:
        """A /command (e.g. /start from a deep link), with the bot_command entity clients attach."""
        head = f"/{name}"
        text = f"{head} {payload}" if payload else head
        entity = {"offset": 0, "length": utf16_length(head), "type": "bot_command"}
        return self.text_message(text, user=user, entities=[entity])

    def edited_message(self, original: Json, text: str) -> Json:
        """The user edited an earlier text message (pass the Update or the Message)."""
        message = copy.deepcopy(original.get("message", original))
        message.update({"text": text, "edit_date": now()})
        self._messages[(message["chat"]["id"], message["message_id"])] = copy.deepcopy(message)
        return self._update("edited_message", message)

    def voice(
        self,
        duration: int = 4,
        *,
        user: TelegramUser = DEFAULT_USER,
        content: bytes = b"OggS\x00fake-opus-voice",
    ) -> Json:
        """A voice note (OGG/Opus), downloadable through getFile."""
        stored = self._store_file("AwACAgQAAxkBAAI", "voice", "oga", content)
        voice = {**file_fields(stored), "duration": duration, "mime_type": "audio/ogg"}
        return self._update("message", self._incoming(user, {"voice": voice}))

    def photo(
        self,
        width: int = 1280,
        height: int = 960,
        *,
        caption: str | None = None,
        user: TelegramUser = DEFAULT_USER,
        content: bytes = b"\xff\xd8\xff\xe0fake-jpeg",
    ) -> Json:
        """A photo: Telegram sends several sizes, smallest first."""
        sizes = []
        for size_width, size_height in photo_sizes(width, height):
            stored = self._store_file("AgACAgQAAxkBAAI", "photos", "jpg", content)
            sizes.append({**file_fields(stored), "width": size_width, "height": size_height})
        return self._update("message", self._incoming(user, with_caption({"photo": sizes}, caption)))

    def document(
        self,
        file_name: str = "permesso_di_soggiorno.pdf",
        mime_type: str = "application/pdf",
        *,
        caption: str | None = None,
        user: TelegramUser = DEFAULT_USER,
        content: bytes = b"%PDF-1.4 fake",
    ) -> Json:
        """A file sent as a document (e.g. a scanned form)."""
        extension = file_name.rsplit(".", 1)[-1] if "." in file_name else "bin"
        stored = self._store_file("BQACAgQAAxkBAAI", "documents", extension, content)
        document = {**file_fields(stored), "file_name": file_name, "mime_type": mime_type}
        return self._update("message", self._incoming(user, with_caption({"document": document}, caption)))

    def location(
        self, latitude: float = 41.0742, longitude: float = 14.3328, *, user: TelegramUser = DEFAULT_USER
    ) -> Json:
        """A shared location (defaults to Caserta's centre)."""
        return self._update(
            "message", self._incoming(user, {"location": {"latitude": latitude, "longitude": longitude}})
        )

    def sticker(
        self, emoji: str = "👍", *, set_name: str = "HotCherry", user: TelegramUser = DEFAULT_USER
    ) -> Json:
        """A static sticker; bots usually answer that they only understand text."""
        stored = self._store_file("CAACAgIAAxkBAAI", "stickers", "webp", b"RIFF\x00\x00\x00\x00WEBPfake")
        sticker = {
            **file_fields(stored),
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": emoji,
            "set_name": set_name,
        }
        return self._update("message", self._incoming(user, {"sticker": sticker}))

    def callback_query(
        self, data: str, *, message: Json | None = None, user: TelegramUser = DEFAULT_USER
    ) -> Json:
        """The user pressed an inline button; `message` defaults to the bot's latest one in that chat."""
        self._chats.setdefault(user.id, user.as_chat())
        attached = copy.deepcopy(message) if message is not None else self._latest_bot_message(user.id)
        self._serial += 1
        query_id = str(4_382_000_000_000_000_000 + self._serial)
        self._issued_queries.add(query_id)
        query = {
            "id": query_id,
            "from": user.as_user(),
            "message": attached,
            "chat_instance": str(-8_000_000_000_000_000_000 - user.id),
            "data": data,
        }
        return self._update("callback_query", query)

    def _latest_bot_message(self, chat_id: ChatId) -> Json:
        if not self.sent[chat_id]:
            raise ValueError(f"the bot sent nothing to chat {chat_id}: no message carries the button")
        return self.message(chat_id, self.sent[chat_id][-1]["message_id"])

    def _incoming(self, user: TelegramUser, content: Json) -> Json:
        self._chats.setdefault(user.id, user.as_chat())
        return self._new_message(user.as_chat(), user.as_user(), content)

    def _new_message(self, chat: Json, sender: Json, content: Json) -> Json:
        """Private chats number messages per chat, shared by both sides, as Telegram does."""
        self._last_message_id[chat["id"]] += 1
        message: Json = {
            "message_id": self._last_message_id[chat["id"]],
            "from": sender,
            "chat": chat,
            "date": now(),
        }
        message.update(content)
        self._messages[(chat["id"], message["message_id"])] = copy.deepcopy(message)
        return message

    def _update(self, kind: str, payload: Json) -> Json:
        update: Json = {"update_id": self._next_update_id, kind: payload}
        self._next_update_id += 1
        return update

    def _store_file(self, prefix: str, folder: str, extension: str, content: bytes) -> StoredFile:
        self._serial += 1
        tag = base64.urlsafe_b64encode(f"{folder}-{self._serial:06d}".encode()).decode().rstrip("=")
        stored = StoredFile(
            file_id=f"{prefix}{tag}",
            file_unique_id=f"AgAD{tag[-8:]}",
            file_path=f"{folder}/file_{self._serial}.{extension}",
            content=content,
        )
        self._files[stored.file_id] = stored
        return stored

    # ----- webhook delivery -----------------------------------------------------------------------

    async def push_to_webhook(self, update: Json) -> int:
        """Queue one update and POST pending updates to the webhook; the status of the last attempt."""
        self.enqueue(update)
        statuses = await self.deliver_pending()
        return statuses[-1] if statuses else 0

    async def deliver_pending(self) -> list[int]:
        """POST queued updates in order like Telegram, stopping at the first failure (retried later)."""
        if self.webhook is None:
            raise RuntimeError("no webhook is set: the bot must call setWebhook first")
        statuses: list[int] = []
        timeout = aiohttp.ClientTimeout(total=self.webhook_timeout)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            while self._updates:
                update = self._updates[0]
                if not self.is_wanted(update, self.webhook.allowed_updates):
                    self._updates.pop(0)
                    continue
                status = await self._post_update(session, self.webhook, update)
                self.webhook_deliveries.append(WebhookDelivery(update["update_id"], status))
                statuses.append(status)
                if not 200 <= status < 300:
                    break
                self._updates.pop(0)
        return statuses

    async def _post_update(self, session: aiohttp.ClientSession, webhook: Webhook, update: Json) -> int:
        headers = {SECRET_HEADER: webhook.secret_token} if webhook.secret_token else {}
        try:
            async with session.post(webhook.url, json=update, headers=headers) as response:
                await response.read()
                if not 200 <= response.status < 300:
                    wrong = f"Wrong response from the webhook: {response.status} {response.reason}"
                    self._webhook_error(webhook, wrong)
                return response.status
        except (aiohttp.ClientError, asyncio.TimeoutError) as error:
            self._webhook_error(webhook, f"Connection failed: {error.__class__.__name__}")
            return 0

    def _webhook_error(self, webhook: Webhook, message: str) -> None:
        webhook.last_error_date = now()
        webhook.last_error_message = message


# ----- small pure helpers ---------------------------------------------------------------------------


def now() -> int:
    """Bot API dates are Unix seconds."""
    return int(time.time())


def utf16_length(text: str) -> int:
    """Telegram measures text in UTF-16 code units; counting so is never laxer than the real limit."""
    return len(text.encode("utf-16-le")) // 2


def update_type(update: Json) -> str:
    """The one field besides update_id, e.g. 'message' or 'callback_query'."""
    return next(key for key in update if key != "update_id")


def file_fields(stored: StoredFile) -> Json:
    """The fields every file object (Voice, PhotoSize, Document, Sticker) shares."""
    return {
        "file_id": stored.file_id,
        "file_unique_id": stored.file_unique_id,
        "file_size": len(stored.content),
    }


def with_caption(content: Json, caption: str | None) -> Json:
    """Media messages carry an optional caption; Telegram omits it when absent."""
    return {**content, "caption": caption} if caption else content


def photo_sizes(width: int, height: int) -> list[tuple[int, int]]:
    """Thumbnails Telegram derives (longest side 90, 320, 800) plus the full size, smallest first."""
    longest = max(width, height)
    thumbs = [side for side in (90, 320, 800) if side < longest]
    return [
        *((round(width * side / longest), round(height * side / longest)) for side in thumbs),
        (width, height),
    ]


def visible_text(text: str, parse_mode: str | None) -> str:
    """The text after entity parsing, which is what the 4096 limit applies to."""
    if parse_mode and parse_mode.lower() == "html":
        return html.unescape(HTML_TAG.sub("", text))
    return text


def decode_param(name: str, value: Any) -> Any:
    """Read a form value back into its JSON type, as Telegram does for string-encoded parameters."""
    if not isinstance(value, str):
        return value
    if name in JSON_FIELDS:
        try:
            return json.loads(value)
        except ValueError:
            label = "reply keyboard markup" if name == "reply_markup" else name
            raise bad_request(f"can't parse {label} JSON object") from None
    if name in INTEGER_FIELDS and INTEGER.fullmatch(value):
        return int(value)
    if name in NUMBER_FIELDS and NUMBER.fullmatch(value):
        return float(value) if "." in value else int(value)
    if name in BOOLEAN_FIELDS:
        return value.lower() == "true"
    return value


def optional_int(params: Params, name: str, default: int) -> int:
    """An integer parameter that may be absent; garbage is a 400, not a crash of the fake."""
    value = params.get(name, default)
    try:
        return int(value)
    except (TypeError, ValueError):
        raise bad_request(f"invalid {name} specified") from None


def check_reply_markup(markup: Any) -> None:
    """Inline keyboards are validated by Telegram: one action per button, callback_data of 1-64 bytes."""
    if not isinstance(markup, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    rows = markup.get("inline_keyboard")
    if rows is None:
        return
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise bad_request("can't parse inline keyboard button: InlineKeyboardButton must be an Object")
    for button in (button for row in rows for button in row):
        check_inline_button(button)


def check_inline_button(button: Any) -> None:
    """One button: a text, exactly the kind of action Telegram knows, and short callback_data."""
    if not isinstance(button, dict) or not isinstance(button.get("text"), str):
        raise bad_request('can\'t parse inline keyboard button: Field "text" must be of type String')
    if not INLINE_BUTTON_ACTIONS.intersection(button):
        raise bad_request(f"can't parse inline keyboard button: {TEXT_BUTTONS_UNALLOWED}")
    if "callback_data" in button:
        data = button["callback_data"]
        if not isinstance(data, str) or not 1 <= len(data.encode()) <= MAX_CALLBACK_DATA_BYTES:
            raise bad_request("BUTTON_DATA_INVALID")


def inline_markup(markup: Any) -> Json | None:
    """Messages only carry inline keyboards; reply keyboards are not echoed back."""
    if isinstance(markup, dict) and "inline_keyboard" in markup:
        return {"inline_keyboard": markup["inline_keyboard"]}
    return None


def commands_key(params: Params) -> tuple[str, str]:
    """Commands are stored per (scope, language_code); the default scope when none is given."""
    scope = params.get("scope") or {"type": "default"}
    if not isinstance(scope, dict) or scope.get("type") not in COMMAND_SCOPES:
        raise bad_request("can't parse BotCommandScope JSON object")
    language = params.get("language_code") or ""
    if not isinstance(language, str):
        raise bad_request("invalid language code specified")
    return json.dumps(scope, sort_keys=True), language


def check_commands(commands: Any) -> list[Json]:
    """Command names: 1-32 of a-z, 0-9, _; descriptions: 1-256 characters; at most 100 commands."""
    if not isinstance(commands, list):
        raise bad_request("can't parse commands JSON object")
    if len(commands) > MAX_COMMANDS:
        raise bad_request("BOT_COMMANDS_TOO_MUCH")
    checked = []
    for item in commands:
        name = item.get("command") if isinstance(item, dict) else None
        if not isinstance(name, str) or not COMMAND_SHAPE.fullmatch(name):
            raise bad_request("BOT_COMMAND_INVALID")
        description = item.get("description")
        if not isinstance(description, str) or not 1 <= len(description.strip()) <= 256:
            raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        checked.append({"command": name, "description": description})
    return checked


# ----- Bot API methods --------------------------------------------------------------------------------


async def get_me(tg: FakeTelegram, params: Params) -> Any:
    """PTB calls this in Bot.initialize(); the id is the token's numeric prefix, as on Telegram."""
    return {
        **tg.public_bot_user(),
        "can_join_groups": True,
        "can_read_all_group_messages": False,
        "supports_inline_queries": False,
        "can_connect_to_business": False,
        "has_main_web_app": False,
    }


async def set_webhook(tg: FakeTelegram, params: Params) -> Any:
    """An empty url removes the webhook; the secret is echoed in a header on every delivery."""
    url = str(params.get("url") or "")
    if not url:
        return await delete_webhook(tg, params)
    if not url.startswith("https://") and (tg.require_https_webhook or not url.startswith("http://")):
        raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
    secret = params.get("secret_token") or None
    if secret is not None and len(str(secret)) > 256:
        raise bad_request("secret token is too long")
    if secret is not None and not SECRET_SHAPE.fullmatch(str(secret)):
        raise bad_request("secret token contains unallowed characters")
    if params.get("drop_pending_updates"):
        tg.drop_pending()
    unchanged = tg.webhook is not None and (tg.webhook.url, tg.webhook.secret_token) == (url, secret)
    allowed = params.get("allowed_updates")
    tg.webhook = Webhook(url, secret, optional_int(params, "max_connections", 40), allowed or None)
    tg.wake()
    return Reply(True, "Webhook is already set" if unchanged else "Webhook was set")


async def delete_webhook(tg: FakeTelegram, params: Params) -> Any:
    """Back to getUpdates; optionally forgetting what is queued."""
    if params.get("drop_pending_updates"):
        tg.drop_pending()
    existed, tg.webhook = tg.webhook is not None, None
    return Reply(True, "Webhook was deleted" if existed else "Webhook is already deleted")


async def get_webhook_info(tg: FakeTelegram, params: Params) -> Any:
    """WebhookInfo; optional fields only appear once they have a value."""
    hook = tg.webhook
    info: Json = {
        "url": hook.url if hook else "",
        "has_custom_certificate": False,
        "pending_update_count": len(tg.pending_updates),
    }
    if hook is None:
        return info
    info.update({"ip_address": "127.0.0.1", "max_connections": hook.max_connections})
    optional = {
        "allowed_updates": hook.allowed_updates,
        "last_error_date": hook.last_error_date,
        "last_error_message": hook.last_error_message,
    }
    info.update({key: value for key, value in optional.items() if value is not None})
    return info


async def get_updates(tg: FakeTelegram, params: Params) -> Any:
    """Long polling: answers at once if updates are queued, else waits up to `timeout` seconds."""
    if tg.webhook is not None:
        raise ApiError(409, WEBHOOK_ACTIVE)
    tg.confirm(optional_int(params, "offset", 0))
    limit = min(max(optional_int(params, "limit", 100), 1), 100)
    if "allowed_updates" in params:
        tg.allowed_updates = params["allowed_updates"] or None
    ticket = tg.start_poll()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + max(float(params.get("timeout") or 0), 0.0)
    while True:
        if not tg.is_current_poll(ticket):
            raise ApiError(409, POLL_TERMINATED)
        if tg.webhook is not None:
            raise ApiError(409, WEBHOOK_ACTIVE)
        batch = [update for update in tg.pending_updates if tg.is_wanted(update, tg.allowed_updates)][:limit]
        remaining = deadline - loop.time()
        if batch or remaining <= 0:
            return batch
        await tg.wait_for_change(remaining)


async def send_message(tg: FakeTelegram, params: Params) -> Any:
    """Validate like Telegram (chat, empty/long text, keyboard), then store and return the Message."""
    chat_id = tg.resolve_chat(params.get("chat_id"))
    text = params.get("text")
    if not isinstance(text, str) or not text.strip():
        raise bad_request("message text is empty")
    shown = visible_text(text, params.get("parse_mode"))
    if utf16_length(shown) > MAX_MESSAGE_LENGTH:
        raise bad_request("message is too long")
    markup = params.get("reply_markup")
    if markup is not None:
        check_reply_markup(markup)
    tg.check_can_send(chat_id)
    content: Json = {"text": shown}
    replied = reply_target(tg, chat_id, params)
    if replied is not None:
        content["reply_to_message"] = replied
    if inline_markup(markup) is not None:
        content["reply_markup"] = inline_markup(markup)
    return tg.store_bot_message(chat_id, content)


def reply_target(tg: FakeTelegram, chat_id: ChatId, params: Params) -> Json | None:
    """reply_parameters (or the older reply_to_message_id) attach the quoted message."""
    reply = params.get("reply_parameters")
    message_id = reply.get("message_id") if isinstance(reply, dict) else params.get("reply_to_message_id")
    if message_id is None:
        return None
    stored = tg.stored_message(chat_id, int(message_id))
    if stored is None:
        raise bad_request("message to be replied not found")
    return copy.deepcopy(stored)


async def answer_callback_query(tg: FakeTelegram, params: Params) -> Any:
    """Each query issued by callback_query() can be answered once, like Telegram."""
    query_id = str(params.get("callback_query_id") or "")
    if not tg.is_issued_query(query_id) or query_id in tg.callback_answers:
        raise bad_request(QUERY_INVALID)
    tg.callback_answers[query_id] = dict(params)
    return True


async def set_my_commands(tg: FakeTelegram, params: Params) -> Any:
    """The command menu is kept per scope and language, so localized menus can be asserted."""
    commands = check_commands(params.get("commands"))
    tg.commands[commands_key(params)] = commands
    return True


async def get_my_commands(tg: FakeTelegram, params: Params) -> Any:
    """No fallback between languages: Telegram returns exactly what was set for that scope and language."""
    return copy.deepcopy(tg.commands.get(commands_key(params), []))


async def delete_my_commands(tg: FakeTelegram, params: Params) -> Any:
    """Remove the menu of one scope and language."""
    tg.commands.pop(commands_key(params), None)
    return True


async def edit_message_reply_markup(tg: FakeTelegram, params: Params) -> Any:
    """Only the bot's own messages can be edited; an identical markup is 'not modified'."""
    markup = params.get("reply_markup")
    if markup is not None:
        check_reply_markup(markup)
    if params.get("inline_message_id"):
        return True
    chat_id = tg.resolve_chat(params.get("chat_id"))
    stored = tg.stored_message(chat_id, optional_int(params, "message_id", 0))
    if stored is None:
        raise bad_request("message to edit not found")
    if stored["from"].get("id") != tg.bot_user["id"]:
        raise bad_request("message can't be edited")
    new_markup = inline_markup(markup)
    if stored.get("reply_markup") == new_markup:
        raise bad_request(NOT_MODIFIED)
    stored.pop("reply_markup", None)
    if new_markup:
        stored["reply_markup"] = new_markup
    stored["edit_date"] = now()
    return copy.deepcopy(stored)


async def send_chat_action(tg: FakeTelegram, params: Params) -> Any:
    """The 'typing…' indicator; recorded per chat since it is invisible otherwise."""
    chat_id = tg.resolve_chat(params.get("chat_id"))
    action = params.get("action")
    if action not in CHAT_ACTIONS:
        raise bad_request("wrong parameter action in request")
    if chat_id in tg.blocked_chats:
        raise ApiError(403, "Forbidden: bot was blocked by the user")
    tg.chat_actions[chat_id].append(str(action))
    return True


async def get_file(tg: FakeTelegram, params: Params) -> Any:
    """Resolve a file_id from a built update to the path served under /file/bot<token>/."""
    stored = tg.file(str(params.get("file_id") or ""))
    if stored is None:
        raise bad_request("invalid file_id")
    if len(stored.content) > MAX_DOWNLOAD_BYTES:  # bots download at most 20 MB through the Bot API
        raise bad_request("file is too big")
    return {**file_fields(stored), "file_path": stored.file_path}


Handler = Callable[[FakeTelegram, Params], Awaitable[Any]]

METHODS: dict[str, Handler] = {
    "getMe": get_me,
    "setWebhook": set_webhook,
    "deleteWebhook": delete_webhook,
    "getWebhookInfo": get_webhook_info,
    "getUpdates": get_updates,
    "sendMessage": send_message,
    "answerCallbackQuery": answer_callback_query,
    "setMyCommands": set_my_commands,
    "getMyCommands": get_my_commands,
    "deleteMyCommands": delete_my_commands,
    "editMessageReplyMarkup": edit_message_reply_markup,
    "sendChatAction": send_chat_action,
    "getFile": get_file,
}
# Telegram routes method names case-insensitively (…/sendmessage works too).
ROUTES: dict[str, tuple[str, Handler]] = {name.lower(): (name, handler) for name, handler in METHODS.items()}


# ----- HTTP ---------------------------------------------------------------------------------------------

STATE = web.AppKey("fake_telegram", FakeTelegram)


def fake_telegram_app(state: FakeTelegram) -> web.Application:
    """Serve `/bot{token}/{method}` (GET or POST) and file downloads like api.telegram.org."""
    app = web.Application()
    app[STATE] = state
    app.router.add_route("GET", "/bot{token}/{method}", handle_api)
    app.router.add_route("POST", "/bot{token}/{method}", handle_api)
    app.router.add_get("/file/bot{token}/{file_path:.+}", handle_file)
    return app


async def handle_api(request: web.Request) -> web.Response:
    """Parse, authenticate, route, record: every request ends up in state.calls with its status."""
    state = request.app[STATE]
    method = request.match_info["method"]
    name, handler = ROUTES.get(method.lower(), (method, None))
    params: Params = {}
    try:
        params = await read_params(request)
        check_token(state, request.match_info["token"])
        if handler is None:
            raise ApiError(404, "Not Found")
        failure = state.take_failure(name)
        if failure is not None:
            raise failure
        response = ok_response(await handler(state, params))
    except ApiError as error:
        response = web.json_response(error.envelope(), status=error.status)
    state.calls.append(ApiCall(name, params, state.clock(), response.status))
    return response


def check_token(state: FakeTelegram, token: str) -> None:
    """Malformed tokens are 404 on Telegram; well-formed but wrong ones are 401 Unauthorized."""
    if not TOKEN_SHAPE.fullmatch(token):
        raise ApiError(404, "Not Found")
    if token != state.token:
        raise ApiError(401, "Unauthorized")


def ok_response(answer: Any) -> web.Response:
    """The success envelope, with a description when the method gives one."""
    reply = answer if isinstance(answer, Reply) else Reply(answer)
    body: Json = {"ok": True, "result": reply.result}
    if reply.description is not None:
        body["description"] = reply.description
    return web.json_response(body)


async def read_params(request: web.Request) -> Params:
    """Query string, then a JSON, urlencoded or multipart body, decoded to JSON types."""
    raw: Params = dict(request.query)
    if request.method == "POST" and request.can_read_body:
        raw.update(await read_body(request))
    return {name: decode_param(name, value) for name, value in raw.items()}


async def read_body(request: web.Request) -> Params:
    """Telegram accepts JSON, urlencoded and multipart bodies alike."""
    if request.content_type == "application/json":
        try:
            body = await request.json()
        except ValueError:
            raise bad_request("can't parse JSON object") from None
        if not isinstance(body, dict):
            raise bad_request("can't parse JSON object")
        return body
    form = await request.post()
    return {
        name: uploaded(value) if isinstance(value, web.FileField) else value for name, value in form.items()
    }


def uploaded(part: web.FileField) -> Json:
    """Uploaded files are recorded by name, type and size; no send* method here stores media."""
    return {"filename": part.filename, "content_type": part.content_type, "size": len(part.file.read())}


async def handle_file(request: web.Request) -> web.Response:
    """https://api.telegram.org/file/bot<token>/<file_path>, as returned by getFile."""
    state = request.app[STATE]
    stored = state.file_by_path(request.match_info["file_path"])
    if request.match_info["token"] != state.token or stored is None:
        return web.json_response(ApiError(404, "Not Found").envelope(), status=404)
    return web.Response(body=stored.content, content_type="application/octet-stream")
