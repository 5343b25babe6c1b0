"""The review export: marked missed messages as ``nlu/<lang>/`` files, from a seeded database through
``python -m bot review export``, accepted by Rasa's own ``rasa data validate``."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import yaml

from bot.adapters.sql.database import create_engine, migrate
from bot.adapters.sql.missed import SqlMissedMessages
from bot.conversation.review import Review
from bot.core.catalog import load_catalog
from bot.core.messages import InboundMessage
from bot.core.overview import Miss, MissKind
from bot.core.settings import PROJECT_DIR, load_settings
from bot.core.tickets import Mediator, Role
from bot.ops.nlu_export import example_line, nlu_yaml
from bot.ops.processes import RASA_BIN, rasa_environment

COORDINATOR = Mediator(1, "c@example.org", "C", Role.COORDINATOR, ("caserta", "roma"), ("it",))
MARKED = {  # text, language, the topic staff chose (None: out of scope)
    "[codice fiscale](city) dove?": ("it", "tax_code"),
    "- dove faccio il cf: subito": ("it", "tax_code"),
    '# "permesso" scaduto {urgente}': ("it", "residence_permit_renewal"),
    "أريد الكودice فيسكالي 🙏": ("ar", "tax_code"),
    "what's the weather in Rome": ("en", None),
}


def test_an_example_is_one_line_without_entity_markup() -> None:
    assert example_line("[cf](city)\n dove {x}") == "cf (city) dove x"
    text = nlu_yaml({"tax_code": ["dove cf", "dove cf", "  "], "empty": [" "]})
    assert text == 'version: "3.1"\nnlu:\n- intent: tax_code\n  examples: |\n    - dove cf\n'


async def seed(url: str) -> None:
    migrate(url)
    engine = create_engine(url)
    try:
        review = Review(SqlMissedMessages(engine), tuple(load_catalog(PROJECT_DIR).topics))
        for n, (text, (language, _)) in enumerate(MARKED.items()):
            message = InboundMessage("telegram", "1", text, platform_id=str(n))
            await review.record(message, Miss(MissKind.NOT_UNDERSTOOD), language, "caserta")
        await review.record(
            InboundMessage("telegram", "1", "not marked yet"), Miss(MissKind.OUT_OF_SCOPE), "it", None
        )
        for message in await review.missed.undecided(COORDINATOR.cities, True):
            if message.text in MARKED:
                topic = MARKED[message.text][1]
                await review.mark(
                    COORDINATOR, [message.id], "example" if topic else "out_of_scope", topic or ""
                )
    finally:
        await engine.dispose()


def test_the_export_of_a_seeded_database_passes_rasa_data_validate(tmp_path: Path) -> None:
    settings = load_settings(SPORTELLO_DATA_DIR=tmp_path)
    asyncio.run(seed(settings.gateway_database_url))
    out = tmp_path / "export"
    exported = subprocess.run(
        [sys.executable, "-m", "bot", "review", "export", "--out", str(out)],
        capture_output=True,
        text=True,
        cwd=PROJECT_DIR,
        env={"SPORTELLO_DATA_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"},
        timeout=300,
    )
    assert exported.returncode == 0, exported.stderr
    assert sorted(p.parent.name for p in out.glob("*/review.yml")) == ["ar", "en", "it"]
    italian = yaml.safe_load((out / "it" / "review.yml").read_text(encoding="utf-8"))
    intents = {block["intent"]: block["examples"] for block in italian["nlu"]}
    assert sorted(intents) == ["residence_permit_renewal", "tax_code"]
    assert "not marked yet" not in (out / "it" / "review.yml").read_text(encoding="utf-8")
    english = yaml.safe_load((out / "en" / "review.yml").read_text(encoding="utf-8"))
    assert [block["intent"] for block in english["nlu"]] == ["out_of_scope"]
    env = {**os.environ, **rasa_environment(settings), "TF_CPP_MIN_LOG_LEVEL": "3"}
    validated = subprocess.run(
        [str(RASA_BIN), "data", "validate", "--data", str(out), "--domain", "domain.yml"],
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert validated.returncode == 0, (validated.stdout + validated.stderr)[-4000:]
    said = validated.stdout + validated.stderr
    assert "not listed in your domain" not in said and "multiple different intents" not in said, said[-4000:]
