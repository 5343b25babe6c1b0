"""Start the real assistant (Rasa + action server + gateway) for end-to-end tests."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from bot.ops.processes import Stack, start_on_free_ports


def start_stack(data_dir: Path, log: IO[bytes], knowledge_dir: Path | None = None) -> Stack:
    extra = {"SPORTELLO_KNOWLEDGE_DIR": str(knowledge_dir)} if knowledge_dir else {}
    return start_on_free_ports(data_dir, log, extra)


def wait_for(condition: Callable[[], Any], seconds: float = 40, what: str = "") -> Any:
    """Poll ``condition`` until it returns something truthy (the processes work in the background)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


SESSIONS: dict[tuple[int, str], str] = {}  # (port, the test's label for a user) -> the server's token


def chat(port: int, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """POST /api/chat with the standard library, as an API client does: the session token the server
    issued for this ``user`` label goes back in ``X-Sportello-Session``."""
    key = (port, str(body.get("user", "")))
    headers = {"Content-Type": "application/json"}
    if key in SESSIONS:
        headers["X-Sportello-Session"] = SESSIONS[key]
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/chat", data=json.dumps(body).encode(), headers=headers
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            SESSIONS[key] = response.headers.get("X-Sportello-Session") or SESSIONS.get(key, "")
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def post_telegram_update(url: str, update: dict[str, Any], secret: str) -> int:
    """Deliver one update to a gateway's Telegram webhook as Telegram does; the HTTP status."""
    request = urllib.request.Request(
        url,
        data=json.dumps(update).encode(),
        headers={"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": secret},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return int(response.status)


def telegram_webhook_settings(token: str, api_url: str, secret: str) -> dict[str, object]:
    """Settings overrides for Telegram on a webhook to the gateway's own port (``{port}``) against a
    local fake Bot API at ``api_url``."""
    return {
        "TELEGRAM_BOT_TOKEN": token,
        "TELEGRAM_WEBHOOK_URL": "http://127.0.0.1:{port}/webhooks/telegram",
        "TELEGRAM_SECRET_TOKEN": secret,
        "TELEGRAM_API_BASE_URL": f"{api_url}/bot",
    }
