"""The processes of ``make run``: each gets only the settings it needs."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.core.settings import gateway_only, load_settings
from bot.ops.processes import services

SECRETS = {
    "TELEGRAM_BOT_TOKEN": "123456:secret-bot-token",
    "TELEGRAM_SECRET_TOKEN": "webhook-secret",
    "WHATSAPP_ACCESS_TOKEN": "EAAsecret",
    "WHATSAPP_PHONE_NUMBER_ID": "106540352242922",
    "WHATSAPP_APP_SECRET": "app-secret",
    "WHATSAPP_VERIFY_TOKEN": "verify-secret",
    "DATABASE_URL": "postgresql://desk:password@127.0.0.1/desk",
    "STAFF_TELEGRAM_CHAT_ID": "-100200300",
}


def test_rasa_and_the_action_server_get_no_token_and_no_database_address(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)  # as a city's IT would set them, in the environment
    settings = load_settings(SPORTELLO_DATA_DIR=tmp_path, TELEGRAM_WEBHOOK_URL="https://desk.example/wh")
    by_name = {service.name: service.environment() for service in services(settings, tmp_path / "m.tar.gz")}
    for name in ("rasa", "action server"):
        environment = by_name[name]
        leaked = {k for k, v in environment.items() if gateway_only(k) or v in SECRETS.values()}
        assert leaked == set(), (name, leaked)
        assert "TELEGRAM_WEBHOOK_URL" not in environment  # a channel setting the actions cannot use
        assert environment["RASA_TELEMETRY_ENABLED"] == "false"
        assert environment["SPORTELLO_TRACKER_DB"] == str(tmp_path / "rasa_tracker.db")
    assert by_name["action server"]["SANIC_HOST"] == "127.0.0.1"
    assert {k: by_name["gateway"][k] for k in SECRETS} == SECRETS  # the gateway needs them all
    # the action server reads the same settings at start-up: without the channels they still load
    actions_settings = {k: v for k, v in by_name["action server"].items() if k.startswith("SPORTELLO_")}
    assert load_settings(**actions_settings).knowledge_dir == settings.knowledge_dir
