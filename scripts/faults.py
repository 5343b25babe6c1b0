"""Fault-injection benchmark: Telegram traffic while processes are killed, then count what was lost.

    .venv/bin/python scripts/faults.py [--users 50] [--seconds 240] [--kills rasa,action_server,gateway]
    .venv/bin/python scripts/faults.py --scaled [--handoffs 10] [--intake]
        [--kills rasa,action_server,gateway_2,postgres,redis]

Without --scaled it runs ``python -m bot run`` (what ``make run`` runs: every process, embedded
SQLite, restarts on a crash) with Telegram on a webhook against a local fake Bot API. U users write
one message every few seconds each, through the webhook, as Telegram does: a delivery that is not
acknowledged with 200 is sent again until it is. During the traffic the script kills -9, one after
another, the processes named in --kills (pids from ``run.pids``), and after the traffic it waits for
every acknowledged message to be answered. It prints, from the gateway's inbox and outbox, Rasa's
tracker and the fake Telegram:
  - lost: acknowledged messages never answered (no reply reached Telegram);
  - duplicated processing: a message whose answer Rasa produced twice;
  - duplicated delivery: more messages at Telegram than replies sent;
  - out of order: a user's messages answered in another order than written;
  - per kill, how long until every message acknowledged since the kill was answered.

With --scaled, the desk as a city that outgrew SQLite runs it: two gateways and two Rasa servers on a
fresh PostgreSQL database and Redis, each process restarted when it dies (as systemd does; ``Restarts``),
the deliveries spread over both gateways (as a load balancer does, the other one when one does not
answer). The faults are kill -9 of any process (``rasa``, ``rasa_2``, ``action_server``, ``gateway``,
``gateway_2``, ``workers``), ``postgres`` (the server restarted), ``postgres_crash`` (stopped as a crash
stops it, then started) and ``redis`` (stopped for 30 s). --handoffs users
start by asking for a person (city button, consent button, a few words): it also prints the tickets opened
twice for one user. With --intake as well, the gateways only store and acknowledge
(``SPORTELLO_INTAKE_PROCESS``) and one workers process answers and sends, committing without waiting
for the disk (``SPORTELLO_WORKERS_ASYNC_COMMIT``); ``workers`` joins the default faults.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))

from sqlalchemy import create_engine, text  # noqa: E402

from bot.ops.nlu_data import ordinary_questions  # noqa: E402
from bot.ops.processes import (  # noqa: E402
    Restarts,
    Stack,
    ensure_model,
    free_port,
    settings_on_free_ports,
)
from tests.fakes.fake_telegram import FakeTelegram, TelegramUser, fake_telegram_app  # noqa: E402
from tests.helpers.databases import fresh_postgres  # noqa: E402
from tests.helpers.stack import telegram_webhook_settings  # noqa: E402
from tests.helpers.threaded_server import ThreadedServer  # noqa: E402

SECRET = "faults-secret"


@dataclass
class Traffic:
    """What the users sent and when each delivery was acknowledged."""

    acked: dict[int, float] = field(default_factory=dict)  # update_id -> when the 200 came
    order: dict[int, list[int]] = field(default_factory=dict)  # chat id -> update ids in writing order
    refused: int = 0  # deliveries answered with something else than 200, or not at all (sent again)
    lock: threading.Lock = field(default_factory=threading.Lock)


@dataclass
class Desk:
    """The assistant under test: where to deliver, how to inject each fault, where its tables are."""

    webhooks: list[str]  # one per gateway
    database_url: str  # the gateway's tables
    tracker_url: str  # Rasa's events
    faults: dict[str, Callable[[], None]]


def questions() -> list[str]:
    return ordinary_questions(PROJECT / "nlu", per_topic=8)


def deliver(urls: list[str], update: dict[str, Any], traffic: Traffic, stop_at: float) -> None:
    """POST one update until a gateway acknowledges it (as Telegram retries a failing webhook; with two
    gateways behind a balancer, a refused delivery goes to the other one next)."""
    body = json.dumps(update).encode()
    headers = {"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": SECRET}
    attempt = update["update_id"]
    while time.monotonic() < stop_at:
        url = urls[attempt % len(urls)]
        attempt += 1
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
    urls: list[str], telegram: FakeTelegram, user: TelegramUser, texts: list[str], every: float, until: float
) -> list[int]:
    sent: list[int] = []
    index = user.id % len(texts)
    while time.monotonic() < until:
        update = telegram.text_message(texts[index % len(texts)], user=user)
        sent.append(update["update_id"])
        deliver(urls, update, TRAFFIC, until + 180)
        index += 1
        time.sleep(every)
    return sent


HANDOFF_ASK = "vorrei parlare con una persona dello sportello"
HANDOFF_WORDS = "il padrone di casa mi ha detto che devo lasciare la casa entro la settimana prossima"


def button_shown(telegram: FakeTelegram, chat: int, callback: str) -> bool:
    return any(
        key.get("callback_data") == callback
        for message in telegram.sent[chat]
        for row in message.get("reply_markup", {}).get("inline_keyboard", [])
        for key in row
    )


def wait_until(condition: Callable[[], bool], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.5)
    return False


def asks_for_a_person(urls: list[str], telegram: FakeTelegram, user: TelegramUser, until: float) -> list[int]:
    """A person asks for a person: the city's button, the consent's button, a few words (a ticket)."""
    sent: list[int] = []

    def send(update: dict[str, Any]) -> None:
        sent.append(update["update_id"])
        deliver(urls, update, TRAFFIC, until + 180)

    send(telegram.text_message(HANDOFF_ASK, user=user))
    for callback in ("c:caserta", "i:affirm"):
        if not wait_until(lambda c=callback: button_shown(telegram, user.id, c), 240):  # type: ignore[misc]
            print(f"user {user.id}: no {callback} button", flush=True)
            return sent
        shown = len(telegram.sent[user.id])
        send(telegram.callback_query(callback, user=user))
        wait_until(lambda n=shown: len(telegram.sent[user.id]) > n, 240)  # type: ignore[misc]
    send(telegram.text_message(HANDOFF_WORDS, user=user))
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


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=300, help="how long the users write")
    parser.add_argument("--every", type=float, default=15.0, help="seconds between a user's messages")
    parser.add_argument("--kills", default="")
    parser.add_argument("--scaled", action="store_true", help="2 gateways, 2 Rasa servers, PostgreSQL, Redis")
    parser.add_argument("--handoffs", type=int, default=0, help="users who start by asking for a person")
    parser.add_argument(
        "--intake", action="store_true", help="with --scaled: intake gateways and a workers process"
    )
    args = parser.parse_args()
    if args.intake and not args.scaled:
        parser.error("--intake needs --scaled (the split runs on PostgreSQL)")
    if args.scaled:
        default = "rasa,action_server," + ("workers," if args.intake else "") + "gateway_2,postgres,redis"
    else:
        default = "rasa,action_server,gateway"
    args.kills = args.kills or default
    telegram = FakeTelegram()
    fake = ThreadedServer(fake_telegram_app(telegram)).start()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            started = (
                scaled_desk(telegram, fake.url, Path(tmp), args.intake)
                if args.scaled
                else make_run(telegram, fake.url, Path(tmp))
            )
            with started as desk:
                kills = experiment(args, telegram, desk)
                report(args, telegram, desk, kills)
    finally:
        fake.stop()
    return 0


def channel_settings(telegram: FakeTelegram, fake_url: str) -> dict[str, object]:
    telegram_on = telegram_webhook_settings(telegram.token, fake_url, SECRET)
    return {**telegram_on, "SPORTELLO_MESSAGES_PER_MINUTE": 1_000_000}


@contextlib.contextmanager
def make_run(telegram: FakeTelegram, fake_url: str, data: Path) -> Iterator[Desk]:
    """``python -m bot run`` on SQLite: its own restarts; the faults kill its processes (run.pids)."""
    settings = settings_on_free_ports(data, **channel_settings(telegram, fake_url))
    environment = {**os.environ, **settings.as_environment()}
    log = (data / "run.log").open("wb")
    run = subprocess.Popen(
        [sys.executable, "-m", "bot", "run"], cwd=PROJECT, env=environment, stdout=log, stderr=log
    )

    def kill(name: str) -> None:
        os.killpg(pids(data)[name], signal.SIGKILL)

    try:
        print("starting the assistant (python -m bot run) ...", flush=True)
        wait_healthy(f"http://127.0.0.1:{settings.port}/healthz", 400)
        yield Desk(
            [f"http://127.0.0.1:{settings.port}/webhooks/telegram"],
            f"sqlite:///{data / 'sportello.db'}",
            f"sqlite:///{data / 'rasa_tracker.db'}",
            {name: functools.partial(kill, name) for name in ("rasa", "action_server", "gateway")},
        )
    finally:
        run.send_signal(signal.SIGINT)
        try:
            run.wait(60)
        except subprocess.TimeoutExpired:
            run.kill()
        log.close()
        restarts = [line for line in (data / "run.log").read_text().splitlines() if "restart" in line]
        print("make run said:\n  " + "\n  ".join(restarts))


POSTGRES_VERSION = next(iter(sorted(p.name for p in Path("/etc/postgresql").glob("*"))), "15")
PG_CTL = ["pg_ctlcluster", "--skip-systemctl-redirect", POSTGRES_VERSION, "main"]
REDIS_START = [
    "redis-server", "--daemonize", "yes", "--bind", "127.0.0.1", "-::1", "--port", "6379", "--save", "",
    "--appendonly", "no", "--dir", "/var/lib/redis", "--logfile", "/var/log/redis/ci.log",
]  # fmt: skip
REDIS_DOWN_SECONDS = 30.0


def restart_postgres() -> None:
    subprocess.run([*PG_CTL, "restart"], check=True, capture_output=True)


def crash_postgres() -> None:
    """PostgreSQL stopped as a crash stops it (``-m immediate``: no checkpoint, the WAL buffers not yet
    written are gone), then started, which recovers from the WAL. What an asynchronous commit had not
    yet flushed is lost here, and nowhere else in this benchmark."""
    subprocess.run([*PG_CTL, "stop", "-m", "immediate"], check=True, capture_output=True)
    subprocess.run([*PG_CTL, "start"], check=True, capture_output=True)


def redis_answers() -> bool:
    found = subprocess.run(["redis-cli", "-p", "6379", "ping"], capture_output=True, text=True)
    return found.stdout.strip() == "PONG"


def stop_redis_for_a_while() -> None:
    """Redis down for 30 s, then started again (in the background: the traffic goes on)."""
    subprocess.run(["redis-cli", "-p", "6379", "shutdown", "nosave"], capture_output=True)

    def start_again() -> None:
        time.sleep(REDIS_DOWN_SECONDS)
        subprocess.run(REDIS_START, check=True, capture_output=True)

    threading.Thread(target=start_again, daemon=True).start()


@contextlib.contextmanager
def scaled_desk(telegram: FakeTelegram, fake_url: str, data: Path, intake: bool) -> Iterator[Desk]:
    """Two gateways and two Rasa servers on PostgreSQL and Redis; a process that dies is started again
    after its backoff, as systemd would (``Restarts``, the same policy ``make run`` uses). ``intake``:
    the two gateways store and acknowledge, a workers process of its own answers."""
    split = {"SPORTELLO_INTAKE_PROCESS": True, "SPORTELLO_WORKERS_ASYNC_COMMIT": True} if intake else {}
    with fresh_postgres() as url:
        settings = settings_on_free_ports(
            data,
            DATABASE_URL=url,
            SPORTELLO_TRACKER_URL=url,
            SPORTELLO_REDIS_URL="redis://127.0.0.1:6379/0",
            SPORTELLO_REDIS_PREFIX=f"sportello-faults-{os.getpid()}:",
            SPORTELLO_RASA_SERVERS=2,
            SPORTELLO_WORKERS_PORT=free_port(),
            **split,
            **channel_settings(telegram, fake_url),
        )
        log = (data / "processes.log").open("wb")
        stack = Stack(settings, settings.model_path or ensure_model(), log=log)
        port = free_port()
        second = stack.another_gateway("gateway 2", port)
        processes = [*stack.services, second]
        restarts = Restarts(processes, log=log, say=lambda line: print(f"  {line}", flush=True))
        watching = threading.Event()

        def watch() -> None:
            while not watching.wait(0.5):
                restarts.tick()

        def kill(name: str) -> None:
            service = next(s for s in processes if s.name == name.replace("_", " "))
            assert service.process is not None
            os.killpg(service.process.pid, signal.SIGKILL)

        faults: dict[str, Callable[[], None]] = {
            s.name.replace(" ", "_"): functools.partial(kill, s.name) for s in processes
        }
        faults |= {
            "postgres": restart_postgres,
            "postgres_crash": crash_postgres,
            "redis": stop_redis_for_a_while,
        }
        watcher = threading.Thread(target=watch, daemon=True)
        try:
            print(
                "starting 2 Rasa servers, the action server and 2 gateways (PostgreSQL, Redis) ...",
                flush=True,
            )
            stack.start(timeout=600)
            second.start(log)
            stack.wait_healthy(second, time.monotonic() + 120)
            watcher.start()
            gateways = [settings.port, port]
            yield Desk([f"http://127.0.0.1:{p}/webhooks/telegram" for p in gateways], url, url, faults)
        finally:
            watching.set()
            if watcher.is_alive():
                watcher.join()
            second.stop()
            stack.stop()
            log.close()
            if not redis_answers():
                wait_until(redis_answers, REDIS_DOWN_SECONDS + 5) or subprocess.run(REDIS_START, check=False)


Kills = list[tuple[str, float]]  # (process name, when it was killed)


def experiment(args: argparse.Namespace, telegram: FakeTelegram, desk: Desk) -> Kills:
    """The users write for ``--seconds``; the faults are spread over the first two thirds."""
    texts = questions()
    started = time.monotonic()
    until = started + args.seconds
    users = [TelegramUser(id=700000 + i, language_code=None) for i in range(args.users)]
    results: dict[int, list[int]] = {}

    def write(user: TelegramUser) -> None:
        time.sleep((user.id % args.users) * args.every / args.users)  # spread the users out
        first = (
            asks_for_a_person(desk.webhooks, telegram, user, until)
            if user.id % args.users < args.handoffs
            else []
        )
        results[user.id] = first + user_writes(desk.webhooks, telegram, user, texts, args.every, until)

    threads = [threading.Thread(target=write, args=(user,)) for user in users]
    for thread in threads:
        thread.start()
    names = [name for name in args.kills.split(",") if name]
    kills: Kills = []
    for index, name in enumerate(names):
        at = started + args.seconds * (index + 1) / (len(names) + 1) * 0.8
        time.sleep(max(0.0, at - time.monotonic()))
        if name not in desk.faults:
            print(f"no fault called {name} (known: {', '.join(desk.faults)})", flush=True)
            continue
        desk.faults[name]()
        kills.append((name, time.monotonic()))
        what = name if name in ("postgres", "postgres_crash", "redis") else f"kill -9 {name}"
        print(f"{time.monotonic() - started:6.1f} s  {what}", flush=True)
    for thread in threads:
        thread.join()
    TRAFFIC.order = results
    print(
        f"{time.monotonic() - started:6.1f} s  traffic over: {len(TRAFFIC.acked)} messages acknowledged, "
        f"{TRAFFIC.refused} deliveries refused and sent again",
        flush=True,
    )
    wait_answered(desk, deadline=time.monotonic() + 600)
    return kills


def parse_time(value: str | datetime) -> float:
    return (value if isinstance(value, datetime) else datetime.fromisoformat(value)).timestamp()


def query(url: str, sql: str) -> list[Any]:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return list(connection.execute(text(sql)).all())
    finally:
        engine.dispose()


def answered_ids(desk: Desk) -> dict[str, float]:
    """platform id (update id) -> when the gateway finished it, for answered inbox rows."""
    rows = query(
        desk.database_url,
        "select platform_id, processed_at from inbox where channel = 'telegram' and status = 'done'",
    )
    return {pid: parse_time(at) for pid, at in rows}


def parked_ids(desk: Desk) -> set[str]:
    """Acknowledged messages the gateway gave up on (the user got an apology and the person button)."""
    rows = query(desk.database_url, "select platform_id from inbox where status = 'parked'")
    return {pid for (pid,) in rows}


def unsent(desk: Desk) -> int:
    return int(query(desk.database_url, "select count(*) from outbox where status = 'pending'")[0][0])


def wait_answered(desk: Desk, deadline: float) -> None:
    while time.monotonic() < deadline:
        try:
            finished = set(answered_ids(desk)) | parked_ids(desk)
            if all(str(u) in finished for u in TRAFFIC.acked) and unsent(desk) == 0:
                return
        except Exception as exc:  # noqa: BLE001 - the database restarting: look again
            print(f"  (database not readable yet: {type(exc).__name__})", flush=True)
        time.sleep(2)


def report(args: argparse.Namespace, telegram: FakeTelegram, desk: Desk, kills: Kills) -> None:
    done = answered_ids(desk)
    parked = parked_ids(desk)
    acked = TRAFFIC.acked
    lost = [u for u in acked if str(u) not in done]
    events = query(
        desk.tracker_url,
        "select sender_id, type_name, data from events where type_name in ('user', 'bot') order by id",
    )
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
    # a long reply goes as several Telegram messages: parts_sent + 1 of them once it is sent
    sent = dict(
        query(
            desk.database_url,
            "select user_key, sum(parts_sent + 1) from outbox where status = 'sent' "
            "and channel = 'telegram' group by user_key",
        )
    )
    at_telegram = {f"telegram:{chat}": len(telegram.texts(chat)) for chat in TRAFFIC.order}
    extra = sum(max(0, n - int(sent.get(user, 0))) for user, n in at_telegram.items())
    tickets, ticket_users = query(
        desk.database_url, "select count(*), count(distinct user_ref) from tickets"
    )[0]
    print()
    print(f"users {args.users}, messages acknowledged {len(acked)}, answered {len(acked) - len(lost)}")
    print(f"lost (not answered 10 minutes after the traffic): {len(lost)}, of which parked with an apology: "
          f"{len([u for u in lost if str(u) in parked])}")
    print(f"duplicated processing (Rasa answered a message twice): {len(duplicated)}")
    print(f"duplicated delivery (more at Telegram than sent): {extra}")
    print(f"users answered out of order: {len(out_of_order)}")
    if args.handoffs:
        print(
            f"tickets: {tickets} for {ticket_users} of {args.handoffs} users who asked for a person; "
            f"opened twice: {tickets - ticket_users}"
        )
    for index, (name, at) in enumerate(kills):
        until = kills[index + 1][1] if index + 1 < len(kills) else float("inf")
        wall = time.time() - time.monotonic()  # processed_at is wall-clock time
        # the backlog of this fault: acknowledged before the next one, answered after this one
        since = [u for u, when in acked.items() if when < until and done.get(str(u), 0) >= at + wall]
        if not since:
            print(f"after {name}: nothing waited")
            continue
        last = max(done[str(u)] for u in since) - (at + wall)
        print(f"after {name}: {len(since)} messages waited, the last answered {last:.0f} s after")


if __name__ == "__main__":
    sys.exit(main())
