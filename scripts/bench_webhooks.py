"""Benchmark the Telegram webhook path: N deliveries from U users against the real assistant.

    .venv/bin/python scripts/bench_webhooks.py [--messages 1000] [--users 50]

Starts Rasa, the action server and the gateway on free ports with a local fake Telegram Bot API,
fires the deliveries from U concurrent senders as fast as the gateway acknowledges them, and prints:
  - acknowledgement latency (webhook POST -> 200) percentiles,
  - end-to-end latency per message: acknowledged -> answered by Rasa (inbox processed_at), and
    acknowledged -> first reply accepted by Telegram (outbox sent_at), from the gateway's own tables,
  - how long until every message was answered.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
import urllib.request
from datetime import datetime
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))

from bot.core.languages import LANGUAGES  # noqa: E402
from bot.ops.nlu_data import read_examples  # noqa: E402
from bot.ops.processes import running, settings_on_free_ports  # noqa: E402
from tests.fakes.fake_telegram import FakeTelegram, TelegramUser, fake_telegram_app  # noqa: E402
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
    pool = [t for lang in LANGUAGES for ts in examples[lang].values() for t in ts]
    step = max(len(pool) // count, 1)
    return (pool[::step] * 2)[:count]


def fire(url: str, updates: list[dict[str, object]], acks: list[float]) -> None:
    for update in updates:
        request = urllib.request.Request(
            url,
            data=json.dumps(update).encode(),
            headers={"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": SECRET},
        )
        started = time.perf_counter()
        with urllib.request.urlopen(request, timeout=30) as response:
            response.read()
        acks.append((time.perf_counter() - started) * 1000)


def parse_time(value: str) -> float:
    return datetime.fromisoformat(value).timestamp()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--users", type=int, default=50)
    args = parser.parse_args()
    telegram = FakeTelegram()
    fake = ThreadedServer(fake_telegram_app(telegram)).start()
    with tempfile.TemporaryDirectory() as tmp, open(Path(tmp) / "processes.log", "wb") as log:
        settings = settings_on_free_ports(
            Path(tmp),
            TELEGRAM_BOT_TOKEN=telegram.token,
            TELEGRAM_WEBHOOK_URL="http://127.0.0.1:{port}/webhooks/telegram",
            TELEGRAM_SECRET_TOKEN=SECRET,
            TELEGRAM_API_BASE_URL=f"{fake.url}/bot",
            SPORTELLO_MESSAGES_PER_MINUTE=1_000_000,  # 20 messages per user, as fast as possible
        )
        print("starting the assistant ...", flush=True)
        try:
            with running(settings, log):
                run(args, telegram, f"http://127.0.0.1:{settings.port}/webhooks/telegram", settings.data_dir)
        finally:
            fake.stop()
    return 0


def run(args: argparse.Namespace, telegram: FakeTelegram, url: str, data_dir: Path) -> None:
    users = [TelegramUser(id=900000 + i, language_code=None) for i in range(args.users)]
    per_user: list[list[dict[str, object]]] = [[] for _ in users]
    for index, text in enumerate(texts(args.messages)):
        per_user[index % len(users)].append(telegram.text_message(text, user=users[index % len(users)]))
    acks: list[float] = []
    threads = [threading.Thread(target=fire, args=(url, updates, acks)) for updates in per_user]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    fired = time.monotonic() - started
    print(f"{len(acks)} deliveries from {args.users} users acknowledged in {fired:.1f} s")
    print(f"acknowledgement: {percentiles(acks)}")
    database = sqlite3.connect(data_dir / "sportello.db")
    while database.execute("select count(*) from inbox where status = 'pending'").fetchone()[0]:
        time.sleep(0.5)
    answered = time.monotonic() - started
    rows = database.execute("select received_at, processed_at from inbox where channel='telegram'").fetchall()
    processing = [(parse_time(p) - parse_time(r)) * 1000 for r, p in rows]
    print(f"all {len(rows)} answered by Rasa {answered:.1f} s after the first delivery")
    print(f"acknowledged -> answered: {percentiles(processing)}")
    while database.execute("select count(*) from outbox where status = 'pending'").fetchone()[0]:
        time.sleep(0.5)
    sent = database.execute(
        "select min(o.sent_at), i.received_at from inbox i join outbox o on o.user_key = i.user_key "
        "and o.created_at >= i.processed_at where o.sent_at is not null group by i.id"
    ).fetchall()
    delivered = [(parse_time(s) - parse_time(r)) * 1000 for s, r in sent]
    print(f"acknowledged -> first reply accepted by Telegram: {percentiles(delivered)}")
    print("(Telegram allows 1 message/s per chat: a user's replies queue behind each other)")


if __name__ == "__main__":
    sys.exit(main())
