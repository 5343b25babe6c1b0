"""Start the real assistant (Rasa + action server + gateway) for end-to-end tests and benchmarks."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import IO, Any

from bot.catalog import PROJECT_DIR
from bot.processes import Stack, newest_model
from bot.settings import load_settings


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def ensure_model() -> Path:
    """Train when the training data changed (reused from the cache otherwise)."""
    subprocess.run([sys.executable, str(PROJECT_DIR / "scripts" / "ensure_model.py")], check=True)
    return newest_model(PROJECT_DIR / "models")


def start_stack(data_dir: Path, log: IO[bytes], knowledge_dir: Path | None = None) -> Stack:
    settings = load_settings(
        SPORTELLO_PORT=free_port(), SPORTELLO_RASA_PORT=free_port(),
        SPORTELLO_ACTIONS_PORT=free_port(), SPORTELLO_DATA_DIR=data_dir,
    )
    extra = {"SPORTELLO_KNOWLEDGE_DIR": str(knowledge_dir)} if knowledge_dir else {}
    stack = Stack(settings, ensure_model(), log=log, extra_env=extra)
    try:
        stack.start(timeout=400)
    except BaseException:
        stack.stop()
        raise
    return stack


def chat(port: int, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """POST /api/chat with the standard library (the tests' client is as plain as a browser)."""
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/chat", data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())
