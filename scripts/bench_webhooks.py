"""Benchmark the Telegram webhook path: N deliveries from U users against the real assistant.

    .venv/bin/python scripts/bench_webhooks.py [--messages 1000] [--users 50] [--rate 200]
        [--compare | --compare-niceness | --compare-intake | --intake] [--niceness 5] [--postgres]
        [--workers-async-commit] [--client connections|threads]

Starts Rasa, the action server and the gateway on free ports with a local fake Telegram Bot API,
offers the deliveries at --rate per second from U chats (each chat's one after another, as Telegram
delivers them), and prints:
  - acknowledgement latency (webhook POST -> 200) percentiles,
  - end-to-end latency per message: acknowledged -> answered by Rasa (inbox processed_at), and
    acknowledged -> first reply accepted by Telegram (outbox sent_at), from the gateway's own tables,
  - how long until every message was answered.

The client (``--client connections``, the default) sends as Telegram does: over at most 40 kept-alive
connections (setWebhook's max_connections default), from one event loop. ``--client threads`` is the
client this benchmark had before 2026-12-07: a thread per chat and a new connection per update, whose
own CPU (50 threads taking turns at one interpreter lock, on the same two cores) was part of every
acknowledgement it timed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing
import socket
import statistics
import sys
import tempfile
import threading
import time
import urllib.request
from datetime import datetime
from multiprocessing.synchronize import Event
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))

import aiohttp  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import Connection  # noqa: E402

from bot.core.languages import LANGUAGES  # noqa: E402
from bot.ops.nlu_data import read_examples  # noqa: E402
from bot.ops.processes import free_port, running, settings_on_free_ports  # noqa: E402
from tests.fakes.fake_telegram import FakeTelegram, TelegramUser, fake_telegram_app  # noqa: E402
from tests.helpers.databases import fresh_postgres  # noqa: E402
from tests.helpers.stack import telegram_webhook_settings  # noqa: E402
from tests.helpers.threaded_server import ThreadedServer  # noqa: E402

SECRET = "bench-secret"


def percentiles(values: list[float]) -> str:
    ordered = sorted(values)

    def pick(q: float) -> float:
        return ordered[min(int(len(ordered) * q), len(ordered) - 1)]

    return (
        f"median {statistics.median(ordered):.1f} ms, p95 {pick(0.95):.1f} ms, "
        f"p99 {pick(0.99):.1f} ms, max {ordered[-1]:.1f} ms"
    )


def texts(count: int) -> list[str]:
    examples = read_examples(PROJECT / "nlu")
    # no request to erase: it erases that user's rows, and the count of answered messages with them
    pool = [
        t
        for lang in LANGUAGES
        for intent, ts in examples[lang].items()
        if intent != "forget_me"
        for t in ts
        if not t.startswith("/")
    ]
    step = max(len(pool) // count, 1)
    return (pool[::step] * 2)[:count]


def fire(
    url: str,
    updates: list[tuple[float, dict[str, object]]],
    acks: list[tuple[float, float]],
    start: float,
) -> None:
    """One chat's deliveries, each at its offered time (or at once when late), one after another.
    Each ack is (round trip, the gateway's own time from its Server-Timing header), in ms."""
    for offset, update in updates:
        time.sleep(max(0.0, start + offset - time.monotonic()))
        request = urllib.request.Request(
            url,
            data=json.dumps(update).encode(),
            headers={"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": SECRET},
        )
        started = time.perf_counter()
        with urllib.request.urlopen(request, timeout=30) as response:
            response.read()
            own = float(response.headers["Server-Timing"].split(";dur=")[1])
        acks.append(((time.perf_counter() - started) * 1000, own))


TELEGRAM_CONNECTIONS = 40  # setWebhook's max_connections, by default


async def fire_all(
    url: str,
    per_user: list[list[tuple[float, dict[str, object]]]],
    acks: list[tuple[float, float]],
    start: float,
) -> None:
    """Every chat's deliveries from one event loop, over at most 40 kept-alive connections."""
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
    connector = aiohttp.TCPConnector(limit=TELEGRAM_CONNECTIONS)
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout, headers=headers) as session:

        async def chat(updates: list[tuple[float, dict[str, object]]]) -> None:
            for offset, update in updates:
                await asyncio.sleep(max(0.0, start + offset - time.monotonic()))
                started = time.perf_counter()
                async with session.post(url, json=update) as response:
                    await response.read()
                    own = float(response.headers["Server-Timing"].split(";dur=")[1])
                acks.append(((time.perf_counter() - started) * 1000, own))

        await asyncio.gather(*(chat(updates) for updates in per_user))


def wait_listening(port: int, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def parse_time(value: str | datetime) -> float:
    return (value if isinstance(value, datetime) else datetime.fromisoformat(value)).timestamp()


def count(database: Connection, query: str) -> int:
    database.rollback()  # a fresh snapshot each time
    return int(database.execute(text(query)).scalar_one())


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--rate", type=float, default=200, help="updates offered per second; 0: at once")
    parser.add_argument(
        "--compare", action="store_true", help="first one transaction per update, then the group commit"
    )
    parser.add_argument(
        "--compare-niceness",
        action="store_true",
        help="first Rasa and the action server at the gateway's CPU priority, then below it (nice 5)",
    )
    parser.add_argument(
        "--compare-intake",
        action="store_true",
        help="first one gateway process, then an intake process and a workers process",
    )
    parser.add_argument("--intake", action="store_true", help="an intake and a workers process only")
    parser.add_argument("--niceness", type=int, default=5, help="Rasa's and the action server's nice")
    parser.add_argument(
        "--workers-async-commit",
        action="store_true",
        help="with --intake --postgres: the workers process commits without waiting for the disk",
    )
    parser.add_argument(
        "--postgres", action="store_true", help="the gateway's tables on a fresh local PostgreSQL database"
    )
    parser.add_argument(
        "--client",
        choices=("connections", "threads"),
        default="connections",
        help="kept-alive connections from one event loop (as Telegram), or a thread and a new connection "
        "per chat and update (this benchmark's client before 2026-12-07)",
    )
    args = parser.parse_args()
    if args.compare_intake:
        for intake in (False, True):
            print(f"== {'an intake and a workers process' if intake else 'one gateway process'}", flush=True)
            measure(args, True, args.niceness, intake)
        return 0
    if args.intake:
        measure(args, True, args.niceness, True)
        return 0
    if args.compare_niceness:
        for niceness in (0, 5):
            print(f"== Rasa and the action server at nice {niceness}", flush=True)
            measure(args, True, niceness)
        return 0
    for group_commit in (False, True) if args.compare else (True,):
        print(f"== group commit {'on' if group_commit else 'off'}", flush=True)
        measure(args, group_commit, args.niceness)
    return 0


def serve_fake_telegram(server: ThreadedServer, stop: Event) -> None:
    """In a process of its own: the fake Bot API answering the gateway's sends shares no interpreter lock
    with the client that times the acknowledgements (Telegram's servers are not on our two cores)."""
    server.start()
    stop.wait()
    server.stop()


def measure(args: argparse.Namespace, group_commit: bool, niceness: int = 5, intake: bool = False) -> None:
    telegram = FakeTelegram()
    fake = ThreadedServer(fake_telegram_app(telegram))
    stop = multiprocessing.get_context("fork").Event()
    fake_process = multiprocessing.get_context("fork").Process(target=serve_fake_telegram, args=(fake, stop))
    fake_process.start()
    wait_listening(fake.port)
    with (
        tempfile.TemporaryDirectory() as tmp,
        open(Path(tmp) / "processes.log", "wb") as log,
        fresh_postgres() if args.postgres else contextlib.nullcontext(f"sqlite:///{tmp}/sportello.db") as url,
    ):
        settings = settings_on_free_ports(
            Path(tmp),
            DATABASE_URL=url,
            **telegram_webhook_settings(telegram.token, fake.url, SECRET),
            SPORTELLO_MESSAGES_PER_MINUTE=1_000_000,  # 20 messages per user, as fast as possible
            SPORTELLO_GROUP_COMMIT=group_commit,
            SPORTELLO_ENGINE_NICENESS=niceness,
            SPORTELLO_INTAKE_PROCESS=intake,
            SPORTELLO_WORKERS_PORT=free_port(),
            SPORTELLO_WORKERS_ASYNC_COMMIT=args.workers_async_commit,
        )
        print("starting the assistant ...", flush=True)
        try:
            with running(settings, log):
                run(args, telegram, f"http://127.0.0.1:{settings.port}/webhooks/telegram", url)
        finally:
            stop.set()
            fake_process.join(15)


def run(args: argparse.Namespace, telegram: FakeTelegram, url: str, database_url: str) -> None:
    users = [TelegramUser(id=900000 + i, language_code=None) for i in range(args.users)]
    per_user: list[list[tuple[float, dict[str, object]]]] = [[] for _ in users]
    for index, words in enumerate(texts(args.messages)):
        offset = index / args.rate if args.rate else 0.0
        update = telegram.text_message(words, user=users[index % len(users)])
        per_user[index % len(users)].append((offset, update))
    acks: list[tuple[float, float]] = []
    started = time.monotonic() + 0.5
    if args.client == "connections":
        asyncio.run(fire_all(url, per_user, acks, started))
    else:
        threads = [threading.Thread(target=fire, args=(url, updates, acks, started)) for updates in per_user]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    fired = time.monotonic() - started
    offered = f"offered at {args.rate:g}/s" if args.rate else "all at once"
    print(f"{len(acks)} deliveries from {args.users} users ({offered}) acknowledged in {fired:.1f} s")
    print(f"acknowledgement: {percentiles([trip for trip, _ in acks])}")
    print(f"  of which in the gateway's handler (Server-Timing): {percentiles([own for _, own in acks])}")
    print(f"  and outside it (CPU, sockets, client): {percentiles([trip - own for trip, own in acks])}")
    engine = create_engine(database_url)
    with engine.connect() as database:
        while count(database, "select count(*) from inbox where status = 'pending'"):
            time.sleep(0.5)
        answered = time.monotonic() - started
        rows = database.execute(
            text("select received_at, processed_at from inbox where channel='telegram'")
        ).all()
        processing = [(parse_time(p) - parse_time(r)) * 1000 for r, p in rows]
        print(f"all {len(rows)} answered by Rasa {answered:.1f} s after the first delivery")
        print(f"acknowledged -> answered: {percentiles(processing)}")
        while count(database, "select count(*) from outbox where status = 'pending'"):
            time.sleep(0.5)
        sent = database.execute(
            text(
                "select min(o.sent_at), i.received_at from inbox i join outbox o on o.user_key = i.user_key "
                "and o.created_at >= i.processed_at where o.sent_at is not null group by i.id, i.received_at"
            )
        ).all()
    engine.dispose()
    delivered = [(parse_time(s) - parse_time(r)) * 1000 for s, r in sent]
    print(f"acknowledged -> first reply accepted by Telegram: {percentiles(delivered)}")
    print("(Telegram allows 1 message/s per chat: a user's replies queue behind each other)")


if __name__ == "__main__":
    sys.exit(main())
