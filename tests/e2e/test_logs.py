"""No message text, user id or phone number in any process's log, and nothing of a user left on disk after
/forget: the real Rasa, action server and gateway write into ONE log file, markers go in through the web
chat, Telegram and WhatsApp (failing paths included), and the log and the data folder are searched for them.
"""

from __future__ import annotations

import base64
import json
import random
import re
import sqlite3
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import pytest

from bot.core.i18n import Translations
from bot.core.languages import LANGUAGES
from bot.core.settings import PROJECT_DIR
from bot.ops.processes import Service, Stack, running, settings_on_free_ports
from tests.fakes import fake_graph
from tests.fakes.fake_graph import FakeGraph, fake_graph_app
from tests.fakes.fake_telegram import FakeTelegram, TelegramUser, fake_telegram_app
from tests.helpers.stack import SESSIONS, chat, wait_for
from tests.helpers.threaded_server import ThreadedServer

pytestmark = pytest.mark.e2e
TR = Translations(PROJECT_DIR / "locales")
SECRET = "logs-telegram-secret-token"
APP_SECRET = "logs-whatsapp-app-secret"
RASA_TOKEN = "logs-rasa-token-" + uuid.uuid4().hex
MARK = uuid.uuid4().hex[:20]  # what the log is searched for: unique, and no escaping changes it
MARKER = f"MARKER-{MARK}"
TICKET = re.compile(r"[A-Z]{2}-\d{4}-\d{4}")


def in_every_language(msgid: str) -> set[str]:
    """The interface string as any user would get it (the detected language is not the test's to fix)."""
    return {TR(language)._(msgid) for language in LANGUAGES}


FEW_WORDS = in_every_language(
    "Thank you. Write in a few words what your situation is. A person will read it."
)
FORGOTTEN = in_every_language("Done: we deleted your messages and your requests.")


def telegram_id() -> int:
    """Ten random digits: a string that occurs in a log only if the log holds the id."""
    return random.randint(6_100_000_000, 6_999_999_999)


def phone() -> str:
    """An Italian mobile number (39 333 and seven random digits), as WhatsApp's wa_id spells it."""
    return "39333" + "".join(random.choices("0123456789", k=7))


@dataclass
class World:
    stack: Stack
    telegram: FakeTelegram
    graph: FakeGraph
    log_path: Path
    log: IO[bytes]
    secrets: set[str] = field(default_factory=set)  # what must appear in no log

    @property
    def gateway(self) -> str:
        return f"http://127.0.0.1:{self.stack.settings.port}"

    @property
    def port(self) -> int:
        return self.stack.settings.port

    def restart(self, service: Service, seconds: float) -> None:
        """Start a stopped process again, its output into the same log (it is searched too)."""
        service.start(self.log)
        self.stack.wait_healthy(service, time.monotonic() + seconds)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    telegram, graph = FakeTelegram(), FakeGraph()
    telegram_server = ThreadedServer(fake_telegram_app(telegram)).start()
    graph_server = ThreadedServer(fake_graph_app(graph)).start()
    data = tmp_path_factory.mktemp("data")
    settings = settings_on_free_ports(
        data,
        SPORTELLO_RASA_TOKEN=RASA_TOKEN,
        TELEGRAM_BOT_TOKEN=telegram.token,
        TELEGRAM_WEBHOOK_URL="http://127.0.0.1:{port}/webhooks/telegram",
        TELEGRAM_SECRET_TOKEN=SECRET,
        TELEGRAM_API_BASE_URL=f"{telegram_server.url}/bot",
        WHATSAPP_ACCESS_TOKEN=graph.token,
        WHATSAPP_PHONE_NUMBER_ID=graph.business.phone_number_id,
        WHATSAPP_APP_SECRET=APP_SECRET,
        WHATSAPP_VERIFY_TOKEN="logs-verify",
        WHATSAPP_API_BASE_URL=f"{graph_server.url}/v21.0",
    )
    log_path = tmp_path_factory.mktemp("logs") / "processes.log"  # outside the data folder it scans
    try:
        # unbuffered: every line is in the file when the test reads it, also a print()'s
        with log_path.open("wb") as log, running(settings, log, {"PYTHONUNBUFFERED": "1"}) as stack:
            yield World(stack, telegram, graph, log_path, log)
    finally:
        telegram_server.stop()
        graph_server.stop()


# --- the three channels, as their clients speak -----------------------------------------------------


def post(url: str, body: bytes, headers: dict[str, str] | None = None) -> int:
    request = urllib.request.Request(
        url, data=body, headers={"Content-Type": "application/json", **(headers or {})}
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


@dataclass
class TelegramChat:
    """A Telegram user writing to the bot through the fake Bot API."""

    world: World
    user: TelegramUser

    def say(self, text: str) -> None:
        self.send(self.world.telegram.text_message(text, user=self.user))

    def send(self, update: dict[str, Any]) -> None:
        body = json.dumps(update).encode()  # ensure_ascii: a lone surrogate travels as "\ud800"
        headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
        assert post(f"{self.world.gateway}/webhooks/telegram", body, headers) == 200

    def texts(self, since: int = 0) -> list[str]:
        """The texts of the bot's messages from the ``since``-th on (every Telegram message has one)."""
        return list(self.world.telegram.texts(self.user.id))[since:]

    def choices(self) -> list[tuple[int, str, str]]:
        """(index of the bot's message, button id, title) of every button the bot sent."""
        return [
            (index, str(key.get("callback_data")), str(key.get("text")))
            for index, message in enumerate(self.world.telegram.sent[self.user.id])
            for row in message.get("reply_markup", {}).get("inline_keyboard", [])
            for key in row
        ]

    def sent_count(self) -> int:
        return len(self.world.telegram.sent[self.user.id])

    def press(self, choice: str, title: str) -> None:
        self.send(self.world.telegram.callback_query(choice, user=self.user))


@dataclass
class WhatsAppChat:
    """A WhatsApp user writing through Meta's webhooks; the fake Graph API records what the bot sends."""

    world: World
    sender: fake_graph.Sender

    @property
    def wa_id(self) -> str:
        return str(self.sender.wa_id)

    def say(self, text: str) -> None:
        self.send(fake_graph.text_message(text, sender=self.sender))

    def send(self, payload: dict[str, Any]) -> None:
        self.world.graph.user_wrote(self.wa_id)  # the user's message opens the 24-hour window
        body = json.dumps(payload).encode()
        headers = {"X-Hub-Signature-256": fake_graph.sign(body, APP_SECRET)}
        assert post(f"{self.world.gateway}/webhooks/whatsapp", body, headers) == 200

    def bodies(self) -> list[dict[str, Any]]:
        return [b for b in self.world.graph.sent if b.get("to") == self.wa_id]

    def texts(self, since: int = 0) -> list[str]:
        """The texts of the bot's messages from the ``since``-th on (a template has none)."""
        return [text for body in self.bodies()[since:] if (text := body_text(body))]

    def choices(self) -> list[tuple[int, str, str]]:
        found = []
        for index, body in enumerate(self.bodies()):
            action = body.get("interactive", {}).get("action", {})
            for button in action.get("buttons", []):
                found.append((index, str(button["reply"]["id"]), str(button["reply"]["title"])))
            for section in action.get("sections", []):
                found += [(index, str(row["id"]), str(row["title"])) for row in section["rows"]]
        return found

    def sent_count(self) -> int:
        return len(self.bodies())

    def press(self, choice: str, title: str) -> None:
        if choice.startswith("c:"):  # the cities come as list rows
            self.send(fake_graph.list_reply(choice, title, sender=self.sender))
        else:
            self.send(fake_graph.button_reply(choice, title, sender=self.sender))


Chat = TelegramChat | WhatsAppChat


def body_text(body: dict[str, Any]) -> str:
    if body["type"] == "text":
        return str(body["text"]["body"])
    if body["type"] == "interactive":
        return str(body["interactive"]["body"]["text"])
    return ""


def answered(chat: Chat, before: int, what: str, seconds: float = 60) -> None:
    """Wait until the bot sent something after its ``before``-th message."""
    wait_for(lambda: chat.sent_count() > before, seconds=seconds, what=what)


def first_new(chat: Chat, since: int, choice: str) -> tuple[str, str] | None:
    return next(((c, title) for i, c, title in chat.choices() if i >= since and c == choice), None)


def open_ticket(chat: Chat, ask: str, words: str) -> str:
    """Ask for a person, choose Caserta when asked, consent, write the few words: the ticket's number."""
    since = chat.sent_count()
    chat.say(ask)
    deadline = time.monotonic() + 90
    while not any(text in FEW_WORDS for text in chat.texts(since)):
        assert time.monotonic() < deadline, "the handoff never asked for the few words"
        step = first_new(chat, since, "c:caserta") or first_new(chat, since, "i:affirm")
        if step is None:
            time.sleep(0.3)
            continue
        since = chat.sent_count()
        chat.press(*step)
        answered(chat, since, "the next step of the handoff")
    since = chat.sent_count()
    chat.say(words)
    found = wait_for(
        lambda: next((m for t in chat.texts(since) if (m := TICKET.search(t))), None),
        seconds=60,
        what="the ticket number",
    )
    return str(found.group(0))


def forget(chat: Chat) -> None:
    """/forget, "yes, delete", and the confirmation that everything is erased."""
    since = chat.sent_count()
    chat.say("/forget")
    yes = wait_for(lambda: first_new(chat, since, "i:affirm"), what="the question: delete everything?")
    since = chat.sent_count()
    chat.press(*yes)
    wait_for(lambda: any(t in FORGOTTEN for t in chat.texts(since)), what="the confirmation of /forget")


# --- the log levels make the search meaningful -----------------------------------------------------


def log_text(world: World) -> str:
    return world.log_path.read_bytes().decode("utf-8", errors="replace")


def test_every_process_logs_at_info(world: World) -> None:
    """An empty or WARNING-only log would pass any search: each process's INFO lines must be in it, and
    Rasa runs at its default level (no LOG_LEVEL, no --quiet) with our logging configuration."""
    log = log_text(world)
    assert "INFO bot.web.app: channels on" in log, "the gateway logs at INFO"
    assert "Rasa server is up and running" in log, "Rasa logs at INFO"
    assert "Action endpoint is up and running" in log, "the action server logs at INFO"
    rasa = world.stack.service("rasa")
    assert rasa.environment().get("LOG_LEVEL", "INFO") == "INFO"
    assert not {"--quiet", "-v", "-vv", "--verbose", "--debug"} & set(rasa.command)
    config = rasa.command[rasa.command.index("--logging-config-file") + 1]
    assert (PROJECT_DIR / config).is_file()


# --- markers through every channel, failing paths included -----------------------------------------


def test_web_chat_markers(world: World) -> None:
    label = f"{MARKER}-web"
    world.secrets |= {MARK}
    status, body = chat(world.port, {"user": label, "text": f"{MARKER} how can I get the codice fiscale?"})
    assert status == 200, body
    # over-long text, a lone surrogate, JSON nested too deep
    too_long = {"user": label, "text": f"{MARKER} " + "I need help with my documents. " * 200}
    assert chat(world.port, too_long)[0] == 400
    surrogate = json.dumps({"user": label, "text": f"{MARKER} ciao \ud800 permesso di soggiorno"})
    assert post(f"{world.gateway}/api/chat", surrogate.encode()) in (200, 400)
    deep: Any = {"text": f"{MARKER} deep"}
    for _ in range(40):
        deep = {"nested": deep}
    assert post(f"{world.gateway}/api/chat", json.dumps(deep).encode()) == 400
    # a handoff's few words and a /forget
    status, body = chat(world.port, {"user": label, "text": "I want to talk to a person", "city": "caserta"})
    assert status == 200
    for _ in range(3):
        payloads = [b["payload"] for r in body["replies"] for b in r["buttons"]]
        if "/affirm" not in payloads:
            break
        status, body = chat(world.port, {"user": label, "text": "/affirm"})
    status, body = chat(world.port, {"user": label, "text": f"{MARKER} my landlord wants me out on Monday"})
    assert status == 200
    status, body = chat(world.port, {"user": label, "text": "/forget"})
    assert status == 200
    status, body = chat(world.port, {"user": label, "text": "/affirm"})
    assert status == 200 and {r["text"] for r in body["replies"]} & FORGOTTEN


@pytest.fixture(scope="module")
def telegram_user(world: World) -> TelegramChat:
    user = TelegramUser(id=telegram_id(), first_name=f"Name{MARK}", language_code="en")
    world.secrets |= {str(user.id), f"Name{MARK}"}
    return TelegramChat(world, user)


def test_telegram_markers(world: World, telegram_user: TelegramChat) -> None:
    before = telegram_user.sent_count()
    telegram_user.say(f"{MARKER} how can I get the codice fiscale?")
    answered(telegram_user, before, "the answer")
    before = telegram_user.sent_count()
    telegram_user.say(f"{MARKER} hello \ud800 I need a free lawyer")
    answered(telegram_user, before, "the answer to the surrogate")
    before = telegram_user.sent_count()
    telegram_user.say((f"{MARKER} I need help with my residence permit. " * 80)[:4096])  # Telegram's limit
    answered(telegram_user, before, "the answer to the longest text")
    ticket = open_ticket(
        telegram_user, "I want to talk to a person", f"{MARKER} my landlord wants to evict me on Monday"
    )
    assert ticket
    forget(telegram_user)


@pytest.fixture(scope="module")
def whatsapp_user(world: World) -> WhatsAppChat:
    number = phone()
    world.secrets |= {number, f"Name{MARK}wa"}
    return WhatsAppChat(world, fake_graph.Sender(f"Name{MARK}wa", number))


def test_whatsapp_markers(world: World, whatsapp_user: WhatsAppChat) -> None:
    before = whatsapp_user.sent_count()
    whatsapp_user.say(f"{MARKER} necesito un abogado gratis")
    answered(whatsapp_user, before, "the answer")
    before = whatsapp_user.sent_count()
    whatsapp_user.say(f"{MARKER} hola \ud800 necesito un abogado gratis")
    answered(whatsapp_user, before, "the answer to the surrogate")
    before = whatsapp_user.sent_count()
    whatsapp_user.say((f"{MARKER} necesito ayuda con mi permiso de residencia. " * 80)[:4096])
    answered(whatsapp_user, before, "the answer to the longest text")


def test_markers_while_rasa_is_down(
    world: World, telegram_user: TelegramChat, whatsapp_user: WhatsAppChat
) -> None:
    """Rasa stopped: the web chat answers 503, Telegram and WhatsApp store the message, tell the user, and
    answer once Rasa is back. Every process logs its errors meanwhile: none with the text."""
    rasa = world.stack.service("rasa")
    label = f"{MARKER}-web-down"
    telegram_before, whatsapp_before = telegram_user.sent_count(), whatsapp_user.sent_count()
    rasa.stop()
    try:
        status, body = chat(world.port, {"user": label, "text": f"{MARKER} I need a free lawyer"})
        assert status == 503, body
        telegram_user.say(f"{MARKER} I need a free lawyer, Rasa is down")
        whatsapp_user.say(f"{MARKER} necesito un abogado gratis, Rasa no está")
        answered(telegram_user, telegram_before, "the notice on Telegram")
        answered(whatsapp_user, whatsapp_before, "the notice on WhatsApp")
        telegram_before, whatsapp_before = telegram_user.sent_count(), whatsapp_user.sent_count()
    finally:
        world.restart(rasa, 300)
    answered(telegram_user, telegram_before, "the answer on Telegram once Rasa is back", seconds=90)
    answered(whatsapp_user, whatsapp_before, "the answer on WhatsApp once Rasa is back", seconds=90)


def test_markers_while_the_action_server_is_down(world: World) -> None:
    actions = world.stack.service("action server")
    actions.stop()
    try:
        status, body = chat(world.port, {"user": f"{MARKER}-web-actions", "text": f"{MARKER} codice fiscale"})
        assert status == 503, body
    finally:
        world.restart(actions, 60)


def test_markers_when_an_action_fails(world: World) -> None:
    """A bug in a flow (here: a city that is no string, which the gateway never sends, makes the action
    raise): the action server answers Rasa with its error and the whole tracker, and Rasa logs that
    answer unless its processor's logger is quiet (rasa_logging.yml)."""
    sender = f"telegram:{telegram_id()}"
    world.secrets |= {sender.split(":")[1]}
    body = {
        "sender": sender,
        "message": f"{MARKER} how can I get the codice fiscale?",
        "message_id": f"failing-{MARK}",
        "metadata": {"language": "en", "city": {"broken": MARK}, "channel": "telegram"},
    }
    url = f"http://127.0.0.1:{world.stack.settings.rasa_port}/webhooks/rest/webhook"
    assert post(url, json.dumps(body).encode()) in (200, 500)


# --- /forget on WhatsApp leaves nothing under the data folder --------------------------------------


def leftovers(data_dir: Path, needles: dict[str, bytes]) -> list[tuple[Path, str]]:
    """Which file under ``data_dir`` holds which needle's bytes, also inside a wamid (Meta's message ids
    are base64 of a blob that carries the phone number)."""
    found = []
    for path in sorted(p for p in data_dir.rglob("*") if p.is_file()):
        content = path.read_bytes()
        decoded = b" ".join(
            base64.b64decode(m + b"=" * (-len(m) % 4))
            for m in re.findall(rb"wamid\.([A-Za-z0-9+/]+)", content)
        )
        found += [(path, what) for what, needle in needles.items() if needle in content or needle in decoded]
    return found


def where_in_tables(path: Path, needle: bytes) -> str:
    """For the failure message: which table's rows hold ``needle`` (read through SQLite), and which table
    or index owns each raw page of the file (the database, or its write-ahead log) that holds it."""
    database = path.with_name(path.name.removesuffix("-wal").removesuffix("-shm"))
    if database.suffix != ".db" or path.name.endswith("-shm"):
        return ""
    content, text = path.read_bytes(), needle.decode()
    try:
        connection = sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=10)
        try:
            page_size = int(connection.execute("pragma page_size").fetchone()[0])
            tables = [r[0] for r in connection.execute("select name from sqlite_master where type='table'")]
            rows = [
                t
                for t in tables
                if any(text in " ".join(map(str, r)) for r in connection.execute(f'select * from "{t}"'))
            ]
            owners = {
                page: name or "free"
                for page in raw_pages(content, needle, page_size, wal=path != database)
                for name in [owner(connection, page)]
            }
        finally:
            connection.close()
    except sqlite3.Error as exc:
        return f" (unreadable: {exc})"
    pages = ", ".join(f"page {page} ({name})" for page, name in sorted(owners.items()))
    return f" [rows of: {', '.join(rows) or 'none'}; raw {pages}]"


def raw_pages(content: bytes, needle: bytes, page_size: int, wal: bool) -> set[int]:
    """The page numbers of the copies of ``needle``: in the database, offset // page size; in the WAL,
    the page number in the header of the frame around it (32-byte log header, 24-byte frame headers)."""
    pages = set()
    for match in re.finditer(re.escape(needle), content):
        if not wal:
            pages.add(match.start() // page_size + 1)
            continue
        frame = (match.start() - 32) // (24 + page_size)
        header = 32 + frame * (24 + page_size)
        pages.add(int.from_bytes(content[header : header + 4], "big"))
    return pages


def owner(connection: sqlite3.Connection, page: int) -> str | None:
    """The table or index a page belongs to now (SQLite's dbstat), None for a free page."""
    try:
        found = connection.execute("select name from dbstat where pageno = ?", (page,)).fetchone()
    except sqlite3.Error:
        return "dbstat unavailable"
    return str(found[0]) if found else None


def test_forget_on_whatsapp_leaves_nothing_under_the_data_dir(world: World) -> None:
    number = phone()
    word = "Zorvath" + "".join(random.choices("0123456789", k=6))
    world.secrets |= {number, word}
    user = WhatsAppChat(world, fake_graph.Sender(f"Utente {word}", number))
    for text in (
        f"Buongiorno, mi chiamo {word} e devo rinnovare il permesso di soggiorno",
        f"{word} chiede: come si fa il codice fiscale?",
    ):
        before = user.sent_count()
        user.say(text)
        answered(user, before, "an answer")
    ticket = open_ticket(
        user,
        "voglio parlare con una persona, per favore",
        f"sono {word}, il padrone di casa mi vuole mandare via dalla casa lunedì",
    )
    assert ticket
    forget(user)
    needles = {"the phone number": number.encode(), "the word": word.encode()}
    data = world.stack.settings.data_dir
    deadline = time.monotonic() + 15  # the confirmation's row goes once sent: allow the sender its turn
    while found := leftovers(data, needles):
        if time.monotonic() > deadline:
            where = [f"{path.name}: {what}{where_in_tables(path, needles[what])}" for path, what in found]
            pytest.fail("after /forget the data folder still holds: " + "; ".join(where))
        time.sleep(0.5)


# --- and, at the end, the log ----------------------------------------------------------------------


def needles_in(log: str, secrets: set[str]) -> list[str]:
    """The secrets the log holds; digits count only as a whole number (a timestamp may contain them)."""
    found = []
    for secret in sorted(secrets):
        pattern = rf"(?<!\d){re.escape(secret)}(?!\d)" if secret.isdigit() else re.escape(secret)
        for match in re.finditer(pattern, log):
            line_start = log.rfind("\n", 0, match.start()) + 1
            line_end = log.find("\n", match.end())
            found.append(log[line_start : line_end if line_end >= 0 else None][:300])
            break
    return found


def test_no_marker_user_id_phone_number_or_token_in_any_log(world: World) -> None:
    """Last: every marker sent above, in the output of all three processes."""
    if not world.secrets:
        pytest.skip("run with the tests above: they send the markers")
    time.sleep(2)  # the last lines of the processes' work
    settings = world.stack.settings
    tokens = {RASA_TOKEN, settings.telegram_bot_token, settings.whatsapp_access_token, APP_SECRET, SECRET}
    tokens |= {token for (port, _), token in SESSIONS.items() if port == world.port}  # web-chat sessions
    found = needles_in(log_text(world), world.secrets | {t for t in tokens if t})
    assert not found, "the log holds:\n" + "\n".join(found)
