"""Fuzzing the gateway's public HTTP endpoints, the way a stranger on the internet reaches them.

``test_inputs.py`` fuzzes the parsers; a 500 can also come from what is around them: headers, cookies,
content types, form decoding, the database. Here each request is written as raw HTTP/1.1 bytes on its own
TCP connection (so headers can carry invalid UTF-8 and overlong values) to one real gateway, started once
for the module with fake Rasa, fake Telegram and fake Graph servers. Every answer must be below 500, no
error may be logged, and a refused request (4xx) must write no inbox row and no ticket.

Generated requests: 3,000 ``POST /api/chat``, 2,500 Telegram webhook posts, 2,500 WhatsApp webhook posts,
1,000 WhatsApp verifications, 1,500 dashboard logins (and the login page): 10,500 in all, about two
and a half minutes on two cores.
"""

from __future__ import annotations

import asyncio
import copy
import hashlib
import hmac
import json
import logging
import threading
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

import pytest
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.test_utils import TestServer
from argon2 import PasswordHasher
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.adapters.sql import mediators
from bot.adapters.sql.tables import InboxRow, TicketRow
from bot.core.languages import LANGUAGES
from bot.core.settings import load_settings
from bot.core.text import clean_text
from bot.core.tickets import Role
from bot.web.app import create_app
from bot.web.keys import DATABASE, MEDIATORS
from tests.fakes.fake_graph import FakeGraph, fake_graph_app
from tests.fakes.fake_rasa import echo_responder, fake_rasa_app
from tests.fakes.fake_telegram import FakeTelegram, fake_telegram_app

T = TypeVar("T")
SECRET, APP_SECRET, VERIFY = "telegram-secret", "whatsapp-app-secret", "verify-me"
EMAIL, PASSWORD = "anna@caserta.example", "correct horse battery staple"
TIMEOUT = 30.0
BODY_BYTES = 250_000
ROWS = select(
    select(func.count()).select_from(InboxRow).scalar_subquery(),
    select(func.coalesce(func.max(InboxRow.id), 0)).scalar_subquery(),
    select(func.count()).select_from(TicketRow).scalar_subquery(),
)


def runs(examples: int) -> settings:
    return settings(
        max_examples=examples,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


# one request, as bytes on the wire ---------------------------------------------------------------
@dataclass(frozen=True)
class Call:
    method: bytes
    target: bytes  # path and query string, as sent
    headers: tuple[tuple[bytes, bytes], ...] = ()
    body: bytes = b""

    def wire(self) -> bytes:
        head = [
            self.method + b" " + self.target + b" HTTP/1.1",
            b"Host: 127.0.0.1",
            b"Connection: close",
            b"Content-Length: " + str(len(self.body)).encode(),
            *(name + b": " + value for name, value in self.headers),
        ]
        return b"\r\n".join(head) + b"\r\n\r\n" + self.body

    def __repr__(self) -> str:  # what a failure shows: short enough to read
        headers = [
            (name, value[:120] + (b"..." if len(value) > 120 else b"")) for name, value in self.headers
        ]
        return f"Call({self.method!r} {self.target[:200]!r} headers={headers!r} body={self.body[:400]!r})"


async def exchange(port: int, call: Call) -> int:
    """Send ``call`` on a new connection; the status code of the answer."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(call.wire())
        await writer.drain()
        answer = await reader.read()
    finally:
        writer.close()
        await writer.wait_closed()
    status_line = answer.split(b"\r\n", 1)[0]
    assert status_line.startswith((b"HTTP/1.1 ", b"HTTP/1.0 ")), f"no HTTP answer: {answer[:200]!r}"
    return int(status_line.split(b" ")[1])


# the gateway, once for the module ----------------------------------------------------------------
class ErrorLog(logging.Handler):
    """Every record at ERROR or above, from the gateway and aiohttp (a 500, a worker's failure)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info and isinstance(record.exc_info[1], HttpProcessingError):
            return  # aiohttp's parser refused the request itself: a 400, logged by aiohttp as an error
        self.records.append(self.format(record))


Rows = tuple[int, int, int]


def on_loop(loop: asyncio.AbstractEventLoop, job: Coroutine[Any, Any, T]) -> T:
    """Run ``job`` on ``loop`` (running in its own thread) and wait for it."""
    return asyncio.run_coroutine_threadsafe(job, loop).result(2 * TIMEOUT)


class Gateway:
    """The running gateway, driven by hypothesis from outside its event loop: the loop runs in a thread
    of its own, so the inbox worker and the sender go on while the next request is generated."""

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        port: int,
        counting: AsyncConnection,  # on the app's engine, in autocommit: each count sees the latest rows
        rows: Rows,
        rasa_heard: list[dict[str, Any]],
    ) -> None:
        self.loop, self.port, self.counting, self.rasa_heard = loop, port, counting, rasa_heard
        self.last = rows  # after the last request: only a request writes a row, the worker erases some
        self.errors = ErrorLog()
        self.statuses: dict[str, dict[int, int]] = {}  # endpoint -> status -> answers

    def __repr__(self) -> str:  # a failing example prints it: not the thousands of messages Rasa heard
        return f"Gateway(port={self.port})"

    def run(self, job: Coroutine[Any, Any, T]) -> T:
        return on_loop(self.loop, job)

    async def rows(self) -> Rows:
        """Inbox rows, the inbox's highest id and tickets, in one query."""
        inbox, highest, tickets = (await self.counting.execute(ROWS)).one()
        return inbox, highest, tickets

    async def _check(self, endpoint: str, call: Call) -> int:
        before = self.last
        status = await asyncio.wait_for(exchange(self.port, call), TIMEOUT)
        self.last = after = await self.rows()
        counted = self.statuses.setdefault(endpoint, {})
        counted[status] = counted.get(status, 0) + 1
        assert status < 500, f"{status} for {call!r}"
        if 400 <= status < 500:  # the worker may have erased rows meanwhile (a /forget): none may grow
            grown = any(now > then for now, then in zip(after, before, strict=True))
            assert not grown, f"refused ({status}) but wrote an inbox row or a ticket: {call!r}"
        logged, self.errors.records = self.errors.records, []
        assert not logged, f"logged an error after {call!r}:\n" + "\n".join(logged)
        return status

    def check(self, endpoint: str, call: Call) -> int:
        return self.run(self._check(endpoint, call))


async def start_gateway(data_dir: Path, stack: list[Callable[[], Coroutine[Any, Any, None]]]) -> Gateway:
    heard: list[dict[str, Any]] = []
    telegram, graph = FakeTelegram(), FakeGraph()
    servers = [
        TestServer(fake_rasa_app(echo_responder, heard)),
        TestServer(fake_telegram_app(telegram)),
        TestServer(fake_graph_app(graph)),
    ]
    for server in servers:
        await server.start_server()
        stack.append(server.close)
    rasa, telegram_server, graph_server = servers
    gateway_settings = load_settings(
        _env_file=None,
        SPORTELLO_DATA_DIR=data_dir,
        SPORTELLO_RASA_URL=str(rasa.make_url("")),
        SPORTELLO_RASA_TIMEOUT=5,
        SPORTELLO_CHAT_PER_MINUTE=40,  # a few sessions repeat: some of their requests are a 429
        SPORTELLO_CHAT_PER_MINUTE_PER_ADDRESS=1_000_000,  # every request comes from 127.0.0.1
        TELEGRAM_BOT_TOKEN=telegram.token,
        TELEGRAM_API_BASE_URL=str(telegram_server.make_url("/bot")),
        TELEGRAM_WEBHOOK_URL="https://desk.example/webhooks/telegram",
        TELEGRAM_SECRET_TOKEN=SECRET,
        WHATSAPP_ACCESS_TOKEN=graph.token,
        WHATSAPP_PHONE_NUMBER_ID=graph.business.phone_number_id,
        WHATSAPP_API_BASE_URL=str(graph_server.make_url("/v21.0")),
        WHATSAPP_APP_SECRET=APP_SECRET,
        WHATSAPP_VERIFY_TOKEN=VERIFY,
    )
    app = create_app(gateway_settings)
    server = TestServer(app)
    await server.start_server()
    stack.append(server.close)
    await app[MEDIATORS].add(EMAIL, "Anna", Role.MEDIATOR, ["caserta"], ["it", "en"], PASSWORD)
    assert server.port is not None
    counting = await app[DATABASE].connect()
    await counting.execution_options(isolation_level="AUTOCOMMIT")
    stack.append(counting.close)
    inbox, highest, tickets = (await counting.execute(ROWS)).one()
    return Gateway(asyncio.get_running_loop(), server.port, counting, (inbox, highest, tickets), heard)


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    """One gateway for every example of the module, in an event loop of its own thread (hypothesis
    drives it from synchronous tests). Its password hasher is made cheap: a login with the right form
    token runs argon2, 0.2 s each at the real cost, and the fuzzing is about the HTTP, not the hash."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="fuzzed-gateway", daemon=True)
    thread.start()
    stack: list[Callable[[], Coroutine[Any, Any, None]]] = []
    watched = [logging.getLogger(name) for name in ("bot", "aiohttp", "asyncio")]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(mediators, "_hasher", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
        try:
            started = on_loop(loop, start_gateway(tmp_path_factory.mktemp("fuzz"), stack))
            for logger in watched:
                logger.addHandler(started.errors)
            try:
                yield started
            finally:
                for logger in watched:
                    logger.removeHandler(started.errors)
        finally:
            for close in reversed(stack):
                on_loop(loop, close())
            loop.call_soon_threadsafe(loop.stop)
            thread.join(TIMEOUT)
            loop.close()


# what strangers send -----------------------------------------------------------------------------
@dataclass(frozen=True)
class Raw:
    """A JSON token written as is: numbers no ``json.dumps`` would write."""

    token: str

    def __repr__(self) -> str:
        return f"Raw({self.token[:20]!r}, {len(self.token)} characters)"


MISSING, RIGHT = object(), object()  # a field left out; the right value (secret, signature, token)


def mostly(inner: st.SearchStrategy[Any], other: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """``inner`` seven times in eight (as distinct branches: ``one_of`` merges equal ones)."""
    return st.one_of(*(inner.map(lambda value: value) for _ in range(7)), other)


SURROGATES = ["\ud800", "\udfff", "\udc80", "\ud83d"]
ODD = [*SURROGATES, "\x00", "\u202e", "\ufeff", "\u0085", "\u2028", "\r\n", "/", "/start", "/affirm", "²"]
HUGE_TOKENS = [
    Raw(token)
    for token in (
        "1" * 5000,
        "-" + "9" * 4301,
        "9" * 300,
        "1e999",
        "-1e999",
        "1E400",
        "0." + "0" * 400 + "1",
        "-0",
        "123456789012345678901234567890",
    )
]
HUGE = st.sampled_from(HUGE_TOKENS)
strings = (
    st.text(max_size=30)
    | st.lists(st.text(max_size=4) | st.sampled_from(ODD), max_size=6).map("".join)
    | st.text(st.characters(codec=None, categories=["Cs", "Cc", "Cf", "Lo", "Nd", "No"]), max_size=10)
)
long_strings = st.tuples(strings.filter(bool), st.integers(300, 3000)).map(lambda t: (t[0] * t[1])[:9000])
scalars = st.none() | st.booleans() | st.integers() | st.floats() | strings | HUGE
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(strings, inner, max_size=4),
    max_leaves=8,
)


def to_json(value: Any, ascii_only: bool = True) -> str:
    """JSON text of ``value``: lone surrogates escaped (``"\\ud800"``) or kept, ``Raw`` tokens as they are."""
    if isinstance(value, Raw):
        return value.token
    if isinstance(value, dict):
        pairs = (
            f"{json.dumps(str(k), ensure_ascii=ascii_only)}:{to_json(v, ascii_only)}"
            for k, v in value.items()
        )
        return "{" + ",".join(pairs) + "}"
    if isinstance(value, list):
        return "[" + ",".join(to_json(v, ascii_only) for v in value) + "]"
    return json.dumps(value, ensure_ascii=ascii_only)


def as_bytes(value: Any, how: int) -> bytes:
    """``value`` as JSON bytes: escaped; UTF-8 with lone surrogates as CESU bytes (invalid UTF-8); UTF-16;
    after a byte order mark; cut short."""
    if how == 1:
        return to_json(value, ascii_only=False).encode("utf-8", "surrogatepass")
    if how == 2:
        return to_json(value, ascii_only=False).encode("utf-16", "surrogatepass")
    if how == 3:
        return b"\xef\xbb\xbf" + to_json(value).encode()
    if how == 4:
        text = to_json(value).encode()
        return text[: max(1, len(text) // 2)]
    return to_json(value).encode()


Path_ = tuple[Any, ...]


@dataclass(frozen=True)
class Twist:
    """A replacement made from the value it replaces: the same text with a lone surrogate after it, the
    same number as a string or far too large, and so on (``twisted``)."""

    n: int


def paths(template: Any, prefix: Path_ = ()) -> list[Path_]:
    """Every field and item of ``template``, as the keys leading to it."""
    found: list[Path_] = []
    if isinstance(template, dict):
        items: Any = template.items()
    elif isinstance(template, list):
        items = enumerate(template)
    else:
        return found
    for key, value in items:
        found += [(*prefix, key), *paths(value, (*prefix, key))]
    return found


def twisted(value: Any, n: int) -> Any:
    if isinstance(value, bool):
        return [1, "true", None, [value]][n % 4]
    if isinstance(value, int):
        return [HUGE_TOKENS[n % len(HUGE_TOKENS)], str(value), -value, value + 0.5, 2**64, True][n % 6]
    if isinstance(value, str):
        odd = ODD[n % len(ODD)]
        return [value + odd, odd + value, odd, "", value[:50] * 100, {"": value}, 42][n % 7]
    if isinstance(value, list):
        return [value * 5, [value], {}, "x"][n % 4]
    return [[value], [], "x", None][n % 4]


def holds(container: Any, key: Any) -> bool:
    if isinstance(container, dict):
        return key in container
    return isinstance(container, list) and isinstance(key, int) and key < len(container)


def mutated(template: Any, mutations: list[tuple[Path_, Any]]) -> Any:
    """``template`` with each mutation applied: a field replaced (by a value, or a ``Twist`` of what is
    there) or removed (MISSING). A mutation under a field an earlier one replaced is dropped."""
    value = copy.deepcopy(template)
    for path, replacement in mutations:
        parent = value
        for key in path[:-1]:
            parent = parent[key] if holds(parent, key) else None
        last = path[-1]
        if not holds(parent, last):
            continue
        if replacement is MISSING:
            del parent[last]
        elif isinstance(replacement, Twist):
            parent[last] = twisted(parent[last], replacement.n)
        else:
            parent[last] = replacement
    return value


replacements = st.one_of(
    st.builds(Twist, st.integers(0, 100)),
    st.builds(Twist, st.integers(0, 100)),
    st.just(MISSING),
    scalars,
    st.lists(scalars, max_size=3),
    st.dictionaries(strings, scalars, max_size=3),
)


Fresh = st.SearchStrategy[list[tuple[Path_, Any]]]
NOTHING_FRESH: Fresh = st.just([])


def shaped(template: Any, fresh: Fresh = NOTHING_FRESH) -> st.SearchStrategy[Any]:
    """Values shaped like ``template``, with ``fresh`` values first (new ids: the webhooks store what is
    new), then up to four fields missing or replaced (a wrong type, a hostile value, a twist of the
    right one); none at all sometimes."""
    mutation = st.tuples(st.sampled_from(paths(template)), replacements)
    both = st.tuples(fresh, st.lists(mutation, max_size=4))
    return both.map(lambda t: mutated(template, t[0] + t[1]))


def deep(levels: int, opening: bytes) -> bytes:
    """JSON nested ``levels`` deep: past our limit of 32, and past Python's recursion limit."""
    closing = b"]" * levels if opening == b"[" else b"}" * levels
    return opening * levels + b"1" + closing


def fits(body: bytes) -> bytes:
    """At most just under the gateway's 256 KiB: past it the answer is a 413 and a reset connection, whose
    status cannot always be read (``test_webhooks.py`` checks that 413)."""
    return body[:BODY_BYTES]


def bodies(*templates: Any, fresh: Fresh = NOTHING_FRESH) -> st.SearchStrategy[bytes]:
    """Bodies for an endpoint whose JSON looks like one of ``templates``, and anything else."""
    valued = mostly(st.one_of(*(shaped(t, fresh) for t in templates)), json_values)
    as_json = st.tuples(valued, st.sampled_from([0, 0, 0, 0, 1, 2, 3, 4])).map(lambda t: as_bytes(*t))
    return mostly(
        as_json.map(fits),
        st.one_of(
            st.binary(max_size=300),
            st.binary(min_size=1, max_size=20).map(lambda b: b'{"text": "\xff' + b + b'"}'),  # invalid UTF-8
            st.tuples(st.integers(1, 40) | st.just(40_000), st.sampled_from([b"[", b'{"a":'])).map(
                lambda t: deep(*t)
            ),
        ),
    )


# headers
def no_newlines(value: bytes) -> bytes:
    """A header value cannot hold CR or LF (they would end it); anything else goes."""
    return value.replace(b"\r", b" ").replace(b"\n", b" ")


TOKEN_NAMES = st.from_regex(r"X-[A-Za-z0-9-]{1,20}", fullmatch=True).map(str.encode)
KNOWN_NAMES = st.sampled_from(
    [
        b"Content-Type",
        b"Cookie",
        b"X-Telegram-Bot-Api-Secret-Token",
        b"X-Hub-Signature-256",
        b"X-Sportello-Session",
        b"X-CSRF-Token",
        b"X-Forwarded-Proto",
        b"X-Forwarded-For",
        b"Accept-Language",
        b"User-Agent",
        b"Origin",
        b"Referer",
        b"Accept-Encoding",
        b"Content-Encoding",
    ]
)
header_values = st.one_of(
    st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=40).map(str.encode),
    st.text(st.characters(codec="utf-8", exclude_characters="\r\n"), max_size=40).map(
        str.encode
    ),  # non-ASCII
    st.binary(max_size=40).map(no_newlines),  # invalid UTF-8, control characters
    st.tuples(st.sampled_from([b"A", "é".encode(), b"\xff", b"="]), st.integers(4000, 9000)).map(
        lambda t: t[0] * t[1]
    ),  # overlong: past aiohttp's 8,190 bytes a field, or just under
)
extra_headers = st.lists(st.tuples(KNOWN_NAMES | TOKEN_NAMES, header_values), max_size=2)
CONTENT_TYPES = [
    b"application/json",
    b"application/json; charset=utf-8",
    b"application/json; charset=latin-1",
    b"application/json; charset=no-such-charset",
    b"text/plain",
    b"application/x-www-form-urlencoded",
    b"application/x-www-form-urlencoded; charset=no-such-charset",
    b"application/x-www-form-urlencoded; charset=utf-16",
    b"multipart/form-data",
    b"multipart/form-data; boundary=zzz",
    b"multipart/form-data; boundary=",
    b"application/octet-stream",
    b"\xff\xfe",
    "application/jsön".encode(),
]
content_type = st.lists(
    st.tuples(st.just(b"Content-Type"), st.sampled_from(CONTENT_TYPES) | header_values), max_size=1
)


def near_misses(right: str) -> list[bytes]:
    return [v.encode() for v in (right.upper(), right + " x", right[:-1], right + "é", right * 2, "")]


# a header that must carry a secret: RIGHT most of the time (its value known only when the body is),
# else a near miss, any value, or no header at all
secret_value = mostly(st.just(RIGHT), header_values | st.sampled_from(range(6)))
secret_header = st.one_of(secret_value, secret_value, st.just(MISSING))


def secret(name: bytes, right: str, chosen: Any) -> list[tuple[bytes, bytes]]:
    if chosen is MISSING:
        return []
    if chosen is RIGHT:
        return [(name, right.encode())]
    return [(name, near_misses(right)[chosen] if isinstance(chosen, int) else chosen)]


def in_query(text: str, quoted: bool) -> bytes:
    """A query string's key or value: percent-encoded (a lone surrogate as CESU bytes), or as it is."""
    raw = text.encode("utf-8", "surrogatepass")
    if quoted:
        return quote(raw, safe="").encode()
    return (
        raw.replace(b" ", b"%20")
        .replace(b"#", b"%23")
        .replace(b"&", b"%26")
        .replace(b"\r", b"")
        .replace(b"\n", b"")
    )


# the endpoints -----------------------------------------------------------------------------------
CHAT = {"user": "browser-1", "text": "ciao, mi serve il codice fiscale", "language": "it", "city": "roma"}
SESSIONS = [b"A" * 43, b"b" * 43, b"0123456789_-abcdefghijklmnopqrstuvwxyzABCDE"]
chat_fields = st.fixed_dictionaries(
    {},
    optional={
        "text": st.text(min_size=1, max_size=40) | strings,
        "language": st.sampled_from(sorted(LANGUAGES)) | strings,
        "city": st.sampled_from(["roma", "caserta", "Roma"]) | strings,
        "user": strings,
    },
)
chat_bodies = bodies(CHAT) | chat_fields.map(lambda d: json.dumps(d).encode())
chat_sessions: st.SearchStrategy[list[tuple[bytes, bytes]]] = st.one_of(
    st.just([]),
    st.sampled_from(SESSIONS).map(lambda s: [(b"X-Sportello-Session", s)]),
    st.sampled_from(SESSIONS).map(lambda s: [(b"Cookie", b"sportello_chat=" + s)]),
    header_values.map(lambda v: [(b"X-Sportello-Session", v)]),
    header_values.map(lambda v: [(b"Cookie", b"sportello_chat=" + v)]),
)
chat_calls = st.builds(
    lambda kind, session, extra, body: Call(b"POST", b"/api/chat", tuple(kind + session + extra), body),
    mostly(st.just([(b"Content-Type", b"application/json")]), content_type),
    chat_sessions,
    extra_headers,
    chat_bodies,
)

UPDATE: dict[str, Any] = {
    "update_id": 10000,
    "message": {
        "message_id": 1,
        "date": 1749416383,
        "chat": {"id": 4242, "type": "private", "first_name": "Amina"},
        "from": {"id": 4242, "is_bot": False, "first_name": "Amina", "language_code": "uk"},
        "text": "Привіт",
        "voice": {"file_id": "f", "file_unique_id": "u", "duration": 1},
    },
    "edited_message": {
        "message_id": 2,
        "date": 1749416383,
        "chat": {"id": -100, "type": "group", "title": "g"},
        "text": "/start",
    },
    "callback_query": {
        "id": "1",
        "from": {"id": 4242, "is_bot": False, "first_name": "A", "language_code": "ar"},
        "message": {"message_id": 3, "date": 1749416383, "chat": {"id": 4242, "type": "private"}},
        "data": "i:menu",
        "chat_instance": "x",
    },
}


def telegram_ids(update_id: int, user: int) -> list[tuple[Path_, Any]]:
    """A new update from one of many users (the same user's updates are limited per minute)."""
    ids: list[tuple[Path_, Any]] = [(("update_id",), update_id)]
    for path in (("message", "chat"), ("message", "from"), ("callback_query", "from")):
        ids.append(((*path, "id"), user))
    return [*ids, (("callback_query", "message", "chat", "id"), user)]


telegram_calls = st.builds(
    lambda chosen, kind, extra, body: Call(
        b"POST",
        b"/webhooks/telegram",
        tuple(secret(b"X-Telegram-Bot-Api-Secret-Token", SECRET, chosen) + kind + extra),
        body,
    ),
    secret_header,
    content_type,
    extra_headers,
    bodies(UPDATE, fresh=st.builds(telegram_ids, st.integers(1, 2**31), st.integers(1, 10**6))),
)

NOTIFICATION: dict[str, Any] = {
    "object": "whatsapp_business_account",
    "entry": [
        {
            "id": "1",
            "changes": [
                {
                    "field": "messages",
                    "value": {
                        "contacts": [
                            {"wa_id": "393331234567", "user_id": "IT.1", "profile": {"name": "Amina"}}
                        ],
                        "messages": [
                            {
                                "from": "393331234567",
                                "id": "wamid.X",
                                "timestamp": "1749416383",
                                "type": "text",
                                "text": {"body": "ciao"},
                                "interactive": {"button_reply": {"id": "i:menu", "title": "Menu"}},
                                "button": {"text": "Sì"},
                            }
                        ],
                        "statuses": [
                            {
                                "id": "wamid.Y",
                                "status": "failed",
                                "errors": [{"code": 131047, "title": "Re-engagement", "message": "m"}],
                            }
                        ],
                    },
                }
            ],
        }
    ],
}


def of_type(kind: str) -> dict[str, Any]:
    """The notification with a message of another type, its other fields kept."""
    notification = copy.deepcopy(NOTIFICATION)
    notification["entry"][0]["changes"][0]["value"]["messages"][0]["type"] = kind
    return notification


def whatsapp_call(
    chosen: Any, kind: list[tuple[bytes, bytes]], extra: list[tuple[bytes, bytes]], body: bytes
) -> Call:
    right = "sha256=" + hmac.new(APP_SECRET.encode(), body, hashlib.sha256).hexdigest()
    headers = secret(b"X-Hub-Signature-256", right, chosen) + kind + extra
    return Call(b"POST", b"/webhooks/whatsapp", tuple(headers), body)


def whatsapp_ids(message_id: int, user: int) -> list[tuple[Path_, Any]]:
    """A new message from one of many users (the same user's messages are limited per minute)."""
    value: Path_ = ("entry", 0, "changes", 0, "value")
    return [
        ((*value, "messages", 0, "id"), f"wamid.{message_id}"),
        ((*value, "messages", 0, "from"), f"39{user}"),
        ((*value, "contacts", 0, "wa_id"), f"39{user}"),
        ((*value, "contacts", 0, "user_id"), f"IT.{user}"),
    ]


whatsapp_calls = st.builds(
    whatsapp_call,
    secret_header,
    content_type,
    extra_headers,
    bodies(
        *(of_type(kind) for kind in ["text", "interactive", "button", "audio", "image", "reaction"]),
        fresh=st.builds(whatsapp_ids, st.integers(1, 2**31), st.integers(1, 10**6)),
    ),
)

verification_parameters = st.fixed_dictionaries(
    {},
    optional={
        "hub.mode": st.sampled_from(["subscribe", "SUBSCRIBE", "unsubscribe", ""]) | strings,
        "hub.verify_token": mostly(
            st.just(VERIFY), strings | st.sampled_from([VERIFY + "é", VERIFY.upper()])
        ),
        "hub.challenge": st.sampled_from(["1158201444", ""]) | strings | long_strings,
        "hub": strings,
    },
)


def verification_call(
    parameters: dict[str, str], quoted: bool, tail: bytes, extra: list[tuple[bytes, bytes]]
) -> Call:
    query = b"&".join(
        in_query(key, quoted) + b"=" + in_query(value, quoted) for key, value in parameters.items()
    )
    query += tail.replace(b" ", b"").replace(b"\r", b"").replace(b"\n", b"").replace(b"#", b"")
    return Call(b"GET", b"/webhooks/whatsapp?" + query if query else b"/webhooks/whatsapp", tuple(extra))


verification_calls = st.builds(
    verification_call,
    verification_parameters,
    st.booleans(),
    mostly(st.just(b""), st.binary(max_size=30).map(lambda b: b"&" + b)),
    extra_headers,
)

LOGIN_TOKENS = ["t" * 43, "Zx9-_" * 8 + "abc"]
login_form = st.fixed_dictionaries(
    {},
    optional={
        "csrf_token": mostly(st.just(RIGHT), strings),
        "email": st.sampled_from([EMAIL, EMAIL.upper(), " " + EMAIL, "nobody@example.org"]) | strings,
        "password": st.sampled_from([PASSWORD, "wrong", ""]) | strings | long_strings,
        "next": st.sampled_from(["/dashboard", "//evil.example", "/dashboard/../x", "\\\\x"]) | strings,
    },
)
MULTIPART = [
    b'--zzz\r\nContent-Disposition: form-data; name="email"\r\n\r\nx\r\n--zzz--\r\n',
    b"--zzz\r\nContent-Disposition: form-data\r\n\r\nx\r\n--zzz--\r\n",
    b'--zzz\r\nContent-Disposition: form-data; name="password"\r\n'
    b"Content-Type: text/plain; charset=no-such\r\n\r\nx\r\n--zzz--\r\n",
    b'--zzz\r\nContent-Disposition: form-data; name="email"\r\n\r\n\xff\xfe\r\n--zzz--\r\n',
    b'--zzz\r\nContent-Disposition: form-data; name="csrf_token"; filename="a.txt"\r\n\r\nx\r\n--zzz--\r\n',
    b"--zzz\r\nContent-Type: multipart/mixed; boundary=yyy\r\n\r\n--yyy--\r\n--zzz--\r\n",
    b"--zzz\r\nno headers at all",
]


def form_value(text: str) -> bytes:
    return quote(text.encode("utf-8", "surrogatepass"), safe="").encode()


def login_call(
    get: bool,
    token: str,
    cookie: Any,
    form: dict[str, Any],
    body: Any,
    kind: list[tuple[bytes, bytes]],
    extra: list[tuple[bytes, bytes]],
) -> Call:
    """The login form: with the pre-session token (the cookie and the field the same), without, or wrong;
    or the login page, asked for with the same cookies."""
    fields = {key: token if value is RIGHT else value for key, value in form.items()}
    encoded = b"&".join(form_value(key) + b"=" + form_value(value) for key, value in fields.items())
    if isinstance(body, bytes):
        content = body
    else:  # the form, or the form with invalid UTF-8 after it
        content = encoded if body == 0 else encoded + b"&email=%FF%FE&\xff\xfe"
    if cookie is RIGHT:
        cookies = [(b"Cookie", b"sportello_dashboard_login=" + token.encode("utf-8", "surrogatepass"))]
    elif cookie is MISSING:
        cookies = []
    else:
        cookies = [(b"Cookie", no_newlines(cookie))]
    if get:
        target = b"/dashboard/login?next=" + form_value(str(fields.get("next", "")))
        return Call(b"GET", target, tuple(cookies + extra))
    return Call(b"POST", b"/dashboard/login", tuple(kind + cookies + extra), content)


login_calls = st.builds(
    login_call,
    mostly(st.just(False), st.just(True)),
    st.sampled_from(LOGIN_TOKENS) | strings,
    mostly(
        st.just(RIGHT),
        st.one_of(
            st.just(MISSING),
            header_values,
            header_values.map(lambda v: b"sportello_dashboard_login=" + v),
            header_values.map(lambda v: b"sportello_dashboard=" + v),  # the session cookie
        ),
    ),
    login_form,
    mostly(
        st.sampled_from([0, 0, 0, 1]), st.binary(max_size=200) | st.sampled_from(MULTIPART) | bodies(CHAT)
    ),
    mostly(st.just([(b"Content-Type", b"application/x-www-form-urlencoded")]), content_type),
    extra_headers,
)


# the tests ---------------------------------------------------------------------------------------
@runs(3000)
@given(chat_calls)
def test_web_chat(gateway: Gateway, call: Call) -> None:
    gateway.check("POST /api/chat", call)


@runs(2500)
@given(telegram_calls)
def test_telegram_webhook(gateway: Gateway, call: Call) -> None:
    gateway.check("POST /webhooks/telegram", call)


@runs(2500)
@given(whatsapp_calls)
def test_whatsapp_webhook(gateway: Gateway, call: Call) -> None:
    gateway.check("POST /webhooks/whatsapp", call)


@runs(1000)
@given(verification_calls)
def test_whatsapp_verification(gateway: Gateway, call: Call) -> None:
    gateway.check("GET /webhooks/whatsapp", call)


@runs(1500)
@given(login_calls)
def test_dashboard_login(gateway: Gateway, call: Call) -> None:
    gateway.check("POST /dashboard/login", call)


def test_nothing_unsafe_reached_rasa(gateway: Gateway) -> None:
    """After all of the above (the inbox worker has answered what the webhooks took)."""
    gateway.run(asyncio.sleep(0.5))
    assert gateway.rasa_heard, "the web chat's valid requests reached Rasa"
    for body in gateway.rasa_heard:
        assert body["message"] == clean_text(body["message"]) and body["sender"] == clean_text(body["sender"])
