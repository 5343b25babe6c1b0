"""Fault-injection benchmark: Telegram traffic while processes are killed, then count what was lost.

    .venv/bin/python scripts/faults.py [--users 50] [--seconds 240] [--kills rasa,action_server,gateway]

Runs ``python -m bot run`` (what ``make run`` runs: every process, embedded SQLite, restarts on a
crash) with Telegram on a webhook against a local fake Bot API. U users write one message every few
seconds each, through the webhook, as Telegram does: a delivery that is not acknowledged with 200 is
sent again until it is. During the traffic the script kills -9, one after another, the processes named
in --kills (pids from ``run.pids``), and after the traffic it waits for every acknowledged message to be
answered. It prints, from the gateway's inbox and outbox, Rasa's tracker and the fake Telegram:
  - lost: acknowledged messages never answered (no reply reached Telegram);
  - duplicated processing: a message whose answer Rasa produced twice;
  - duplicated delivery: more messages at Telegram than replies sent;
  - out of order: a user's messages answered in another order than written;
  - per kill, how long until every message acknowledged since the kill was answered.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))

from bot.ops.nlu_data import ordinary_questions  # noqa: E402
from bot.ops.processes import settings_on_free_ports  # noqa: E402
from tests.fakes.fake_telegram import FakeTelegram, TelegramUser, fake_telegram_app  # noqa: E402
from tests.helpers.threaded_server import ThreadedServer  # noqa: E402

SECRET = "faults-secret"


@dataclass
class Traffic:
    """What the users sent and when each delivery was acknowledged."""

    acked: dict[int, float] = field(default_factory=dict)  # update_id -> when the 200 came
    order: dict[int, list[int]] = field(default_factory=dict)  # chat id -> update ids in writing order
    refused: int = 0  # deliveries answered with something else than 200, or not at all (sent again)
    lock: threading.Lock = field(default_factory=threading.Lock)


def questions() -> list[str]:
    return ordinary_questions(PROJECT / "nlu", per_topic=8)


def deliver(url: str, update: dict[str, Any], traffic: Traffic, stop_at: float) -> None:
    """POST one update until the gateway acknowledges it (as Telegram retries a failing webhook)."""
    body = json.dumps(update).encode()
    headers = {"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": SECRET}
    while time.monotonic() < stop_at:
        try:
            request = urllib.request.Request(url, data=body, headers=headers)
            with urllib.request.urlopen(request, timeout=10) as response:
                if response.status == 200:
                    with traffic.lock:
                        traffic.acked[update["update_id"]] = time.monotonic()
                    return
        except (urllib.error.URLError, OSError):
            pass
        with traffic.lock:
            traffic.refused += 1
        time.sleep(1.0)


def user_writes(
    url: str, telegram: FakeTelegram, user: TelegramUser, texts: list[str], every: float, until: float
) -> list[int]:
    sent: list[int] = []
    index = user.id % len(texts)
    while time.monotonic() < until:
        update = telegram.text_message(texts[index % len(texts)], user=user)
        sent.append(update["update_id"])
        deliver(url, update, TRAFFIC, until + 180)
        index += 1
        time.sleep(every)
    return sent


TRAFFIC = Traffic()


def pids(data_dir: Path) -> dict[str, int]:
    path = data_dir / "run.pids"
    if not path.exists():
        return {}
    return {name: int(pid) for name, pid in (line.split() for line in path.read_text().splitlines() if line)}


def wait_healthy(url: str, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(1)
    raise RuntimeError(f"{url} not healthy after {seconds:.0f} s")


def parse_time(value: str) -> float:
    return datetime.fromisoformat(value).timestamp()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=300, help="how long the users write")
    parser.add_argument("--every", type=float, default=15.0, help="seconds between a user's messages")
    parser.add_argument("--kills", default="rasa,action_server,gateway")
    args = parser.parse_args()
    telegram = FakeTelegram()
    fake = ThreadedServer(fake_telegram_app(telegram)).start()
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp)
        settings = settings_on_free_ports(
            data,
            TELEGRAM_BOT_TOKEN=telegram.token,
            TELEGRAM_WEBHOOK_URL="http://127.0.0.1:{port}/webhooks/telegram",
            TELEGRAM_SECRET_TOKEN=SECRET,
            TELEGRAM_API_BASE_URL=f"{fake.url}/bot",
            SPORTELLO_MESSAGES_PER_MINUTE=1_000_000,
        )
        environment = {**os.environ, **settings.as_environment()}
        log = (data / "run.log").open("wb")
        run = subprocess.Popen(
            [sys.executable, "-m", "bot", "run"], cwd=PROJECT, env=environment, stdout=log, stderr=log
        )
        try:
            print("starting the assistant (python -m bot run) ...", flush=True)
            wait_healthy(f"http://127.0.0.1:{settings.port}/healthz", 400)
            kills = experiment(args, telegram, settings.port, data)
            report(args, telegram, data, kills)
        finally:
            run.send_signal(signal.SIGINT)
            try:
                run.wait(60)
            except subprocess.TimeoutExpired:
                run.kill()
            log.close()
            restarts = [line for line in (data / "run.log").read_text().splitlines() if "restart" in line]
            print("make run said:\n  " + "\n  ".join(restarts))
            fake.stop()
    return 0


Kills = list[tuple[str, float]]  # (process name, when it was killed)


def experiment(args: argparse.Namespace, telegram: FakeTelegram, port: int, data: Path) -> Kills:
    """The users write for ``--seconds``; the kills are spread over the first two thirds."""
    url = f"http://127.0.0.1:{port}/webhooks/telegram"
    texts = questions()
    started = time.monotonic()
    until = started + args.seconds
    users = [TelegramUser(id=700000 + i, language_code=None) for i in range(args.users)]
    results: dict[int, list[int]] = {}

    def write(user: TelegramUser) -> None:
        time.sleep((user.id % args.users) * args.every / args.users)  # spread the users out
        results[user.id] = user_writes(url, telegram, user, texts, args.every, until)

    threads = [threading.Thread(target=write, args=(user,)) for user in users]
    for thread in threads:
        thread.start()
    names = [name for name in args.kills.split(",") if name]
    kills: Kills = []
    for index, name in enumerate(names):
        at = started + args.seconds * (index + 1) / (len(names) + 1) * 0.8
        time.sleep(max(0.0, at - time.monotonic()))
        pid = pids(data).get(name)
        if pid is None:
            print(f"no pid for {name} in run.pids", flush=True)
            continue
        os.killpg(pid, signal.SIGKILL)
        kills.append((name, time.monotonic()))
        print(f"{time.monotonic() - started:6.1f} s  kill -9 {name} (pid {pid})", flush=True)
    for thread in threads:
        thread.join()
    TRAFFIC.order = results
    print(f"{time.monotonic() - started:6.1f} s  traffic over: {len(TRAFFIC.acked)} messages acknowledged, "
          f"{TRAFFIC.refused} deliveries refused and sent again", flush=True)
    wait_answered(data, telegram, deadline=time.monotonic() + 600)
    return kills


def answered_ids(data: Path) -> dict[str, float]:
    """platform id (update id) -> when the gateway finished it, for answered inbox rows."""
    with sqlite3.connect(data / "sportello.db", timeout=30) as db:
        rows = db.execute(
            "select platform_id, processed_at from inbox where channel = 'telegram' and status = 'done'"
        ).fetchall()
    return {pid: parse_time(at) for pid, at in rows}


def unsent(data: Path) -> int:
    with sqlite3.connect(data / "sportello.db", timeout=30) as db:
        return int(db.execute("select count(*) from outbox where status = 'pending'").fetchone()[0])


def wait_answered(data: Path, telegram: FakeTelegram, deadline: float) -> None:
    while time.monotonic() < deadline:
        done = answered_ids(data)
        if all(str(u) in done for u in TRAFFIC.acked) and unsent(data) == 0:
            return
        time.sleep(2)


def report(args: argparse.Namespace, telegram: FakeTelegram, data: Path, kills: Kills) -> None:
    done = answered_ids(data)
    acked = TRAFFIC.acked
    lost = [u for u in acked if str(u) not in done]
    with sqlite3.connect(data / "rasa_tracker.db", timeout=30) as tracker:
        events = tracker.execute(
            "select sender_id, type_name, data from events where type_name in ('user', 'bot') order by id"
        ).fetchall()
    answers: Counter[str] = Counter()  # message id -> answers Rasa produced for it
    sequence: dict[str, list[int]] = {}  # sender -> message ids in the order Rasa answered them
    current: dict[str, str | None] = {}
    for sender, kind, raw in events:
        event = json.loads(raw)
        if kind == "user":
            current[sender] = event.get("message_id")
        elif current.get(sender):
            message_id = str(current.pop(sender))
            answers[message_id] += 1
            if message_id.isdigit():
                sequence.setdefault(sender, []).append(int(message_id))
    duplicated = [m for m, n in answers.items() if n > 1]
    out_of_order = [s for s, ids in sequence.items() if ids != sorted(ids)]
    with sqlite3.connect(data / "sportello.db", timeout=30) as db:
        # a long reply goes as several Telegram messages: parts_sent + 1 of them once it is sent
        sent = dict(
            db.execute(
                "select user_key, sum(parts_sent + 1) from outbox where status = 'sent' "
                "and channel = 'telegram' group by user_key"
            ).fetchall()
        )
    at_telegram = {f"telegram:{chat}": len(telegram.texts(chat)) for chat in TRAFFIC.order}
    extra = sum(max(0, n - sent.get(user, 0)) for user, n in at_telegram.items())
    print()
    print(f"users {args.users}, messages acknowledged {len(acked)}, answered {len(acked) - len(lost)}")
    print(f"lost (not answered 10 minutes after the traffic): {len(lost)}")
    print(f"duplicated processing (Rasa answered a message twice): {len(duplicated)}")
    print(f"duplicated delivery (more at Telegram than sent): {extra}")
    print(f"users answered out of order: {len(out_of_order)}")
    for index, (name, at) in enumerate(kills):
        until = kills[index + 1][1] if index + 1 < len(kills) else float("inf")
        wall = time.time() - time.monotonic()  # processed_at is wall-clock time
        # the backlog of this kill: acknowledged before the next kill, answered after this one
        since = [u for u, when in acked.items() if when < until and done.get(str(u), 0) >= at + wall]
        if not since:
            print(f"after kill -9 {name}: nothing waited")
            continue
        last = max(done[str(u)] for u in since) - (at + wall)
        print(f"after kill -9 {name}: {len(since)} messages waited, the last answered {last:.0f} s after")


if __name__ == "__main__":
    sys.exit(main())
