"""The curated danger phrases of the urgency check (rasa_components/urgent_phrases.yml), matched as the
component matches them, in Rasa's own environment: they catch danger told in other words, in every
language, and stay quiet on ordinary questions (a phrase that fires on those would make them urgent)."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from bot.core.languages import LANGUAGES
from bot.core.settings import PROJECT_DIR
from tests.helpers.rasa_env import run_in_rasa

PHRASES = PROJECT_DIR / "rasa_components" / "urgent_phrases.yml"
KINDS = ["danger", "emergency_health", "emergency_shelter", "eviction"]

# ordinary questions that share words with emergencies: none may match a curated phrase
ORDINARY = [
    "ho perso il passaporto, come faccio a rifarlo?",
    "the rent is too high, is there any help from the comune?",
    "where can I get free food in Caserta",
    "how do I change my family doctor",
    "le propriétaire ne veut pas rendre la caution",
    "كيف أجدد تصريح الإقامة",
    "mi hijo tiene fiebre desde ayer, donde esta el pediatra",
    "як отримати codice fiscale",
    "как поменять семейного врача",
    "cum fac contract de chirie inregistrat",
    "ku mund te gjej nje shtepi me qira",
    "আমি কিভাবে সন্তানকে স্কুলে ভর্তি করব",
    "مجھے نوکری کیسے ملے گی",
    "怎么办理居留许可续签",
    "my landlord wants to sell the house, do I have to leave at the end of the contract?",
]
# danger told in other words
URGENT = [
    ("sono tornato a casa e il padrone ha cambiato la serratura, le mie cose sono dentro", "eviction"),
    ("we are sleeping in the car with my two kids since last week", "emergency_shelter"),
    ("my flatmate is on the floor, he is breathing but not waking up", "emergency_health"),
    ("my husband said he will kill me", "danger"),
]


def run_check(sentences: list[str]) -> dict[str, object]:
    script = Path(__file__).with_name("urgency_check.py")
    found: dict[str, object] = run_in_rasa(script, stdin=json.dumps(sentences))
    return found


def test_every_kind_has_phrases_in_every_language() -> None:
    data = yaml.safe_load(PHRASES.read_text(encoding="utf-8"))
    assert sorted(data) == KINDS
    for kind, languages in data.items():
        missing = [language for language in LANGUAGES if not languages.get(language)]
        assert not missing, f"{kind}: no phrases in {missing}"


def test_phrases_catch_described_danger_and_leave_ordinary_questions_alone() -> None:
    found = run_check([text for text, _ in URGENT] + ORDINARY)
    kinds = found["found"]
    assert isinstance(kinds, list)
    assert kinds[: len(URGENT)] == [kind for _, kind in URGENT]
    flagged = [text for text, kind in zip(ORDINARY, kinds[len(URGENT) :], strict=True) if kind]
    assert flagged == [], "a curated phrase matches an ordinary question"
    assert found["kinds"] == KINDS
    assert found["normalized"] == "il proprietario ha cambiato la serratura"
