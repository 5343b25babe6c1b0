"""Benchmark a long conversation: does a turn cost more as the history grows?

    .venv/bin/python scripts/bench_history.py [--turns 500] [--stores SQL,<ours>] [--url URL]

Without --url it starts its own assistant on free ports (the per-session limit lifted: one user sends
every turn). One web-chat user asks ordinary questions one after another (topic questions in Italian and
English, in a fixed cycle), and the script prints the median round trip of the first 20 turns and of
the last 20, and their ratio. Sessions that never end make Rasa read and replay the whole history on
every turn; the goal is a last-20 median within 15 % of the first-20 one.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))

from bot.ops.nlu_data import ordinary_questions  # noqa: E402
from bot.ops.processes import WINDOWED_TRACKER_STORE, running, settings_on_free_ports  # noqa: E402


def questions() -> list[str]:
    return ordinary_questions(PROJECT / "nlu", per_topic=6)


def turn(url: str, text: str, session: str) -> tuple[float, str]:
    headers = {"Content-Type": "application/json"}
    if session:
        headers["X-Sportello-Session"] = session
    body = json.dumps({"user": "long-conversation", "text": text}).encode()
    request = urllib.request.Request(f"{url}/api/chat", data=body, headers=headers)
    started = time.perf_counter()
    with urllib.request.urlopen(request, timeout=60) as response:
        response.read()
        token = response.headers.get("X-Sportello-Session", session)
    return (time.perf_counter() - started) * 1000, token


def converse(url: str, turns: int) -> list[float]:
    pool = questions()
    session, times = "", []
    for index in range(turns):
        elapsed, session = turn(url, pool[index % len(pool)], session)
        times.append(elapsed)
        if (index + 1) % 50 == 0:
            recent = statistics.median(times[-50:])
            print(f"  turn {index + 1}: median of the last 50 {recent:.0f} ms", flush=True)
    return times


def report(times: list[float]) -> None:
    first, last = statistics.median(times[:20]), statistics.median(times[-20:])
    print(f"turns 1-20: median {first:.0f} ms")
    print(f"turns {len(times) - 19}-{len(times)}: median {last:.0f} ms")
    print(f"last / first: {last / first:.2f} (goal: at most 1.15)")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--turns", type=int, default=500)
    parser.add_argument("--url", default="")
    parser.add_argument(
        "--stores",
        default=WINDOWED_TRACKER_STORE,
        help=f"comma-separated Rasa tracker store types to compare, e.g. SQL,{WINDOWED_TRACKER_STORE}",
    )
    args = parser.parse_args()
    if args.url:
        report(converse(args.url, args.turns))
        return 0
    for store in args.stores.split(","):
        os.environ["SPORTELLO_TRACKER_STORE"] = store  # read by bot.ops.processes.rasa_environment
        with tempfile.TemporaryDirectory() as tmp, open(Path(tmp) / "processes.log", "wb") as log:
            settings = settings_on_free_ports(Path(tmp), SPORTELLO_CHAT_PER_MINUTE=1_000_000)
            print(f"starting the assistant with the tracker store {store} ...", flush=True)
            with running(settings, log):
                report(converse(f"http://127.0.0.1:{settings.port}", args.turns))
    return 0


if __name__ == "__main__":
    sys.exit(main())
