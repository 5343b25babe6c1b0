"""Benchmark one /api/chat round trip (gateway -> Rasa -> action server -> gateway).

    .venv/bin/python scripts/bench_chat.py [--messages 100] [--url http://127.0.0.1:8080]

Without --url it starts its own assistant on free ports (training the model if needed).
Messages are NLU examples from every language, sent one after another by 10 users.
Prints the median, 95th percentile and maximum round-trip time.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))

from bot.core.languages import LANGUAGES  # noqa: E402
from bot.ops.nlu_data import read_examples  # noqa: E402
from bot.ops.processes import start_on_free_ports  # noqa: E402


def messages(count: int) -> list[tuple[str, str]]:
    examples = read_examples(PROJECT / "nlu")
    pool = [(lang, text) for lang in LANGUAGES for texts in examples[lang].values() for text in texts[-2:]]
    step = max(len(pool) // count, 1)
    return pool[::step][:count]


SESSIONS: dict[str, str] = {}  # the benchmark's user label -> the session token the gateway issued


def post(url: str, body: dict[str, str]) -> float:
    headers = {"Content-Type": "application/json"}
    if body["user"] in SESSIONS:
        headers["X-Sportello-Session"] = SESSIONS[body["user"]]
    request = urllib.request.Request(f"{url}/api/chat", data=json.dumps(body).encode(), headers=headers)
    started = time.perf_counter()
    with urllib.request.urlopen(request, timeout=60) as response:
        response.read()
        assert response.status == 200
        SESSIONS[body["user"]] = response.headers.get("X-Sportello-Session", "")
    return (time.perf_counter() - started) * 1000


def run(url: str, count: int) -> None:
    post(url, {"user": "bench-warmup", "text": "ciao"})
    timings = [
        post(url, {"user": f"bench-{i % 10}", "text": text, "city": "caserta"})
        for i, (_, text) in enumerate(messages(count))
    ]
    timings.sort()
    p95 = timings[max(int(len(timings) * 0.95) - 1, 0)]
    print(
        f"{len(timings)} round trips: median {statistics.median(timings):.1f} ms, "
        f"p95 {p95:.1f} ms, max {timings[-1]:.1f} ms"
    )


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=100)
    parser.add_argument("--url")
    args = parser.parse_args()
    if args.url:
        run(args.url.rstrip("/"), args.messages)
        return 0
    with tempfile.TemporaryDirectory() as tmp, open(Path(tmp) / "processes.log", "wb") as log:
        print("starting the assistant ...", flush=True)
        stack = start_on_free_ports(Path(tmp), log)
        try:
            run(f"http://127.0.0.1:{stack.settings.port}", args.messages)
        finally:
            stack.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
