"""The gateway's handoff: consent signal -> ticket with the conversation, held tickets, /status, /forget."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine as create_sync_engine
from sqlalchemy import inspect, text

from bot.catalog import PROJECT_DIR, load_catalog
from bot.channels.base import InboundMessage
from bot.db import create_engine, migrate
from bot.detection import make_policy
from bot.gateway.conversation import Conversations
from bot.handoff import Handoff, add_working_days
from bot.i18n import Translations
from bot.knowledge import KnowledgeStore
from bot.mailbox import Mailbox, utcnow
from bot.profiles import SqlProfileStore
from bot.tickets.events import TicketEvents
from bot.tickets.mediators import MediatorStore
from bot.tickets.model import Role, Status
from bot.tickets.store import QueueFilter, TicketStore
from bot.tracker import RasaTracker
from tests.helpers.fakes import ScriptedEngine, control

USER = "telegram:777"
WORDS = "my landlord wants me out on Monday"


def rasa_tracker(path: Path) -> RasaTracker:
    """A tracker file with Rasa 3.6's events table and a short conversation."""
    connection = sqlite3.connect(path)
    connection.execute(
        "create table events (id integer primary key, sender_id varchar(255), type_name "
        "varchar(255), timestamp float, intent_name varchar(255), action_name varchar(255), "
        "data text)"
    )
    for kind, said in (
        ("user", "I got a sfratto letter"),
        ("bot", "Here is what to do now"),
        ("user", "/ask_human"),
    ):
        connection.execute(
            "insert into events (sender_id, type_name, timestamp, data) values (?, ?, ?, ?)",
            (USER, kind, time.time(), json.dumps({"text": said})),
        )
    connection.commit()
    connection.close()
    return RasaTracker(path)


@pytest.fixture()
async def world(tmp_path: Path) -> tuple[Conversations, ScriptedEngine, TicketStore, MediatorStore, str]:
    url = f"sqlite:///{tmp_path / 'gateway.db'}"
    migrate(url)
    engine = create_engine(url)
    tickets, mediators = TicketStore(engine), MediatorStore(engine)
    profiles = SqlProfileStore(engine)
    handoff = Handoff(
        tickets=tickets,
        tracker=rasa_tracker(tmp_path / "tracker.db"),
        events=TicketEvents(),
        mailbox=Mailbox(engine),
        profiles=profiles,
        translations=Translations(),
        catalog=load_catalog(PROJECT_DIR),
        knowledge=KnowledgeStore(PROJECT_DIR / "knowledge"),
    )
    script = ScriptedEngine()
    conversations = Conversations(script, profiles, make_policy(), load_catalog(PROJECT_DIR), handoff)
    return conversations, script, tickets, mediators, url


def said(text: str) -> InboundMessage:
    return InboundMessage("telegram", "777", text, language_hint="en", city=None)


async def consent(conversations: Conversations, script: ScriptedEngine) -> None:
    script.script = [
        [control(city="caserta")],
        [
            {"recipient_id": USER, "text": "Write a few words"},
            control(handoff={"topic": "eviction", "urgent": True}),
        ],
    ]
    await conversations.handle(said('/choose_city{"city":"caserta"}'))
    await conversations.handle(said("/affirm"))


async def test_consent_then_few_words_open_a_ticket_with_the_conversation(world: tuple) -> None:
    conversations, script, tickets, mediators, _ = world
    await consent(conversations, script)
    result = await conversations.handle(said(WORDS))
    assert script.seen == ['/choose_city{"city":"caserta"}', "/affirm"], "the few words never reach Rasa"
    year = utcnow().year
    assert f"CE-{year}-0001" in result.replies[0].text and "Caserta" in result.replies[0].text
    assert "112" in result.replies[1].text  # urgent
    amal = await mediators.add("amal@x.it", "Amal", Role.MEDIATOR, ["caserta"], ["ar"], "a long password 1")
    [ticket] = await tickets.queue(amal, QueueFilter())
    full = await tickets.get(ticket.id)
    assert full.urgent and full.topic == "eviction" and full.language == "en"
    assert [e.text for e in full.transcript] == ["I got a sfratto letter", "Here is what to do now", WORDS]
    assert full.due_at - full.created_at <= timedelta(hours=4)


async def test_held_ticket_takes_the_users_messages_and_the_bot_is_quiet(world: tuple) -> None:
    conversations, script, tickets, mediators, _ = world
    await consent(conversations, script)
    await conversations.handle(said(WORDS))
    amal = await mediators.add("amal@x.it", "Amal", Role.MEDIATOR, ["caserta"], ["ar"], "a long password 1")
    ticket_id = f"CE-{utcnow().year}-0001"
    await tickets.claim(amal, ticket_id)
    result = await conversations.handle(said("thank you, I am at home now"))
    assert result.replies == [] and script.seen[-1] == "/affirm"
    assert (await tickets.get(ticket_id)).transcript[-1].text == "thank you, I am at home now"
    status = await conversations.handoff.status(USER, "en")  # type: ignore[union-attr]
    assert ticket_id in status[0].text


async def test_forget_leaves_no_row_with_the_users_text_or_id(world: tuple, tmp_path: Path) -> None:
    conversations, script, tickets, _, url = world
    await consent(conversations, script)
    await conversations.handle(said(WORDS))
    mailbox = conversations.handoff.mailbox  # type: ignore[union-attr]
    await mailbox.receive(InboundMessage("telegram", "777", WORDS, platform_id="u1"))
    script.script = [[{"recipient_id": USER, "text": "Done"}, control(forget=True)]]
    result = await conversations.handle(said("/affirm"))
    assert result.forgotten
    engine = create_sync_engine(url)
    with engine.connect() as connection:
        for table in inspect(engine).get_table_names():
            for row in connection.execute(text(f"select * from {table}")):
                flat = " ".join(str(v) for v in row)
                assert "777" not in flat and WORDS not in flat and "sfratto" not in flat, (table, flat)
    tracker = sqlite3.connect(tmp_path / "tracker.db")
    assert tracker.execute("select count(*) from events where sender_id = ?", (USER,)).fetchone() == (0,)
    ticket = await tickets.get(f"CE-{utcnow().year}-0001")
    assert (ticket.city, ticket.topic, ticket.status) == ("caserta", "eviction", Status.CLOSED)


def test_working_days_skip_the_weekend() -> None:
    friday = datetime(2026, 11, 27, 10, 0)
    assert add_working_days(friday, 2).weekday() == 1  # Tuesday


async def test_staff_group_is_told_of_a_new_ticket_without_personal_data(world: tuple) -> None:
    conversations, script, _, _, _ = world
    handoff = conversations.handoff
    assert handoff is not None
    handoff.staff_chat = "telegram:-100200300"
    handoff.dashboard_url = "https://sportello.example"
    await consent(conversations, script)
    await conversations.handle(said(WORDS))
    [row] = await handoff.mailbox.outbox_rows("telegram:-100200300")
    ticket_id = f"CE-{utcnow().year}-0001"
    assert f"https://sportello.example/dashboard/tickets/{ticket_id}" in row.text
    assert WORDS not in row.text and "777" not in row.text


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
