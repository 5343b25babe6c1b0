"""The command line, as staff and cron run it."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.request
from datetime import timedelta
from pathlib import Path

from sqlalchemy import create_engine, text

from bot.adapters.sql.database import migrate
from bot.core.clock import utcnow
from bot.core.settings import PROJECT_DIR
from bot.ops.processes import free_port


def test_retention_purge_command(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot", "tickets", "purge", "--days", "180"],
        capture_output=True,
        text=True,
        cwd=PROJECT_DIR,
        env={"SPORTELLO_DATA_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 0, result.stderr
    assert "purged the transcripts of 0 closed tickets older than 180 days" in result.stdout


def test_process_without_the_shared_rasa_token_says_so(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot", "process", "rasa"],
        capture_output=True,
        text=True,
        cwd=PROJECT_DIR,
        env={"SPORTELLO_DATA_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 2
    assert "SPORTELLO_RASA_TOKEN is not set" in result.stderr


def test_process_actions_becomes_the_action_server_on_localhost(tmp_path: Path) -> None:
    """What a systemd unit runs: the same command and environment as ``make run``'s action server."""
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "bot", "process", "actions"],
        cwd=tmp_path,  # it finds the project itself
        env={
            "SPORTELLO_DATA_DIR": str(tmp_path),
            "SPORTELLO_ACTIONS_PORT": str(port),
            "SPORTELLO_RASA_TOKEN": "shared-token",
            "SPORTELLO_MODEL": str(tmp_path / "unused.tar.gz"),
            "PATH": "/usr/bin:/bin",
        },
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as response:
                    assert json.loads(response.read()) == {"status": "ok"}
                    break
            except OSError:
                assert server.poll() is None, "the action server exited"
                time.sleep(0.5)
        else:
            raise AssertionError("the action server did not answer in 60 s")
    finally:
        server.terminate()
        server.wait(15)


def test_retention_command_expires_old_missed_messages(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'sportello.db'}"
    migrate(url)
    old = utcnow() - timedelta(days=31)
    with create_engine(url).begin() as connection:
        for at in (old, utcnow()):
            connection.execute(
                text(
                    "insert into missed_messages (text, language, kind, confidence, at)"
                    " values ('boh', 'it', 'out_of_scope', 0, :at)"
                ),
                {"at": at},
            )
    result = subprocess.run(
        [sys.executable, "-m", "bot", "retention"],
        capture_output=True,
        text=True,
        cwd=PROJECT_DIR,
        env={"SPORTELLO_DATA_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 0, result.stderr
    assert "missed=1" in result.stdout
    with create_engine(url).connect() as connection:
        assert connection.execute(text("select count(*) from missed_messages")).scalar() == 1
